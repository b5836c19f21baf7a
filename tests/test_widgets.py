"""Every widget of every chapter, with each control at both ends of its range, updates without
an exception, a numpy warning or a picture without alt text (tools/widget_driver.py executes the
chapter in a kernel and drives its ipywidgets.interact controls programmatically).

When the chapters are part of the run (`make test`), the probe of each chapter with widgets is
one more nbval item of that chapter (chapters/NN.ipynb::test_every_widget_survives_the_ends_of_
every_slider, after its last cell, in the kernel that has just run it: tests/widget_probe.py),
and the stand-alone test below, which would execute the chapter a second time, is deselected.
Each widget's callback is also driven in-process, at the end of this file."""

from __future__ import annotations

import sys

import nbformat
import pytest
from common import ROOT
from widget_probe import NAME, WidgetProbe

sys.path.insert(0, str(ROOT / "tools"))
from widget_driver import chapters_with_widgets, drive, failures, probe  # noqa: E402

WIDGET_CHAPTERS = chapters_with_widgets()


def test_some_chapters_have_widgets():
    assert WIDGET_CHAPTERS, "no chapter uses interact(...)"


@pytest.mark.parametrize("path", WIDGET_CHAPTERS, ids=[p.stem for p in WIDGET_CHAPTERS])
def test_every_widget_survives_the_ends_of_every_slider(path):
    problems = failures(drive(path), path.name)
    assert not problems, f"{path.name}:\n" + "\n".join(map(str, problems))


def test_every_chapter_with_widgets_ends_with_the_widget_probe_in_its_nbval_kernel(request):
    """The probe of each widget chapter is an item of that notebook (same nbval kernel), right
    after its last cell; no other notebook has one; its stand-alone twin is not run too."""
    items = request.session.items
    chapters = {i.path for i in items if i.path.suffix == ".ipynb"}
    if not chapters:
        pytest.skip("the chapters are not part of this run (nbval: `make test`, or give chapters/)")
    probes = {i.path: i for i in items if isinstance(i, WidgetProbe)}
    assert sorted(probes) == sorted(p for p in WIDGET_CHAPTERS if p in chapters)
    for path, item in probes.items():
        same_file = [i for i in items if i.path == path]
        assert same_file[-1] is item and item.name == NAME, (
            f"{path.name}: the widget probe is not the item after its last cell")
        assert all(i.parent is item.parent for i in same_file), f"{path.name}: another kernel"
    twins = [i.nodeid for i in items if getattr(i, "originalname", None) == NAME
             and i.callspec.params["path"] in probes]
    assert not twins, f"chapters probed twice: {twins}"


# Planted faults: a widget that raises at the top of its range and warns when `loud`, and one
# that shows a bare PNG (no alt text) when `bare`.
RAISES_AND_WARNS = (
    "import numpy as np\n"
    "from ipywidgets import FloatSlider, Checkbox, interact\n"
    "def f(x=0.0, loud=False):\n"
    "    if x > 0.9:\n"
    "        raise ValueError('too big')\n"
    "    if loud:\n"
    "        np.log(np.array([-1.0]))\n"
    "    print(x)\n"
    "interact(f, x=FloatSlider(value=0.0, min=-1.0, max=1.0), loud=Checkbox(value=False));\n")
BARE_PICTURE = (
    "from IPython.display import Image, display\n"
    "from ipywidgets import Checkbox, interact\n"
    "from backprop_lib import LiveFigure\n"
    "fig = LiveFigure(figsize=(2, 2), alt='a test figure')\n"
    "fig.add_subplot().plot([0, 1])\n"
    "def f(bare=False):\n"
    "    display(Image(data=fig.png(), format='png')) if bare else fig.show()\n"
    "interact(f, bare=Checkbox(value=False));\n")


def test_the_driver_catches_an_exception_and_a_warning(tmp_path):
    """A widget that fails at the top of its range must be reported (the driver is not blind)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(RAISES_AND_WARNS)]
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    (w,) = drive(path, latency_samples=5)
    assert [e["values"]["x"] for e in w["errors"]] == [1.0, 1.0]  # x at max alone, then all at max
    assert all("ValueError: too big" in e["error"] for e in w["errors"])
    assert any("RuntimeWarning" in m["warning"] and m["values"]["loud"] for m in w["warnings"])
    assert len(w["latency_s"]) == 5 and w["latency_control"] == "x"
    assert any("ValueError: too big" in f for f in failures([w], path.name))
    assert any("RuntimeWarning" in f for f in failures([w], path.name))


def test_the_probe_in_an_nbval_kernel_reports_the_planted_faults():
    """The path of `make test`: nbval's kernel runs the cells (as nbval does), then the probe
    runs there (tests/widget_probe.py) and its failures name all three planted faults."""
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME, RunningKernel

    kernel = RunningKernel(CURRENT_ENV_KERNEL_NAME, cwd=str(ROOT / "chapters"))
    try:
        for src in (RAISES_AND_WARNS, BARE_PICTURE):
            msg_id = kernel.execute_cell_input(src, allow_stdin=False)
            kernel.await_reply(msg_id, timeout=60)
            kernel.await_idle(msg_id, 60)
        report = probe(kernel.kc, "planted")
    finally:
        kernel.stop()
    found = "\n".join(failures(report, "planted"))
    for fault in ("ValueError: too big", "RuntimeWarning", "a picture without alt text"):
        assert fault in found, f"{fault!r} not reported:\n{found}"


def test_the_driver_reports_a_picture_without_alt_text(tmp_path):
    """A widget that shows a bare PNG (no alt text) is reported; LiveFigure's picture is not."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(BARE_PICTURE)]
    path = tmp_path / "alt.ipynb"
    nbformat.write(nb, path)
    (w,) = drive(path)
    assert w["errors"] and all(e["values"]["bare"] for e in w["errors"]), w["errors"]
    assert all(e["error"] == "a picture without alt text" for e in w["errors"])
    assert any("a picture without alt text" in f for f in failures([w], path.name))


