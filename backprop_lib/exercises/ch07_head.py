"""Chapter 7 exercises: the batched self-attention head (tokens are columns, batch first).

    S = K^T Q / sqrt(d_k)       dQ = K dS / sqrt(d_k),  dK = Q dS^T / sqrt(d_k)   Q, K (B, d_k, T)
    A = softmax over keys (-2)  dS = A * (dA - sum over axis -2 of A * dA)        S, A (B, T, T)
    P = W X (every sequence)    dW = sum_b dP_b X_b^T                             W (p, d), X (B, d, T)

Derived in: chapters/07_attention_head.ipynb
"""

from __future__ import annotations

import numpy as np

from ..activations import softmax
from ._checker import Case, Exercise, Mistake


def _t(M):
    return np.swapaxes(M, -1, -2)


def _score_cases(rng):
    return [Case({"Q": rng.normal(size=(b, d, t)), "K": rng.normal(size=(b, d, t))}, batch=b)
            for b, d, t in [(2, 3, 4), (1, 2, 5), (3, 4, 4), (2, 4, 1)]]


def _scores(Q, K):
    return _t(K) @ Q / np.sqrt(Q.shape[-2])


SCALED_SCORES = Exercise(
    name="scaled_scores", function="scores_backward",
    returns="(dQ, dK), each with the shape (B, d_k, T) of Q and K",
    grads=(("dQ", "Q"), ("dK", "K")),
    forward=_scores,
    call=lambda fn, p, dS: fn(dS, p["Q"], p["K"]),
    cases=_score_cases,
    mistakes=(
        Mistake(lambda p, d: (p["K"] @ d, p["Q"] @ _t(d)), "scale",
                "the scale is missing: S = K^T Q / sqrt(d_k), so both gradients carry the "
                "factor 1 / sqrt(d_k), with d_k = Q.shape[-2]."),
        Mistake(lambda p, d: (p["K"] @ d / p["Q"].shape[-2], p["Q"] @ _t(d) / p["Q"].shape[-2]),
                "scale", "you divided by d_k; the scale is 1 / sqrt(d_k)."),
    ),
    summed_over="the sequences of the batch",
    upstream="dS",
)


def _softmax_cases(rng):
    return [Case({"S": rng.normal(size=(b, t, t))}, batch=b) for b, t in [(2, 3), (1, 4), (3, 2)]]


SOFTMAX_KEYS = Exercise(
    name="softmax_keys", function="softmax_keys_backward",
    returns="dS with the shape (B, T, T) of S, computed from dA and the saved weights A",
    grads=(("dS", "S"),),
    forward=lambda S: softmax(S, axis=-2),
    call=lambda fn, p, dA: fn(dA, softmax(p["S"], axis=-2)),
    cases=_softmax_cases,
    mistakes=(
        Mistake(lambda p, d: (_wrong_axis(p["S"], d),), "axis",
                "you summed over the last axis (the queries). The softmax normalises each "
                "column over the keys, axis -2, and its VJP sums over that same axis "
                "(keepdims=True keeps it broadcastable)."),
        Mistake(lambda p, d: (d * softmax(p["S"], axis=-2) * (1 - softmax(p["S"], axis=-2)),),
                "diagonal", "you kept only the diagonal of each column's softmax Jacobian; "
                "the shared denominator adds -A_i A_k terms: dS = A * (dA - sum(A * dA))."),
    ),
    summed_over="the sequences of the batch",
    upstream="dA",
)


def _wrong_axis(S, dA):
    A = softmax(S, axis=-2)
    return A * (dA - np.sum(A * dA, axis=-1, keepdims=True))


def _projection_cases(rng):
    return [Case({"W": rng.normal(size=(p, d)), "X": rng.normal(size=(b, d, t))}, batch=b)
            for b, p, d, t in [(3, 2, 4, 5), (1, 3, 2, 4), (2, 3, 3, 3), (4, 2, 3, 1)]]


PROJECTION = Exercise(
    name="projection_weight", function="projection_weight_backward",
    returns="dW with the shape (p, d) of W:\none matrix, shared by every sequence in the batch",
    grads=(("dW", "W"),),
    forward=lambda W, X: W @ X,
    call=lambda fn, p, dP: fn(dP, p["X"]),
    cases=_projection_cases,
    mistakes=(
        Mistake(lambda p, d: (d[0] @ _t(p["X"][0]),), "batch_sum",
                "that is only the first sequence's contribution; W is used by every sequence "
                "of the batch, so dW sums dP_b X_b^T over b."),
    ),
    summed_over="the sequences of the batch",
    upstream="dP",
)

EXERCISES = [SCALED_SCORES, SOFTMAX_KEYS, PROJECTION]
