"""Chapter 7 exercises: the batched self-attention head (tokens are columns, batch first).

    S = K^T Q / sqrt(d_k)       dQ = K dS / sqrt(d_k),  dK = Q dS^T / sqrt(d_k)   Q, K (B, d_k, T)
    A = softmax over keys (-2)  dS = A * (dA - sum over axis -2 of A * dA)        S, A (B, T, T)
    Q = W_q X (every sequence)  dW_q = sum_b dQ_b X_b^T (so dW_k, dW_v)        W_q (d_k, d_in), X (B, d_in, T)
    the whole head, end to end: dX = W_q^T dQ + W_k^T dK + W_v^T dV  (three paths add)

Derived in: chapters/07_attention_head.ipynb
"""

from __future__ import annotations

import numpy as np

from ..activations import softmax
from ..attention_head import attention_head_forward, causal_mask
from ._checker import Case, Exercise, Mistake


def _t(M):
    return np.swapaxes(M, -1, -2)


def _score_cases(rng):
    return [Case({"Q": rng.normal(size=(b, d, t)), "K": rng.normal(size=(b, d, t))}, batch=b)
            for b, d, t in [(2, 3, 4), (1, 2, 5), (3, 4, 4), (2, 4, 1)]]


def _scores(Q, K):
    return _t(K) @ Q / np.sqrt(Q.shape[-2])


SCALED_SCORES = Exercise(
    name="scaled_scores", signature="scores_backward(dS, Q, K) -> dQ, dK",
    returns="(dQ, dK), each with the shape (B, d_k, T) of Q and K",
    forward=_scores, cases=_score_cases,
    mistakes=(
        Mistake(lambda p, d: (p["K"] @ d, p["Q"] @ _t(d)), "scale", """
            the scale is missing: S = K^T Q / sqrt(d_k), so both gradients carry the factor 1 /
            sqrt(d_k), with d_k = Q.shape[-2]."""),
        Mistake(lambda p, d: (p["K"] @ d / p["Q"].shape[-2], p["Q"] @ _t(d) / p["Q"].shape[-2]), "scale", """
            you divided by d_k; the scale is 1 / sqrt(d_k)."""),
    ),
    summed_over="the sequences of the batch",
)


def _softmax_cases(rng):
    return [Case({"S": rng.normal(size=(b, t, t))}, batch=b) for b, t in [(2, 3), (1, 4), (3, 2)]]


SOFTMAX_KEYS = Exercise(
    name="softmax_keys", signature="softmax_keys_backward(dA, A) -> dS",
    returns="dS with the shape (B, T, T) of S, computed from dA and the saved weights A",
    forward=lambda S: softmax(S, axis=-2),
    call=lambda fn, p, dA: fn(dA, softmax(p["S"], axis=-2)),
    cases=_softmax_cases,
    mistakes=(
        Mistake(lambda p, d: (_wrong_axis(p["S"], d),), "axis", """
            you summed over the last axis (the queries). The softmax normalises each column over the
            keys, axis -2, and its VJP sums over that same axis (keepdims=True keeps it broadcastable)."""),
        Mistake(lambda p, d: (d * softmax(p["S"], axis=-2) * (1 - softmax(p["S"], axis=-2)),), "diagonal", """
            you kept only the diagonal of each column's softmax Jacobian; the shared denominator adds
            -A_i A_k terms: dS = A * (dA - sum(A * dA))."""),
    ),
    summed_over="the sequences of the batch",
)


def _wrong_axis(S, dA):
    A = softmax(S, axis=-2)
    return A * (dA - np.sum(A * dA, axis=-1, keepdims=True))


def _projection_cases(rng):
    return [Case({"Wq": rng.normal(size=(d_k, d_in)), "X": rng.normal(size=(b, d_in, t))}, batch=b)
            for b, d_k, d_in, t in [(3, 2, 4, 5), (1, 3, 2, 4), (2, 3, 3, 3), (4, 2, 3, 1)]]


PROJECTION = Exercise(
    name="projection_weight", signature="projection_weight_backward(dQ, X) -> dWq",
    returns="dWq with the shape (d_k, d_in) of W_q:\none matrix, shared by every sequence in the batch",
    forward=lambda Wq, X: Wq @ X, cases=_projection_cases,
    mistakes=(
        Mistake(lambda p, d: (d[0] @ _t(p["X"][0]),), "batch_sum", """
            that is only the first sequence's contribution; W_q is used by every sequence of the batch,
            so dW_q sums dQ_b X_b^T over b."""),
    ),
    summed_over="the sequences of the batch",
)


