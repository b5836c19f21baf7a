"""Sigmoid and softmax, numerically stable, with their derivatives.

    sigma(z) = 1 / (1 + e^-z)                 sigma'(z) = sigma(z) (1 - sigma(z))
    softmax(z)_m = e^{z_m} / sum_j e^{z_j}    d softmax_m / d z_j = a_m (1[m = j] - a_j)

Derived in: chapters/01_computational_graphs.ipynb (sigmoid),
            chapters/04_network_by_hand.ipynb (softmax Jacobian and its vector-Jacobian product)
"""

from __future__ import annotations

import numpy as np

from ._validate import checked

__all__ = ["sigmoid", "sigmoid_backward", "softmax", "softmax_jacobian", "softmax_vjp",
           "tanh", "tanh_backward", "relu", "relu_backward"]


@checked(z="*")
def sigmoid(z) -> np.ndarray:
    """sigma(z) = 1 / (1 + exp(-z)), element-wise; any shape; never overflows."""
    # e = exp(-|z|) <= 1 never overflows: for z >= 0, 1 / (1 + e); for z < 0, e / (1 + e) = e^z / (1 + e^z)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


@checked(a="*", dout="=a")
def sigmoid_backward(dout, a) -> np.ndarray:
    """dz = dout * a (1 - a), where a = sigmoid(z) is the saved forward output."""
    return dout * a * (1.0 - a)


def _axis(axis, arr, name):
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis must be an integer, got {type(axis).__name__} {axis!r}")
    if not -arr.ndim <= axis < arr.ndim:
        raise ValueError(f"axis must be in [{-arr.ndim}, {arr.ndim}) for {name} of shape {arr.shape}, "
                         f"got {axis}")


@checked(z="_? _? _")
def softmax(z, axis: int = 0) -> np.ndarray:
    """a = exp(z - max z) / sum exp(z - max z) along ``axis``.

    axis=0 (default) treats each column as one example (column convention z = Wx + b);
    use axis=-1 for rows. Subtracting the max changes nothing mathematically and keeps exp <= 1.
    z is 1-D to 3-D.
    """
    _axis(axis, z, "z")
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@checked(a="n")
def softmax_jacobian(a) -> np.ndarray:
    """J[m, j] = d a_m / d z_j = a_m (1[m = j] - a_j) = diag(a) - a a^T, for one vector a (D_out,)."""
    return np.diag(a) - np.outer(a, a)


@checked(a="_? _? _", dout="=a")
def softmax_vjp(dout, a, axis: int = 0) -> np.ndarray:
    """dz = J^T dout = a * (dout - sum(a * dout)) along ``axis``, without building J.

    a is the softmax output (saved from the forward pass), 1-D to 3-D; dout has its shape.
    """
    _axis(axis, a, "a")
    return a * (dout - np.sum(a * dout, axis=axis, keepdims=True))


# ---------------------------------------------------------------- tanh and ReLU (Chapter 8)

@checked(z="*")
def tanh(z) -> np.ndarray:
    """tanh(z) = (e^z - e^-z) / (e^z + e^-z), element-wise; any shape.

    Derived in: chapters/08_deep_networks.ipynb
    """
    return np.tanh(z)


@checked(a="*", dout="=a")
def tanh_backward(dout, a) -> np.ndarray:
    """dz = dout * (1 - a^2), where a = tanh(z) is the saved forward output; tanh' <= 1."""
    return dout * (1.0 - a * a)


@checked(z="*")
def relu(z) -> np.ndarray:
    """relu(z) = max(z, 0), element-wise; any shape."""
    return np.maximum(z, 0.0)


@checked(a="*", dout="=a")
def relu_backward(dout, a) -> np.ndarray:
    """dz = dout * 1[a > 0], where a = relu(z) is the saved output (a > 0 exactly when z > 0).

    At z = 0 the derivative is taken as 0, as PyTorch does. Any shape (vectorized.relu_vjp is
    the one-vector form of Chapter 2).
    """
    return dout * (a > 0)
