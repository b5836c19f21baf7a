"""The two worked examples of Chapter 1, built as scalar graphs.

Derived in: chapters/01_computational_graphs.ipynb
"""

from __future__ import annotations

from ._validate import checked
from .engine import Node

__all__ = ["add_mul_graph", "sigmoid_neuron_gates", "sigmoid_neuron_collapsed"]


def add_mul_graph(x=-2.0, y=5.0, z=-4.0) -> dict[str, Node]:
    """f(x, y, z) = (x + y) z, with q = x + y. Returns the nodes by name; f is not yet backpropagated."""
    nx, ny, nz = Node(x, "x"), Node(y, "y"), Node(z, "z")
    q = nx + ny
    q.label = "q"
    f = q * nz
    f.label = "f"
    return {"x": nx, "y": ny, "z": nz, "q": q, "f": f}


@checked(w="3", x="2")
def _inputs(w, x):
    """Leaf nodes w0, w1, w2 (w has the entries w0, w1, w2) and x0, x1."""
    return ([Node(float(v), f"w{i}") for i, v in enumerate(w)],
            [Node(float(v), f"x{i}") for i, v in enumerate(x)])


def sigmoid_neuron_gates(w=(2.0, -3.0, -3.0), x=(-1.0, -2.0)) -> dict[str, Node]:
    """f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))), one primitive gate per node.

    Gates: x, x, +, +w2, x(-1), exp, +1, 1/x. Returns every node by name; ``out`` is f.
    """
    (w0, w1, w2), (x0, x1) = _inputs(w, x)
    nodes = {"w0": w0, "x0": x0, "w1": w1, "x1": x1, "w2": w2}
    steps = [
        ("w0x0", lambda n: n["w0"] * n["x0"]),
        ("w1x1", lambda n: n["w1"] * n["x1"]),
        ("sum01", lambda n: n["w0x0"] + n["w1x1"]),
        ("s", lambda n: n["sum01"] + n["w2"]),
        ("neg", lambda n: n["s"] * -1.0),
        ("exp", lambda n: n["neg"].exp()),
        ("plus1", lambda n: n["exp"] + 1.0),
        ("out", lambda n: n["plus1"].reciprocal()),
    ]
    for name, make in steps:
        nodes[name] = make(nodes)
    return nodes


def sigmoid_neuron_collapsed(w=(2.0, -3.0, -3.0), x=(-1.0, -2.0)) -> dict[str, Node]:
    """The same neuron with the last four gates collapsed into one sigmoid gate."""
    (w0, w1, w2), (x0, x1) = _inputs(w, x)
    s = w0 * x0 + w1 * x1 + w2
    return {"w0": w0, "x0": x0, "w1": w1, "x1": x1, "w2": w2, "s": s, "out": s.sigmoid()}
