"""Autograd Functions  forward(ctx, ...) -> y,  backward(ctx, dy) -> (dL/d input, ...), and a 3-4-2 net.

Rows are examples, as in PyTorch: Linear takes input (N, D_in), weight (D_out, D_in), bias (D_out,)
and returns input @ weight^T + bias (N, D_out); Softmax normalises along ``dim``.
Each backward returns one gradient per forward input (None for a non-tensor or a tensor that
needs none), each with the shape of its input.

Derived in: chapters/05_autograd.ipynb
"""

from __future__ import annotations

import numpy as np

from .activations import sigmoid, softmax, softmax_vjp
from .autograd import Function, Tensor

__all__ = ["Linear", "Sigmoid", "Softmax", "SquaredError", "Add", "Sub", "Mul", "Pow", "Sum",
           "Select", "TwoLayerNet"]


def _sum_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Undo broadcasting: a value copied along an axis gets the sum of the gradients there."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


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
    """c = a - b.  dL/da = dL/dc,  dL/db = -dL/dc."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (np.shape(a), np.shape(b))
        return np.subtract(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        (sa, sb), (na, nb) = ctx.shapes, ctx.needs_input_grad
        return (_sum_to(grad_output, sa) if na else None, _sum_to(-grad_output, sb) if nb else None)


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


class TwoLayerNet:
    """a2 = softmax(sigmoid(x W1^T + b1) W2^T + b2, dim=1), built from the Functions above.

    W1 (H, D), b1 (H,), W2 (K, H), b2 (K,) become leaf Tensors with requires_grad=True; x is (N, D).
    """

    def __init__(self, W1, b1, W2, b2):
        self.W1 = Tensor(W1, requires_grad=True, name="W1")
        self.b1 = Tensor(b1, requires_grad=True, name="b1")
        self.W2 = Tensor(W2, requires_grad=True, name="W2")
        self.b2 = Tensor(b2, requires_grad=True, name="b2")

    def forward(self, x: Tensor) -> Tensor:
        z1 = Linear.apply(x, self.W1, self.b1)  # z^1
        a1 = Sigmoid.apply(z1)  # a^1
        z2 = Linear.apply(a1, self.W2, self.b2)  # z^2, the logits
        return Softmax.apply(z2, 1)  # a^2

    __call__ = forward

    def parameters(self) -> list[Tensor]:
        return [self.W1, self.b1, self.W2, self.b2]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()
