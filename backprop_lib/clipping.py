"""Gradient clipping by the global norm: one factor for every parameter, as PyTorch does.

    n = sqrt(sum over all parameters of ||g||^2)      c = min(1, tau / (n + 1e-6))      g <- c g

The direction of the whole gradient is kept; only its length is capped at tau (``max_norm``).
The 1e-6 is PyTorch's (torch.nn.utils.clip_grad_norm_), so the numbers agree with it.

Derived in: chapters/08_deep_networks.ipynb
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, as_positive_float

__all__ = ["clip_grad_norm"]


def _clip(grads: list, max_norm: float):
    total = float(np.sqrt(sum(float((g * g).sum()) for g in grads)))
    c = min(1.0, max_norm / (total + 1e-6))
    return ([g * c for g in grads] if c < 1.0 else list(grads)), total


def clip_grad_norm(grads, max_norm: float):
    """g <- g * min(1, max_norm / (||g||_global + 1e-6)) for every g; returns (clipped list, ||g||_global).

    grads: a list of arrays of any shapes (the gradients of every parameter). The global norm
    returned is the one before clipping, as torch.nn.utils.clip_grad_norm_ returns it.
    """
    if not isinstance(grads, (list, tuple)) or not grads:
        raise TypeError(f"grads must be a non-empty list of arrays, got {type(grads).__name__}")
    arrays = [as_float_array(g, f"grads[{i}]") for i, g in enumerate(grads)]
    return _clip(arrays, as_positive_float(max_norm, "max_norm"))
