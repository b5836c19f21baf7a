import json

import numpy as np
import pytest
from common import ROOT
from helpers import assert_grad_close, central_diff
from prose_numbers import output_numbers

from backprop_lib import check_gradient
from backprop_lib.linear import (
    absorb_bias,
    append_ones,
    linear_backward,
    linear_backward_col,
    linear_forward,
    linear_forward_col,
    max_stable_lr,
    train_linear,
)

# (N, D_in, D_out): batch size 1 and more than 1, square and non-square W
SHAPES = [(1, 3, 2), (1, 1, 1), (4, 3, 2), (5, 2, 4), (3, 4, 4), (7, 6, 1)]


@pytest.mark.parametrize("N,D_in,D_out", SHAPES)
def test_row_backward_matches_finite_differences(rng, N, D_in, D_out):
    X, W, b = rng.normal(size=(N, D_in)), rng.normal(size=(D_in, D_out)), rng.normal(size=D_out)
    dout = rng.normal(size=(N, D_out))  # random, non-uniform upstream gradient
    Y, cache = linear_forward(X, W, b)
    assert Y.shape == (N, D_out)
    dX, dW, db = linear_backward(dout, cache)
    assert (dX.shape, dW.shape, db.shape) == (X.shape, W.shape, b.shape)
    check_gradient(lambda X, W, b: np.sum(dout * linear_forward(X, W, b)[0]),
                   {"X": X, "W": W, "b": b}, {"X": dX, "W": dW, "b": db}).raise_if_failed()


@pytest.mark.parametrize("N,D_in,D_out", SHAPES)
def test_column_backward_matches_finite_differences(rng, N, D_in, D_out):
    X, W, b = rng.normal(size=(D_in, N)), rng.normal(size=(D_out, D_in)), rng.normal(size=D_out)
    dout = rng.normal(size=(D_out, N))
    Z, cache = linear_forward_col(W, X, b)
    assert Z.shape == (D_out, N)
    dX, dW, db = linear_backward_col(dout, cache)
    assert (dX.shape, dW.shape, db.shape) == (X.shape, W.shape, b.shape)
    # an oracle independent of check_gradient: the test helpers' own central differences
    assert_grad_close("dX", dX, central_diff(lambda v: np.sum(dout * linear_forward_col(W, v, b)[0]), X))
    assert_grad_close("dW", dW, central_diff(lambda v: np.sum(dout * linear_forward_col(v, X, b)[0]), W))
    assert_grad_close("db", db, central_diff(lambda v: np.sum(dout * linear_forward_col(W, X, v)[0]), b))


@pytest.mark.parametrize("N,D_in,D_out", SHAPES)
def test_the_two_conventions_give_the_same_numbers(rng, N, D_in, D_out):
    Xc, Wc, b = rng.normal(size=(D_in, N)), rng.normal(size=(D_out, D_in)), rng.normal(size=D_out)
    dZ = rng.normal(size=(D_out, N))
    Z, cc = linear_forward_col(Wc, Xc, b)
    Y, cr = linear_forward(Xc.T, Wc.T, b)
    np.testing.assert_allclose(Y, Z.T, rtol=1e-12, atol=1e-12)
    for g_col, g_row in zip(linear_backward_col(dZ, cc), linear_backward(dZ.T, cr), strict=True):
        np.testing.assert_allclose(g_row, g_col.T, rtol=1e-12, atol=1e-12)


def test_wrong_formulas_fail_the_check(rng):
    X, W, b = rng.normal(size=(3, 3)), rng.normal(size=(3, 3)), rng.normal(size=3)
    dout = rng.normal(size=(3, 3))
    dX, dW, db = linear_backward(dout, linear_forward(X, W, b)[1])

    def f(X, W, b):
        return np.sum(dout * linear_forward(X, W, b)[0])

    point = {"X": X, "W": W, "b": b}
    assert not check_gradient(f, point, {"W": dout.T @ X}).ok  # transposed: right shape, wrong numbers
    assert not check_gradient(f, point, {"X": dout @ W}).ok  # W instead of W^T
    assert not check_gradient(f, point, {"b": dout.mean(axis=0)}).ok  # mean instead of sum
    assert check_gradient(f, point, {"X": dX, "W": dW, "b": db}).ok


