"""Chapter 4 widget: inputs, one weight and eta -> the gradients on the network and a training curve.

    forward  a1 = sigma(W1 a0 + b1),  a2 = softmax(W2 a1 + b2),  L = 1/2 sum (a2 - y)^2
    backward delta2 = J^T (a2 - y),  delta1 = a1 (1 - a1) * (W2^T delta2),
             dW2 = delta2 a1^T,  dW1 = delta1 a0^T

Upper panel: the 3-4-2 network, each weight's edge as wide as |dL/dw| (blue positive, red
negative), the chosen weight highlighted, each z-node labelled with its error signal delta.
Lower panel: the loss over STEPS gradient-descent steps from these values. Choosing a weight
moves the value slider to that weight's value in the example. Drawn once (LiveFigure); a
slider move restyles the edges and rewrites the texts and the curve only.

    w = NetworkGradients(params, y);  interact(w.update, **w.controls())

Derived in: chapters/04_network_by_hand.ipynb
"""

from __future__ import annotations

import numpy as np

from .. import network as nw
from ..live import LiveFigure
from ..netdraw import LiveNetwork

__all__ = ["NetworkGradients", "WEIGHTS", "STEPS"]

# "w2_11" -> ("W2", 0, 0): the menu's names, 1-based as in the chapter
WEIGHTS = {f"w{layer}_{j + 1}{k + 1}": (f"W{layer}", j, k)
           for layer, (rows, cols) in ((1, (4, 3)), (2, (2, 4)))
           for j in range(rows) for k in range(cols)}
STEPS = 150  # training steps per update: about 10 ms


class NetworkGradients:
    """The widget for the 3-4-2 network with parameters ``params`` and target ``y``."""

    def __init__(self, params=None, y=None, x=None):
        ex = nw.example()
        self.params = {k: np.array(v, dtype=float) for k, v in (params or ex["params"]).items()}
        self.y = np.array(ex["y"] if y is None else y, dtype=float)
        self.x = np.array(ex["x"] if x is None else x, dtype=float)
        self.fig = fig = LiveFigure(figsize=(9, 8.4), alt=(
            "Above, the 3-4-2 network, each weight's edge as wide as its gradient, the chosen "
            f"weight highlighted; below, the loss over {STEPS} training steps from these values"))
        ax_net, ax_loss = fig.subplots(2, 1, gridspec_kw={"height_ratios": [1.5, 1]})
        self.ax_loss = ax_loss
        deltas = [("z1", i) for i in range(4)] + [("z2", i) for i in range(2)]
        self.net_view = LiveNetwork(ax_net, node_text=deltas, text_size=11)
        (self.curve,) = ax_loss.plot([], [], color="#1f5fbf")
        self.trouble = ax_loss.text(0.5, 0.5, "", ha="center", va="center",
                                    transform=ax_loss.transAxes, color="#c4161c")
        ax_loss.set(xlabel="step", ylabel="loss L", xlim=(0, STEPS), ylim=(0, 0.55),
                    title="training from these values, eta = 0.1")
        ax_loss.grid(alpha=0.3)
        ax_net.set_title("gradients (width = |dL/dw|), L = 0.2344")  # set by update; for the layout
        fig.changing(self.curve, self.trouble, ax_loss.title)
        fig.tight_layout()

    def controls(self) -> dict:
        """The controls for ``interact``: three inputs, a weight menu, its value, eta."""
        from ipywidgets import Dropdown, FloatLogSlider, FloatSlider

        slider = dict(min=-4.0, max=4.0, step=0.1)
        tip = "input {} of the network: the gradients and the training curve are redrawn"
        menu = Dropdown(options=list(WEIGHTS), value="w2_11",
                        tooltip="which weight the value slider sets (highlighted)")
        value = FloatSlider(value=0.3, tooltip="value of the chosen weight", **slider)

        def start_from_example_value(change):  # a newly chosen weight starts at its example value
            name, j, k = WEIGHTS[change["new"]]
            value.value = float(self.params[name][j, k])

        menu.observe(start_from_example_value, names="value")
        return {**{f"x{i + 1}": FloatSlider(value=float(self.x[i]),
                                            tooltip=tip.format(f"x{i + 1}"), **slider)
                   for i in range(3)},
                "weight": menu, "value": value,
                "eta": FloatLogSlider(value=0.1, base=10, min=-3, max=2, step=0.1,
                                      tooltip="learning rate of the training curve")}

    def update(self, x1=1.0, x2=0.5, x3=-1.0, weight="w2_11", value=0.3, eta=0.1):
        """Recompute the gradients and the training curve; show the picture."""
        name, j, k = WEIGHTS[weight]
        p = {key: v.copy() for key, v in self.params.items()}
        p[name][j, k] = value
        xv = np.array([x1, x2, x3])
        try:
            gr = nw.backward(nw.forward(xv, p), self.y)
            _, losses = nw.train(xv, self.y, p, lr=eta, steps=STEPS)
            if not np.all(np.isfinite(losses)):
                raise FloatingPointError("the loss became NaN or infinite")
        except (ValueError, FloatingPointError, OverflowError) as err:
            self.net_view.update(title="gradients: cannot compute", highlight=[(name, j, k)])
            self.curve.set_visible(False)
            self.trouble.set_text(f"cannot compute:\n{err}")
            self.ax_loss.set_title("training")
            self.fig.show()
            return
        node_text = {("z1", i): f"δ¹ = {gr['delta1'][i]:.4f}" for i in range(4)}
        node_text.update({("z2", i): f"δ² = {gr['delta2'][i]:.4f}" for i in range(2)})
        self.net_view.update(title=f"gradients (width = |dL/dw|), L = {gr['loss']:.4f}",
                             highlight=[(name, j, k)], node_text=node_text,
                             edge_values={"W1": gr["dW1"], "W2": gr["dW2"]})
        top = 0.55 if losses.max() <= 0.52 else 1.05  # the loss of one example is at most 1
        if self.ax_loss.get_ylim()[1] != top:  # new limits: the ticks must be drawn again
            self.ax_loss.set_ylim(0, top)
            self.fig.redraw_all()
        self.curve.set_visible(True)
        self.curve.set_data(np.arange(len(losses)), losses)
        self.trouble.set_text("")
        msg = ": loss went up: eta is too large" if losses[-1] > losses[0] else ""
        self.ax_loss.set_title(f"training from these values, eta = {eta:.3g}{msg}")
        self.fig.show()
