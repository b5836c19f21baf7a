"""Draw a scalar computational graph with matplotlib alone (no Graphviz binary needed).

Each node shows its name or operation, its forward value (green, above) and its gradient
(red, below), as on a lecture slide. Inputs sit on the left, the output on the right.

Derived in: chapters/01_computational_graphs.ipynb
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

from ._validate import as_count, as_positive_float, as_real
from .engine import Node, topological_order
from .live import LiveFigure

__all__ = ["graph_layout", "draw_graph", "edge_gradients", "draw_diagram", "LiveGraph"]

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


def edge_gradients(root: Node) -> dict[tuple[int, int], float]:
    """{(id(parent), id(child)): the gradient the child passes back along that edge}.

    That is upstream x local derivative, child.grad * d(child)/d(parent), read from each gate's
    own backward rule (call ``root.backward()`` first). A parent used twice by one gate (x * x)
    gets the sum of both contributions on its one edge.
    """
    if not isinstance(root, Node):
        raise TypeError(f"root must be a Node, got {type(root).__name__}")
    out: dict[tuple[int, int], float] = {}
    for node in topological_order(root):
        if not node.parents:
            continue
        saved = [p.grad for p in node.parents]
        for p in node.parents:
            p.grad = 0.0
        node._backward()  # adds this gate's contributions only, onto zeroed parents
        for p in node.parents:
            out[(id(p), id(node))] = p.grad
        for p, g in zip(node.parents, saved, strict=True):
            p.grad = g
    return out


def draw_graph(root: Node, ax=None, *, digits: int = 2, title: str | None = None,
               highlight=(), show_grad: bool = True, fontsize: float = 13,
               edge_grad: bool = False, edge_colors=None):
    """Draw the graph that computes ``root``; return the matplotlib Axes.

    digits      : decimals shown for values and gradients (the slides use 2).
    highlight   : nodes to outline in orange (for example the gate a paragraph is about).
    show_grad   : False draws the forward pass only (before ``backward`` is called).
    edge_grad   : True also writes on each edge the gradient passed back along it
                  (``edge_gradients``), so that sums at branching nodes can be read off.
    edge_colors : {(parent Node, child Node): colour} for edges to draw thick in a colour
                  (the branches of a circuit, say); other edges stay grey.
    """
    if not isinstance(root, Node):
        raise TypeError(f"root must be a Node, got {type(root).__name__}")
    digits = as_count(digits, "digits")
    colors = _edge_colors(edge_colors)
    if ax is None:
        _, ax = plt.subplots(figsize=_figsize(graph_layout(root)))
    _draw(root, ax, digits, title, highlight, show_grad, fontsize,
          edge_gradients(root) if edge_grad else None, colors)
    return ax


def _edge_colors(edge_colors) -> dict[tuple[int, int], str]:
    if edge_colors is None:
        return {}
    if not isinstance(edge_colors, dict):
        raise TypeError(f"edge_colors must be a dict {{(parent, child): colour}}, "
                        f"got {type(edge_colors).__name__}")
    out = {}
    for key, color in edge_colors.items():
        if not (isinstance(key, tuple) and len(key) == 2 and all(isinstance(n, Node) for n in key)):
            raise TypeError(f"edge_colors keys must be (parent Node, child Node) pairs, got {key!r}")
        if not any(p is key[0] for p in key[1].parents):
            raise ValueError(f"edge_colors: {key[0]!r} is not a parent of {key[1]!r}")
        out[(id(key[0]), id(key[1]))] = color
    return out


def _draw(root, ax, digits, title, highlight, show_grad, fontsize, edge_grads=None, colors=None):
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
            color = (colors or {}).get((id(parent), id(node)))
            ax.annotate("", xy=(x1 * sx - 0.5, y1 * sy), xytext=(x0 * sx + 0.5, y0 * sy),
                        arrowprops=dict(arrowstyle="-|>", color=color or "#555555",
                                        lw=3.0 if color else 1.2, shrinkA=0, shrinkB=0))
            if edge_grads is not None:
                # the edge's gradient, half-way along the edge
                ex = 0.5 * (x1 * sx - 0.5) + 0.5 * (x0 * sx + 0.5)
                ey = 0.5 * (y1 + y0) * sy
                ax.text(ex, ey, _number(edge_grads[(id(parent), id(node))], digits),
                        ha="center", va="center", fontsize=fontsize * 0.8, color=color or GRAD_COLOR,
                        fontstyle="italic",
                        bbox=dict(boxstyle="round,pad=0.12", fc="white", ec="none", alpha=0.9))
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


def draw_diagram(nodes: dict, edges=(), ax=None, *, title: str | None = None,
                 fontsize: float = 12, figsize=None):
    """Draw boxes joined by labelled arrows (a block diagram); return the Axes.

    nodes : {name: (x, y, text)} or {name: (x, y, text, width, height, colour)} in data units;
            width or height 0 writes the text without a box (an operator such as "+").
    edges : [(from name, to name, label, colour)] (label "" for none, colour None for grey);
            a fifth entry sets where along the arrow the label sits (0 to 1, default 0.5).
    figsize: (width, height) in inches; default from the extent of the nodes.
    The figure background is white, so the drawing reads in the site's dark mode too.
    """
    if not isinstance(nodes, dict) or not nodes:
        raise TypeError(f"nodes must be a non-empty dict {{name: (x, y, text, ...)}}, "
                        f"got {type(nodes).__name__}")
    boxes = {}
    for name, spec in nodes.items():
        if not isinstance(spec, tuple) or len(spec) not in (3, 6):
            raise ValueError(f"nodes[{name!r}] must be (x, y, text) or (x, y, text, width, height, "
                             f"colour), got {spec!r}")
        x, y = as_real(spec[0], f"nodes[{name!r}] x"), as_real(spec[1], f"nodes[{name!r}] y")
        w, h, fc = (spec[3], spec[4], spec[5]) if len(spec) == 6 else (1.0, 0.55, "#f6f8fa")
        boxes[name] = [x, y, str(spec[2]), float(w), float(h), fc]
    if not isinstance(edges, (list, tuple)):
        raise TypeError(f"edges must be a list of (from, to, label, colour) tuples, "
                        f"got {type(edges).__name__}")
    edge_list = []
    for edge in edges:
        if not isinstance(edge, tuple) or len(edge) not in (4, 5):
            raise ValueError(f"each edge must be (from, to, label, colour[, at]), got {edge!r}")
        for end in edge[:2]:
            if end not in boxes:
                raise ValueError(f"edge {edge!r} names an unknown node {end!r}")
        edge_list.append(edge if len(edge) == 5 else (*edge, 0.5))
    xs = [b[0] for b in boxes.values()]
    ys = [b[1] for b in boxes.values()]
    pad_x = max(max(b[3] for b in boxes.values()) / 2, 1.0) + 0.3
    pad_y = max(b[4] for b in boxes.values()) / 2 + 0.3
    if ax is None:
        if figsize is None:
            figsize = (min(0.9 * (max(xs) - min(xs) + 2 * pad_x) + 0.4, 12),
                       min(max(0.9 * (max(ys) - min(ys) + 2 * pad_y) + 0.6, 2.0), 8))
        _, ax = plt.subplots(figsize=figsize)
    ax.set_xlim(min(xs) - pad_x, max(xs) + pad_x)
    ax.set_ylim(min(ys) - pad_y, max(ys) + pad_y)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.apply_aspect()
    renderer = ax.figure.canvas.get_renderer()
    texts = {name: ax.text(x, y, text, ha="center", va="center", color="#111111", zorder=3,
                           fontsize=fontsize if w > 0 and h > 0 else 2.0 * fontsize)  # operators
             for name, (x, y, text, w, h, _fc) in boxes.items()}
    for _ in range(2):  # fit each box to its text, then the limits to the boxes (twice: the
        for name, box in boxes.items():  # scale changes a little with the limits)
            if box[3] > 0 and box[4] > 0:
                extent = texts[name].get_window_extent(renderer).transformed(ax.transData.inverted())
                w0, h0 = nodes[name][3:5] if len(nodes[name]) == 6 else (1.0, 0.55)
                box[3], box[4] = max(w0, extent.width + 0.3), max(h0, extent.height + 0.25)
        ax.set_xlim(min(b[0] - b[3] / 2 for b in boxes.values()) - 0.3,
                    max(b[0] + b[3] / 2 for b in boxes.values()) + 0.3)
        ax.set_ylim(min(b[1] - b[4] / 2 for b in boxes.values()) - 0.3,
                    max(b[1] + b[4] / 2 for b in boxes.values()) + 0.3)
        ax.apply_aspect()
    for x, y, _text, w, h, fc in boxes.values():
        if w > 0 and h > 0:
            ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.03",
                                        fc=fc, ec="#333333", lw=1.2, zorder=2))
    for a, b, label, color, at in edge_list:
        x0, y0, _t0, w0, h0, _f0 = boxes[a]
        x1, y1, _t1, w1, h1, _f1 = boxes[b]
        start, end = _border(x0, y0, w0, h0, x1, y1), _border(x1, y1, w1, h1, x0, y0)
        ax.annotate("", xy=end, xytext=start,
                    arrowprops=dict(arrowstyle="-|>", color=color or "#555555",
                                    lw=2.2 if color else 1.2, shrinkA=2, shrinkB=2))
        if label:
            lx, ly = start[0] + at * (end[0] - start[0]), start[1] + at * (end[1] - start[1])
            ax.text(lx, ly, label, ha="center", va="center", fontsize=fontsize * 0.85,
                    color=color or GRAD_COLOR, zorder=4,
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.92))
    if title:
        ax.set_title(title, fontsize=fontsize, color="#333333")
    ax.figure.set_facecolor("white")
    return ax


def _border(x, y, w, h, tx, ty) -> tuple[float, float]:
    """Where the segment from the centre (x, y) of a w x h box towards (tx, ty) leaves it."""
    dx, dy = tx - x, ty - y
    if w <= 0 or h <= 0 or (dx == 0 and dy == 0):
        return (x + 0.25 * (dx > 0) - 0.25 * (dx < 0), y)
    t = min(w / 2 / abs(dx) if dx else float("inf"), h / 2 / abs(dy) if dy else float("inf"))
    return (x + t * dx, y + t * dy)


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
