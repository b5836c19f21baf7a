"""Chapter 8's widget: depth, activation, init scale, BatchNorm and residual paths -> the
per-layer gradient norms ||dL/da^l|| at initialisation and a short training curve.

The axes are drawn once (LiveFigure); an update runs one forward/backward pass for the norms
and a few full-batch gradient-descent steps for the curve, then redraws the two lines and the
texts only. Initialisation: Xavier for sigmoid and tanh, He for relu, times ``scale``.

Derived in: chapters/08_deep_networks.ipynb
"""

from __future__ import annotations

import numpy as np

from ..deep import ACTIVATIONS, init_mlp, mlp_gradients, train_mlp
from ..live import LiveFigure

LR = {"sigmoid": 0.3, "tanh": 0.05, "relu": 0.02}  # a rate that trains a healthy net of each kind
MAX_DEPTH = 30


class GradientFlowWidget:
    """``interact(w.update, **w.controls())`` shows the widget; X (N, D_in), targets y (N, 1)."""

    def __init__(self, X, y, *, width: int = 32, steps: int = 10, seed: int = 1):
        self.X, self.y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        self.width, self.steps, self.seed = int(width), int(steps), int(seed)
        self.fig = fig = LiveFigure(figsize=(9.0, 3.6), alt=(
            "Left, the norm of dL/da for every layer on a log scale; right, the loss of a short "
            "training run"))
        self.ax_flow, self.ax_loss = ax1, ax2 = fig.subplots(1, 2)
        ax1.set(yscale="log", xlim=(0, MAX_DEPTH), ylim=(1e-20, 1e4), xlabel="layer l",
                ylabel="||dL/da^l|| at initialisation", title="gradient flow (input on the left)")
        ax2.set(yscale="log", xlim=(0, self.steps), ylim=(1e-3, 1e4), xlabel="gradient-descent step",
                ylabel="loss", title=f"training, {self.steps} steps")
        for ax in (ax1, ax2):
            ax.grid(True, which="major", alpha=0.3)
        (self.flow_line,) = ax1.plot([], [], "o-", ms=3, lw=1.5, color="C0")
        (self.loss_line,) = ax2.plot([], [], "o-", ms=3, lw=1.5, color="C1")
        self.ratio = ax1.text(0.03, 0.05, "", transform=ax1.transAxes, ha="left", va="bottom")
        self.final = ax2.text(0.97, 0.95, "", transform=ax2.transAxes, ha="right", va="top")
        fig.tight_layout()
        fig.changing(self.flow_line, self.loss_line, self.ratio, self.final)

    def controls(self) -> dict:
        from ipywidgets import Checkbox, Dropdown, FloatLogSlider, IntSlider

        redraw = ": the gradient norms and the training curve are redrawn"
        return dict(depth=IntSlider(value=20, min=2, max=MAX_DEPTH, step=1, description="depth",
                                    tooltip="number of layers" + redraw),
                    activation=Dropdown(options=list(ACTIVATIONS), value="sigmoid", description="f",
                                        tooltip="activation function" + redraw),
                    scale=FloatLogSlider(value=1.0, base=2, min=-2, max=1, step=0.25,
                                         description="init scale",
                                         tooltip="factor on the initial weights' scale" + redraw),
                    batchnorm=Checkbox(value=False, description="BatchNorm",
                                       tooltip="BatchNorm after every hidden layer" + redraw),
                    residual=Checkbox(value=False, description="residual",
                                      tooltip="identity paths around the hidden layers" + redraw))

    def compute(self, depth=20, activation="sigmoid", scale=1.0, batchnorm=False, residual=False):
        """(||dL/da^l|| for l = 1 .. depth-1, the losses of the short training run)."""
        norm = "batch" if batchnorm else None
        init = "he" if activation == "relu" else "xavier"
        sizes = [self.X.shape[1]] + [self.width] * (int(depth) - 1) + [self.y.shape[1]]
        params = init_mlp(sizes, init=init, scale=scale, norm=norm, seed=self.seed)
        kw = dict(activation=activation, norm=norm, residual=bool(residual))
        with np.errstate(over="ignore", invalid="ignore"):
            _, back = mlp_gradients(self.X, self.y, params, **kw)
        run = train_mlp(self.X, self.y, params, steps=self.steps, lr=LR[activation], **kw)
        return back.da_norms[1:], run

    def update(self, depth=20, activation="sigmoid", scale=1.0, batchnorm=False, residual=False):
        flow, run = self.compute(depth, activation, scale, batchnorm, residual)
        layers = np.arange(1, len(flow) + 1)
        self.flow_line.set_data(layers, np.clip(flow, 1e-30, 1e30))
        self.ratio.set_text(f"||dL/da^1|| / ||dL/da^{len(flow)}|| = {flow[0] / flow[-1]:.1e}")
        losses = np.clip(run.losses, 1e-30, 1e30)
        self.loss_line.set_data(np.arange(len(losses)), losses)
        self.final.set_text("diverged" if run.diverged
                            else f"loss {run.losses[0]:.3g} -> {run.losses[-1]:.3g}")
        self.fig.show()
