"""Squared-error loss  L = 1/2 * sum (pred - target)^2, and its gradient dpred = pred - target.

The 1/2 cancels the 2 of the derivative. It is a sum, not a mean, as in the sources
(the attention notes); divide by N yourself for a batch mean, as network.loss does (the
3-4-2 network's loss is a mean over its batch, so that its learning rate does not depend on N).

Derived in: chapters/03_linear_layer.ipynb, chapters/04_network_by_hand.ipynb
"""

from __future__ import annotations

import numpy as np

from ._validate import checked

__all__ = ["squared_error", "squared_error_backward"]


@checked(pred="*", target="=pred")
def squared_error(pred, target) -> float:
    """L = 1/2 sum_i (pred_i - target_i)^2 over all entries."""
    return 0.5 * float(np.sum((pred - target) ** 2))


@checked(pred="*", target="=pred", dout="real")
def squared_error_backward(pred, target, dout: float = 1.0) -> np.ndarray:
    """dpred = dout * (pred - target); same shape as pred."""
    return dout * (pred - target)
