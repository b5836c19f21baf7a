"""Chapter 9's widget: pick a block and a head, scrub through training -> that head's attention
map at that step and the loss curve up to it.

Nothing is trained here: the maps were recorded during the chapter's training run (one map per
block and head, for one fixed sequence, every few steps), so an update only swaps the heatmap's
data and redraws the curve (LiveFigure).

    w = TrainingAttentionView(maps, map_steps, losses, labels);  interact(w.update, **w.controls())

maps (n_snapshots, n_blocks, h, T, T): row i = query i, column j = key j (rows sum to 1);
map_steps (n_snapshots,): the training step of each snapshot; losses (n_steps,): the loss at
every step; labels: T tick labels (the tokens of the sequence), or None for 0 .. T-1.

Derived in: chapters/09_transformer_block.ipynb
"""

from __future__ import annotations

import numpy as np

from .._validate import as_float_array
from ..live import LiveFigure


class TrainingAttentionView:
    """``interact(w.update, **w.controls())`` shows the widget (see the module docstring)."""

    def __init__(self, maps, map_steps, losses, labels=None):
        self.maps = as_float_array(maps, "maps", ndim=5)
        self.steps = [int(s) for s in np.asarray(map_steps).ravel()]
        self.losses = as_float_array(losses, "losses", ndim=1)
        n_snap, self.n_blocks, self.h, T, T2 = self.maps.shape
        if T != T2 or len(self.steps) != n_snap:
            raise ValueError(f"maps must have shape (n_snapshots, n_blocks, h, T, T) with one entry of "
                             f"map_steps per snapshot, got maps {self.maps.shape} and "
                             f"{len(self.steps)} map_steps")
        if not self.steps or max(self.steps) >= len(self.losses) or min(self.steps) < 0:
            raise ValueError(f"map_steps must be steps 0 .. {len(self.losses) - 1} of losses, got "
                             f"{self.steps[:1]} .. {self.steps[-1:]}")
        labels = [str(i) for i in range(T)] if labels is None else [str(s) for s in labels]
        if len(labels) != T:
            raise ValueError(f"labels must have T = {T} entries, got {len(labels)}")
        if any(b <= a for a, b in zip(self.steps[:-1], self.steps[1:], strict=True)):
            raise ValueError(f"map_steps must increase, got {self.steps}")
        self.fig = fig = LiveFigure(figsize=(9.5, 3.9), alt=(
            "Left, the attention weights of the chosen head at the chosen training step, one row "
            "per query; right, the training loss on a log scale up to that step"))
        self.ax_map, self.ax_loss = ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.15]})
        self.heat = ax1.imshow(self.maps[0, 0, 0], cmap="viridis", vmin=0.0, vmax=1.0)
        ax1.set_xticks(range(T), labels, fontsize=8)
        ax1.set_yticks(range(T), labels, fontsize=8)
        ax1.set_xlabel("key (input token)")
        ax1.set_ylabel("query (input token)")
        fig.colorbar(self.heat, ax=ax1, fraction=0.046, pad=0.04)
        x = np.arange(len(self.losses))
        ax2.plot(x, self.losses, color="0.8", lw=1)  # the whole run, faint: where it is going
        (self.so_far,) = ax2.plot([], [], color="C0", lw=1.6)
        (self.now,) = ax2.plot([], [], "o", color="C3", ms=6)
        ax2.set(yscale="log", xlim=(0, len(self.losses) - 1), xlabel="training step",
                ylabel="loss (cross-entropy)")
        ax2.grid(True, which="major", alpha=0.3)
        # titles with text of their final length, so that the layout and the crop leave room
        self.map_title = ax1.set_title(f"block 1, head 1, step {self.steps[-1]}")
        self.loss_title = ax2.set_title(f"loss at step {self.steps[-1]}: 0.000")
        fig.tight_layout()
        fig.changing(self.heat, self.so_far, self.now, self.map_title, self.loss_title)

    def controls(self) -> dict:
        from ipywidgets import IntSlider

        spacing = self.steps[1] - self.steps[0] if len(self.steps) > 1 else 1
        return dict(
            block=IntSlider(value=1, min=1, max=self.n_blocks, description="block",
                            tooltip="which block's attention is shown (1 = the first, nearest the input)"),
            head=IntSlider(value=1, min=1, max=self.h, description="head",
                           tooltip="which head of that block: the map on the left changes"),
            step=IntSlider(value=self.steps[-1], min=self.steps[0], max=self.steps[-1], step=spacing,
                           description="step",
                           tooltip="training step: the map recorded then and the loss curve up to it"))

    def update(self, block=1, head=1, step=None):
        """Show head ``head`` of block ``block`` (both counted from 1) at the last map <= step."""
        step = self.steps[-1] if step is None else int(step)
        i = max(int(np.searchsorted(self.steps, step, side="right")) - 1, 0)  # the last map <= step
        s = self.steps[i]
        self.heat.set_data(self.maps[i, int(block) - 1, int(head) - 1])
        self.map_title.set_text(f"block {int(block)}, head {int(head)}, step {s}")
        self.so_far.set_data(np.arange(s + 1), self.losses[:s + 1])
        self.now.set_data([s], [self.losses[s]])
        self.loss_title.set_text(f"loss at step {s}: {self.losses[s]:.3f}")
        self.fig.show()  # returns None: interact would print a returned array under the figure
