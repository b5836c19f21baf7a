"""Every widget of every chapter, with each control at both ends of its range, updates without
an exception or a numpy warning (tools/widget_driver.py executes the chapter in a kernel and
drives its ipywidgets.interact controls programmatically)."""

from __future__ import annotations

import sys

import nbformat
import pytest
from common import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from widget_driver import chapters_with_widgets, drive  # noqa: E402

WIDGET_CHAPTERS = chapters_with_widgets()


def test_some_chapters_have_widgets():
    assert WIDGET_CHAPTERS, "no chapter uses interact(...)"


@pytest.mark.parametrize("path", WIDGET_CHAPTERS, ids=[p.stem for p in WIDGET_CHAPTERS])
def test_every_widget_survives_the_ends_of_every_slider(path):
    report = drive(path)
    assert report, f"{path.name} calls interact(...) but the driver found no live widget"
    problems = []
    for w in report:
        assert w["updates"] >= 2 * len(w["controls"]), w  # each control moved at least twice
        problems += [f"{w['function']} {e}" for e in w["errors"] + w["warnings"]]
    assert not problems, f"{path.name}:\n" + "\n".join(map(str, problems))


def test_the_driver_catches_an_exception_and_a_warning(tmp_path):
    """A widget that fails at the top of its range must be reported (the driver is not blind)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import numpy as np\n"
        "from ipywidgets import FloatSlider, Checkbox, interact\n"
        "def f(x=0.0, loud=False):\n"
        "    if x > 0.9:\n"
        "        raise ValueError('too big')\n"
        "    if loud:\n"
        "        np.log(np.array([-1.0]))\n"
        "    print(x)\n"
        "interact(f, x=FloatSlider(value=0.0, min=-1.0, max=1.0), loud=Checkbox(value=False));\n")]
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    (w,) = drive(path, latency_samples=5)
    assert [e["values"]["x"] for e in w["errors"]] == [1.0, 1.0]  # x at max alone, then all at max
    assert all("ValueError: too big" in e["error"] for e in w["errors"])
    assert any("RuntimeWarning" in m["warning"] and m["values"]["loud"] for m in w["warnings"])
    assert len(w["latency_s"]) == 5 and w["latency_control"] == "x"


def test_the_driver_reports_a_picture_without_alt_text(tmp_path):
    """A widget that shows a bare PNG (no alt text) is reported; LiveFigure's picture is not."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "from IPython.display import Image, display\n"
        "from ipywidgets import Checkbox, interact\n"
        "from backprop_lib import LiveFigure\n"
        "fig = LiveFigure(figsize=(2, 2), alt='a test figure')\n"
        "fig.add_subplot().plot([0, 1])\n"
        "def f(bare=False):\n"
        "    display(Image(data=fig.png(), format='png')) if bare else fig.show()\n"
        "interact(f, bare=Checkbox(value=False));\n")]
    path = tmp_path / "alt.ipynb"
    nbformat.write(nb, path)
    (w,) = drive(path)
    assert w["errors"] and all(e["values"]["bare"] for e in w["errors"]), w["errors"]
    assert all(e["error"] == "a picture without alt text" for e in w["errors"])


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
