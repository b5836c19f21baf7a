"""Draw a scalar computational graph with matplotlib alone (no Graphviz binary needed).

Each node shows its name or operation, its forward value (green, above) and its gradient
(red, below), as on a lecture slide. Inputs sit on the left, the output on the right.

Derived in: chapters/01_computational_graphs.ipynb
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

from ._validate import as_count, as_positive_float
from .engine import Node, topological_order
from .live import LiveFigure

__all__ = ["graph_layout", "draw_graph", "LiveGraph"]

VALUE_COLOR = "#1a7f37"  # green: forward values
GRAD_COLOR = "#c4161c"  # red: gradients


def graph_layout(root: Node) -> dict[int, tuple[float, float]]:
    """Positions {id(node): (x, y)}: x = longest path from an input, y from input order.

    Inputs are spaced evenly in the order they are first met from the output; every other
    node sits at the mean height of its parents, so expression trees come out untangled.
    """
    order = topological_order(root)
    depth: dict[int, int] = {}
    for node in order:  # parents come first in topological order
        depth[id(node)] = 1 + max((depth[id(p)] for p in node.parents), default=-1)
    leaves = [n for n in order if not n.parents]
    y: dict[int, float] = {id(n): -float(i) for i, n in enumerate(leaves)}
    for node in order:
        if node.parents:
            y[id(node)] = sum(y[id(p)] for p in node.parents) / len(node.parents)
    return {id(n): (float(depth[id(n)]), y[id(n)]) for n in order}


def _name(node: Node) -> str:
    if not node.parents:
        return node.label or "const"
    return f"{node.label} = {node.op}" if node.label else node.op


def _figsize(pos) -> tuple[float, float]:
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    # about 1.45 inches per column: the figure is shown at the text width, so a wider
    # figure would shrink its labels below a readable size
    width = 1.45 * (max(xs) - min(xs) + 1) + 0.4
    height = 1.0 * (max(ys) - min(ys) + 1) + 0.6
    return min(width, 12), min(max(height, 2.2), 8)


def _number(x: float, digits: int) -> str:
    x = round(x, digits) + 0.0  # + 0.0 turns -0.0 into 0.0: no "-0.00" for a tiny negative
    return f"{x:.{digits}f}".replace("-", "\u2212")


def draw_graph(root: Node, ax=None, *, digits: int = 2, title: str | None = None,
               highlight=(), show_grad: bool = True, fontsize: float = 13):
    """Draw the graph that computes ``root``; return the matplotlib Axes.

    digits    : decimals shown for values and gradients (the slides use 2).
    highlight : nodes to outline in orange (for example the gate a paragraph is about).
    show_grad : False draws the forward pass only (before ``backward`` is called).
    """
    if not isinstance(root, Node):
        raise TypeError(f"root must be a Node, got {type(root).__name__}")
    digits = as_count(digits, "digits")
    if ax is None:
        _, ax = plt.subplots(figsize=_figsize(graph_layout(root)))
    _draw(root, ax, digits, title, highlight, show_grad, fontsize)
    return ax


def _draw(root, ax, digits, title, highlight, show_grad, fontsize):
    """Draw onto ``ax``; return the number texts [(value Text, gradient Text or None), ...]
    in topological order, for LiveGraph to update."""
    pos = graph_layout(root)
    order = topological_order(root)
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    sx, sy = 1.75, 1.25  # data units between columns and rows
    hl = {id(n) for n in highlight}
    for node in order:
        x1, y1 = pos[id(node)]
        for parent in node.parents:
            x0, y0 = pos[id(parent)]
            ax.annotate("", xy=(x1 * sx - 0.5, y1 * sy), xytext=(x0 * sx + 0.5, y0 * sy),
                        arrowprops=dict(arrowstyle="-|>", color="#555555", lw=1.2,
                                        shrinkA=0, shrinkB=0))
    texts = []
    for node in order:
        x, y = pos[id(node)]
        cx, cy = x * sx, y * sy
        edge = "#e36209" if id(node) in hl else "#333333"
        face = "#f6f8fa" if node.parents else "#ddf4ff"
        ax.add_patch(FancyBboxPatch((cx - 0.5, cy - 0.2), 1.0, 0.4,
                                    boxstyle="round,pad=0.04", fc=face, ec=edge,
                                    lw=2.5 if id(node) in hl else 1.2))
        ax.text(cx, cy, _name(node), ha="center", va="center", fontsize=fontsize,
                color="#111111")
        value = ax.text(cx, cy + 0.36, _number(node.value, digits), ha="center",
                        va="center", fontsize=fontsize, color=VALUE_COLOR, fontweight="bold")
        grad = None
        if show_grad:
            grad = ax.text(cx, cy - 0.37, _number(node.grad, digits), ha="center",
                           va="center", fontsize=fontsize, color=GRAD_COLOR, fontweight="bold")
        texts.append((value, grad))
    ax.set_xlim(min(xs) * sx - 0.65, max(xs) * sx + 0.65)
    ax.set_ylim(min(ys) * sy - 0.65, max(ys) * sy + 0.7)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title or _legend(show_grad), fontsize=fontsize, color="#333333")
    ax.figure.set_facecolor("white")
    return texts


def _legend(show_grad: bool) -> str:
    return "green: value (forward)" + ("    red: gradient (backward)" if show_grad else "")


def _shape(order: list[Node]) -> tuple:
    """What fixes a drawing (``order``: the graph's nodes in topological order): each node's
    name and operation, and its parents' positions."""
    index = {id(n): i for i, n in enumerate(order)}
    return tuple((_name(n), tuple(index[id(p)] for p in n.parents)) for n in order)


class LiveGraph:
    """``draw_graph`` for widgets: the boxes and arrows are drawn once, numbers change in place.

    Call :meth:`show` with the root of a freshly built (and backpropagated) graph at each
    slider change. A graph of the same shape as before (same nodes, operations and edges)
    only gets its numbers and title rewritten; a new shape (a checkbox that swaps the gates,
    say) is drawn in full once and remembered. See backprop_lib.live for the technique.
    """

    def __init__(self, *, digits: int = 2, fontsize: float = 13, show_grad: bool = True):
        self.digits = as_count(digits, "digits")
        self.fontsize = as_positive_float(fontsize, "fontsize")
        self.show_grad = bool(show_grad)
        self._drawn: dict[tuple, tuple] = {}  # shape -> (LiveFigure, texts, title Text)

    def figure(self, root: Node, title: str | None = None) -> LiveFigure:
        """The LiveFigure showing ``root`` (numbers and title updated), without displaying it.

        title: as in draw_graph (None: the colour legend)."""
        if not isinstance(root, Node):
            raise TypeError(f"root must be a Node, got {type(root).__name__}")
        order = topological_order(root)
        key = _shape(order)
        if key not in self._drawn:
            fig = LiveFigure(figsize=_figsize(graph_layout(root)), alt=_ALT)
            ax = fig.add_subplot()
            texts = _draw(root, ax, self.digits, title, (), self.show_grad, self.fontsize)
            numbers = [t for pair in texts for t in pair if t is not None]
            fig.changing(ax.title, *numbers)
            shown = []  # the nodes on the picture, for its alt text
            fig.describe_with(lambda shown=shown: self._facts(shown), covers=numbers)
            self._drawn[key] = (fig, texts, ax.title, shown)
        fig, texts, title_text, shown = self._drawn[key]
        shown[:] = order
        for node, (value, grad) in zip(order, texts, strict=True):
            value.set_text(_number(node.value, self.digits))
            if grad is not None:
                grad.set_text(_number(node.grad, self.digits))
        title_text.set_text(title or _legend(self.show_grad))
        return fig

    def show(self, root: Node, title: str | None = None) -> None:
        """Display the graph of ``root`` with its current values and gradients."""
        self.figure(root, title).show()

    def _facts(self, order: list[Node]) -> list[str]:
        """Each node of the picture, inputs first: its name, value and gradient."""
        out = []
        for node in order:
            name = node.label or "const"
            if node.parents:
                name = f"{node.label}, the {node.op} gate" if node.label else f"the {node.op} gate"
            fact = f"{name}: value {_number(node.value, self.digits)}"
            if self.show_grad:
                fact += f", gradient {_number(node.grad, self.digits)}"
            out.append(fact)
        return out


_ALT = ("Computational graph, inputs on the left, output on the right; each box shows its "
        "node's value above it and its gradient below it")
