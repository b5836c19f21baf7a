"""One attention vocabulary: Chapter 6's single-query functions and Chapter 7's head agree.

Chapter 6 builds one query from one input and pushes it through the pieces in attention.py;
Chapter 7's head runs every token as a query at once. For the same single-vector input the
two must give the same output column and the same gradients, and every piece must give for one
query what its batched call gives for a batch of one column.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_grad_close

from backprop_lib import attention as ch6
from backprop_lib.activations import softmax, softmax_vjp
from backprop_lib.attention_head import attention_head_backward, attention_head_forward


def chapter6_gradients(X, j, Wq, Wk, Wv, dvbar):
    """Query j of X through Chapter 6's functions (one query vector), backward by hand."""
    x = X[:, j]
    q, k, v = ch6.projection(Wq, x), ch6.projection(Wk, X), ch6.projection(Wv, X)
    scale = 1.0 / np.sqrt(q.shape[0])
    alpha = softmax(ch6.scores(q, k, scale))
    vbar = ch6.weighted_values(v, alpha)
    dv, dalpha = ch6.weighted_values_backward(dvbar, v, alpha)
    dq, dk = ch6.scores_backward(softmax_vjp(dalpha, alpha), q, k, scale)
    dWq, dx = ch6.projection_backward(dq, Wq, x)
    dWk, dX_k = ch6.projection_backward(dk, Wk, X)
    dWv, dX_v = ch6.projection_backward(dv, Wv, X)
    dX = dX_k + dX_v
    dX[:, j] += dx  # the query path reaches input j only
    return vbar, dX, dWq, dWk, dWv


@pytest.mark.parametrize("j", [0, 2, 4])
def test_chapter6_single_query_equals_chapter7_head(rng, j):
    d_in, d_k, d_v, T = 3, 4, 2, 5
    X = rng.normal(size=(d_in, T))
    Wq, Wk, Wv = rng.normal(size=(d_k, d_in)), rng.normal(size=(d_k, d_in)), rng.normal(size=(d_v, d_in))
    dvbar = rng.normal(size=d_v)
    vbar6, *grads6 = chapter6_gradients(X, j, Wq, Wk, Wv, dvbar)
    Vbar, cache = attention_head_forward(X, Wq, Wk, Wv)
    dVbar = np.zeros_like(Vbar)
    dVbar[:, j] = dvbar  # the loss reads output j only
    grads7 = attention_head_backward(dVbar, cache)
    assert_grad_close("vbar_j", vbar6, Vbar[:, j], rtol=1e-12, atol=1e-14)
    for name, g6, g7 in zip(("dX", "dWq", "dWk", "dWv"), grads6, grads7, strict=True):
        assert_grad_close(name, g6, g7, rtol=1e-10, atol=1e-12)


def test_one_query_is_the_batched_call_with_one_column(rng):
    d, n = 3, 4
    q, K, V, W = rng.normal(size=d), rng.normal(size=(d, n)), rng.normal(size=(d, n)), rng.normal(size=(2, d))
    alpha, de = softmax(rng.normal(size=n)), rng.normal(size=n)
    dvbar, dp = rng.normal(size=d), rng.normal(size=2)
    col = lambda a: a[:, None]  # noqa: E731
    pairs = [
        (ch6.scores_backward(de, q, K, 0.5), ch6.scores_backward(col(de), col(q), K, 0.5)),
        (ch6.weighted_values_backward(dvbar, V, alpha),
         ch6.weighted_values_backward(col(dvbar), V, col(alpha))),
        (ch6.projection_backward(dp, W, q), ch6.projection_backward(col(dp), W, col(q))),
    ]
    for one, batched in pairs:
        for a, b in zip(one, batched, strict=True):
            np.testing.assert_allclose(a, b.reshape(a.shape), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(ch6.scores(q, K), ch6.scores(col(q), K)[:, 0], rtol=1e-13)


# z and Z mean a pre-activation (notation.md); the attention output is vbar = V alpha, Vbar = V A.
ATTENTION_SOURCES = ("attention.py", "attention_head.py", "transformer.py", "transformer_autograd.py",
                     "exercises/ch06_attention.py", "exercises/ch07_head.py", "exercises/ch09_block.py",
                     "widgets/ch07_attention.py", "widgets/ch09_attention.py")
Z_NAMES = re.compile(r"\bd?[zZ](?:_h|_p|_col|_bt|c)?\b")  # z, dZ, Z_h, dZc, Z_col, ...


@pytest.mark.parametrize("name", ATTENTION_SOURCES)
def test_attention_modules_never_call_the_attention_output_z(name):
    text = (Path(ch6.__file__).parent / name).read_text(encoding="utf-8")
    hits = [f"line {i}: {line.strip()}" for i, line in enumerate(text.splitlines(), 1)
            if Z_NAMES.search(line)]
    assert not hits, f"{name} uses z/Z, which notation.md keeps for pre-activations:\n" + "\n".join(hits)
