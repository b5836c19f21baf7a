"""Chapter 7's widget: the attention weights of the trained head, for one sequence.

``plot_attention`` draws a matrix of attention weights (keys as rows, queries as columns);
``AttentionView`` shows it next to the bars of one query's column, with sliders for a factor on
W_q and the query, and a causal-mask switch. Positions on the figures and the query slider count
from 1 to T, as in the chapter's formulas; the arrays inside are indexed from 0.

    w = AttentionView(X_demo, tokens, W, letters);  interact(w.update, **w.controls())

Derived in: chapters/07_attention_head.ipynb
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from ipywidgets import Checkbox, FloatSlider, IntSlider

from ..attention_head import attention_head_forward, causal_mask
from ..live import LiveFigure


def plot_attention(ax, A, tokens, letters, title, highlight=None):
    """Heatmap of A (T, T): entry [j, i] is how much query i attends to key j.

    Tick labels name the positions 1..T (position:token); highlight is a 0-based column index.
    """
    im = ax.imshow(A, cmap="viridis", vmin=0.0, vmax=1.0)
    labels = position_labels(tokens, letters)
    ax.set_xticks(range(len(tokens)), labels)
    ax.set_yticks(range(len(tokens)), labels)
    ax.set_xlabel("query (position:token)")
    ax.set_ylabel("key (position:token)")
    ax.set_title(title)
    if highlight is not None:  # a red frame around the chosen query's column
        ax.add_patch(plt.Rectangle((highlight - 0.5, -0.5), 1, len(tokens), fill=False,
                                   edgecolor="red", linewidth=2))
    return im


def position_labels(tokens, letters):
    """Labels "position:token" with positions counted from 1, as in the chapter's formulas."""
    return [f"{i}:{letters[tk]}" for i, tk in enumerate(tokens, start=1)]


class AttentionView:
    """Attention weights of one sequence X (1, d, T) under W = {"Wq", "Wk", "Wv"}."""

    def __init__(self, X, tokens, W, letters):
        self.X, self.tokens, self.W, self.letters = X, np.asarray(tokens), W, np.asarray(letters)
        T = self.T = len(self.tokens)
        # Drawn once: axes, tick labels, colour scale. Each change redraws the heatmap, the
        # frame, the bars and the titles only (LiveFigure, see backprop_lib/live.py).
        self.fig = fig = LiveFigure(figsize=(9, 3.8), alt=(
            "Left, heatmap of the attention weights A of the trained head, one column per query, "
            "the chosen query framed; right, that query's attention weights over the keys as bars"))
        self.ax1, self.ax2 = ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
        self.heat = plot_attention(ax1, np.full((T, T), 1 / T), self.tokens, self.letters,
                                   "A with W_q x 1.00", highlight=0)
        self.frame = ax1.patches[-1]
        self.bars = ax2.bar(range(T), np.zeros(T), color="tab:blue")
        ax2.set_ylim(0, 1)
        ax2.set_xticks(range(T), position_labels(self.tokens, self.letters))
        ax2.set_xlabel("key (position:token)")
        ax2.set_ylabel("attention weight")
        self.heading = fig.suptitle("")
        fig.changing(self.heat, self.frame, *self.bars, ax1.title, ax2.title, self.heading)
        fig.tight_layout()

    def controls(self) -> dict:
        return {"wq_scale": FloatSlider(value=1.0, min=0.0, max=3.0, step=0.1,
                                        description="W_q scale",
                                        tooltip="factor on W_q: sharper or flatter attention"),
                "query": IntSlider(value=1, min=1, max=self.T, description="query",
                                   tooltip="the query (position 1 to T) whose attention "
                                           "weights the bars show"),
                "causal": Checkbox(value=False, description="causal", tooltip=(
                    "causal mask: each query sees only keys up to its position"))}

    def update(self, wq_scale=1.0, query=1, causal=False):
        """Redraw for the query at position `query` (1..T); returns None (interact prints it)."""
        j = query - 1  # the 0-based column of that query
        m = causal_mask(self.T) if causal else None
        Vbar, cache = attention_head_forward(self.X, wq_scale * self.W["Wq"], self.W["Wk"],
                                             self.W["Wv"], m)
        A = cache["A"][0]
        out = self.letters[Vbar[0].argmax(axis=0)]
        self.heat.set_data(A)
        self.frame.set_x(j - 0.5)
        self.ax1.set_title(f"A with W_q x {wq_scale:.2f}")
        for bar, h in zip(self.bars, A[:, j], strict=True):
            bar.set_height(h)
        want = self.letters[self.tokens[self.T - 1 - j]]  # the task: reverse the sequence
        self.ax2.set_title(f"query {query}: outputs '{out[j]}' (target '{want}')")
        word = "".join(self.letters[self.tokens])
        self.heading.set_text(f"input {word}  ->  output {''.join(out)}")
        self.fig.show()
