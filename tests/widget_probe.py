"""The widget probe as one more nbval item of a chapter: it runs in nbval's kernel after the
chapter's last cell, so `make test` executes each chapter once (for its stored outputs and for
its widgets) instead of a second time in a kernel of the widget driver's own.

tests/conftest.py adds a ``WidgetProbe`` after the last cell of every notebook nbval collects
whose code calls ``interact(``. The item runs tools/widget_driver.py's ``probe`` in that
kernel (every control of every live interact at the ends of its range, one at a time and all
at once) and fails with tools/widget_driver.py's ``failures``: no live widget, a control moved
fewer than twice, an exception, a numpy warning or a picture without alt text in an update.
If some cell of the notebook is not part of the run (``-k``, or a single cell given), nbval's
kernel has not run the whole chapter: the probe then executes the chapter in a kernel of its
own (``drive``), as the driver does on the command line.

Once -k/-m have selected, conftest drops tests/test_widgets.py's stand-alone test of each
chapter whose probe runs here: the same check, after executing the chapter a second time in a
kernel of its own (it runs when the chapters are not part of the run, e.g.
`pytest tests/test_widgets.py`). tests/conftest.py is loaded only for runs that include tests/,
so `pytest chapters/NN.ipynb` alone is nbval alone; with the probe:

    .venv/bin/python -m pytest tests/test_widgets.py chapters/04_network_by_hand.ipynb -n 0
"""

from __future__ import annotations

import sys

import pytest
from common import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from widget_driver import drive, failures, probe, uses_widgets  # noqa: E402

NAME = "test_every_widget_survives_the_ends_of_every_slider"  # the test it was in tests/test_widgets.py


class WidgetProbe(pytest.Item):
    """Probe the widgets in the kernel of nbval's IPyNbFile ``parent`` (see the module)."""

    def runtest(self):
        nb_file = self.parent
        cells = [i for i in self.session.items if i.parent is nb_file and i is not self]
        n_code = sum(c.cell_type == "code" for c in nb_file.nb.cells)
        kernel = getattr(nb_file, "kernel", None)
        if len(cells) == n_code and kernel is not None and kernel.is_alive():
            report = probe(kernel.kc, self.path.name)
        else:  # not every cell ran in nbval's kernel: execute the chapter afresh
            report = drive(self.path)
        problems = failures(report, self.path.name)
        if problems:
            pytest.fail(f"{self.path.name}:\n" + "\n".join(map(str, problems)), pytrace=False)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}::{self.name}"


def add_probes(items: list) -> list:
    """``items`` with a WidgetProbe after the last cell of each notebook that uses widgets."""
    out = []
    for i, item in enumerate(items):
        out.append(item)
        parent = item.parent
        nb = getattr(parent, "nb", None)  # nbval's IPyNbFile holds the notebook it read
        last_of_file = i + 1 == len(items) or items[i + 1].parent is not parent
        if nb is not None and type(parent).__name__ == "IPyNbFile" and last_of_file \
                and uses_widgets(nb):
            out.append(WidgetProbe.from_parent(parent, name=NAME))
    return out


def drop_duplicates(items: list) -> list:
    """Remove from ``items`` the stand-alone test of each chapter whose WidgetProbe is selected;
    return the removed items (to be reported as deselected)."""
    probed = {i.path for i in items if isinstance(i, WidgetProbe)}
    dupes = [i for i in items if getattr(i, "originalname", None) == NAME
             and getattr(getattr(i, "callspec", None), "params", {}).get("path") in probed]
    items[:] = [i for i in items if i not in dupes]
    return dupes