def _head_cases(rng):
    cases = []
    for b, d_in, d_k, d_v, t, causal in [(2, 4, 3, 3, 5, True), (1, 3, 2, 4, 4, False),
                                         (3, 2, 3, 2, 3, True), (2, 3, 4, 3, 1, False)]:
        mask = causal_mask(t) if causal else np.ones((t, t), dtype=bool)
        cases.append(Case({"X": 0.8 * rng.normal(size=(b, d_in, t)),
                           "Wq": 0.8 * rng.normal(size=(d_k, d_in)),
                           "Wk": 0.8 * rng.normal(size=(d_k, d_in)),
                           "Wv": rng.normal(size=(d_v, d_in)), "mask": mask}, batch=b))
    return cases


def _head_grads(p, dVbar, *, axis=-2, scaled=True, paths="qkv", transposed_dS=False,
                first_sequence_only=False):
    """The head's gradients (dX, dWq, dWk, dWv), or a typical mistake's, from the keywords."""
    _, c = attention_head_forward(p["X"], p["Wq"], p["Wk"], p["Wv"], p["mask"])
    X, Q, K, V, A = c["X"], c["Q"], c["K"], c["V"], c["A"]
    dV, dA = dVbar @ _t(A), _t(V) @ dVbar
    dS = A * (dA - np.sum(A * dA, axis=axis, keepdims=True))
    if transposed_dS:
        dS = _t(dS)
    scale = c["scale"] if scaled else 1.0
    dQ, dK = scale * K @ dS, scale * Q @ _t(dS)

    def dW(dout):  # dout: dQ, dK or dV
        return dout[0] @ _t(X[0]) if first_sequence_only else np.sum(dout @ _t(X), axis=0)

    terms = {"q": _t(p["Wq"]) @ dQ, "k": _t(p["Wk"]) @ dK, "v": _t(p["Wv"]) @ dV}
    return sum(terms[t] for t in paths), dW(dQ), dW(dK), dW(dV)


HEAD = Exercise(
    name="head_backward", signature="head_backward(dVbar, cache) -> dX, dWq, dWk, dWv",
    returns="(dX, dWq, dWk, dWv): dX with the shape (B, d_in, T) of X, each dW the shape of "
            "its W\n(one matrix for the whole batch)",
    forward=lambda X, Wq, Wk, Wv, mask: attention_head_forward(X, Wq, Wk, Wv, mask)[0],
    call=lambda fn, p, dVbar: fn(dVbar, attention_head_forward(p["X"], p["Wq"], p["Wk"], p["Wv"],
                                                               p["mask"])[1]),
    cases=_head_cases,
    mistakes=(
        Mistake(lambda p, d: _head_grads(p, d, axis=-1), "axis", """
            the softmax VJP sums over the wrong axis. A holds one query per column, normalised over the
            keys (axis -2): dS = A * (dA - sum over axis -2 of A * dA, keepdims=True)."""),
        Mistake(lambda p, d: _head_grads(p, d, scaled=False), "scale", """
            the 1 / sqrt(d_k) is missing: S = K^T Q / sqrt(d_k), so dQ and dK (and through them dWq, dWk
            and two of the three terms of dX) carry the factor 1 / sqrt(d_k)."""),
        Mistake(lambda p, d: _head_grads(p, d, paths="kv"), "missing_path", """
            X reaches the output along three paths (Q = W_q X, K = W_k X, V = W_v X), and the path
            through the queries is missing: add W_q^T dQ."""),
        Mistake(lambda p, d: _head_grads(p, d, paths="qv"), "missing_path", """
            X reaches the output along three paths (Q = W_q X, K = W_k X, V = W_v X), and the path
            through the keys is missing: add W_k^T dK."""),
        Mistake(lambda p, d: _head_grads(p, d, paths="qk"), "missing_path", """
            X reaches the output along three paths (Q = W_q X, K = W_k X, V = W_v X), and the path
            through the values is missing: add W_v^T dV."""),
        Mistake(lambda p, d: _head_grads(p, d, transposed_dS=True), "transpose", """
            dS is transposed. S[b, i, j] = k_i . q_j (row = key, column = query), so dQ = K dS /
            sqrt(d_k) and dK = Q dS^T / sqrt(d_k); T x T hides the slip from the shapes."""),
        Mistake(lambda p, d: _head_grads(p, d, first_sequence_only=True), "batch_sum", """
            that is only the first sequence's contribution; every weight is shared by all the sequences
            of the batch, so its gradient sums over b: dW_q = sum_b dQ_b X_b^T, and so dW_k and dW_v."""),
    ),
    summed_over="the sequences of the batch",
)

EXERCISES = [SCALED_SCORES, SOFTMAX_KEYS, PROJECTION, HEAD]
