"""Attention, piece by piece:  vbar = V alpha,  V = Wv X + b 1^T,  s = K^T q,  alpha = softmax(s).

One vocabulary for Chapters 6 and 7: every function takes the batched matrices of Chapter 7
(one query, key or value per column) and a single query as the special case of one column.

    Vbar = V A           dV = dVbar A^T,  dA = V^T dVbar       (vbar = V alpha for one query)
    W X (Q, K or V)      dW = dout X^T (summed over a batch),  dX = W^T dout   (dout: dQ, dK or dV)
    V = Wv X + b 1^T     dWv = dV X^T,  db = dV 1 (sum over columns),  dX = Wv^T dV
    S = scale K^T Q      dQ = scale K dS,  dK = scale Q dS^T   (s = K^T q for one query, scale 1)
    softmax as a circuit: E_m = exp(s_m), C = sum_m E_m, alpha_m = E_m / C
        path through E_m (top):  d alpha_m / d s_j = 1[m = j] alpha_m
        path through C   (mid):  d alpha_m / d s_j = -alpha_m alpha_j     (sum: the Jacobian)

Shapes: V (d, n) holds one value per column and A (n, T) one column of weights per query
(alpha (n,) for one query); X (D_in, T); Q (d, T), K (d, n), S (n, T); each may carry a leading
batch axis B. Every gradient has the shape of its variable.

The three training programs of the source notes (values, query, keys) are at the end, with the
query program's update also available exactly as the source wrote it (it is not the gradient).
They train the weights Wv, Wq, Wk (the notes call them V, Q, K): V = Wv X + b 1^T holds the
values, q_1 = Wq x̃_1 the query and K = Wk X̃ the keys (X̃: X with a row of ones), as in Chapter 7.

Derived in: chapters/06_attention_components.ipynb (one query),
            chapters/07_attention_head.ipynb (batched)
"""

from __future__ import annotations

import numpy as np

from ._validate import checked
from .losses import squared_error
from .training import TrainResult, descend

__all__ = [
    "weighted_values", "weighted_values_backward", "value_layer", "value_layer_backward",
    "projection", "projection_backward", "scores", "scores_backward",
    "softmax_circuit", "softmax_branches", "query_update_as_written",
    "values_program", "query_program", "keys_program",
]


def _t(M):
    return np.swapaxes(M, -1, -2)


@checked(V="B? d n", A="B? n T?")
def weighted_values(V, A) -> np.ndarray:
    """Vbar = V A: column j of Vbar is sum_i A_ij v_i.  V (d, n), A (n, T) or alpha (n,) -> (d, T) or (d,).

    The bar says "average": with softmax weights (each column of A sums to 1), column j is the
    A-weighted mean of the values.
    """
    return V @ A


@checked(V="B? d n", A="B? n T?", dVbar="B? d T?")
def weighted_values_backward(dVbar, V, A):
    """dV = dVbar A^T (value i gets dVbar weighted by its row of A), dA = V^T dVbar."""
    if A.ndim == 1:  # one query: dV = dvbar alpha^T, an outer product
        return np.outer(dVbar, A), V.T @ dVbar
    return dVbar @ _t(A), _t(V) @ dVbar


@checked(W="d m", b="d", X="m n")
def value_layer(W, b, X) -> np.ndarray:
    """V = W X + b 1^T (b added to every column).  W (d, D_in), b (d,), X (D_in, n) -> V (d, n).

    The linear layer in the column layout (linear.linear_forward_col); Chapter 6 calls W W_v.
    """
    return W @ X + b[:, None]


@checked(W="d m", X="m n", dv="d n")
def value_layer_backward(dv, W, X):
    """dW = dV X^T, db = sum of the columns of dV (b is shared by all columns), dX = W^T dV (dv: dV)."""
    return dv @ X.T, dv.sum(axis=1), W.T @ dv


@checked(W="p d", X="B? d T?")
def projection(W, X) -> np.ndarray:
    """W X: the queries Q = Wq X, the keys K = Wk X or the values V = Wv X.

    A bias is absorbed in W's last column when X ends in a row of ones.
    W (p, d); X (d,), (d, T) or (B, d, T) -> W X (p,), (p, T) or (B, p, T).
    """
    return W @ X


@checked(W="p d", X="B? d T?", dout="B? p T?")
def projection_backward(dout, W, X):
    """dW = dout X^T (summed over the batch: every sequence uses the same W), dX = W^T dout.

    dout: the gradient of W X (dQ, dK or dV), shape (p,), (p, T) or (B, p, T).
    """
    if X.ndim == 1:  # one input: dW = dout x^T, an outer product
        return np.outer(dout, X), W.T @ dout
    dW = dout @ _t(X)
    return (dW.sum(axis=0) if dW.ndim == 3 else dW), W.T @ dout


@checked(Q="B? d T?", K="B? d n", scale="positive")
def scores(Q, K, scale=1.0) -> np.ndarray:
    """S = scale K^T Q: S[i, j] = scale k_i . q_j.  One query q (d,) gives s = K^T q (n,).

    Q (d, T) or q (d,), K (d, n), optionally batched (B, ., .) -> S (n, T) or s (n,).
    """
    return scale * (_t(K) @ Q)