@pytest.mark.parametrize("call,match", [
    (lambda: linear_forward(np.ones((4, 3)), np.ones((2, 5)), np.ones(5)),
     r"W must have shape \(3, any\), got \(2, 5\)"),
    (lambda: linear_forward(np.ones((4, 3)), np.ones((3, 5)), np.ones(4)),
     r"b must have shape \(5,\), got \(4,\)"),
    (lambda: linear_backward(np.ones((4, 2)), linear_forward(np.ones((4, 3)), np.ones((3, 5)),
                                                             np.ones(5))[1]),
     r"dout must have shape \(4, 5\), got \(4, 2\)"),
    (lambda: linear_forward_col(np.ones((2, 3)), np.ones((4, 6)), np.ones(2)),
     r"X must have shape \(3, any\), got \(4, 6\)"),
    (lambda: linear_forward_col(np.ones((2, 3)), np.ones((3, 6)), np.ones(3)),
     r"b must have shape \(2,\), got \(3,\)"),
    (lambda: linear_backward_col(np.ones((6, 2)), linear_forward_col(np.ones((2, 3)), np.ones((3, 6)),
                                                                     np.ones(2))[1]),
     r"dout must have shape \(2, 6\), got \(6, 2\)"),
    (lambda: linear_forward(np.ones(3), np.ones((3, 2)), np.ones(2)), r"X must be 2-D, got shape \(3,\)"),
])
def test_wrong_shapes_name_the_argument_and_both_shapes(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_absorbed_bias_gives_the_same_output_and_gradient(rng):
    W, X, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 5)), rng.normal(size=4)
    dZ = rng.normal(size=(4, 5))
    Z, cache = linear_forward_col(W, X, b)
    Wb, X1 = absorb_bias(W, b), append_ones(X)
    np.testing.assert_allclose(Wb @ X1, Z, rtol=1e-12)
    _, dW, db = linear_backward_col(dZ, cache)
    _, dWb, _ = linear_backward_col(dZ, linear_forward_col(Wb, X1, np.zeros(4))[1])
    np.testing.assert_allclose(dWb, np.hstack([dW, db[:, None]]), rtol=1e-12)


def test_batched_gradient_is_the_sum_of_single_sample_gradients(rng):
    W, X, b, Y = rng.normal(size=(2, 2)), rng.normal(size=(2, 3)), rng.normal(size=2), rng.normal(size=(2, 3))
    Z, cache = linear_forward_col(W, X, b)
    _, dW, db = linear_backward_col(Z - Y, cache)
    parts = [linear_backward_col((Z - Y)[:, [i]], linear_forward_col(W, X[:, [i]], b)[1]) for i in range(3)]
    np.testing.assert_allclose(dW, sum(p[1] for p in parts), rtol=1e-12)
    np.testing.assert_allclose(db, sum(p[2] for p in parts), rtol=1e-12)


def test_training_decreases_the_loss_below_the_stable_learning_rate(rng):
    X = rng.normal(size=(3, 20))
    Y = rng.normal(size=(2, 3)) @ X + 0.5 + 0.01 * rng.normal(size=(2, 20))
    lr = 0.5 * max_stable_lr(X)
    res = train_linear(X, Y, np.zeros((2, 3)), np.zeros(2), lr, steps=300)
    assert not res.diverged and len(res.losses) == 301
    assert np.all(np.diff(res.losses) <= 1e-12) and res.losses[-1] < 1e-2 * res.losses[0]


@pytest.mark.parametrize("factor", [1.2, 10.0, 1e6, 1e150])
def test_diverging_training_stops_without_an_exception_or_warning(rng, factor):
    X, Y = rng.normal(size=(3, 20)), rng.normal(size=(2, 20))
    with np.errstate(all="raise"):  # a floating-point error escaping train_linear would raise here
        res = train_linear(X, Y, np.ones((2, 3)), np.zeros(2), factor * max_stable_lr(X), steps=500)
    assert res.diverged and res.losses[-1] > res.losses[0]


def test_training_rejects_a_non_positive_learning_rate():
    with pytest.raises(ValueError, match="lr must be a positive"):
        train_linear(np.ones((2, 3)), np.ones((1, 3)), np.ones((1, 2)), np.zeros(1), lr=0.0)


def test_chapter_3_stores_the_equality_of_batched_and_summed_updates():
    nb = json.loads((ROOT / "chapters" / "03_linear_layer.ipynb").read_text())
    text = "".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code"
                   for o in c.get("outputs", []))
    assert "sum of the three single-sample dW" in text and "max |difference| < 1e-12" in text
    assert output_numbers(nb), "chapter 3 has no stored outputs"
