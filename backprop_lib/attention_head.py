"""Self-attention head  Vbar = V softmax(K^T Q / sqrt(d_k)),  Q = W_q X,  K = W_k X,  V = W_v X.

Column convention: one token per column. Shapes, with batch B and sequence length T:

    X  (B, d_in, T)  or (d_in, T) for a single sequence (then every result drops the B axis)
    W_q, W_k (d_k, d_in)    W_v (d_v, d_in)
    Q, K (B, d_k, T)   V, Vbar (B, d_v, T)   (Vbar: column j is the A-weighted mean of the values)
    S, A (B, T, T): S[b, i, j] = k_i . q_j / sqrt(d_k); row i is a key, column j a query.
    A = softmax over the keys (axis -2): every column of A sums to 1.

A mask (T, T) of booleans says which key i query j may see (True = visible); the causal mask is
i <= j. Backward, step by step, with Chapter 6's functions (backprop_lib/attention.py), which
take a batch as they take one query (each line is upstream times local; X collects three terms):

    dV = dVbar A^T       dA = V^T dVbar                   weighted_values_backward
    dS = A * (dA - 1 1^T (A * dA))  (per column; 0 where A is 0)   softmax_vjp
    dQ = K dS / sqrt(d_k)           dK = Q dS^T / sqrt(d_k)         scores_backward
    dW_q = sum_b dQ_b X_b^T, and so dW_k from dK, dW_v from dV     projection_backward
    dX = W_q^T dQ + W_k^T dK + W_v^T dV

Everything is vectorized over the batch and the sequence (matmul broadcasting, no loop over
positions).

Derived in: chapters/07_attention_head.ipynb
"""

from __future__ import annotations

import numpy as np

from ._validate import check_shape, checked, dict_of
from .activations import softmax, softmax_vjp
from .attention import projection_backward, scores, scores_backward, weighted_values_backward

__all__ = ["causal_mask", "mask_scores", "attention_head_forward", "attention_head_backward",
           "make_benchmark"]

_BELOW = 1e3  # masked scores are set this far below the smallest score: e^-1000 is exactly 0.0


@checked(T="count1")
def causal_mask(T: int) -> np.ndarray:
    """mask[i, j] = (i <= j): query j sees keys 0..j only. Shape (T, T), booleans."""
    return np.tri(T, dtype=bool).T


def _mask(mask, name, sizes, source):  # noqa: ARG001 (the signature @checked calls)
    """None, or booleans (T, T) or (B, T, T) in which every query sees at least one key."""
    if mask is None:
        return None
    mask, T, B = np.asarray(mask), sizes["T"], sizes["B"]
    if mask.dtype != bool:
        raise ValueError(f"mask must be booleans (True = visible), got dtype {mask.dtype}")
    check_shape("mask", mask, (T, T) if mask.ndim == 2 or B is None else (B, T, T), "(T, T)")
    if not np.all(mask.any(axis=-2)):
        raise ValueError("mask hides every key from some query (a column of mask is all False)")
    return mask


@checked(S="B? T T", mask=_mask)
def mask_scores(S, mask=None) -> np.ndarray:
    """S where mask is True (key i visible to query j), else min S - 1000, so exp gives exactly 0.

    S (T, T) or (B, T, T), keys x queries; mask None (S is returned unchanged) or booleans (T, T)
    or (B, T, T) in which every query sees at least one key. The masked scores stay finite (no
    inf - inf in the softmax) and lie 1000 below every visible one: e^-1000 underflows to 0.0.
    """
    if mask is None:
        return S
    return np.where(mask, S, S.min() - _BELOW)


_CACHE = dict_of("the dict returned by attention_head_forward", V="B? d_v T")


@checked(X="B? d_in T", Wq="d_k d_in", Wk="d_k d_in", Wv="d_v d_in", mask=_mask)
def attention_head_forward(X, Wq, Wk, Wv, mask=None):
    """Vbar = V A with A = softmax(K^T Q / sqrt(d_k)) over the keys; returns (Vbar, cache).

    X (B, d_in, T) or (d_in, T); Wq, Wk (d_k, d_in); Wv (d_v, d_in); mask None or booleans
    (T, T) or (B, T, T), True where key i is visible to query j (every query needs one key).
    """
    Q, K, V = Wq @ X, Wk @ X, Wv @ X
    scale = 1.0 / np.sqrt(Q.shape[-2])
    S = mask_scores(scores(Q, K, scale), mask)  # finite, and exp underflows to exactly 0
    A = softmax(S, axis=-2)
    cache = dict(X=X, Wq=Wq, Wk=Wk, Wv=Wv, Q=Q, K=K, V=V, S=S, A=A, scale=scale, mask=mask)
    return V @ A, cache


@checked(cache=_CACHE, dout="B? d_v T")
def attention_head_backward(dout, cache):
    """Gradients of the head: returns (dX, dWq, dWk, dWv); dX has the shape of X.

    dout is dL/dVbar, shaped like Vbar. dX = W_q^T dQ + W_k^T dK + W_v^T dV (three paths add).
    """
    c = cache
    dV, dA = weighted_values_backward(dout, c["V"], c["A"])
    dS = softmax_vjp(dA, c["A"], axis=-2)  # masked entries: A = 0 there, so dS = 0 exactly
    dQ, dK = scores_backward(dS, c["Q"], c["K"], c["scale"])
    dWq, dX_q = projection_backward(dQ, c["Wq"], c["X"])
    dWk, dX_k = projection_backward(dK, c["Wk"], c["X"])
    dWv, dX_v = projection_backward(dV, c["Wv"], c["X"])
    return dX_q + dX_k + dX_v, dWq, dWk, dWv


@checked(T="count1", d="count1", batch="count1", seed="count")
def make_benchmark(T: int = 128, d: int = 64, batch: int = 1, causal: bool = False,
                   seed: int = 0):
    """A zero-argument function running one forward + backward at (batch, d, T), d_k = d_v = d.

    For timing, e.g. ``timeit.timeit(make_benchmark(), number=100)``; it returns sum(dX).
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(batch, d, T))
    Wq, Wk, Wv = (rng.normal(size=(d, d)) / np.sqrt(d) for _ in range(3))
    dout = rng.normal(size=(batch, d, T))
    mask = causal_mask(T) if causal else None

    def run() -> float:
        _, cache = attention_head_forward(X, Wq, Wk, Wv, mask)
        return float(np.sum(attention_head_backward(dout, cache)[0]))

    return run
