"""Squared-error loss  L = 1/2 * sum (pred - target)^2, and its gradient dpred = pred - target.

The 1/2 cancels the 2 of the derivative. It is a sum, not a mean, as in the sources
(the 3-4-2 network and the attention notes); divide by N yourself for a batch mean.

Derived in: chapters/03_linear_layer.ipynb, chapters/04_network_by_hand.ipynb
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, as_real

__all__ = ["squared_error", "squared_error_backward"]


def _pair(pred, target):
    pred = as_float_array(pred, "pred")
    target = as_float_array(target, "target")
    if pred.shape != target.shape:
        raise ValueError(f"target must have the shape of pred {pred.shape}, got {target.shape}")
    return pred, target


def squared_error(pred, target) -> float:
    """L = 1/2 sum_i (pred_i - target_i)^2 over all entries."""
    pred, target = _pair(pred, target)
    return 0.5 * float(np.sum((pred - target) ** 2))


def squared_error_backward(pred, target, dout: float = 1.0) -> np.ndarray:
    """dpred = dout * (pred - target); same shape as pred."""
    pred, target = _pair(pred, target)
    return as_real(dout, "dout") * (pred - target)
