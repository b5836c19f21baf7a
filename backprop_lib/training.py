"""Gradient descent  p <- p - lr dL/dp, the one loop of every chapter, and its result.

Derived in: chapters/03_linear_layer.ipynb (the loop and its divergence),
            chapters/04_network_by_hand.ipynb, chapters/06_attention_components.ipynb
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import trusted

__all__ = ["DIVERGED", "TrainResult", "descend"]

DIVERGED = 1e12  # a loss above this (or an update that overflows) stops training


@dataclass
class TrainResult:
    """What every training loop returns.

    params   : {name: array}, the parameters after the last update made.
    losses   : losses[t] = the loss before update t; losses[-1] is the loss of ``params``
               (steps + 1 values, fewer when training diverged).
    output   : the model's output for ``params`` (the prediction that gives losses[-1]).
    diverged : True when training stopped early because the step size was too large: the loss
               passed DIVERGED = 1e12 (that loss is the last one kept), or an update would have
               made a parameter overflow (``params`` are then the last finite ones). No
               exception; an overflowed loss is kept as inf, never NaN.

    ``params, losses = train(...)`` unpacks the first two, as Chapter 4 does.
    """

    params: dict
    losses: np.ndarray
    output: np.ndarray
    diverged: bool = False

    def __iter__(self):
        return iter((self.params, self.losses))


def descend(forward, backward, params: dict, lr: float, steps: int, *, update=None) -> TrainResult:
    """``steps`` updates  p <- p - lr dL/dp  of every array in ``params``.

    forward(params) -> (loss, output, cache);  backward(cache) -> {name: dL/d(name)}.
    update(params, grads) -> new params replaces the gradient step (Adam: adam.adam_step);
    forward is called once per step, in order (steps + 1 times), so it may draw that step's batch.
    The caller (the public training function) has checked its arguments, so the steps run
    without checks (_validate.trusted).
    """
    losses = []
    with np.errstate(over="ignore", invalid="ignore"), trusted():
        for t in range(steps + 1):
            loss, output, cache = forward(params)
            losses.append(float(loss) if np.isfinite(loss) else np.inf)
            if losses[-1] > DIVERGED:
                return TrainResult(params, np.array(losses), output, diverged=True)
            if t == steps:
                break
            grads = backward(cache)
            new = update(params, grads) if update else {k: params[k] - lr * grads[k] for k in params}
            if not all(np.isfinite(v).all() for v in new.values()):
                return TrainResult(params, np.array(losses), output, diverged=True)
            params = new
    return TrainResult(params, np.array(losses), output)
