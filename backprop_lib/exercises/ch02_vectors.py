"""Chapter 2 exercises: gradients of vector and matrix expressions.

    f = ||W x||^2 (times dout):   dW = 2 dout q x^T,  dx = 2 dout W^T q,  q = W x
    o = |x| element-wise:        dx = dout * sign(x)   (the VJP; J = diag(sign x) is never built)

Derived in: chapters/02_vector_gradients.ipynb
"""

from __future__ import annotations

import numpy as np

from ._checker import Case, Exercise, Mistake


def _wx_cases(rng):
    shapes = [(2, 3), (3, 3), (1, 4), (4, 2)]
    return [Case({"W": rng.normal(size=s), "x": rng.normal(size=s[1])}) for s in shapes]


def _wx(W, x):
    q = W @ x
    return q @ q


def _dx_without_transpose(W, x, dout):
    return 2 * dout * W @ (W @ x) if W.shape[0] == W.shape[1] else None


WX_NORM_SQ = Exercise(
    name="wx_norm_sq", signature="wx_norm_sq_backward(dout, W, x) -> dW, dx",
    returns="(dW, dx): dW with the shape (m, n) of W and dx with the shape (n,) of x",
    forward=_wx, cases=_wx_cases,
    mistakes=(
        Mistake(lambda p, d: (None, _dx_without_transpose(p["W"], p["x"], d)), "no_transpose", """
            you multiplied by W; the gradient flows back through W transposed: dx = W^T dq with dq = 2 q
            dout."""),
    ),
)


def _abs_cases(rng):
    out = []
    for s in [(6,), (2, 3), (1,), (4,)]:
        x = rng.uniform(0.2, 2.0, size=s) * rng.choice([-1.0, 1.0], size=s)
        out.append(Case({"x": x}))
    out[2].point["x"][...] = -abs(out[2].point["x"])  # a single negative entry
    return out


ABS = Exercise(
    name="abs_vjp", signature="abs_vjp(dout, x) -> dx",
    returns="dx with the shape of x: dout where x > 0 and -dout where x < 0",
    forward=lambda x: np.abs(x), cases=_abs_cases,
    mistakes=(
        Mistake(lambda _p, d: (d,), "identity", """
            you passed dout through unchanged; where x < 0, |x| = -x, so the local gradient there is -1."""),
        Mistake(lambda p, d: (d * np.abs(p["x"]),), "value", """
            you multiplied dout by |x|, the forward value; the local gradient is sign(x)."""),
        Mistake(lambda p, d: (np.where(p["x"] > 0, d, 0.0),), "relu", """
            that is the ReLU's VJP (0 where x < 0); |x| does not flatten the negative side, it mirrors
            it: the local gradient there is -1."""),
    ),
)

EXERCISES = [WX_NORM_SQ, ABS]
