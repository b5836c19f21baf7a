"""Autograd layers  forward(ctx, ...) -> y,  backward(ctx, dy) -> (dL/d input, ...).

Rows are examples, as in PyTorch: Linear takes input (N, D_in), weight (D_out, D_in), bias (D_out,)
and returns input @ weight^T + bias (N, D_out); Softmax normalises along ``dim``.
Each backward returns one gradient per forward input (None for a non-tensor or a tensor that
needs none), each with the shape of its input.

Derived in: chapters/05_autograd.ipynb
"""

from __future__ import annotations

import numpy as np

from .activations import sigmoid, softmax, softmax_vjp
from .autograd import Function

__all__ = ["Linear", "Sigmoid", "Softmax", "SquaredError"]


class Linear(Function):
    """z = a W^T + b.  dL/da = dz W,  dL/dW = dz^T a,  dL/db = dz summed over the rows."""

    @staticmethod
    def forward(ctx, input, weight, bias):
        ctx.save_for_backward(input, weight)  # b is not needed: dz/db = 1
        return input @ weight.T + bias

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        need_a, need_w, need_b = ctx.needs_input_grad
        return (grad_output @ weight if need_a else None,  # (N, out) @ (out, in)
                grad_output.T @ input if need_w else None,  # (out, N) @ (N, in)
                grad_output.sum(axis=0) if need_b else None)


class Sigmoid(Function):
    """a = sigma(z).  dL/dz = dL/da * a (1 - a): saving the output a is enough."""

    @staticmethod
    def forward(ctx, z):
        a = sigmoid(z)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        return grad_output * a * (1.0 - a)


class Softmax(Function):
    """a = softmax(z) along dim.  dL/dz = a * (dL/da - sum(a * dL/da)): saves a and dim."""

    @staticmethod
    def forward(ctx, z, dim):
        a = softmax(z, axis=dim)
        ctx.save_for_backward(a)
        ctx.dim = dim
        return a

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        return softmax_vjp(grad_output, a, axis=ctx.dim), None


class SquaredError(Function):
    """L = 1/2 sum (pred - target)^2.  dL/dpred = dL * (pred - target), dL/dtarget = -that."""

    @staticmethod
    def forward(ctx, pred, target):
        diff = pred - target
        ctx.save_for_backward(diff)
        return 0.5 * np.sum(diff**2)

    @staticmethod
    def backward(ctx, grad_output):
        (diff,) = ctx.saved_tensors
        return grad_output * diff, -grad_output * diff
