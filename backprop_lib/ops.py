"""The primitive ops behind Tensor's operators:  c = a + b, a - b, a * b, a^p, sum(a), a[index].

Each is a Function (forward(ctx, ...) -> c, backward(ctx, dc) -> one gradient per input); a
gradient of a broadcast input is summed back to the input's shape.

Derived in: chapters/05_autograd.ipynb
"""

from __future__ import annotations

import numpy as np

from .autograd import Function

__all__ = ["Add", "Sub", "Mul", "Pow", "Sum", "Select"]


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


class Mul(Function):
    """c = a * b.  dL/da = dL/dc * b,  dL/db = dL/dc * a: the mul node swaps its inputs."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.multiply(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        return (_sum_to(grad_output * b, np.shape(a)) if na else None,
                _sum_to(grad_output * a, np.shape(b)) if nb else None)


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


class Sum(Function):
    """s = sum of every entry.  dL/da = dL/ds copied to every entry."""

    @staticmethod
    def forward(ctx, a):
        ctx.shape = np.shape(a)
        return np.sum(a)

    @staticmethod
    def backward(ctx, grad_output):
        return np.broadcast_to(grad_output, ctx.shape).copy()


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
