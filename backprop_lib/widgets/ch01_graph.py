"""Chapter 1's widgets: a computational graph redrawn with its values and gradients.

``AddMulGraph`` shows f = (x + y) z, ``NeuronGraph`` the sigmoid neuron (eight primitive gates
or one sigmoid gate). Each has ``controls()`` (the sliders, with the chapter's example as
default) and ``update(**values)``, the callback ``interact`` calls:

    w = AddMulGraph();  interact(w.update, **w.controls())

Derived in: chapters/01_computational_graphs.ipynb
"""

from __future__ import annotations

from ipywidgets import Checkbox, FloatSlider

from ..draw import LiveGraph
from ..scalar_examples import add_mul_graph, sigmoid_neuron_collapsed, sigmoid_neuron_gates


class AddMulGraph:
    """f = (x + y) z: sliders for x, y, z in [-5, 5]; the graph shows values and gradients."""

    DEFAULTS = {"x": -2.0, "y": 5.0, "z": -4.0}

    def __init__(self):
        self.view = LiveGraph(digits=2)

    def controls(self) -> dict:
        tip = "input {} of f = (x + y) z: the graph shows the new values and gradients"
        return {k: FloatSlider(value=v, min=-5.0, max=5.0, step=0.5, tooltip=tip.format(k))
                for k, v in self.DEFAULTS.items()}

    def update(self, x=-2.0, y=5.0, z=-4.0):
        g = add_mul_graph(x, y, z)
        g["f"].backward()
        self.view.show(g["f"], title="f = (x + y) z")
        return g


class NeuronGraph:
    """The sigmoid neuron f = sigma(w1 x1 + w2 x2 + b): five sliders and a gate switch."""

    DEFAULTS = {"w1": 2.0, "w2": -3.0, "b": -3.0, "x1": -1.0, "x2": -2.0}

    def __init__(self):
        self.view = LiveGraph(digits=2)

    def controls(self) -> dict:
        tip = "{} of the neuron f = sigmoid(w1 x1 + w2 x2 + b): the graph shows the new numbers"
        what = {"w1": "weight w1", "w2": "weight w2", "b": "bias b", "x1": "input x1",
                "x2": "input x2"}
        sliders = {k: FloatSlider(value=v, min=-4.0, max=4.0, step=0.25, tooltip=tip.format(what[k]))
                   for k, v in self.DEFAULTS.items()}
        return {**sliders, "collapsed": Checkbox(value=False, description="one sigmoid gate",
                                                 tooltip="one sigmoid gate instead of its four gates")}

    def update(self, w1=2.0, w2=-3.0, b=-3.0, x1=-1.0, x2=-2.0, collapsed=False):
        build = sigmoid_neuron_collapsed if collapsed else sigmoid_neuron_gates
        nodes = build(w=(w1, w2), b=b, x=(x1, x2))
        nodes["out"].backward()
        z, f = nodes["z"].value, nodes["out"].value
        self.view.show(nodes["out"], title=f"sigmoid neuron: z = {z:.2f}, f = {f:.2f}")
        return nodes
