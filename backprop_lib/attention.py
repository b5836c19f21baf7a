"""Attention, piece by piece:  z = v alpha,  v = V x + b,  e = k^T q,  alpha = a / b.

    z = v alpha              dv = dz alpha^T (outer),   dalpha = v^T dz
    v = V x + b 1^T          dV = dv x^T,  db = dv 1 (sum over columns),  dx = V^T dv
    p = W x~ (x~ = [x; 1])   dW = dp x~^T,  dx~ = W^T dp      (query q = Q x~1, keys k = K x~)
    e = k^T q  (e_j = q.k_j) dq = k de,    dk = q de^T
    softmax as a circuit: a_m = exp(e_m), b = sum_m a_m, alpha_m = a_m / b
        path through a_m (top):  d alpha_m / d e_j = delta_mj alpha_m
        path through b   (mid):  d alpha_m / d e_j = -alpha_m alpha_j     (sum: the Jacobian)

Shapes: v (d, n) has one value per column, alpha (n,); x (m, n) one input per column, b (d,);
q (d,), k (d, n), e (n,). Every gradient has the shape of its variable.

The three training programs of the source notes (values, query, keys) are at the end, with the
query program's update also available exactly as the source wrote it (it is not the gradient).

Derived in: chapters/06_attention_components.ipynb
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import as_count, as_float_array, as_positive_float, check_shape
from .losses import squared_error

__all__ = [
    "weighted_values", "weighted_values_backward", "value_layer", "value_layer_backward",
    "append_ones", "projection", "projection_backward", "scores", "scores_backward",
    "softmax_circuit", "softmax_branches", "query_update_as_written",
    "ProgramResult", "values_program", "query_program", "keys_program",
]


def weighted_values(v, alpha) -> np.ndarray:
    """z = v alpha = sum_j alpha_j v_j.  v (d, n), alpha (n,) -> z (d,)."""
    v = as_float_array(v, "v", ndim=2)
    alpha = as_float_array(alpha, "alpha")
    check_shape("alpha", alpha, (v.shape[1],), "one weight per column of v")
    return v @ alpha


def weighted_values_backward(dz, v, alpha):
    """dv = dz alpha^T (each column j gets dz scaled by alpha_j), dalpha = v^T dz."""
    z_shape = weighted_values(v, alpha).shape
    dz = as_float_array(dz, "dz")
    check_shape("dz", dz, z_shape)
    v, alpha = as_float_array(v, "v"), as_float_array(alpha, "alpha")
    return np.outer(dz, alpha), v.T @ dz


def value_layer(V, b, x) -> np.ndarray:
    """v = V x + b 1^T (b added to every column).  V (d, m), b (d,), x (m, n) -> v (d, n)."""
    V = as_float_array(V, "V", ndim=2)
    b = as_float_array(b, "b")
    x = as_float_array(x, "x", ndim=2)
    check_shape("b", b, (V.shape[0],), "one bias per row of V")
    check_shape("x", x, (V.shape[1], None), "one input per column")
    return V @ x + b[:, None]


def value_layer_backward(dv, V, x):
    """dV = dv x^T, db = sum of the columns of dv (b is shared by all columns), dx = V^T dv."""
    V = as_float_array(V, "V", ndim=2)
    v_shape = value_layer(V, np.zeros(V.shape[0]), x).shape
    dv = as_float_array(dv, "dv")
    check_shape("dv", dv, v_shape)
    V, x = as_float_array(V, "V"), as_float_array(x, "x")
    return dv @ x.T, dv.sum(axis=1), V.T @ dv


def append_ones(x) -> np.ndarray:
    """x~ = [x; 1]: a row of ones under x (m,) or (m, n), so that W x~ = W[:, :-1] x + W[:, -1]."""
    x = as_float_array(x, "x", ndim=(1, 2))
    return np.concatenate([x, np.ones((1,) + x.shape[1:])], axis=0)


def projection(W, x) -> np.ndarray:
    """p = W x (bias absorbed in W's last column when x ends in ones).  W (d, m), x (m,) or (m, n)."""
    W = as_float_array(W, "W", ndim=2)
    x = as_float_array(x, "x", ndim=(1, 2))
    check_shape("x", x, (W.shape[1],) + (None,) * (x.ndim - 1))
    return W @ x


def projection_backward(dp, W, x):
    """dW = dp x^T (an outer product for a single column), dx = W^T dp."""
    p_shape = projection(W, x).shape
    dp = as_float_array(dp, "dp")
    check_shape("dp", dp, p_shape)
    W, x = as_float_array(W, "W"), as_float_array(x, "x")
    dW = np.outer(dp, x) if x.ndim == 1 else dp @ x.T
    return dW, W.T @ dp


def scores(q, k) -> np.ndarray:
    """e = q^T k, i.e. e_j = q . k_j.  q (d,), k (d, n) -> e (n,)."""
    q = as_float_array(q, "q", ndim=1)
    k = as_float_array(k, "k", ndim=2)
    check_shape("k", k, (q.shape[0], None), "one key per column, as long as q")
    return q @ k


def scores_backward(de, q, k):
    """dq = k de (sum_j de_j k_j), dk = q de^T (column j is de_j q)."""
    e_shape = scores(q, k).shape
    de = as_float_array(de, "de")
    check_shape("de", de, e_shape)
    q, k = as_float_array(q, "q"), as_float_array(k, "k")
    return k @ de, np.outer(q, de)


def softmax_circuit(e):
    """The softmax as gates: a = exp(e - max e), b = sum a, alpha = a / b.  e (n,).

    Shifting by max e scales a and b by the same factor, so alpha and every ratio below are
    unchanged while exp never overflows. Returns (a, b, alpha).
    """
    e = as_float_array(e, "e", ndim=1)
    a = np.exp(e - e.max())
    b = float(a.sum())
    return a, b, a / b


def softmax_branches(e):
    """The two backward paths from alpha_m to e_j; top + mid is the softmax Jacobian.

    top[m, j] = (d alpha_m / d a_m)(d a_m / d e_j) = (1/b) exp(e_j) delta_mj = delta_mj alpha_m
    mid[m, j] = (d alpha_m / d b)(d b / d e_j) = -(a_m / b^2) exp(e_j)     = -alpha_m alpha_j
    """
    _, _, alpha = softmax_circuit(e)
    return np.diag(alpha), -np.outer(alpha, alpha)


def query_update_as_written(dq, x1) -> np.ndarray:
    """The source program's step for Q = [W | b]: NOT the gradient (kept to reproduce it).

    Julia: dQ = dq' .* x[1:end-1]' (element-wise product of two rows), broadcast over the rows
    of W, so row i of the weight step is dq_j x_j for every i, where the gradient is dq_i x_j.
    The bias column gets dq, which is right. Only runs when W is square (as in Julia).
    dq (d,), x1 (d + 1,) ending in 1 -> (d, d + 1).
    """
    dq = as_float_array(dq, "dq", ndim=1)
    x1 = as_float_array(x1, "x1", ndim=1)
    check_shape("x1", x1, (dq.shape[0] + 1,), "the element-wise product needs a square W")
    row = dq * x1[:-1]
    return np.column_stack([np.tile(row, (dq.shape[0], 1)), dq])


@dataclass
class ProgramResult:
    """Final parameters, final output, and losses[i] = loss after i updates (steps + 1 values;
    the source program prints losses[:-1], each before its update).

    diverged is True when the step size was too large: the loss passed 1e12 or stopped being
    finite; the program then stopped there (fewer losses, all finite) without an exception."""

    params: dict
    output: np.ndarray
    losses: np.ndarray
    diverged: bool = False


DIVERGED = 1e12  # a loss above this (or not finite) stops a program: the step size is too large


def _blew_up(loss: float, *arrays) -> bool:
    return not (np.isfinite(loss) and loss <= DIVERGED and all(np.all(np.isfinite(a)) for a in arrays))


def values_program(V, b, x, y, alpha, eta=0.002, steps=10) -> ProgramResult:
    """Gradient descent on V, b for L = 1/2 ||(V x + b) alpha - y||^2 (source: 'Values, V')."""
    V, b = as_float_array(V, "V", ndim=2), as_float_array(b, "b")
    y = as_float_array(y, "y")
    check_shape("y", y, (V.shape[0],), "one target per row of V (the length of z)")
    eta, steps = as_positive_float(eta, "eta"), as_count(steps, "steps")
    losses = []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            v = value_layer(V, b, x)
            z = weighted_values(v, alpha)
            losses.append(squared_error(z, y))
            dv, _ = weighted_values_backward(z - y, v, alpha)  # dL/dz = z - y
            dV, db, _ = value_layer_backward(dv, V, x)
            if _blew_up(losses[-1], V - eta * dV, b - eta * db):
                return ProgramResult({"V": V, "b": b}, z, np.array(losses), diverged=True)
            V, b = V - eta * dV, b - eta * db
    z = weighted_values(value_layer(V, b, x), alpha)
    return ProgramResult({"V": V, "b": b}, z, np.array(losses + [squared_error(z, y)]))


def query_program(Q, k, x1, y, eta=0.02, steps=100, as_written=False) -> ProgramResult:
    """Gradient descent on Q for L = 1/2 ||k^T Q x1 - y||^2; x1 ends in 1 (bias in Q's last column).

    as_written=True takes the source program's step (query_update_as_written) instead.
    """
    Q = as_float_array(Q, "Q", ndim=2)
    x1 = as_float_array(x1, "x1", ndim=1)
    check_shape("x1", x1, (Q.shape[1],), "one entry per column of Q, the last one 1")
    k = as_float_array(k, "k", ndim=2)
    check_shape("k", k, (Q.shape[0], None), "one key per column, as long as the query Q x1")
    y = as_float_array(y, "y")
    check_shape("y", y, (k.shape[1],), "one target score per key (column of k)")
    eta, steps = as_positive_float(eta, "eta"), as_count(steps, "steps")
    losses = []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            q = projection(Q, x1)
            e = scores(q, k)
            losses.append(squared_error(e, y))
            dq, _ = scores_backward(e - y, q, k)  # dL/de = e - y
            dQ = query_update_as_written(dq, x1) if as_written else projection_backward(dq, Q, x1)[0]
            if _blew_up(losses[-1], Q - eta * dQ):
                return ProgramResult({"Q": Q}, e, np.array(losses), diverged=True)
            Q = Q - eta * dQ
    e = scores(projection(Q, x1), k)
    return ProgramResult({"Q": Q}, e, np.array(losses + [squared_error(e, y)]))


def keys_program(K, q, x, y, eta=0.01, steps=300) -> ProgramResult:
    """Gradient descent on K for L = 1/2 ||q^T K x - y||^2; x's last row is ones (bias in K)."""
    K = as_float_array(K, "K", ndim=2)
    q = as_float_array(q, "q", ndim=1)
    check_shape("q", q, (K.shape[0],), "the query is as long as a key (a row count of K)")
    x = as_float_array(x, "x", ndim=2)
    y = as_float_array(y, "y")
    check_shape("y", y, (x.shape[1],), "one target score per input (column of x)")
    eta, steps = as_positive_float(eta, "eta"), as_count(steps, "steps")
    losses = []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            k = projection(K, x)
            e = scores(q, k)
            losses.append(squared_error(e, y))
            _, dk = scores_backward(e - y, q, k)  # dL/de = e - y
            K_next = K - eta * projection_backward(dk, K, x)[0]
            if _blew_up(losses[-1], K_next):
                return ProgramResult({"K": K}, e, np.array(losses), diverged=True)
            K = K_next
    e = scores(q, projection(K, x))
    return ProgramResult({"K": K}, e, np.array(losses + [squared_error(e, y)]))
