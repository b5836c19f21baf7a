"""Self-attention head  Z = V softmax(K^T Q / sqrt(d_k)),  Q = W_q X,  K = W_k X,  V = W_v X.

Column convention: one token per column. Shapes, with batch B and sequence length T:

    X  (B, d_in, T)  or (d_in, T) for a single sequence (then every result drops the B axis)
    W_q, W_k (d_k, d_in)    W_v (d_v, d_in)
    Q, K (B, d_k, T)   V, Z (B, d_v, T)
    S, A (B, T, T): S[b, i, j] = k_i . q_j / sqrt(d_k); row i is a key, column j a query.
    A = softmax over the keys (axis -2): every column of A sums to 1.

A mask (T, T) of booleans says which key i query j may see (True = visible); the causal mask is
i <= j. Backward, step by step (each line is upstream times local; X collects three terms):

    dV = dZ A^T          dA = V^T dZ
    dS = A * (dA - 1 1^T (A * dA))            (softmax VJP per column; 0 where A is 0)
    dQ = K dS / sqrt(d_k)                     dK = Q dS^T / sqrt(d_k)
    dW_p = sum_b dP_b X_b^T   for P in {Q, K, V}
    dX = W_q^T dQ + W_k^T dK + W_v^T dV

Everything is vectorized over the batch and the sequence (matmul broadcasting, no loop over
positions).

Derived in: chapters/07_attention_head.ipynb
"""

from __future__ import annotations

import numpy as np

from ._validate import as_count, as_float_array, as_positive_float, check_shape
from .activations import _softmax, softmax_vjp

__all__ = ["causal_mask", "attention_head_forward", "attention_head_backward",
           "values_backward", "scores_backward", "projection_backward", "make_benchmark"]

_BELOW = 1e3  # masked scores are set this far below the smallest score: e^-1000 is exactly 0.0


def _t(M):
    return np.swapaxes(M, -1, -2)


def causal_mask(T: int) -> np.ndarray:
    """mask[i, j] = (i <= j): query j sees keys 0..j only. Shape (T, T), booleans."""
    T = as_count(T, "T", minimum=1)
    return np.tri(T, dtype=bool).T


def attention_head_forward(X, Wq, Wk, Wv, mask=None):
    """Z = V A with A = softmax(K^T Q / sqrt(d_k)) over the keys; returns (Z, cache).

    X (B, d_in, T) or (d_in, T); Wq, Wk (d_k, d_in); Wv (d_v, d_in); mask None or booleans
    (T, T) or (B, T, T), True where key i is visible to query j (every query needs one key).
    """
    X = as_float_array(X, "X", ndim=(2, 3))
    single = X.ndim == 2
    Xb = X[None] if single else X
    d_in, T = Xb.shape[1:]
    Wq = as_float_array(Wq, "Wq", ndim=2)
    check_shape("Wq", Wq, (None, d_in), "(d_k, d_in), d_in = rows of X")
    Wk = as_float_array(Wk, "Wk", ndim=2)
    check_shape("Wk", Wk, Wq.shape, "the shape of Wq")
    Wv = as_float_array(Wv, "Wv", ndim=2)
    check_shape("Wv", Wv, (None, d_in), "(d_v, d_in)")
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise ValueError(f"mask must be booleans (True = visible), got dtype {mask.dtype}")
        check_shape("mask", mask, (T, T) if mask.ndim == 2 else (Xb.shape[0], T, T), "(T, T)")
        if not np.all(mask.any(axis=-2)):
            raise ValueError("mask hides every key from some query (a column of mask is all False)")
    Q, K, V = Wq @ Xb, Wk @ Xb, Wv @ Xb
    scale = 1.0 / np.sqrt(Q.shape[1])
    S = (_t(K) @ Q) * scale
    if mask is not None:
        S = np.where(mask, S, S.min() - _BELOW)  # finite, and exp underflows to exactly 0
    A = _softmax(S, -2)
    Z = V @ A
    cache = dict(X=Xb, Wq=Wq, Wk=Wk, Wv=Wv, Q=Q, K=K, V=V, S=S, A=A, scale=scale,
                 mask=mask, single=single)
    return (Z[0] if single else Z), cache


def _lead(name, arr, like, like_name):
    """The batch axis of arr must match that of like (both (..., r, c))."""
    if arr.shape[:-2] != like.shape[:-2]:
        raise ValueError(f"{name} must have batch shape {like.shape[:-2]} like {like_name}, "
                         f"got shape {arr.shape}")


