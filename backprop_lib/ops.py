"""The primitive ops behind Tensor's operators:  c = a + b, a - b, a * b, a / b, a^p, a @ b,
exp(a), tanh(a), sum(a, axis), max(a, axis), a[index], reshape, transpose, masked fill.

Each is a Function (forward(ctx, ...) -> c, backward(ctx, dc) -> one gradient per input); a
gradient of a broadcast input is summed back to the input's shape. Enough of them to write a
transformer block (Chapter 9) as a forward program only: the engine derives its backward.

Derived in: chapters/05_autograd.ipynb
"""

from __future__ import annotations

import numpy as np

from .autograd import Function

__all__ = ["Add", "Sub", "Mul", "Div", "Pow", "MatMul", "Exp", "Tanh", "Sum", "Max", "Select",
           "Reshape", "Permute", "MaskedFill"]


def _sum_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Undo broadcasting: a value copied along an axis gets the sum of the gradients there."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


class Add(Function):
    """c = a + b.  The add node hands the same upstream gradient to both inputs."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (np.shape(a), np.shape(b))
        return np.add(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        return tuple(_sum_to(grad_output, s) if need else None
                     for s, need in zip(ctx.shapes, ctx.needs_input_grad, strict=True))


class Sub(Function):
    """c = a - b = a + (-b).  dL/da = dL/dc,  dL/db = -dL/dc: Add's backward, with b's sign."""

    @staticmethod
    def forward(ctx, a, b):
        return Add.forward(ctx, a, np.negative(b))

    @staticmethod
    def backward(ctx, grad_output):
        da, db = Add.backward(ctx, grad_output)
        return da, (None if db is None else -db)


class _Product(Function):
    """c = a (x) b for a product linear in each factor: both factors are saved, and each one's
    gradient is the upstream gradient times the other factor (summed to the factor's shape,
    for broadcasting).  Subclasses give ``product``, ``grad_a(g, b)`` and ``grad_b(g, a)``."""

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.save_for_backward(a, b)
        return cls.product(a, b)

    @classmethod
    def backward(cls, ctx, grad_output):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        return (_sum_to(cls.grad_a(grad_output, b), np.shape(a)) if na else None,
                _sum_to(cls.grad_b(grad_output, a), np.shape(b)) if nb else None)


class Mul(_Product):
    """c = a * b.  dL/da = dL/dc * b,  dL/db = dL/dc * a: the mul node swaps its inputs."""

    product = staticmethod(np.multiply)

    @staticmethod
    def grad_a(g, b):
        return g * b

    @staticmethod
    def grad_b(g, a):
        return g * a


class Div(Function):
    """c = a / b.  dL/da = dL/dc / b,  dL/db = -dL/dc * a / b^2 = -dL/dc * c / b.

    Saves b, and c only if b needs a gradient (dividing by a constant, S / sqrt(d_k), keeps
    no copy of the quotient).
    """

    @staticmethod
    def forward(ctx, a, b):
        c = np.divide(a, b)
        ctx.save_for_backward(b, c if ctx.needs_input_grad[1] else None)
        ctx.shapes = (np.shape(a), np.shape(b))
        return c

    @staticmethod
    def backward(ctx, grad_output):
        b, c = ctx.saved_tensors
        (na, nb), (sa, sb) = ctx.needs_input_grad, ctx.shapes
        return (_sum_to(grad_output / b, sa) if na else None,
                _sum_to(-grad_output * c / b, sb) if nb else None)


class Pow(Function):
    """c = a^p for a constant p.  dL/da = dL/dc * p a^(p-1)."""

    @staticmethod
    def forward(ctx, a, p):
        ctx.save_for_backward(a)
        ctx.p = float(p)
        return np.power(a, ctx.p)

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        return grad_output * ctx.p * np.power(a, ctx.p - 1.0), None


class MatMul(_Product):
    """c = a @ b, batched over leading axes.  dL/da = dL/dc b^T,  dL/db = a^T dL/dc.

    a (..., n, k), b (..., k, m), c (..., n, m); the leading axes broadcast as in numpy, so a
    b shared by every batch gets the sum of its per-batch gradients (via _sum_to).
    """

    product = staticmethod(np.matmul)

    @staticmethod
    def grad_a(g, b):
        return g @ np.swapaxes(b, -1, -2)

    @staticmethod
    def grad_b(g, a):
        return np.swapaxes(a, -1, -2) @ g


class _SavesOutput(Function):
    """c = f(a) elementwise, where f'(a) is a function of the output c alone: only c is saved,
    and dL/da = dL/dc * f'(c).  Subclasses give ``f`` and ``slope(c)``."""

    @classmethod
    def forward(cls, ctx, a):
        c = cls.f(a)
        ctx.save_for_backward(c)
        return c

    @classmethod
    def backward(cls, ctx, grad_output):
        (c,) = ctx.saved_tensors
        return grad_output * cls.slope(c)


