"""Tensor: the engine's TensorBase plus operators, each one a primitive Function of ops.py.

The operators check their arguments (shapes, axes) at the door and raise a ValueError or
TypeError that names them; the Functions behind them hold only the math.

Derived in: chapters/05_autograd.ipynb
"""

from __future__ import annotations

import numbers

import numpy as np

from .autograd import TensorBase
from .ops import Add, Div, Exp, MaskedFill, MatMul, Max, Mul, Permute, Pow, Reshape, Select, Sub, Sum, Tanh

__all__ = ["Tensor"]


def _shape(x) -> tuple:
    return x.shape if isinstance(x, TensorBase) else np.shape(x)


def _axes(axis, ndim: int, what: str) -> tuple | None:
    """``axis`` (None, an int or a tuple of ints) checked against ``ndim``, as non-negative ints."""
    if axis is None:
        return None
    many = isinstance(axis, (tuple, list))
    for a in axis if many else (axis,):
        if isinstance(a, bool) or not isinstance(a, numbers.Integral):
            raise TypeError(f"{what}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"{what}: axis {a} is out of range for a tensor with {ndim} axes")
    return tuple(int(a) % ndim for a in axis) if many else int(axis) % ndim


def _matmul(a, b):
    sa, sb = _shape(a), _shape(b)
    if len(sa) < 2 or len(sb) < 2 or sa[-1] != sb[-2]:
        raise ValueError(f"a @ b needs a of shape (..., n, k) and b of shape (..., k, m) with the "
                         f"same k, got {sa} @ {sb}")
    try:
        np.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        raise ValueError(f"a @ b: the leading (batch) axes of {sa} and {sb} do not broadcast") from None
    return MatMul.apply(a, b)


def _operator(function, reflected: bool = False):
    """The operator method ``self <op> other``: function.apply(self, other), or
    function.apply(other, self) for the reflected form (``2 - t`` calls ``t.__rsub__(2)``)."""
    def method(self, other):
        return function.apply(other, self) if reflected else function.apply(self, other)

    return method


class Tensor(TensorBase):
    """An array of float64 that records the graph of its operators for backward:
    + - * / ** @ [], sum, mean, max, exp, tanh, reshape, transpose, swapaxes, masked_fill."""

    __add__ = __radd__ = _operator(Add)
    __sub__, __rsub__ = _operator(Sub), _operator(Sub, reflected=True)
    __mul__ = __rmul__ = _operator(Mul)
    __truediv__, __rtruediv__ = _operator(Div), _operator(Div, reflected=True)

    def __neg__(self):
        return self * -1.0

    def __pow__(self, exponent):
        return Pow.apply(self, exponent)

    def __matmul__(self, other):
        return _matmul(self, other)

    def __rmatmul__(self, other):
        return _matmul(other, self)

    def __getitem__(self, index):
        return Select.apply(self, index)

    def sum(self, axis=None, keepdims: bool = False):
        """Sum over ``axis`` (an int, a tuple, or None for every entry), as numpy."""
        return Sum.apply(self, _axes(axis, self.data.ndim, "sum"), bool(keepdims))

    def mean(self, axis=None, keepdims: bool = False):
        """Mean over ``axis``: the sum times 1/n, n the number of entries averaged."""
        axes = _axes(axis, self.data.ndim, "mean")
        averaged = range(self.data.ndim) if axes is None else np.atleast_1d(axes)
        n = int(np.prod([self.shape[a] for a in averaged]))
        return self.sum(axes, keepdims) * (1.0 / n)

    def max(self, axis=None, keepdims: bool = False):
        """Maximum over ``axis``; backward sends the gradient to the maxima (split if tied)."""
        if self.data.size == 0:
            raise ValueError("max of an empty tensor")
        return Max.apply(self, _axes(axis, self.data.ndim, "max"), bool(keepdims))

    def exp(self):
        return Exp.apply(self)

    def tanh(self):
        return Tanh.apply(self)

    def reshape(self, *shape):
        """The same entries in a new shape (row-major order, as numpy); one size may be -1."""
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        try:
            np.empty(self.shape, dtype=np.bool_).reshape(shape)
        except (TypeError, ValueError):
            raise ValueError(f"cannot reshape a tensor of shape {self.shape} "
                             f"({self.data.size} entries) into shape {shape}") from None
        return Reshape.apply(self, shape)

    def transpose(self, *axes):
        """Axes reordered as numpy's transpose: ``axes`` a permutation of 0..ndim-1 (default:
        reversed)."""
        axes = tuple(axes[0]) if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        ndim = self.data.ndim
        axes = axes or tuple(reversed(range(ndim)))
        if sorted(_axes(axes, ndim, "transpose")) != list(range(ndim)):
            raise ValueError(f"transpose: axes must be a permutation of 0..{ndim - 1} for shape "
                             f"{self.shape}, got {axes}")
        return Permute.apply(self, _axes(axes, ndim, "transpose"))

    def swapaxes(self, axis1: int, axis2: int):
        """The two axes exchanged (a transpose of two axes, e.g. K -> K^T with (-2, -1))."""
        ndim = self.data.ndim
        order = list(range(ndim))
        i, j = _axes(axis1, ndim, "swapaxes"), _axes(axis2, ndim, "swapaxes")
        order[i], order[j] = j, i
        return Permute.apply(self, tuple(order))

    def masked_fill(self, mask, value: float):
        """``value`` where the constant boolean ``mask`` is True (mask broadcasts to self)."""
        mask = np.asarray(mask)
        if mask.dtype != np.bool_:
            raise TypeError(f"masked_fill: mask must be a boolean array, got dtype {mask.dtype}")
        try:
            ok = np.broadcast_shapes(mask.shape, self.shape) == self.shape
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"masked_fill: mask of shape {mask.shape} does not broadcast to the "
                             f"tensor's shape {self.shape}")
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"masked_fill: value must be a real number, got {value!r}")
        return MaskedFill.apply(self, mask, float(value))

    def detach(self):
        """The same values as a constant: no grad_fn, no gradient flows back through it."""
        return type(self)._result(self.data, requires_grad=False)
