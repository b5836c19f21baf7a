"""Chapter 6 exercises: attention, one piece at a time (one key or value per column).

    vbar = V alpha       dV = dvbar alpha^T       V (d, T), alpha (T,), vbar (d,): the weighted mean
    s = K^T q            dK = q ds^T              q (d,), K (d, T), s (T,)
                         dq = K ds   (a sum over the keys)

Derived in: chapters/06_attention_components.ipynb
"""

from __future__ import annotations

import numpy as np

from ..activations import softmax
from ._checker import Case, Exercise, Mistake

_DN = [(3, 4), (2, 2), (4, 1), (2, 5)]  # (d, T): the chapter's sizes, square, one key, wide


def _score_cases(rng):
    return [Case({"q": rng.normal(size=d), "K": rng.normal(size=(d, n))}) for d, n in _DN]


KEYS = Exercise(
    name="keys_gradient", signature="keys_backward(ds, q, K) -> dK",
    returns="dK = dL/dK with the shape (d, T) of K: column j is ds_j q",
    forward=lambda q, K: q @ K, cases=_score_cases,
    mistakes=(
        Mistake(lambda p, d: (p["K"] * d,), "wrong_factor", """
            you scaled the keys themselves; s_j = q . k_j, so ds_j/dk_j = q: column j of dK is ds_j
            times the query q."""),
    ),
)

QUERY = Exercise(
    name="query_gradient", signature="query_backward(ds, K) -> dq",
    returns="dq = dL/dq with the shape (d,) of q: every key contributes ds_j k_j",
    forward=lambda q, K: q @ K, cases=_score_cases,
    mistakes=(
        Mistake(lambda p, d: (p["K"][:, 0] * d[0],), "batch_sum", """
            that is only the first key's contribution; the query meets every key, so dq sums ds_j k_j
            over all of them."""),
    ),
    summed_over="the keys",
)


def _value_cases(rng):
    return [Case({"V": rng.normal(size=(d, n)), "alpha": softmax(rng.normal(size=n))})
            for d, n in _DN]


VALUES = Exercise(
    name="values_gradient", signature="values_backward(dvbar, alpha) -> dV",
    returns="dV = dL/dV with the shape (d, T) of V: column j is alpha_j dvbar",
    forward=lambda V, alpha: V @ alpha, cases=_value_cases,
    mistakes=(
        Mistake(lambda p, d: (np.tile(d[:, None], (1, p["V"].shape[1])),), "weights", """
            every column got dvbar unscaled; value j enters vbar with weight alpha_j, so its gradient
            is alpha_j dvbar."""),
    ),
)

EXERCISES = [VALUES, QUERY, KEYS]
