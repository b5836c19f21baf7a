"""BatchNorm and LayerNorm: backward vs central differences, the zero-sum properties, running
statistics against a hand computation, and bad input (a batch of one, zero variance with
eps = 0, a wrong axis) raising clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_grad_close, central_diff
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_lib.normalization import (
    RunningStats,
    batch_norm_backward,
    batch_norm_forward,
    layer_norm_backward,
    layer_norm_forward,
)

PROP = settings(derandomize=True, max_examples=60, deadline=None, database=None)


def _fd_check(forward, backward, x, gamma, beta, dout, **kw):
    """Every gradient of L = sum(dout * y) against central differences."""
    y, cache = forward(x, gamma, beta, **kw)
    dx, dgamma, dbeta = backward(dout, cache)
    assert dx.shape == x.shape and dgamma.shape == gamma.shape and dbeta.shape == beta.shape
    loss = {"x": lambda v: float(np.sum(dout * forward(v, gamma, beta, **kw)[0])),
            "gamma": lambda v: float(np.sum(dout * forward(x, v, beta, **kw)[0])),
            "beta": lambda v: float(np.sum(dout * forward(x, gamma, v, **kw)[0]))}
    for name, g, v in (("x", dx, x), ("gamma", dgamma, gamma), ("beta", dbeta, beta)):
        numeric = central_diff(loss[name], v)
        assert_grad_close(f"{forward.__name__} d{name}", g, numeric, rtol=1e-5, atol=1e-7)
    return dx


@pytest.mark.parametrize("shape,axis,pshape", [((6, 4), 0, (4,)), ((2, 5), 0, (5,)),
                                               ((3, 4, 2), (0, 2), (4,)), ((4, 3, 5), 0, (3, 5))])
def test_batch_norm_backward_matches_central_differences(rng, shape, axis, pshape):
    x = rng.normal(size=shape) * 2 + 0.5
    g, b = rng.normal(size=pshape), rng.normal(size=pshape)
    _fd_check(batch_norm_forward, batch_norm_backward, x, g, b, rng.normal(size=shape), axis=axis)


@pytest.mark.parametrize("shape,axis,pshape", [((6, 4), -1, (4,)), ((2, 3, 5), -1, (5,)),
                                               ((3, 4, 2), (1, 2), (4, 2)), ((4, 3), 0, (4,))])
def test_layer_norm_backward_matches_central_differences(rng, shape, axis, pshape):
    x = rng.normal(size=shape) * 2 - 0.3
    g, b = rng.normal(size=pshape), rng.normal(size=pshape)
    _fd_check(layer_norm_forward, layer_norm_backward, x, g, b, rng.normal(size=shape), axis=axis)


def test_batch_norm_evaluation_mode_backward_matches_central_differences(rng):
    running = RunningStats(rng.normal(size=3), rng.uniform(0.5, 2.0, size=3))
    x = rng.normal(size=(1, 3))  # a batch of one is fine in evaluation mode
    dx = _fd_check(batch_norm_forward, batch_norm_backward, x, rng.normal(size=3), rng.normal(size=3),
                   rng.normal(size=(1, 3)), running=running, training=False)
    assert np.all(dx != 0)


def test_forward_values_by_hand():
    x = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 13.0]])
    y, _ = batch_norm_forward(x, np.array([2.0, 1.0]), np.array([0.5, 0.0]), eps=0.0)
    # column 0: mean 3, biased variance 8/3; column 1: mean 11, variance 2
    np.testing.assert_allclose(y[:, 0], 2.0 * np.array([-2.0, 0.0, 2.0]) / np.sqrt(8 / 3) + 0.5)
    np.testing.assert_allclose(y[:, 1], np.array([-1.0, -1.0, 2.0]) / np.sqrt(2.0))
    y, _ = layer_norm_forward(np.array([[1.0, 2.0, 6.0]]), np.ones(3), np.zeros(3), eps=0.0)
    np.testing.assert_allclose(y, [[-2.0, -1.0, 3.0]] / np.sqrt(14 / 3))


def test_running_statistics_use_the_unbiased_variance():
    x = np.array([[1.0], [2.0], [6.0]])  # mean 3, biased variance 14/3, unbiased 7
    running = RunningStats.start(1, momentum=0.5)
    batch_norm_forward(x, np.ones(1), np.zeros(1), running=running)
    np.testing.assert_allclose(running.mean, [1.5])
    np.testing.assert_allclose(running.var, [0.5 * 1.0 + 0.5 * 7.0])
    y, _ = batch_norm_forward(np.array([[4.0]]), np.ones(1), np.zeros(1), running=running, training=False,
                              eps=0.0)
    np.testing.assert_allclose(y, [[(4.0 - 1.5) / 2.0]])


shape2 = st.tuples(st.integers(2, 6), st.integers(1, 5))


@PROP
@given(shape2, st.integers(0, 2**32 - 1))
def test_batch_norm_input_gradient_sums_to_zero_over_the_batch(shape, seed):
    r = np.random.default_rng(seed)
    x = r.normal(size=shape) * r.uniform(0.1, 5)
    g, b, dout = r.normal(size=shape[1]), r.normal(size=shape[1]), r.normal(size=shape)
    _, cache = batch_norm_forward(x, g, b)
    dx, _, _ = batch_norm_backward(dout, cache)
    np.testing.assert_allclose(dx.sum(axis=0), 0.0, atol=1e-9 * (1 + np.abs(dx).max()))
    # with eps = 0 it is also orthogonal to x - mu: scaling one feature's batch changes nothing
    _, cache = batch_norm_forward(x, g, b, eps=0.0)
    dx, _, _ = batch_norm_backward(dout, cache)
    np.testing.assert_allclose((dx * cache.xhat).sum(axis=0), 0.0, atol=1e-8 * (1 + np.abs(dx).max()))


@PROP
@given(st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(2, 6)), st.integers(0, 2**32 - 1))
def test_layer_norm_input_gradient_sums_to_zero_over_the_features(shape, seed):
    r = np.random.default_rng(seed)
    x = r.normal(size=shape) * r.uniform(0.1, 5)
    _, cache = layer_norm_forward(x, r.normal(size=shape[-1]), r.normal(size=shape[-1]))
    dx, _, _ = layer_norm_backward(r.normal(size=shape), cache)
    np.testing.assert_allclose(dx.sum(axis=-1), 0.0, atol=1e-9 * (1 + np.abs(dx).max()))


@PROP
@given(shape2, st.floats(-3, 3), st.floats(0.2, 4), st.integers(0, 2**32 - 1))
def test_batch_norm_output_ignores_a_shift_and_scale_of_the_batch(shape, shift, scale, seed):
    r = np.random.default_rng(seed)
    x = r.normal(size=shape)
    g, b = r.normal(size=shape[1]), r.normal(size=shape[1])
    y1, _ = batch_norm_forward(x, g, b, eps=0.0) if np.all(x.std(axis=0) > 1e-6) else (None, None)
    if y1 is None:
        return
    y2, _ = batch_norm_forward(scale * x + shift, g, b, eps=0.0)
    np.testing.assert_allclose(y1, y2, atol=1e-9)


# ---------------------------------------------------------------- bad input

def test_a_batch_of_one_in_training_mode_is_an_error():
    with pytest.raises(ValueError, match=r"more than one value per feature.*\(1, 4\)"):
        batch_norm_forward(np.ones((1, 4)), np.ones(4), np.zeros(4))


@pytest.mark.parametrize("which", ["batch", "layer"])
def test_zero_variance_with_eps_zero_is_an_error_not_nan(which):
    x = np.array([[1.0, 2.0], [1.0, 3.0]])  # column 0 is constant; row 0 of x.T is constant
    with pytest.raises(ValueError, match="eps = 0 and x has zero variance"):
        if which == "batch":
            batch_norm_forward(x, np.ones(2), np.zeros(2), eps=0.0)
        else:
            layer_norm_forward(x.T, np.ones(2), np.zeros(2), eps=0.0)


def test_zero_variance_with_eps_positive_gives_beta_and_zero_gradient():
    """Documented result: a constant feature normalises to 0, so y = beta, and only the mean path
    is left in the backward: dx = gamma (dout - mean(dout)) / sqrt(eps), large but finite."""
    x = np.array([[2.0, 1.0], [2.0, 3.0], [2.0, -1.0]])
    y, cache = batch_norm_forward(x, np.array([3.0, 1.0]), np.array([0.25, 0.0]))
    np.testing.assert_allclose(y[:, 0], 0.25)
    dout = np.array([[0.5, 1.0], [-2.0, 0.3], [1.0, 2.0]])
    dx, _, _ = batch_norm_backward(dout, cache)
    assert np.all(np.isfinite(dx))
    np.testing.assert_allclose(dx[:, 0], 3.0 * (dout[:, 0] - dout[:, 0].mean()) / np.sqrt(1e-5))
    f = lambda v: float(np.sum(dout * batch_norm_forward(v, np.array([3.0, 1.0]), np.array([0.25, 0.0]))[0]))  # noqa: E731
    assert_grad_close("constant feature dx", dx, central_diff(f, x, eps=1e-7), rtol=1e-4, atol=1e-3)
    y, cache = layer_norm_forward(np.array([[5.0], [7.0]]), np.ones(1), np.array([0.5]))  # one feature
    np.testing.assert_allclose(y, 0.5)
    dx, _, _ = layer_norm_backward(np.array([[1.5], [-2.0]]), cache)
    np.testing.assert_allclose(dx, 0.0)


@pytest.mark.parametrize("axis,err", [(2, ValueError), (-3, ValueError), ((0, 0), ValueError),
                                      (1.0, TypeError), ((), ValueError)])
def test_a_wrong_axis_is_an_error(axis, err):
    with pytest.raises(err, match="axis"):
        layer_norm_forward(np.ones((3, 4)) * np.arange(4), np.ones(4), np.zeros(4), axis=axis)
    with pytest.raises(err, match="axis"):
        batch_norm_forward(np.ones((3, 4)) * np.arange(3)[:, None], np.ones(4), np.zeros(4), axis=axis)


def test_gamma_of_the_wrong_axis_names_the_expected_shape():
    x = np.arange(12.0).reshape(3, 4) ** 1.5
    with pytest.raises(ValueError, match=r"gamma must have shape \(4,\), got \(3,\)"):
        batch_norm_forward(x, np.ones(3), np.zeros(3))  # one per example: the wrong axis
    with pytest.raises(ValueError, match=r"gamma must have shape \(4,\), got \(3,\)"):
        layer_norm_forward(x, np.ones(3), np.zeros(3))


def test_evaluation_mode_needs_running_statistics_and_a_negative_eps_is_rejected():
    with pytest.raises(ValueError, match="running"):
        batch_norm_forward(np.ones((2, 3)), np.ones(3), np.zeros(3), training=False)
    with pytest.raises(ValueError, match="eps must be >= 0"):
        layer_norm_forward(np.arange(3.0)[None], np.ones(3), np.zeros(3), eps=-1e-5)
    with pytest.raises(TypeError, match="cache"):
        layer_norm_backward(np.ones((2, 3)), "cache")