def values_backward(dZ, V, A):
    """Z = V A:  dV = dZ A^T,  dA = V^T dZ.

    V (d_v, T) and A (T, T), or batched (B, d_v, T) and (B, T, T); dZ has the shape of Z = V A.
    """
    V = as_float_array(V, "V", ndim=(2, 3))
    A = as_float_array(A, "A", ndim=V.ndim)
    _lead("A", A, V, "V")
    check_shape("A", A, A.shape[:-2] + (V.shape[-1], None), "rows of A are the keys = columns of V")
    dZ = as_float_array(dZ, "dZ")
    check_shape("dZ", dZ, V.shape[:-1] + A.shape[-1:], "the shape of Z = V A")
    return _values_backward(dZ, V, A)


def _values_backward(dZ, V, A):
    return dZ @ _t(A), _t(V) @ dZ


def scores_backward(dS, Q, K, scale):
    """S = scale K^T Q:  dQ = scale K dS,  dK = scale Q dS^T.

    Q (d_k, T_q), K (d_k, T_k), dS (T_k, T_q), or each with a leading batch axis B.
    """
    Q = as_float_array(Q, "Q", ndim=(2, 3))
    K = as_float_array(K, "K", ndim=Q.ndim)
    _lead("K", K, Q, "Q")
    check_shape("K", K, K.shape[:-2] + (Q.shape[-2], None), "keys have the length d_k of the queries")
    dS = as_float_array(dS, "dS")
    check_shape("dS", dS, Q.shape[:-2] + (K.shape[-1], Q.shape[-1]), "the shape of S = K^T Q")
    scale = as_positive_float(scale, "scale")
    return _scores_backward(dS, Q, K, scale)


def _scores_backward(dS, Q, K, scale):
    return scale * (K @ dS), scale * (Q @ _t(dS))


def projection_backward(dP, X, W):
    """P = W X (batched):  dW = sum_b dP_b X_b^T,  this input's share of dX = W^T dP.

    X (B, d_in, T) or (d_in, T), W (p, d_in), dP shaped like P = W X (B, p, T) or (p, T).
    """
    X = as_float_array(X, "X", ndim=(2, 3))
    W = as_float_array(W, "W", ndim=2)
    check_shape("W", W, (None, X.shape[-2]), "(p, d_in), d_in = rows of X")
    dP = as_float_array(dP, "dP")
    check_shape("dP", dP, X.shape[:-2] + (W.shape[0], X.shape[-1]), "the shape of P = W X")
    if X.ndim == 2:
        dW, dX = _projection_backward(dP[None], X[None], W)
        return dW, dX[0]
    return _projection_backward(dP, X, W)


def _projection_backward(dP, X, W):
    return np.einsum("bpt,bdt->pd", dP, X), W.T @ dP


def attention_head_backward(dout, cache):
    """Gradients of the head: returns (dX, dWq, dWk, dWv); dX has the shape of X.

    dout is dL/dZ, shaped like Z. dX = W_q^T dQ + W_k^T dK + W_v^T dV (three paths add).
    """
    c = cache
    dZ = as_float_array(dout, "dout")
    expected = c["V"].shape[1:] if c["single"] else c["V"].shape
    check_shape("dout", dZ, expected, "the shape of Z")
    dZ = dZ[None] if c["single"] else dZ
    dV, dA = values_backward(dZ, c["V"], c["A"])
    dS = softmax_vjp(dA, c["A"], axis=-2)  # masked entries: A = 0 there, so dS = 0 exactly
    dQ, dK = scores_backward(dS, c["Q"], c["K"], c["scale"])
    dWq, dX_q = projection_backward(dQ, c["X"], c["Wq"])
    dWk, dX_k = projection_backward(dK, c["X"], c["Wk"])
    dWv, dX_v = projection_backward(dV, c["X"], c["Wv"])
    dX = dX_q + dX_k + dX_v
    return (dX[0] if c["single"] else dX), dWq, dWk, dWv


def make_benchmark(T: int = 128, d: int = 64, batch: int = 1, causal: bool = False,
                   seed: int = 0):
    """A zero-argument function running one forward + backward at (batch, d, T), d_k = d_v = d.

    For timing, e.g. ``timeit.timeit(make_benchmark(), number=100)``; it returns sum(dX).
    """
    T, d = as_count(T, "T", minimum=1), as_count(d, "d", minimum=1)
    batch = as_count(batch, "batch", minimum=1)
    rng = np.random.default_rng(as_count(seed, "seed"))
    X = rng.normal(size=(batch, d, T))
    Wq, Wk, Wv = (rng.normal(size=(d, d)) / np.sqrt(d) for _ in range(3))
    dout = rng.normal(size=(batch, d, T))
    mask = causal_mask(T) if causal else None

    def run() -> float:
        _, cache = attention_head_forward(X, Wq, Wk, Wv, mask)
        return float(np.sum(attention_head_backward(dout, cache)[0]))

    return run