# ---- in-process: each widget's callback at the ends of its controls (issue 14) ---------------

def _widget_factories():
    import numpy as np

    from backprop_lib.widgets.ch01_graph import AddMulGraph, NeuronGraph
    from backprop_lib.widgets.ch03_training import TrainingCurve
    from backprop_lib.widgets.ch04_loss import OutputLayerLoss
    from backprop_lib.widgets.ch04_network import NetworkGradients
    from backprop_lib.widgets.ch07_attention import AttentionView
    from backprop_lib.widgets.ch08_deep import GradientFlowWidget
    from backprop_lib.widgets.ch09_attention import TrainingAttentionView

    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, size=(2, 20))
    Y = np.array([[2.0, -1.0], [0.5, 1.5]]) @ X + 0.1 * rng.normal(size=(2, 20))
    tokens = rng.integers(0, 4, size=5)
    Xa = np.concatenate([np.eye(4)[tokens].T, np.eye(5)])[None]  # (1, 9, 5) as in chapter 7
    W = {"Wq": rng.normal(size=(8, 9)), "Wk": rng.normal(size=(8, 9)), "Wv": rng.normal(size=(4, 9))}
    Xd = rng.normal(size=(32, 4))  # chapter 8's data: rows, a linear target
    maps = rng.uniform(size=(4, 2, 2, 6, 6))  # chapter 9: 4 snapshots of 2 blocks x 2 heads
    maps /= maps.sum(axis=-1, keepdims=True)
    return {"AddMulGraph": AddMulGraph, "NeuronGraph": NeuronGraph,
            "TrainingCurve": lambda: TrainingCurve(X, Y),
            "OutputLayerLoss": OutputLayerLoss, "NetworkGradients": NetworkGradients,
            "AttentionView": lambda: AttentionView(Xa, tokens, W, np.array(list("abcd"))),
            "GradientFlowWidget": lambda: GradientFlowWidget(Xd, Xd @ rng.normal(size=(4, 1)),
                                                             width=16, steps=3),
            "TrainingAttentionView": lambda: TrainingAttentionView(
                maps, [0, 3, 6, 9], np.exp(-np.linspace(0, 2, 10)), list("abc|cb"))}


def _ends(control):
    if hasattr(control, "options"):
        return list(control.options)
    if isinstance(control.value, bool):
        return [False, True]
    if type(control).__name__ == "FloatLogSlider":
        return [control.base ** control.min, control.base ** control.max]
    return [control.min, control.max]


WIDGETS = ["AddMulGraph", "NeuronGraph", "TrainingCurve", "OutputLayerLoss", "NetworkGradients",
           "AttentionView", "GradientFlowWidget", "TrainingAttentionView"]


@pytest.mark.parametrize("name", WIDGETS)
def test_widget_callback_runs_in_process_at_every_control_extreme(name, capsys):
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    widget = _widget_factories()[name]()
    controls = widget.controls()
    defaults = {k: c.value for k, c in controls.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy overflow or invalid value fails the test
        widget.update(**defaults)
        for key, control in controls.items():
            for end in _ends(control):
                widget.update(**{**defaults, key: end})
        lows = {k: _ends(c)[0] for k, c in controls.items()}
        highs = {k: _ends(c)[-1] for k, c in controls.items()}
        widget.update(**lows)
        widget.update(**highs)
    capsys.readouterr()


def test_choosing_a_weight_moves_the_value_slider_to_its_example_value():
    import matplotlib

    matplotlib.use("Agg")
    from backprop_lib import network
    from backprop_lib.widgets.ch04_network import NetworkGradients

    controls = NetworkGradients().controls()
    W1 = network.example()["params"]["W1"]
    for name, (j, k) in (("w1_13", (0, 2)), ("w1_22", (1, 1))):
        controls["weight"].value = name
        assert controls["value"].value == pytest.approx(W1[j, k])


def test_the_in_process_test_covers_every_widget_module():
    import pkgutil

    import backprop_lib.widgets as widgets

    modules = {m.name for m in pkgutil.iter_modules(widgets.__path__)}
    covered = {type(_widget_factories()[n]()).__module__.rsplit(".", 1)[1]
               for n in WIDGETS}
    assert modules <= covered, f"widget modules without an in-process test: {modules - covered}"
