"""Chapter 4 widget: two logits and a loss choice -> delta2 = dL/dz2, the loss, and arrows.

    cross-entropy:            L = -log a_1,                   delta2 = a - y
    squared error (softmax):  L = 1/2 sum_j (a_j - y_j)^2,    delta2 = J^T (a - y)
    with a = softmax(z), y = (1, 0) (class 1 is the right answer), margin m = z_1 - z_2.

Left panel: the output layer (logits, softmax outputs, loss) with an arrow at each logit
showing -delta2_j, the direction in which gradient descent moves that logit (its length is
proportional to |delta2_j|). Right panel: |delta2_1| against the margin for both losses on a
log scale, with the current margin marked. Everything static is drawn once (LiveFigure).

Derived in: chapters/04_network_by_hand.ipynb
"""

from __future__ import annotations

import numpy as np

from ..activations import softmax, softmax_vjp
from ..cross_entropy import cross_entropy_backward, log_softmax
from ..live import LiveFigure

__all__ = ["OutputLayerLoss", "delta2_of", "LOSS_NAMES"]

LOSS_NAMES = {"cross-entropy": "cross_entropy", "squared error": "squared_error"}
COLORS = {"cross_entropy": "#c4161c", "squared_error": "#1f5fbf"}
Y = np.array([1.0, 0.0])
ARROW = 0.42  # arrow length for |delta2_j| = 1, in data units of the left panel


def delta2_of(z, loss: str = "cross_entropy"):
    """(L, delta2) for logits z (2,) or (2, N) columns and target class 1 (y = (1, 0)), per column."""
    z = np.asarray(z, dtype=float)
    if loss not in LOSS_NAMES.values():
        raise ValueError(f"loss must be one of {tuple(LOSS_NAMES.values())}, got {loss!r}")
    y = Y if z.ndim == 1 else np.repeat(Y[:, None], z.shape[1], axis=1)
    if loss == "cross_entropy":
        n = 1 if z.ndim == 1 else z.shape[1]  # per example, not the batch mean
        return -log_softmax(z, 0)[0], cross_entropy_backward(z, y) * n
    a = softmax(z, 0)
    return 0.5 * np.sum((a - y) ** 2, axis=0), softmax_vjp(a - y, a, 0)


