"""Fixtures and hooks of the test suite (shared constants and helpers: tests/common.py)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

# The PDF test prints the whole site (about a minute): `make test-pdf` runs it (and .ci/run).
collect_ignore = [] if os.environ.get("BACKPROP_TEST_PDF") else ["test_pdf.py"]


@pytest.fixture
def rng():
    return np.random.default_rng(20261123)


_EARLY_BUILD = None  # the background book build of this run (controller process only)


def pytest_configure(config):
    """At the start of a full run (no paths, -k or -m given), start the book build in the
    background, so that it overlaps the other tests (tests/book_build.py)."""
    if hasattr(config, "workerinput"):  # an xdist worker: the controller did this
        return
    import uuid

    os.environ.setdefault("BACKPROP_TEST_RUN", uuid.uuid4().hex)
    full = (config.args_source == pytest.Config.ArgsSource.TESTPATHS
            and not config.option.keyword and not config.option.markexpr
            and not config.option.collectonly)
    if full and not os.environ.get("BACKPROP_PREBUILT_HTML"):
        global _EARLY_BUILD
        from book_build import start_early

        _EARLY_BUILD = start_early(os.environ["BACKPROP_TEST_RUN"])
        # tests/test_tooling.py interrupts a run here, at a known point, while its build runs
        hold = float(os.environ.get("BACKPROP_TEST_HOLD_AFTER_BUILD_START", "0"))
        if hold:
            import time

            time.sleep(hold)


def pytest_unconfigure(config):  # noqa: ARG001 (pytest hook signature)
    """However the run ends (pass, failure, -x, Ctrl-C), no build outlives it."""
    if _EARLY_BUILD is not None:
        from book_build import stop

        stop(_EARLY_BUILD)


@pytest.fixture(scope="session")
def built_book():
    """The site built once per test run (tests/book_build.py), or BACKPROP_PREBUILT_HTML to
    iterate on the site tests against an existing build."""
    prebuilt = os.environ.get("BACKPROP_PREBUILT_HTML")
    if prebuilt:
        return Path(prebuilt)
    from book_build import HTML, wait_for_build

    rc, log = wait_for_build(os.environ.get("BACKPROP_TEST_RUN", f"solo-{os.getpid()}"))
    if rc != 0:
        reports = "\n".join(p.read_text()[-3000:] for p in (HTML / "reports").glob("**/*.log"))
        pytest.fail(f"jupyter-book build failed ({rc}); its output ends with:\n{log[-6000:]}\n"
                    f"{reports}", pytrace=False)
    return HTML


# Longest files first (measured), so that the two xdist workers (--dist loadfile) finish
# together: a long file started last would leave the other worker idle while it runs. xdist hands
# each worker two files at the start (gw0 the 1st and 3rd, gw1 the 2nd and 4th): each worker
# first runs a file that needs no book (the build is still running), then its half of the site.
# The files that wait most (test_tooling on its pytest subprocesses, test_widgets on the kernels
# it starts) come next, so that the run ends with short files on both workers.
HEAVY_FIRST = ["tests/test_properties.py", "chapters/08_deep_networks.ipynb", "tests/test_site_a.py",
               "tests/test_site_b.py", "tests/test_tooling.py", "tests/test_widgets.py",
               "tests/test_exercises.py", "chapters/"]


def pytest_collection_modifyitems(items):  # pluggy passes only the hook arguments named here
    """A widget probe after the last cell of each chapter with widgets (tests/widget_probe.py),
    then the files in the order of HEAVY_FIRST. Runs before -k/-m deselect (a conftest's hook
    is called before pytest's own), so the probes are selected like any other item."""
    from widget_probe import add_probes

    items[:] = add_probes(items)

    def rank(item):
        path = item.nodeid.split("::")[0]
        return next((i for i, p in enumerate(HEAVY_FIRST) if path.startswith(p)), len(HEAVY_FIRST))

    items.sort(key=rank)  # stable: the order inside a file (a notebook's cells) is kept


@pytest.hookimpl(trylast=True, specname="pytest_collection_modifyitems")
def pytest_collection_modifyitems_after_deselection(config, items):
    """After -k/-m/--deselect: a chapter whose probe runs in nbval's kernel does not also run
    tests/test_widgets.py's stand-alone probe (which executes the chapter a second time)."""
    from widget_probe import drop_duplicates

    dupes = drop_duplicates(items)
    if dupes:
        config.hook.pytest_deselected(items=dupes)
