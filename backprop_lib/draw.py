"""Draw a scalar computational graph with matplotlib alone (no Graphviz binary needed).

Each node shows its name or operation, its forward value (green, above) and its gradient
(red, below), as on a lecture slide. Inputs sit on the left, the output on the right.

Derived in: chapters/01_computational_graphs.ipynb
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

from .engine import Node, topological_order

__all__ = ["graph_layout", "draw_graph"]

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


def draw_graph(root: Node, ax=None, *, digits: int = 2, title: str | None = None,
               highlight=(), show_grad: bool = True, fontsize: float = 13):
    """Draw the graph that computes ``root``; return the matplotlib Axes.

    digits    : decimals shown for values and gradients (the slides use 2).
    highlight : nodes to outline in orange (for example the gate a paragraph is about).
    show_grad : False draws the forward pass only (before ``backward`` is called).
    """
    if not isinstance(root, Node):
        raise TypeError(f"root must be a Node, got {type(root).__name__}")
    pos = graph_layout(root)
    order = topological_order(root)
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    if ax is None:
        # about 1.45 inches per column: the figure is shown at the text width, so a wider
        # figure would shrink its labels below a readable size
        width = 1.45 * (max(xs) - min(xs) + 1) + 0.4
        height = 1.0 * (max(ys) - min(ys) + 1) + 0.6
        _, ax = plt.subplots(figsize=(min(width, 12), min(max(height, 2.2), 8)))
    sx, sy = 1.75, 1.25  # data units between columns and rows
    hl = {id(n) for n in highlight}
    for node in order:
        x1, y1 = pos[id(node)]
        for parent in node.parents:
            x0, y0 = pos[id(parent)]
            ax.annotate("", xy=(x1 * sx - 0.5, y1 * sy), xytext=(x0 * sx + 0.5, y0 * sy),
                        arrowprops=dict(arrowstyle="-|>", color="#555555", lw=1.2,
                                        shrinkA=0, shrinkB=0))
    fmt = f"{{:.{digits}f}}"
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
        ax.text(cx, cy + 0.36, fmt.format(node.value).replace("-", "\u2212"), ha="center",
                va="center", fontsize=fontsize, color=VALUE_COLOR, fontweight="bold")
        if show_grad:
            ax.text(cx, cy - 0.37, fmt.format(node.grad).replace("-", "\u2212"), ha="center",
                    va="center", fontsize=fontsize, color=GRAD_COLOR, fontweight="bold")
    ax.set_xlim(min(xs) * sx - 0.65, max(xs) * sx + 0.65)
    ax.set_ylim(min(ys) * sy - 0.65, max(ys) * sy + 0.7)
    ax.set_aspect("equal")
    ax.axis("off")
    legend = "green: value (forward)" + ("    red: gradient (backward)" if show_grad else "")
    ax.set_title(title or legend, fontsize=fontsize, color="#333333")
    ax.figure.set_facecolor("white")
    return ax
