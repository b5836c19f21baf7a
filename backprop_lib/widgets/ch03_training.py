"""Chapter 3's widget: the loss curve of a linear layer trained by gradient descent.

Sliders set the learning rate (log scale) and the four initial weights; the curve of 100
full-batch steps is redrawn, red when the learning rate is above the stability limit
2 / lambda_max, with a notice when training diverged.

    w = TrainingCurve(X_train, Y_train);  interact(w.update, **w.controls())

Derived in: chapters/03_linear_layer.ipynb
"""

from __future__ import annotations

import numpy as np
from ipywidgets import FloatLogSlider, FloatSlider

from ..linear import max_stable_lr, train_linear
from ..live import LiveFigure

STEPS = 100


class TrainingCurve:
    """Loss against step for Z = W X + b fitted to targets y (columns are examples), from W0, b = 0."""

    def __init__(self, X, y):
        self.X, self.y = X, y
        self.lr_max = max_stable_lr(X)
        # The axes are drawn once; a slider move redraws the curve and the texts only. Two
        # fixed loss ranges keep curves comparable.
        self.fig = fig = LiveFigure(figsize=(6.5, 4), alt=(
            "Loss of the linear layer over 100 gradient-descent steps from the start weights W0 "
            "set by the sliders, on a log scale"))
        self.ax = ax = fig.add_subplot()
        (self.curve,) = ax.semilogy([], [], lw=2)
        ax.set(xlabel="gradient-descent step", ylabel="loss (log scale)", xlim=(0, STEPS),
               ylim=(0.05, 1e4), title=f"lr = 0.05  (limit 2/lambda_max = {self.lr_max:.3g})")
        ax.grid(True, which="both", alpha=0.3)
        self.final = ax.text(0.98, 0.95, "", transform=ax.transAxes, ha="right", va="top")
        self.alarm = ax.text(0.5, 0.5, "", transform=ax.transAxes, ha="center", va="center",
                             fontsize=11, bbox=dict(facecolor="white", edgecolor="C3"))
        fig.changing(self.curve, self.final, self.alarm, ax.title)

    @staticmethod
    def controls() -> dict:
        weight = dict(min=-4.0, max=4.0, step=0.5, value=0.0)
        tip = "start weight W0[{}, {}]: the loss curve is redrawn from it"
        return {"lr": FloatLogSlider(value=0.05, base=10, min=-3, max=0, step=0.01,
                                     tooltip="learning rate: the loss curve is redrawn"),
                **{k: FloatSlider(tooltip=tip.format(k[1], k[2]), **weight)
                   for k in ("w11", "w12", "w21", "w22")}}

    def update(self, lr=0.05, w11=0.0, w12=0.0, w21=0.0, w22=0.0):
        W0 = np.array([[w11, w12], [w21, w22]])
        run = train_linear(self.X, self.y, W0, np.zeros(2), lr, steps=STEPS)
        finite = run.losses[np.isfinite(run.losses)]  # an overflowed last loss is not drawn
        growing = run.diverged or lr > self.lr_max  # above the limit the loss grows, sooner or later
        top = 1e4 if finite.max() < 1e4 else 1e13
        if self.ax.get_ylim()[1] != top:  # new axis limits: the ticks must be drawn again
            self.ax.set_ylim(0.05, top)
            self.fig.redraw_all()
        self.curve.set_data(np.arange(len(finite)), finite)
        self.curve.set_color("C3" if growing else "C0")
        self.ax.set_title(f"lr = {lr:.3g}  (limit 2/lambda_max = {self.lr_max:.3g})")
        self.alarm.set_visible(run.diverged)
        self.alarm.set_text(f"Diverged: lr = {lr:.3g} is above the limit {self.lr_max:.3g}.\n"
                            f"The loss passed 1e12 after {len(run.losses) - 1} steps; "
                            f"training stopped.")
        note = " (lr is above the limit: the loss grows)" if growing else ""
        self.final.set_visible(not run.diverged)
        self.final.set_text(f"final loss {run.losses[-1]:.3g}{note}")
        self.fig.show()
        return run