class OutputLayerLoss:
    """The widget: ``w = OutputLayerLoss(); interact(w.update, **w.controls())``."""

    def __init__(self, margin_range: float = 20.0):
        self.fig = LiveFigure(figsize=(10, 4.2), alt=(
            "Left, the output layer (logits, softmax outputs, loss) with an arrow at each logit "
            "showing minus delta2, the way gradient descent moves it; right, |delta2_1| against "
            "the logit margin for squared error and cross-entropy on a log scale, the current "
            "margin marked"))
        ax, ax_curve = self.fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.05, 1]})
        self._layer(ax)
        self._curves(ax_curve, margin_range)
        self.fig.tight_layout()

    def _layer(self, ax):
        ax.set(xlim=(-1.3, 2.7), ylim=(-0.35, 1.55), title="output layer, target y = (1, 0)")
        ax.axis("off")
        self._ys = (1.0, 0.2)
        for yy in self._ys:
            for yy2 in self._ys:  # softmax: every output depends on every logit
                ax.plot([0.0, 1.1], [yy, yy2], color="#9aa4ad", lw=1, zorder=0)
            ax.plot([1.1, 2.12], [yy, 0.6], color="#9aa4ad", lw=1, zorder=0)
        nodes = [(0.0, yy) for yy in self._ys] + [(1.1, yy) for yy in self._ys] + [(2.12, 0.6)]
        ax.plot(*zip(*nodes, strict=True), "o", ms=26, mfc="#f4f6f8", mec="#333333", mew=1.2,
                zorder=1)
        ax.text(2.12, 0.6, "L", ha="center", va="center", fontsize=12, zorder=2)
        self._arrows = ax.quiver([0.0, 0.0], list(self._ys), [0.0, 0.0], [0.0, 0.0],
                                 angles="xy", scale_units="xy", scale=1, width=0.012,
                                 color=COLORS["cross_entropy"], zorder=3)
        self._z_text = [ax.text(-0.2, yy + 0.06, "", ha="right", va="center", fontsize=10)
                        for yy in self._ys]
        self._d_text = [ax.text(-0.2, yy - 0.12, "", ha="right", va="center", fontsize=10)
                        for yy in self._ys]
        self._a_text = [ax.text(1.1, yy + 0.16, "", ha="center", va="bottom", fontsize=10)
                        for yy in self._ys]
        self._l_text = ax.text(2.12, 0.42, "", ha="center", va="top", fontsize=10)
        ax.text(-1.25, -0.28, "arrows: -δ², the way gradient descent moves each logit",
                ha="left", va="center", fontsize=9, color="#444444")
        self.fig.changing(ax.title, self._arrows, *self._z_text, *self._a_text, *self._d_text,
                          self._l_text)
        self._ax = ax

    def _curves(self, ax, margin_range):
        m = np.linspace(-margin_range, margin_range, 401)
        z = np.stack([m / 2, -m / 2])
        self._marks = {}
        for name, key in LOSS_NAMES.items():
            d = np.abs(delta2_of(z, key)[1][0])
            ax.semilogy(m, d, color=COLORS[key], label=name)
            (self._marks[key],) = ax.plot([], [], "o", color=COLORS[key], ms=8)
        self._vline = ax.axvline(0.0, color="#666666", lw=1, ls="--")
        ax.set(xlabel=r"logit margin $z^2_1 - z^2_2$ (right class minus wrong class)",
               ylabel=r"$|\delta^2_1|$ (log scale)", xlim=(-margin_range, margin_range),
               title=r"$|\delta^2_1|$ against the margin")
        ax.grid(alpha=0.3, which="both")
        ax.legend(loc="lower left")
        self.fig.changing(self._vline, *self._marks.values())

    @staticmethod
    def controls() -> dict:
        """The ipywidgets controls for ``interact``: the two logits and the loss."""
        from ipywidgets import Dropdown, FloatSlider

        slider = dict(min=-10.0, max=10.0, step=0.5)
        tip = "logit {} of the output layer: delta2, the loss and the arrows are redrawn"
        return {"z1": FloatSlider(value=-8.0, description="z²₁", tooltip=tip.format(1), **slider),
                "z2": FloatSlider(value=8.0, description="z²₂", tooltip=tip.format(2), **slider),
                "loss": Dropdown(options=list(LOSS_NAMES), value="cross-entropy", description="loss",
                                 tooltip="the loss whose gradient delta2 is shown")}

    def update(self, z1: float = -8.0, z2: float = 8.0, loss: str = "cross-entropy") -> None:
        """Recompute for logits (z1, z2) and the loss named ``loss``; show the picture."""
        key = LOSS_NAMES[loss]
        z = np.array([z1, z2], dtype=float)
        a = softmax(z)
        L, d = delta2_of(z, key)
        self._arrows.set_UVC([0.0, 0.0], -ARROW * d)
        self._arrows.set_color(COLORS[key])
        for j in range(2):
            sub = "₁₂"[j]
            self._z_text[j].set_text(f"z²{sub} = {z[j]:.1f}")
            self._a_text[j].set_text(f"a²{sub} = {a[j]:.4g}")
            self._d_text[j].set_text(f"δ²{sub} = {_fmt(d[j])}")
        self._l_text.set_text(f"L = {float(L):.4g}")
        self._ax.set_title(f"output layer, {loss}, target y = (1, 0)")
        margin = z1 - z2
        self._vline.set_xdata([margin, margin])
        for k, mark in self._marks.items():
            dk = abs(delta2_of(z, k)[1][0])
            mark.set_data([margin], [dk])
            mark.set_markersize(10 if k == key else 5)
        self.fig.show()


def _fmt(v: float) -> str:
    v = float(v)
    if v == 0:
        return "0"
    return f"{v:.4f}" if abs(v) >= 1e-3 else f"{v:.2e}"
