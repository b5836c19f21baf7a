"""One attention vocabulary: Chapter 6's single-query functions and Chapter 7's head agree.

Chapter 6 builds one query from one input and pushes it through the pieces in attention.py;
Chapter 7's head runs every token as a query at once. For the same single-vector input the
two must give the same output column and the same gradients, and every piece must give for one
query what its batched call gives for a batch of one column.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_grad_close

from backprop_lib import attention as ch6
from backprop_lib.activations import softmax, softmax_vjp
from backprop_lib.attention_head import attention_head_backward, attention_head_forward


def chapter6_gradients(X, j, Wq, Wk, Wv, dz):
    """Query j of X through Chapter 6's functions (one query vector), backward by hand."""
    x = X[:, j]
    q, k, v = ch6.projection(Wq, x), ch6.projection(Wk, X), ch6.projection(Wv, X)
    scale = 1.0 / np.sqrt(q.shape[0])
    alpha = softmax(ch6.scores(q, k, scale))
    z = ch6.weighted_values(v, alpha)
    dv, dalpha = ch6.weighted_values_backward(dz, v, alpha)
    dq, dk = ch6.scores_backward(softmax_vjp(dalpha, alpha), q, k, scale)
    dWq, dx = ch6.projection_backward(dq, Wq, x)
    dWk, dX_k = ch6.projection_backward(dk, Wk, X)
    dWv, dX_v = ch6.projection_backward(dv, Wv, X)
    dX = dX_k + dX_v
    dX[:, j] += dx  # the query path reaches input j only
    return z, dX, dWq, dWk, dWv


@pytest.mark.parametrize("j", [0, 2, 4])
def test_chapter6_single_query_equals_chapter7_head(rng, j):
    d_in, d_k, d_v, T = 3, 4, 2, 5
    X = rng.normal(size=(d_in, T))
    Wq, Wk, Wv = rng.normal(size=(d_k, d_in)), rng.normal(size=(d_k, d_in)), rng.normal(size=(d_v, d_in))
    dz = rng.normal(size=d_v)
    z6, *grads6 = chapter6_gradients(X, j, Wq, Wk, Wv, dz)
    Z, cache = attention_head_forward(X, Wq, Wk, Wv)
    dZ = np.zeros_like(Z)
    dZ[:, j] = dz  # the loss reads output j only
    grads7 = attention_head_backward(dZ, cache)
    assert_grad_close("z_j", z6, Z[:, j], rtol=1e-12, atol=1e-14)
    for name, g6, g7 in zip(("dX", "dWq", "dWk", "dWv"), grads6, grads7, strict=True):
        assert_grad_close(name, g6, g7, rtol=1e-10, atol=1e-12)


def test_one_query_is_the_batched_call_with_one_column(rng):
    d, n = 3, 4
    q, K, V, W = rng.normal(size=d), rng.normal(size=(d, n)), rng.normal(size=(d, n)), rng.normal(size=(2, d))
    alpha, de = softmax(rng.normal(size=n)), rng.normal(size=n)
    dz, dp = rng.normal(size=d), rng.normal(size=2)
    col = lambda a: a[:, None]  # noqa: E731
    pairs = [
        (ch6.scores_backward(de, q, K, 0.5), ch6.scores_backward(col(de), col(q), K, 0.5)),
        (ch6.weighted_values_backward(dz, V, alpha), ch6.weighted_values_backward(col(dz), V, col(alpha))),
        (ch6.projection_backward(dp, W, q), ch6.projection_backward(col(dp), W, col(q))),
    ]
    for one, batched in pairs:
        for a, b in zip(one, batched, strict=True):
            np.testing.assert_allclose(a, b.reshape(a.shape), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(ch6.scores(q, K), ch6.scores(col(q), K)[:, 0], rtol=1e-13)
