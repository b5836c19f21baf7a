"""Chapter 5 exercises: the backward of a custom autograd Function.

    Tanh:    t = tanh(z)    backward: dz = grad_output * (1 - t^2)      (saves t)
    MatMul:  Y = X @ W      backward: (grad_output @ W^T, X^T @ grad_output)   (Chapter 3's rows)

The checker calls the reader's class the way backprop_lib.autograd does: forward(ctx, ...)
with a fresh Context, then backward(ctx, grad_output).

Derived in: chapters/05_autograd.ipynb
"""

from __future__ import annotations

import numpy as np

from ..autograd import Context
from ._checker import Case, Exercise, Mistake


def _apply(cls, dout, *inputs):
    ctx = Context(tuple(True for _ in inputs))
    cls.forward(ctx, *inputs)
    return cls.backward(ctx, dout)


def _tanh_cases(rng):
    return [Case({"z": rng.normal(size=s)}) for s in [(3,), (2, 4), (1,), (5,)]]


TANH = Exercise(
    name="tanh_function", signature="Tanh.backward(ctx, grad_output) -> grad_z",
    returns="the gradient with respect to z, an array with the shape of z",
    forward=lambda z: np.tanh(z),
    call=lambda cls, p, dout: _apply(cls, dout, p["z"]),
    cases=_tanh_cases,
    mistakes=(
        Mistake(lambda p, d: (d * (1 - np.tanh(p["z"])),), "local", """
            the local derivative of tanh is 1 - t^2 (t squared), not 1 - t."""),
        Mistake(lambda p, d: (d * (1 - p["z"] ** 2),), "local", """
            you used the input z in 1 - z^2; the derivative is 1 - t^2 with the saved output t =
            tanh(z)."""),
    ),
    upstream="grad_output",
)


def _matmul_cases(rng):
    return [Case({"X": rng.normal(size=(n, d_in)), "W": rng.normal(size=(d_in, d_out))})
            for n, d_in, d_out in [(2, 3, 4), (1, 3, 1), (3, 3, 3), (4, 2, 3)]]


MATMUL = Exercise(
    name="matmul_function", signature="MatMul.backward(ctx, grad_output) -> grad_X, grad_W",
    returns="a tuple (grad_X, grad_W), one gradient per forward input,\nin the order of "
            "forward's arguments, with the shapes of X (N, D_in) and W (D_in, D_out)",
    forward=lambda X, W: X @ W,
    call=lambda cls, p, dout: _apply(cls, dout, p["X"], p["W"]),
    cases=_matmul_cases,
    mistakes=(
        Mistake(lambda p, d: (p["X"].T @ d, d @ p["W"].T), "order", """
            the two gradients are swapped: backward returns one gradient per forward input, in the order
            forward received them (X, then W)."""),
    ),
    upstream="grad_output",
)

EXERCISES = [TANH, MATMUL]
