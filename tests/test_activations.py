"""backprop_lib.activations: stable sigmoid and softmax, their derivatives, against finite differences."""

import numpy as np
import pytest
from helpers import assert_grad_close, central_diff

from backprop_lib.activations import (
    sigmoid,
    sigmoid_backward,
    softmax,
    softmax_jacobian,
    softmax_vjp,
)

SHAPES = [(1,), (5,), (3, 1), (4, 6), (2, 3, 4)]


# ---------------------------------------------------------------- sigmoid
def test_sigmoid_values_and_symmetry(rng):
    z = rng.normal(scale=3.0, size=(4, 5))
    assert np.allclose(sigmoid(z), 1.0 / (1.0 + np.exp(-z)), rtol=1e-14, atol=0)
    assert np.allclose(sigmoid(-z), 1.0 - sigmoid(z), atol=1e-15)
    assert sigmoid(0.0) == 0.5


def test_sigmoid_is_stable_at_extreme_inputs():
    z = np.array([-1000.0, -745.0, -50.0, 0.0, 50.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow warning becomes an error
        s = sigmoid(z)
    assert np.all(np.isfinite(s)) and np.all((s >= 0) & (s <= 1))
    assert s[0] == 0.0 and s[-1] == 1.0


def test_sigmoid_on_the_seed_hidden_layer():
    # notes, section 2.2.1: sigma(-0.35), sigma(0.75), sigma(-0.55), sigma(-0.3)
    a = sigmoid([-0.35, 0.75, -0.55, -0.3])
    assert np.allclose(a, [0.413382, 0.679179, 0.365864, 0.425557], atol=5e-7)


@pytest.mark.parametrize("shape", SHAPES)
def test_sigmoid_backward_matches_finite_differences(rng, shape):
    z = rng.normal(scale=2.0, size=shape)
    dout = rng.normal(size=shape)  # random, non-uniform upstream gradient
    numeric = central_diff(lambda v: np.sum(dout * sigmoid(v)), z)
    assert_grad_close("sigmoid dz", sigmoid_backward(dout, sigmoid(z)), numeric)


def test_sigmoid_backward_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="dout must have the shape of a"):
        sigmoid_backward(np.ones(3), np.ones(4))


# ---------------------------------------------------------------- softmax
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("axis", [0, -1])
def test_softmax_sums_to_one_and_ignores_shifts(rng, shape, axis):
    z = rng.normal(scale=3.0, size=shape)
    a = softmax(z, axis=axis)
    assert np.allclose(a.sum(axis=axis), 1.0)
    assert np.all(a > 0)
    assert np.allclose(softmax(z + 123.0, axis=axis), a)


def test_softmax_is_stable_for_huge_logits():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = softmax(np.array([1000.0, 999.0, -1000.0]))
    assert np.allclose(a, [1 / (1 + np.exp(-1)), np.exp(-1) / (1 + np.exp(-1)), 0.0])


def test_softmax_on_the_seed_logits():
    # notes, section 2.2.2: z2 ~ (-0.1178, -0.1812) -> a2 ~ (0.5159, 0.4841)
    a = softmax([-0.11776386, -0.18119159])
    assert np.allclose(a, [0.515852, 0.484148], atol=5e-7)


def test_softmax_rejects_scalars():
    with pytest.raises(ValueError, match="z must be"):
        softmax(1.0)


@pytest.mark.parametrize("k", [1, 2, 3, 7])
def test_softmax_jacobian_matches_finite_differences(rng, k):
    z = rng.normal(size=k)
    J = softmax_jacobian(softmax(z))
    numeric = np.stack([central_diff(lambda v, m=m: softmax(v)[m], z) for m in range(k)])
    assert_grad_close("softmax Jacobian", J, numeric)  # row m = gradient of a_m


def test_softmax_jacobian_columns_and_rows_sum_to_zero(rng):
    J = softmax_jacobian(softmax(rng.normal(size=5)))
    assert np.allclose(J.sum(axis=0), 0.0, atol=1e-15)  # sum_m a_m = 1 for every z
    assert np.allclose(J, J.T)


def test_softmax_jacobian_of_the_seed_output():
    # notes, section 3.2.3: the 2 x 2 Jacobian has entries +-0.249749
    J = softmax_jacobian([0.515852, 0.484148])
    assert np.allclose(J, [[0.249749, -0.249749], [-0.249749, 0.249749]], atol=5e-7)


def test_softmax_jacobian_needs_one_vector():
    with pytest.raises(ValueError, match="a must be 1-D"):
        softmax_jacobian(np.ones((2, 2)))


@pytest.mark.parametrize("shape,axis", [((4,), 0), ((3, 5), 0), ((5, 3), -1), ((2, 3, 4), 1)])
def test_softmax_vjp_matches_finite_differences(rng, shape, axis):
    z = rng.normal(size=shape)
    dout = rng.normal(size=shape)  # random, non-uniform
    numeric = central_diff(lambda v: np.sum(dout * softmax(v, axis=axis)), z)
    assert_grad_close("softmax dz", softmax_vjp(dout, softmax(z, axis=axis), axis=axis), numeric)


def test_softmax_vjp_equals_jacobian_transpose_times_dout(rng):
    a = softmax(rng.normal(size=6))
    dout = rng.normal(size=6)
    assert np.allclose(softmax_vjp(dout, a), softmax_jacobian(a).T @ dout)


def _wrong_vjp(dout, a):
    """A plausible bug: the factor a_m forgotten, dz = dout - sum(a * dout)."""
    return dout - np.sum(a * dout)


def test_a_wrong_vjp_passes_with_uniform_upstream_but_fails_with_random_upstream(rng):
    # Each Jacobian column sums to zero, so J^T (c, c, ..., c) = 0 for any c: every formula
    # that also returns 0 there looks right. Only a non-uniform upstream gradient tells.
    z = rng.normal(size=4)
    a = softmax(z)
    uniform = np.full(4, 0.7)
    numeric_u = central_diff(lambda v: np.sum(uniform * softmax(v)), z)
    assert_grad_close("wrong vjp, uniform dout", _wrong_vjp(uniform, a), numeric_u)  # passes!
    dout = rng.normal(size=4)
    numeric_r = central_diff(lambda v: np.sum(dout * softmax(v)), z)
    with pytest.raises(AssertionError, match="wrong vjp, random dout"):
        assert_grad_close("wrong vjp, random dout", _wrong_vjp(dout, a), numeric_r)
    assert_grad_close("softmax_vjp, random dout", softmax_vjp(dout, a), numeric_r)


def test_softmax_vjp_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="dout must have the shape of a"):
        softmax_vjp(np.ones(3), softmax(np.zeros(2)))