class Exp(_SavesOutput):
    """c = e^a.  dL/da = dL/dc * c: the output is its own derivative (saved)."""

    f = staticmethod(np.exp)

    @staticmethod
    def slope(c):
        return c


class Tanh(_SavesOutput):
    """t = tanh(a).  dL/da = dL/dt * (1 - t^2): saving the output t is enough."""

    f = staticmethod(np.tanh)

    @staticmethod
    def slope(t):
        return 1.0 - t * t


def _unreduce(g: np.ndarray, shape: tuple, axis, keepdims: bool) -> np.ndarray:
    """Give a reduced gradient back its reduced axes (size 1), ready to broadcast to ``shape``."""
    if keepdims or axis is None:
        return np.reshape(g, (1,) * len(shape)) if axis is None else g
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return np.expand_dims(g, tuple(a % len(shape) for a in axes))


class Sum(Function):
    """s = sum of the entries (along ``axis``, or all).  dL/da = dL/ds copied along the axis."""

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = np.shape(a), axis, keepdims
        return np.sum(a, axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad_output):
        g = _unreduce(grad_output, ctx.shape, ctx.axis, ctx.keepdims)
        return (np.broadcast_to(g, ctx.shape).copy(), None, None)[:len(ctx.needs_input_grad)]


class Max(Function):
    """m = max of the entries along ``axis``.  dL/da = dL/dm at the maxima (shared if tied), else 0.

    As torch.amax: k tied maxima each get 1/k of the gradient.
    """

    @staticmethod
    def forward(ctx, a, axis, keepdims):
        m = np.max(a, axis=axis, keepdims=True)
        ctx.save_for_backward(a == m)
        ctx.axis, ctx.keepdims = axis, keepdims
        return m if keepdims else np.squeeze(m, axis=axis)

    @staticmethod
    def backward(ctx, grad_output):
        (at_max,) = ctx.saved_tensors
        g = _unreduce(grad_output, at_max.shape, ctx.axis, ctx.keepdims)
        return g * at_max / at_max.sum(axis=ctx.axis, keepdims=True), None, None


class Select(Function):
    """c = a[index].  dL/da is zero except dL/dc at ``index``."""

    @staticmethod
    def forward(ctx, a, index):
        ctx.shape, ctx.index = np.shape(a), index
        return np.array(a[index], dtype=np.float64)

    @staticmethod
    def backward(ctx, grad_output):
        da = np.zeros(ctx.shape)
        np.add.at(da, ctx.index, grad_output)  # add.at: a repeated index collects every share
        return da, None


class Reshape(Function):
    """c = a with a new shape, same entries in the same (row-major) order.  dL/da = dL/dc
    reshaped back: a reshape's backward is the inverse reshape."""

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = np.shape(a)
        return np.reshape(a, shape)

    @staticmethod
    def backward(ctx, grad_output):
        return np.reshape(grad_output, ctx.shape), None


class Permute(Function):
    """c = a with its axes reordered, c.shape[i] = a.shape[axes[i]].  dL/da = dL/dc with the
    inverse order (argsort of axes): a transpose's backward is the inverse transpose."""

    @staticmethod
    def forward(ctx, a, axes):
        ctx.axes = tuple(axes)
        return np.transpose(a, ctx.axes)

    @staticmethod
    def backward(ctx, grad_output):
        return np.transpose(grad_output, np.argsort(ctx.axes)), None


class MaskedFill(Function):
    """c = value where mask, a elsewhere (mask a constant boolean array that broadcasts to a).
    dL/da = dL/dc where not mask, 0 where mask: a filled entry no longer depends on a."""

    @staticmethod
    def forward(ctx, a, mask, value):
        ctx.save_for_backward(~np.asarray(mask))  # broadcasts against dL/dc in backward
        return np.where(mask, value, a)

    @staticmethod
    def backward(ctx, grad_output):
        (keep,) = ctx.saved_tensors
        return grad_output * keep, None, None
