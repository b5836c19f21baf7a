"""A scalar computational graph: each Node holds a value, a gradient and its backward rule.

Derived in: chapters/01_computational_graphs.ipynb
"""

from __future__ import annotations

import math

from ._graph import depth_first_order
from ._validate import as_real

__all__ = ["Node", "topological_order"]


def _fmt(c: float) -> str:
    return f"{c:g}".replace("-", "\u2212")


class Node:
    """A scalar value in a computational graph, with ``grad`` = d(output)/d(this node).

    ``Node(3.0, label="x")`` makes a leaf. Arithmetic on nodes builds new nodes that
    remember their parents and how to pass an upstream gradient back to them.
    """

    __slots__ = ("value", "grad", "label", "op", "parents", "_backward")

    def __init__(self, value, label: str = "", *, parents=(), op: str = ""):
        self.value = as_real(value, f"Node {label!r} value" if label else "Node value")
        self.grad = 0.0
        self.label = label
        self.op = op
        self.parents = tuple(parents)
        self._backward = lambda: None

    def __repr__(self) -> str:
        name = f" {self.label!r}" if self.label else ""
        return f"Node{name}(value={self.value:.6g}, grad={self.grad:.6g})"

    # -- building blocks -------------------------------------------------------
    def _unary(self, value: float, op: str, local_grad: float) -> Node:
        out = Node(value, parents=(self,), op=op)

        def backward():
            self.grad += local_grad * out.grad  # upstream x local; += because nodes can branch

        out._backward = backward
        return out

    def _binary(self, other, value: float, op: str, local: tuple[float, float]) -> Node:
        out = Node(value, parents=(self, other), op=op)

        def backward():
            self.grad += local[0] * out.grad
            other.grad += local[1] * out.grad

        out._backward = backward
        return out

    # -- operations ------------------------------------------------------------
    def __add__(self, other) -> Node:
        if isinstance(other, Node):
            # d(x+y)/dx = d(x+y)/dy = 1: the add gate hands its gradient to both inputs
            return self._binary(other, self.value + other.value, "+", (1.0, 1.0))
        c = as_real(other, "the constant added to a Node")
        return self._unary(self.value + c, f"+{_fmt(c)}", 1.0)  # d(c+x)/dx = 1

    __radd__ = __add__

    def __mul__(self, other) -> Node:
        if isinstance(other, Node):
            # d(xy)/dx = y, d(xy)/dy = x: the mul gate swaps its inputs
            return self._binary(other, self.value * other.value, "\u00d7", (other.value, self.value))
        c = as_real(other, "the constant multiplying a Node")
        return self._unary(self.value * c, f"\u00d7{_fmt(c)}", c)  # d(cx)/dx = c

    __rmul__ = __mul__

    def __neg__(self) -> Node:
        return self * -1.0

    def __sub__(self, other) -> Node:
        return self + (-other)

    def __rsub__(self, other) -> Node:
        return (-self) + other

    def exp(self) -> Node:
        e = math.exp(self.value)
        return self._unary(e, "exp", e)  # d(e^x)/dx = e^x

    def reciprocal(self) -> Node:
        if self.value == 0.0:
            raise ZeroDivisionError("reciprocal of a Node whose value is 0")
        return self._unary(1.0 / self.value, "1/x", -1.0 / self.value**2)  # d(1/x)/dx = -1/x^2

    def __truediv__(self, other) -> Node:
        if isinstance(other, Node):
            return self * other.reciprocal()
        return self * (1.0 / as_real(other, "the divisor of a Node"))

    def sigmoid(self) -> Node:
        x = self.value
        # two branches so that exp never overflows
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        return self._unary(s, "\u03c3", (1.0 - s) * s)  # d(sigma)/dx = (1 - sigma) sigma

    def maximum(self, other: Node) -> Node:
        """max(self, other): the whole gradient goes to the larger input (ties go to self)."""
        if not isinstance(other, Node):
            other = Node(as_real(other, "the other argument of maximum"), label=_fmt(float(other)))
        first = self.value >= other.value
        return self._binary(
            other, max(self.value, other.value), "max", (float(first), float(not first))
        )

    # -- backward --------------------------------------------------------------
    def backward(self) -> None:
        """Set d(self)/d(self) = 1 and pass gradients to every node self depends on.

        Like PyTorch, gradients of the inputs (leaves) accumulate across calls, so call
        ``zero_grad()`` before a second backward pass; gradients of intermediate nodes are
        recomputed from scratch by every pass.
        """
        order = topological_order(self)
        for node in order:
            if node.parents:
                node.grad = 0.0
        self.grad = 1.0 if self.parents else self.grad + 1.0
        for node in reversed(order):
            node._backward()

    def zero_grad(self) -> None:
        """Set the gradient of this node and of every node it depends on to 0."""
        for node in topological_order(self):
            node.grad = 0.0


def topological_order(root: Node) -> list[Node]:
    """Every node ``root`` depends on, each after all of its parents (root last)."""
    if not isinstance(root, Node):
        raise TypeError(f"root must be a Node, got {type(root).__name__}")
    return depth_first_order(root, lambda node: node.parents)
