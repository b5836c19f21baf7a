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


@checked(w="2", b="real", x="2")
def _inputs(w, b, x):
    """Leaf nodes w1, w2 (the weights), b (the bias) and x1, x2 (the inputs)."""
    return ([Node(float(v), f"w{i}") for i, v in enumerate(w, start=1)], Node(float(b), "b"),
            [Node(float(v), f"x{i}") for i, v in enumerate(x, start=1)])


def sigmoid_neuron_gates(w=(2.0, -3.0), b=-3.0, x=(-1.0, -2.0)) -> dict[str, Node]:
    """f = 1 / (1 + exp(-(w1 x1 + w2 x2 + b))), one primitive gate per node.

    Gates: x, x, +, +b, x(-1), exp, +1, 1/x. Returns every node by name (z is the weighted sum
    w1 x1 + w2 x2 + b); ``out`` is f.
    """
    (w1, w2), b, (x1, x2) = _inputs(w, b, x)
    nodes = {"w1": w1, "x1": x1, "w2": w2, "x2": x2, "b": b}
    steps = [
        ("w1x1", lambda n: n["w1"] * n["x1"]),
        ("w2x2", lambda n: n["w2"] * n["x2"]),
        ("sum12", lambda n: n["w1x1"] + n["w2x2"]),
        ("z", lambda n: n["sum12"] + n["b"]),
        ("neg", lambda n: n["z"] * -1.0),
        ("exp", lambda n: n["neg"].exp()),
        ("plus1", lambda n: n["exp"] + 1.0),
        ("out", lambda n: n["plus1"].reciprocal()),
    ]
    for name, make in steps:
        nodes[name] = make(nodes)
    return nodes


def sigmoid_neuron_collapsed(w=(2.0, -3.0), b=-3.0, x=(-1.0, -2.0)) -> dict[str, Node]:
    """The same neuron with the last four gates collapsed into one sigmoid gate."""
    (w1, w2), b, (x1, x2) = _inputs(w, b, x)
    z = w1 * x1 + w2 * x2 + b
    return {"w1": w1, "x1": x1, "w2": w2, "x2": x2, "b": b, "z": z, "out": z.sigmoid()}
