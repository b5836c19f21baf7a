"""Draw a small fully connected network  a0 -> z1 -> a1 = sigma(z1) -> z2 -> a2 = softmax(z2) -> L.

Matplotlib only. Each layer is two columns, the weighted inputs z and the activations a, so
that an error signal delta^l = dL/dz^l is written at the z-node it belongs to. Nodes and edges
have names taken from the math (indices 0-based in code, shown 1-based in the labels):

    nodes  ("a0", k)  ("z1", j)  ("a1", j)  ("z2", j)  ("a2", m)  ("L",)
    edges  ("W1", j, k): a0_k -> z1_j     ("sig", j):  z1_j -> a1_j (the sigmoid)
           ("W2", j, k): a1_k -> z2_j     ("S", m, j): z2_j -> a2_m (the softmax)
           ("L", m):     a2_m -> L

Derived in: chapters/04_network_by_hand.ipynb
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba

from ._validate import as_count, as_float_array, check_shape

__all__ = ["network_layout", "network_edges", "draw_network", "LiveNetwork"]

HIGHLIGHT = "#f0a400"
POSITIVE, NEGATIVE = "#1f5fbf", "#c4161c"  # edge_values: blue > 0, red < 0
_X = {"a0": 0.0, "z1": 2.2, "a1": 3.3, "z2": 5.5, "a2": 6.8, "L": 8.0}
_TEX = {"a0": "a^0_{%d}", "z1": "z^1_{%d}", "a1": "a^1_{%d}", "z2": "z^2_{%d}", "a2": "a^2_{%d}"}


def _sizes(sizes) -> tuple[int, int, int]:
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise TypeError(f"sizes must be a tuple (D_in, H, D_out) of layer sizes, "
                        f"got {type(sizes).__name__} {sizes!r}")
    if len(sizes) != 3:
        raise ValueError(f"sizes must have 3 entries (D_in, H, D_out), got {len(sizes)}: {tuple(sizes)!r}")
    return tuple(as_count(n, f"sizes[{i}]", minimum=1) for i, n in enumerate(sizes))


def network_layout(sizes=(3, 4, 2)) -> dict:
    """{node: (x, y)} for a (D_in, H, D_out) network; each column is centred on y = 0."""
    D, H, D_out = _sizes(sizes)
    pos = {}
    for layer, n in (("a0", D), ("z1", H), ("a1", H), ("z2", D_out), ("a2", D_out)):
        for i in range(n):
            pos[(layer, i)] = (_X[layer], (n - 1) / 2 - i)
    pos[("L",)] = (_X["L"], 0.0)
    return pos


def network_edges(sizes=(3, 4, 2)) -> dict:
    """{edge: (from node, to node)} for every edge of the drawing."""
    D, H, D_out = _sizes(sizes)
    edges = {}
    edges.update({("W1", j, k): (("a0", k), ("z1", j)) for j in range(H) for k in range(D)})
    edges.update({("sig", j): (("z1", j), ("a1", j)) for j in range(H)})
    edges.update({("W2", j, k): (("a1", k), ("z2", j)) for j in range(D_out) for k in range(H)})
    edges.update({("S", m, j): (("z2", j), ("a2", m)) for m in range(D_out) for j in range(D_out)})
    edges.update({("L", m): (("a2", m), ("L",)) for m in range(D_out)})
    return edges


def draw_network(sizes=(3, 4, 2), ax=None, *, title: str | None = None, highlight=(),
                 highlight_color: str = HIGHLIGHT, node_text=None, edge_text=None,
                 edge_values=None, edge_text_at: float | None = None, text_size: float = 10):
    """Draw the network; return the Axes.

    highlight   : edges and/or nodes to draw thick in ``highlight_color``.
    node_text   : {node: str} written beside a node (values, deltas).
    edge_text   : {edge: str} written on an edge (weights, gradients).
    edge_values : {"W1": (H, D_in), "W2": (D_out, H)} arrays; edge width ~ |value| (largest = 5 pt),
                  colour by sign (blue positive, red negative). Gradients look good here.
    edge_text_at: where along its edge (0 = start, 1 = end) an edge text sits, written along
                  the edge (rotated), so that each label is clearly on its own edge even where
                  edges cross. Default: horizontal labels at 0.3 (W1) or 0.35 (other edges).
    text_size   : font size of node, edge and layer texts in points (node names: 2 pt larger).
    """
    sizes = _sizes(sizes)
    highlight, node_text, edge_text = _names(sizes, highlight, node_text, edge_text)
    edge_values = _edge_values(sizes, edge_values)
    if ax is None:
        height = 1.0 * max(sizes) + 0.6
        _, ax = plt.subplots(figsize=(11, height), facecolor="white")
    _draw(sizes, ax, title, highlight, highlight_color, node_text, edge_text, edge_values,
          edge_text_at, text_size)
    return ax


def _names(sizes, highlight, node_text, edge_text):
    pos, edges = network_layout(sizes), network_edges(sizes)
    highlight, node_text, edge_text = set(highlight), node_text or {}, edge_text or {}
    unknown = [h for h in highlight | set(node_text) | set(edge_text)
               if h not in pos and h not in edges]
    if unknown:
        raise ValueError(f"unknown node or edge names {unknown}; see network_edges(sizes)")
    return highlight, node_text, edge_text


def _edge_values(sizes, edge_values):
    if edge_values is None:
        return None
    if not isinstance(edge_values, dict) or set(edge_values) - {"W1", "W2"}:
        raise ValueError("edge_values must be a dict with keys among 'W1' (H, D_in) and 'W2' (D_out, H)")
    want = {"W1": (sizes[1], sizes[0]), "W2": (sizes[2], sizes[1])}
    edge_values = {k: as_float_array(v, f"edge_values[{k!r}]") for k, v in edge_values.items()}
    for k, v in edge_values.items():
        check_shape(f"edge_values[{k!r}]", v, want[k])
    return edge_values


def _edge_style(name, edge_values, scale, highlight, highlight_color) -> tuple:
    """(RGBA colour, line width in points) of one edge."""
    color, width, alpha = "0.6", 0.8, 0.9
    if edge_values and name[0] in edge_values and scale > 0:
        v = float(edge_values[name[0]][name[1], name[2]])
        color, width = (POSITIVE if v > 0 else NEGATIVE), 0.3 + 4.7 * abs(v) / scale
    if name in highlight:
        color, width, alpha = highlight_color, 3.5, 1.0
    return to_rgba(color, alpha), width


def _style_edges(collection, segments, edge_values, highlight, highlight_color) -> None:
    """Give the edges' LineCollection its segments, colours and widths; highlighted edges go
    last, so they are drawn over the others."""
    scale = _scale(edge_values)
    names = sorted(segments, key=lambda name: name in highlight)  # stable: False first
    styles = [_edge_style(n, edge_values, scale, highlight, highlight_color) for n in names]
    collection.set_segments([segments[n] for n in names])
    collection.set_color([c for c, _ in styles])
    collection.set_linewidth([w for _, w in styles])


def _scale(edge_values) -> float:
    return max((float(np.max(np.abs(v))) for v in (edge_values or {}).values()), default=0.0)


RADIUS = 0.2  # node circles, in data units


def _draw(sizes, ax, title, highlight, highlight_color, node_text, edge_text, edge_values,
          edge_text_at, text_size) -> dict:
    """Draw onto ``ax``; return {"edges": LineCollection, "segments": {edge: segment},
    "node_text": {node: Text}} (LiveNetwork restyles these)."""
    pos, edges = network_layout(sizes), network_edges(sizes)
    segments, texts = {}, {}
    for name, (a, b) in edges.items():
        (x0, y0), (x1, y1) = pos[a], pos[b]
        # from circle to circle (not centre to centre), so that an edge never covers a node
        ux, uy = np.array([x1 - x0, y1 - y0]) / np.hypot(x1 - x0, y1 - y0) * (RADIUS + 0.01)
        segments[name] = [(x0 + ux, y0 + uy), (x1 - ux, y1 - uy)]
        if name in edge_text:
            t = edge_text_at if edge_text_at is not None else (0.3 if name[0] == "W1" else 0.35)
            angle = np.degrees(np.arctan2(y1 - y0, x1 - x0)) if edge_text_at is not None else 0.0
            ax.text(x0 + t * (x1 - x0), y0 + t * (y1 - y0), edge_text[name], fontsize=text_size,
                    ha="center", va="center", zorder=5, rotation=angle, rotation_mode="anchor",
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.9))
    # one collection for all edges: one draw call instead of one per edge
    lines = LineCollection([], capstyle="butt", zorder=1)
    _style_edges(lines, segments, edge_values, highlight, highlight_color)
    ax.add_collection(lines)

    for node, (x, y) in pos.items():
        on = node in highlight
        ax.add_patch(plt.Circle((x, y), RADIUS, fc="#fff4d6" if on else "white",
                                ec=highlight_color if on else "black", lw=2.5 if on else 1.2,
                                zorder=4))
        label = "$L$" if node[0] == "L" else "$" + _TEX[node[0]] % (node[1] + 1) + "$"
        ax.text(x, y, label, ha="center", va="center", fontsize=text_size + 2, zorder=6)
        if node in node_text:
            texts[node] = ax.text(x, y - 0.27, node_text[node], ha="center", va="top",
                                  fontsize=text_size, zorder=6,
                                  bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none",
                                            alpha=0.9))

    top = (max(sizes) - 1) / 2
    for x, text in ((_X["a0"], "input"), ((_X["z1"] + _X["a1"]) / 2, "hidden: z, then sigmoid"),
                    (_X["z2"], "logits"), (_X["a2"], "softmax"), (_X["L"], "loss")):
        ax.text(x, top + 0.4, text, ha="center", va="bottom", fontsize=text_size, color="0.3")
    ax.set_xlim(-0.6, 8.5)
    ax.set_ylim(-top - 0.75, top + 0.8)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return {"edges": lines, "segments": segments, "node_text": texts}


class LiveNetwork:
    """``draw_network`` for widgets: nodes and labels drawn once; edge widths and colours,
    node texts and the title change in place (see backprop_lib.live).

    ax        : an Axes of a :class:`backprop_lib.live.LiveFigure`.
    node_text : the nodes that carry a text (their texts are set by :meth:`update`).
    Edges can be highlighted; nodes cannot (their circles are part of the fixed picture).
    """

    def __init__(self, ax, sizes=(3, 4, 2), *, node_text=(), text_size: float = 10,
                 highlight_color: str = HIGHLIGHT):
        from .live import LiveFigure

        if not isinstance(getattr(ax, "figure", None), LiveFigure):
            raise TypeError("ax must be an Axes of a LiveFigure (backprop_lib.live.LiveFigure), "
                            f"got {type(ax).__name__}")
        self.sizes = _sizes(sizes)
        self._nodes = set(network_layout(self.sizes))
        self.highlight_color = highlight_color
        _, names, _ = _names(self.sizes, (), {n: "" for n in node_text}, None)
        self._artists = _draw(self.sizes, ax, None, set(), highlight_color, names, {}, None,
                              None, text_size)
        self.ax = ax
        texts = list(self._artists["node_text"].values())
        ax.figure.changing(ax.title, self._artists["edges"], *texts)
        self._shown = {"highlight": (), "edge_values": None}  # for the alt text
        ax.figure.describe_with(self._facts, covers=[self._artists["edges"], *texts])

    def update(self, *, title: str = "", highlight=(), node_text=None, edge_values=None):
        """Restyle the edges (as draw_network would with these arguments) and set the texts."""
        highlight, node_text, _ = _names(self.sizes, highlight, node_text, None)
        nodes = [h for h in highlight if h in self._nodes]
        if nodes:
            raise ValueError(f"LiveNetwork highlights edges only, got nodes {nodes}")
        missing = set(node_text) - set(self._artists["node_text"])
        if missing:
            raise ValueError(f"node_text for nodes {sorted(missing)} that were not given to "
                             "LiveNetwork(node_text=...)")
        _style_edges(self._artists["edges"], self._artists["segments"],
                     _edge_values(self.sizes, edge_values), highlight, self.highlight_color)
        for node, text in self._artists["node_text"].items():
            text.set_text(node_text.get(node, ""))
        self.ax.set_title(title)
        self._shown = {"highlight": sorted(highlight),
                       "edge_values": _edge_values(self.sizes, edge_values)}

    def _facts(self) -> list[str]:
        """The alt text's statements: node texts, highlighted edges, the widest edges."""
        facts = [f"{_node_words(node)}: {t.get_text()}"
                 for node, t in self._artists["node_text"].items() if t.get_text()]
        facts += [f"highlighted: {_edge_words(e)}" for e in self._shown["highlight"]]
        values = self._shown["edge_values"]
        if values:
            ranked = sorted(((float(v[j, k]), (name, j, k)) for name, v in values.items()
                             for j in range(v.shape[0]) for k in range(v.shape[1])),
                            key=lambda item: -abs(item[0]))
            widest = ", ".join(f"{_edge_words(e)} {v:.4f}" for v, e in ranked[:3])
            facts.append(f"edge width shows the size, colour the sign (blue positive, red "
                         f"negative); widest edges: {widest}")
        return facts


_NODE_WORDS = {"a0": "input", "z1": "weighted input of hidden neuron", "a1": "hidden neuron",
               "z2": "logit", "a2": "softmax output"}


def _node_words(node) -> str:
    return "the loss" if node[0] == "L" else f"{_NODE_WORDS[node[0]]} {node[1] + 1}"


def _edge_words(edge) -> str:
    """("W1", j, k) -> "w1_jk (input k to hidden neuron j)", 1-based as in the labels."""
    kind = edge[0]
    if kind in ("W1", "W2"):
        _, j, k = edge
        a, b = (("a0", k), ("a1", j)) if kind == "W1" else (("a1", k), ("z2", j))  # neuron j
        return f"{kind.lower()}_{edge[1] + 1}{edge[2] + 1} ({_node_words(a)} to {_node_words(b)})"
    if kind == "sig":
        return f"sigmoid edge of hidden neuron {edge[1] + 1}"
    if kind == "S":
        return f"softmax edge from logit {edge[2] + 1} to softmax output {edge[1] + 1}"
    return f"edge from softmax output {edge[1] + 1} to the loss"