@checked(Q="B? d T?", K="B? d n", dS="B? n T?", scale="positive")
def scores_backward(dS, Q, K, scale=1.0):
    """dQ = scale K dS (query j collects sum_i dS_ij k_i), dK = scale Q dS^T."""
    if Q.ndim == 1:  # one query: dk = q ds^T, an outer product
        return scale * (K @ dS), scale * np.outer(Q, dS)
    return scale * (K @ dS), scale * (Q @ _t(dS))


@checked(s="n")
def softmax_circuit(s):
    """The softmax as gates: E = exp(s - max s), C = sum E, alpha = E / C.  s (n,).

    E holds the numerators, C is their sum (the denominator). Shifting by max s scales E and C
    by the same factor, so alpha and every ratio below are unchanged while exp never overflows.
    Returns (E, C, alpha).
    """
    E = np.exp(s - s.max())
    C = float(E.sum())
    return E, C, E / C


@checked(s="n")
def softmax_branches(s):
    """The two backward paths from alpha_m to s_j; top + mid is the softmax Jacobian.

    top[m, j] = (d alpha_m / d E_m)(d E_m / d s_j) = (1/C) exp(s_j) 1[m = j] = 1[m = j] alpha_m
    mid[m, j] = (d alpha_m / d C)(d C / d s_j)     = -(E_m / C^2) exp(s_j)    = -alpha_m alpha_j
    """
    _, _, alpha = softmax_circuit(s)
    return np.diag(alpha), -np.outer(alpha, alpha)


@checked(dq="d", x1="d+1")
def query_update_as_written(dq, x1) -> np.ndarray:
    """The source program's step for Wq = [W | b]: NOT the gradient (kept to reproduce it).

    With g = dq = dL/dq_1 and x_m1 entry m of the input x_1, entry (i, m) of the weight step is
    g_m x_m1 for every row i, where the gradient's is g_i x_m1. Julia: dQ = dq' .* x[1:end-1]'
    (element-wise product of two rows), broadcast over the rows of W. The bias column gets g,
    which is right. Only runs when W is square, D_in = d (as in Julia).
    dq (d,), x1 = x̃_1 = (x_1, 1) (d + 1,) ending in 1 -> (d, d + 1).
    """
    row = dq * x1[:-1]
    return np.column_stack([np.tile(row, (dq.shape[0], 1)), dq])


@checked(Wv="d m", b="d", x="m n", y="d", alpha="n", eta="positive", steps="count")
def values_program(Wv, b, x, y, alpha, eta=0.002, steps=10) -> TrainResult:
    """Gradient descent on Wv, b for L = 1/2 ||V alpha - y||^2, V = Wv X + b 1^T (X: the argument x)."""

    def forward(p):
        V = value_layer(p["Wv"], p["b"], x)
        vbar = weighted_values(V, alpha)
        return squared_error(vbar, y), vbar, (p, V, vbar)

    def backward(cache):
        p, V, vbar = cache
        dV, _ = weighted_values_backward(vbar - y, V, alpha)  # dL/dvbar = vbar - y
        dWv, db, _ = value_layer_backward(dV, p["Wv"], x)
        return {"Wv": dWv, "b": db}

    return descend(forward, backward, {"Wv": Wv, "b": b}, eta, steps)


def _fit_scores(name, W, project, score, grad_of_projection, y, eta, steps) -> TrainResult:
    """Gradient descent on W for L = 1/2 ||s - y||^2, s = score(P) with P = project(W).

    grad_of_projection(W, P, ds) turns dL/ds = s - y into dL/dW (through the scores, then
    the projection). The query and keys programs differ only in these three functions.
    """

    def forward(p):
        P = project(p[name])
        s = score(P)
        return squared_error(s, y), s, (p[name], P, s)

    def backward(cache):
        W, P, s = cache
        return {name: grad_of_projection(W, P, s - y)}

    return descend(forward, backward, {name: W}, eta, steps)


@checked(Wq="d m", K="d n", x1="m", y="n", eta="positive", steps="count")
def query_program(Wq, K, x1, y, eta=0.02, steps=100, as_written=False) -> TrainResult:
    """Gradient descent on Wq for L = 1/2 ||K^T Wq x1 - y||^2; x1 = x̃_1 ends in 1 (bias in Wq's last column).

    as_written=True takes the source program's step (query_update_as_written) instead.
    """

    def grad(Wq, q, ds):
        dq, _ = scores_backward(ds, q, K)
        return query_update_as_written(dq, x1) if as_written else projection_backward(dq, Wq, x1)[0]

    return _fit_scores("Wq", Wq, lambda Wq: projection(Wq, x1), lambda q: scores(q, K), grad, y, eta,
                       steps)


@checked(Wk="d m", q="d", x="m n", y="n", eta="positive", steps="count")
def keys_program(Wk, q, x, y, eta=0.01, steps=300) -> TrainResult:
    """Gradient descent on Wk for L = 1/2 ||K^T q - y||^2, K = Wk x; x = X̃, its last row ones (bias in Wk)."""

    def grad(Wk, K, ds):
        _, dK = scores_backward(ds, q, K)
        return projection_backward(dK, Wk, x)[0]

    return _fit_scores("Wk", Wk, lambda Wk: projection(Wk, x), lambda K: scores(q, K), grad, y, eta,
                       steps)
