"""Cross-entropy on logits, done stably:  L = -(1/N) sum_n sum_j y_jn log softmax(z_n)_j.

    log_softmax(z)_j = z_j - logsumexp(z),   logsumexp(z) = m + log sum_i e^{z_i - m},  m = max z
    cross-entropy:   dL/dz = (softmax(z) - y) / N         (softmax and the loss fused)
    binary, sigmoid: L = mean of max(z, 0) - z y + log(1 + e^{-|z|}),   dL/dz = (sigma(z) - y) / n

Column convention, as in chapter 4: the classes are axis 0, one per output neuron, so logits z
are (D_out,) for one example or (D_out, N) for a batch of N columns. Targets y are either integer
class labels (an int for z (D_out,), or shape (N,) for z (D_out, N)) or one distribution per
column with the shape of z (one-hot, or any probabilities that sum to 1). The loss is the mean
over the batch. No exponential of a positive number is ever taken, so logits of +-1e4 give
finite results and no numpy warning.

Derived in: chapters/04_network_by_hand.ipynb
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, checked
from .activations import _axis, sigmoid

__all__ = ["log_softmax", "log_softmax_backward", "cross_entropy", "cross_entropy_backward",
           "binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits_backward"]


@checked(z="_? _? _")
def log_softmax(z, axis: int = 0) -> np.ndarray:
    """log a = z - max z - log sum exp(z - max z) along ``axis``; the shape of z.

    Never log of a rounded-to-zero softmax: at z = (0, -1e4) it gives (0, -1e4), where
    log(softmax(z)) gives (0, -inf). axis=0 (default): one example per column.
    """
    _axis(axis, z, "z")
    shifted = z - z.max(axis=axis, keepdims=True)  # every entry <= 0, so exp <= 1
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))  # the sum is >= 1


@checked(logp="_? _? _", dout="=logp")
def log_softmax_backward(dout, logp, axis: int = 0) -> np.ndarray:
    """dz = dout - softmax(z) * sum(dout) along ``axis``, from the saved output logp = log_softmax(z).

    d log a_m / d z_j = 1[m = j] - a_j, so dz_j = dout_j - a_j sum_m dout_m. Shapes: all of logp.
    """
    _axis(axis, logp, "logp")
    return dout - np.exp(logp) * dout.sum(axis=axis, keepdims=True)


def _targets(y, name, sizes, source):  # noqa: ARG001 (the signature @checked calls)
    """y as one distribution per column, shape of z (D_out,) or (D_out, N): labels become one-hot."""
    D_out, N = sizes["D_out"], sizes.get("N")
    labels_shape = () if N is None else (N,)
    z_shape = (D_out,) + labels_shape
    want = (f"must have shape {labels_shape} (integer class labels in 0..{D_out - 1}) or "
            f"{z_shape} (one distribution per column, as z)")
    if isinstance(y, (str, bytes)) or y is None:
        raise TypeError(f"y must be integer class labels or an array of target probabilities, "
                        f"got {type(y).__name__} {y!r}")
    raw = np.asarray(y)
    if raw.dtype == object or not (np.issubdtype(raw.dtype, np.number) or raw.dtype == bool):
        raise TypeError(f"y must be integer class labels or an array of target probabilities, "
                        f"got {type(y).__name__} of {raw.dtype}")
    if raw.shape == z_shape:
        t = as_float_array(raw, "y")
        if np.any(t < 0) or not np.allclose(t.sum(axis=0), 1.0, rtol=0, atol=1e-9):
            raise ValueError("y with the shape of z must hold one distribution per column "
                             "(entries >= 0 summing to 1, e.g. one-hot); got column sums "
                             f"{np.round(t.sum(axis=0), 6).tolist()} and minimum {t.min():.6g}")
        return t
    if raw.shape != labels_shape:
        raise ValueError(f"y {want}, got {raw.shape}")
    if raw.dtype == bool or not np.issubdtype(raw.dtype, np.integer):
        raise ValueError(f"y of shape {labels_shape} holds class labels and must be integers "
                         f"(an int dtype), got dtype {raw.dtype}"
                         + (f" with value {raw.flat[0].item()!r}" if raw.size else ""))
    if np.any(raw < 0) or np.any(raw >= D_out):
        bad = raw.flat[np.flatnonzero((raw < 0) | (raw >= D_out))[0]]
        raise ValueError(f"y holds class labels, which must be in 0..{D_out - 1} for z with "
                         f"D_out = {D_out} classes (axis 0), got {int(bad)}")
    return raw


def _distribution(y, z: np.ndarray) -> np.ndarray:
    """Targets as one distribution per column of z: integer labels (one axis fewer) -> one-hot.

    In the body, not at the door, so a trusted loop (_validate.trusted) gets the same value."""
    y = np.asarray(y)
    if y.ndim == z.ndim:
        return y
    return (np.arange(z.shape[0]).reshape((-1,) + (1,) * y.ndim) == y).astype(np.float64)


def _batch(z: np.ndarray) -> int:
    return 1 if z.ndim == 1 else z.shape[1]


@checked(z="D_out N?", y=_targets)
def cross_entropy(z, y) -> float:
    """L = -(1/N) sum_n sum_j y_jn log_softmax(z)_jn; for integer labels -(1/N) sum_n log a_{y_n, n}.

    z: logits (D_out,) or (D_out, N), classes on axis 0. y: labels () / (N,), or targets shaped like z.
    """
    # y_j = 0 entries contribute 0 * (finite log a_j) = 0: no 0 * log 0
    return -float((_distribution(y, z) * log_softmax(z, 0)).sum()) / _batch(z)


@checked(z="D_out N?", y=_targets, dout="real")
def cross_entropy_backward(z, y, dout: float = 1.0) -> np.ndarray:
    """dz = dout * (softmax(z) - y) / N: the softmax Jacobian and dL/da fused; the shape of z.

    z: logits (D_out,) or (D_out, N). y: labels () / (N,), or targets shaped like z (columns sum to 1).
    """
    a = np.exp(log_softmax(z, 0))  # softmax, from the stable log
    return dout * (a - _distribution(y, z)) / _batch(z)


@checked(z="*", y="=z")
def binary_cross_entropy_with_logits(z, y) -> float:
    """L = mean of -[y log sigma(z) + (1 - y) log(1 - sigma(z))] = mean of max(z,0) - z y + log(1 + e^-|z|).

    z: logits, any shape; y: targets (usually 0 or 1) of the same shape; the mean is over all
    entries. log(1 + e^-|z|) is log1p of a number <= 1: finite for every finite z.
    """
    return float(np.mean(np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))))


@checked(z="*", y="=z", dout="real")
def binary_cross_entropy_with_logits_backward(z, y, dout: float = 1.0) -> np.ndarray:
    """dz = dout * (sigma(z) - y) / n, n = number of entries; the shape of z.

    The sigmoid's derivative sigma (1 - sigma) cancels against d L / d sigma, as softmax's
    Jacobian does for cross-entropy.
    """
    return dout * (sigmoid(z) - y) / z.size
