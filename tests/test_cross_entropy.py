"""backprop_lib.cross_entropy and the cross-entropy choice of backprop_lib.network.

Oracles: central differences (tests/helpers.py), closed forms written here independently
(-log of a naive softmax at moderate logits, the two-class saturation numbers of chapter 4),
hypothesis properties (delta sums to zero over the classes; adding a constant to all logits
changes nothing), finiteness at logits +-1e4 with numpy warnings turned into errors, and bad
labels. PyTorch cross-checks: tests/test_against_torch_cross_entropy.py.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from helpers import assert_grad_close, central_diff
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from backprop_lib import network as nw
from backprop_lib.cross_entropy import (
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_backward,
    cross_entropy,
    cross_entropy_backward,
    log_softmax,
    log_softmax_backward,
)

PROP = settings(derandomize=True, max_examples=150, deadline=None, database=None)


def naive_ce(z, labels):
    """-mean log softmax(z)[label] with the textbook formula (fine for |z| < 700)."""
    z = np.atleast_2d(np.asarray(z, dtype=float).T).T if np.ndim(z) == 1 else z
    labels = np.atleast_1d(labels)
    a = np.exp(z) / np.exp(z).sum(axis=0)
    return -np.mean(np.log(a[labels, np.arange(z.shape[1])]))


# -- values --------------------------------------------------------------------------------------------
def test_cross_entropy_equals_the_textbook_formula(rng):
    z = rng.normal(size=(4, 6)) * 3
    labels = rng.integers(0, 4, size=6)
    assert math.isclose(cross_entropy(z, labels), naive_ce(z, labels), rel_tol=1e-12)
    one_hot = np.eye(4)[:, labels]
    assert math.isclose(cross_entropy(z, one_hot), naive_ce(z, labels), rel_tol=1e-12)


def test_labels_give_the_same_loss_and_gradient_inside_a_trusted_loop(rng):
    """training loops skip the checks (_validate.trusted): labels must still be read as labels."""
    from backprop_lib._validate import trusted

    z, labels = rng.normal(size=(4, 6)) * 3, rng.integers(0, 4, size=6)
    with trusted():
        loss, dz = cross_entropy(z, labels), cross_entropy_backward(z, labels)
    assert math.isclose(loss, naive_ce(z, labels), rel_tol=1e-12)
    np.testing.assert_allclose(dz, cross_entropy_backward(z, np.eye(4)[:, labels]), rtol=1e-12)


def test_single_example_label_and_one_hot():
    z = np.array([0.3, -1.2, 2.0])
    want = -math.log(math.exp(-1.2) / (math.exp(0.3) + math.exp(-1.2) + math.exp(2.0)))
    assert math.isclose(cross_entropy(z, 1), want, rel_tol=1e-12)
    assert math.isclose(cross_entropy(z, np.array([0.0, 1.0, 0.0])), want, rel_tol=1e-12)


def test_the_saturated_example_of_chapter_4():
    """z = (-8, 8), y = class 1 (first): L = 16 + log(1 + e^-16), delta = (a - y) ~ (-1, 1),
    while squared error through the softmax gives delta ~ (-2.25e-7, 2.25e-7)."""
    z, y = np.array([-8.0, 8.0]), np.array([1.0, 0.0])
    s = 1.0 / (1.0 + math.exp(16.0))  # softmax(z)_1, written out
    assert math.isclose(cross_entropy(z, 0), 16.0 + math.log1p(math.exp(-16.0)), rel_tol=1e-14)
    np.testing.assert_allclose(cross_entropy_backward(z, 0), [s - 1.0, 1.0 - s], rtol=1e-14)
    # squared error, D_out = 2: delta_1 = a1 ((a1 - 1) - sum_m a_m (a_m - y_m)) = -2 a1 a2^2
    p = nw.example()["params"]
    cache = {"a0": np.zeros(3), "a1": np.zeros(4), "z2": z, "a2": np.array([s, 1 - s]), "params": p}
    g = nw.backward(cache, y)
    np.testing.assert_allclose(g["delta2"], [-2 * s * (1 - s) ** 2, 2 * s * (1 - s) ** 2], rtol=1e-9)
    assert 2.2e-7 < 2 * s * (1 - s) ** 2 < 2.3e-7
    g_ce = nw.backward(cache, y, loss="cross_entropy")
    np.testing.assert_allclose(g_ce["delta2"], [s - 1.0, 1.0 - s], rtol=1e-14)


def test_log_softmax_exponentiates_to_the_softmax(rng):
    z = rng.normal(size=(5, 3))
    e = np.exp(z)
    np.testing.assert_allclose(np.exp(log_softmax(z)), e / e.sum(axis=0), rtol=1e-13)
    np.testing.assert_allclose(np.exp(log_softmax(z, axis=1)), e / e.sum(axis=1, keepdims=True),
                               rtol=1e-13)


def test_binary_cross_entropy_equals_the_textbook_formula(rng):
    z = rng.normal(size=(3, 4)) * 2
    y = rng.uniform(size=(3, 4))
    s = 1.0 / (1.0 + np.exp(-z))
    want = -np.mean(y * np.log(s) + (1 - y) * np.log(1 - s))
    assert math.isclose(binary_cross_entropy_with_logits(z, y), want, rel_tol=1e-12)


# -- gradients: central differences -------------------------------------------------------------------
@pytest.mark.parametrize("shape, axis", [((4,), 0), ((3, 5), 0), ((3, 5), 1), ((2, 3, 4), -1)])
def test_log_softmax_backward_matches_central_differences(shape, axis, rng):
    z = rng.normal(size=shape)
    dout = rng.normal(size=shape)
    got = log_softmax_backward(dout, log_softmax(z, axis), axis)
    assert_grad_close("log_softmax", got, central_diff(lambda v: np.sum(dout * log_softmax(v, axis)), z))


@pytest.mark.parametrize("shape", [(3,), (3, 1), (4, 5)])
@pytest.mark.parametrize("target", ["labels", "one-hot", "probabilities"])
def test_cross_entropy_backward_matches_central_differences(shape, target, rng):
    z = rng.normal(size=shape) * 2
    D_out, cols = shape[0], shape[1:]
    labels = rng.integers(0, D_out, size=cols)
    y = {"labels": labels if cols else int(labels),
         "one-hot": (np.arange(D_out).reshape((D_out,) + (1,) * len(cols)) == labels).astype(float),
         "probabilities": rng.dirichlet(np.ones(D_out), size=cols or None).T}[target]
    dout = float(rng.uniform(0.5, 2.0))
    got = cross_entropy_backward(z, y, dout)
    assert_grad_close("cross_entropy", got, central_diff(lambda v: dout * cross_entropy(v, y), z))


@pytest.mark.parametrize("shape", [(), (5,), (3, 4)])
def test_binary_cross_entropy_backward_matches_central_differences(shape, rng):
    z = rng.normal(size=shape) * 2
    y = rng.uniform(size=shape)
    dout = float(rng.uniform(0.5, 2.0))
    got = binary_cross_entropy_with_logits_backward(z, y, dout)
    num = central_diff(lambda v: dout * binary_cross_entropy_with_logits(v, y), z)
    assert_grad_close("bce", got, num)


@pytest.mark.parametrize("N", [None, 1, 4])
def test_network_cross_entropy_gradients_match_central_differences(N, rng):
    cols = () if N is None else (N,)
    x = rng.normal(size=(3,) + cols)
    y = np.eye(2)[:, rng.integers(0, 2, size=N or 1)].reshape((2,) + cols)
    params = nw.example()["params"]
    g = nw.gradients(x, y, params, loss="cross_entropy")
    for k in nw.PARAM_NAMES:
        def f(v, k=k):
            return nw.loss(nw.forward(x, {**params, k: v}), y, loss="cross_entropy")
        assert_grad_close(f"network d{k}", g[k], central_diff(f, params[k]))


def test_network_cross_entropy_delta2_is_a2_minus_y_over_n(rng):
    x = rng.normal(size=(3, 5))
    y = np.eye(2)[:, rng.integers(0, 2, size=5)]
    cache = nw.forward(x, nw.example()["params"])
    g = nw.backward(cache, y, loss="cross_entropy")
    np.testing.assert_allclose(g["delta2"], (cache["a2"] - y) / 5, rtol=1e-14)
    assert math.isclose(g["loss"], -np.mean(np.log(cache["a2"][y == 1])), rel_tol=1e-12)


def test_network_default_loss_is_still_squared_error():
    ex = nw.example()
    cache = nw.forward(ex["x"], ex["params"])
    assert nw.loss(cache, ex["y"]) == nw.loss(cache, ex["y"], loss="squared_error")
    assert math.isclose(nw.loss(cache, ex["y"]), 0.5 * np.sum((cache["a2"] - ex["y"]) ** 2))


def test_network_trains_with_cross_entropy():
    ex = nw.example()
    run = nw.train(ex["x"], ex["y"], ex["params"], lr=0.1, steps=200, loss="cross_entropy")
    assert not run.diverged and run.losses[-1] < 0.5 * run.losses[0]
    assert math.isclose(run.losses[0], nw.loss(nw.forward(ex["x"], ex["params"]), ex["y"],
                                               loss="cross_entropy"), rel_tol=1e-12)


# -- hypothesis properties -----------------------------------------------------------------------------
logits = st.integers(1, 5).flatmap(lambda k: st.integers(1, 4).flatmap(lambda n: hnp.arrays(
    np.float64, (k, n), elements=st.floats(-50, 50, allow_nan=False))))


@PROP
@given(z=logits, seed=st.integers(0, 2**32 - 1))
def test_delta_sums_to_zero_over_the_classes(z, seed):
    labels = np.random.default_rng(seed).integers(0, z.shape[0], size=z.shape[1])
    d = cross_entropy_backward(z, labels)
    np.testing.assert_allclose(d.sum(axis=0), 0.0, atol=1e-14)
    d_bin = log_softmax_backward(np.random.default_rng(seed).normal(size=z.shape), log_softmax(z))
    assert np.all(np.isfinite(d_bin))


@PROP
@given(z=logits, c=st.floats(-1e3, 1e3), seed=st.integers(0, 2**32 - 1))
def test_adding_a_constant_to_all_logits_changes_nothing(z, c, seed):
    labels = np.random.default_rng(seed).integers(0, z.shape[0], size=z.shape[1])
    shifted = z + c
    tol = 1e-12 * (1 + abs(c))
    assert math.isclose(cross_entropy(shifted, labels), cross_entropy(z, labels), rel_tol=1e-9, abs_tol=tol)
    np.testing.assert_allclose(cross_entropy_backward(shifted, labels), cross_entropy_backward(z, labels),
                               atol=tol)
    np.testing.assert_allclose(log_softmax(shifted), log_softmax(z), atol=tol * 10)


@PROP
@given(z=logits)
def test_log_softmax_is_a_log_distribution(z):
    lp = log_softmax(z)
    assert np.all(lp <= 0)
    np.testing.assert_allclose(np.exp(lp).sum(axis=0), 1.0, atol=1e-12)


# -- finite at +-1e4, no numpy warning ----------------------------------------------------------------
BIG = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, -1e4], [0.0, 3.0, 1e4]])


def test_everything_is_finite_at_logits_1e4_without_warnings():
    labels = np.array([1, 1, 2])  # confidently wrong, right, right
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
            results = [log_softmax(BIG), log_softmax_backward(np.ones((3, 3)) * 0.3, log_softmax(BIG)),
                       cross_entropy(BIG, labels), cross_entropy_backward(BIG, labels),
                       binary_cross_entropy_with_logits(BIG, (BIG > 0).astype(float)),
                       binary_cross_entropy_with_logits_backward(BIG, 1 - (BIG > 0))]
    for r in results:
        assert np.all(np.isfinite(r))
    assert math.isclose(cross_entropy(BIG, labels), 2e4 / 3, rel_tol=1e-12)  # only example 1 is wrong
    np.testing.assert_allclose(log_softmax(BIG)[:, 0], [0.0, -2e4, -1e4])
    pm = np.array([[1e4, -1e4], [-1e4, 1e4]])  # every target wrong: each term is |z| = 1e4
    assert math.isclose(binary_cross_entropy_with_logits(pm, 1.0 * (pm < 0)), 1e4, rel_tol=1e-12)


def test_network_cross_entropy_is_finite_when_saturated_and_wrong():
    ex = nw.example()
    p = {**ex["params"], "W2": ex["params"]["W2"] * 0, "b2": np.array([-800.0, 800.0])}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = nw.backward(nw.forward(ex["x"], p), ex["y"], loss="cross_entropy")
        run = nw.train(ex["x"], ex["y"], p, lr=0.1, steps=5, loss="cross_entropy")
    assert math.isclose(g["loss"], 1600.0, rel_tol=1e-12)
    np.testing.assert_allclose(g["delta2"], [-1.0, 1.0])
    assert not run.diverged and np.all(np.isfinite(run.losses))


# -- bad labels and targets ---------------------------------------------------------------------------
Z = np.array([[0.5, -1.0], [2.0, 0.1], [-0.3, 0.4]])  # D_out = 3 classes, N = 2 examples


@pytest.mark.parametrize("fn", [cross_entropy, cross_entropy_backward])
@pytest.mark.parametrize("y, pattern", [
    (np.array([0, 3]), r"in 0\.\.2 .*got 3"),
    (np.array([-1, 0]), r"in 0\.\.2 .*got -1"),
    (np.array([0.0, 1.5]), r"must be integers.*float64"),
    (np.array([0.0, 1.0]), r"must be integers"),
    (np.array([True, False]), r"must be integers"),
    (np.array([0, 1, 2]), r"must have shape \(2,\).*or \(3, 2\).*got \(3,\)"),
    (np.zeros((2, 3)), r"must have shape \(2,\).*got \(2, 3\)"),
    (np.array([[1.0, 0.0], [0.0, 0.5], [0.0, 0.0]]), r"one distribution per column"),
    (np.array([[1.5, 0.0], [-0.5, 1.0], [0.0, 0.0]]), r"entries >= 0"),
])
def test_bad_labels_get_a_clear_value_error(fn, y, pattern):
    with pytest.raises(ValueError, match=pattern) as info:
        fn(Z, y)
    assert str(info.value).startswith("y "), info.value


@pytest.mark.parametrize("y", ["cat", None, [["a", "b"]], {"label": 1}])
def test_non_numeric_labels_get_a_type_error(y):
    with pytest.raises(TypeError, match=r"^y must be integer class labels"):
        cross_entropy(Z, y)


def test_single_example_takes_an_int_label():
    assert math.isclose(cross_entropy(Z[:, 0], 1), cross_entropy(Z[:, :1], [1]), rel_tol=1e-15)
    with pytest.raises(ValueError, match=r"must have shape \(\)"):
        cross_entropy(Z[:, 0], [1])
    with pytest.raises(ValueError, match="in 0..2"):
        cross_entropy(Z[:, 0], 3)


def test_network_rejects_an_unknown_loss():
    ex = nw.example()
    cache = nw.forward(ex["x"], ex["params"])
    for fn, args in [(nw.loss, (cache, ex["y"])), (nw.backward, (cache, ex["y"])),
                     (nw.gradients, (ex["x"], ex["y"], ex["params"])),
                     (nw.train, (ex["x"], ex["y"], ex["params"], 0.1, 2))]:
        with pytest.raises(ValueError, match=r"loss must be one of \(.squared_error., .cross_entropy.\), "
                                             r"got .mse."):
            fn(*args, loss="mse")
        with pytest.raises(TypeError, match="loss must be one of"):
            fn(*args, loss=2)


def test_network_cross_entropy_needs_a_distribution_per_column():
    ex = nw.example()
    cache = nw.forward(ex["x"], ex["params"])
    for y in (np.array([1.0, 1.0]), np.array([1.5, -0.5])):
        with pytest.raises(ValueError, match="one distribution per column"):
            nw.backward(cache, y, loss="cross_entropy")
        with pytest.raises(ValueError, match="one distribution per column"):
            nw.train(ex["x"], y, ex["params"], 0.1, 2, loss="cross_entropy")
    nw.backward(cache, np.array([1.0, 1.0]))  # squared error takes any target
