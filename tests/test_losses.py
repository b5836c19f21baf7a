"""backprop_lib.losses: the squared error of the notes, L = 1/2 sum (pred - target)^2."""

import numpy as np
import pytest
from helpers import assert_grad_close, central_diff

from backprop_lib.losses import squared_error, squared_error_backward


def test_the_seed_loss():
    # notes, section 2.2.3: a2 ~ (0.5159, 0.4841), y = (1, 0), L ~ 0.2344
    pred = [0.51585162, 0.48414838]
    assert round(squared_error(pred, [1.0, 0.0]), 4) == 0.2344
    assert np.allclose(squared_error_backward(pred, [1.0, 0.0]), [-0.484148, 0.484148], atol=5e-7)


def test_it_is_a_half_sum_not_a_mean():
    assert squared_error([[1.0, 2.0], [3.0, 4.0]], np.zeros((2, 2))) == 0.5 * 30.0


@pytest.mark.parametrize("shape", [(1,), (2,), (3, 4), (2, 2, 3)])
def test_backward_matches_finite_differences(rng, shape):
    pred, target = rng.normal(size=shape), rng.normal(size=shape)
    dout = float(rng.normal())
    numeric = central_diff(lambda p: dout * squared_error(p, target), pred)
    assert_grad_close("squared_error dpred", squared_error_backward(pred, target, dout), numeric)


def test_a_wrong_backward_fails(rng):
    pred, target = rng.normal(size=5), rng.normal(size=5)
    numeric = central_diff(lambda p: squared_error(p, target), pred)
    with pytest.raises(AssertionError):
        assert_grad_close("2 (pred - target)", 2 * (pred - target), numeric)  # the 1/2 forgotten


def test_shape_mismatch_is_reported():
    with pytest.raises(ValueError, match=r"target must have the shape of pred \(2,\), got \(3,\)"):
        squared_error([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="target must have the shape of pred"):
        squared_error_backward(np.ones(2), np.ones((2, 1)))
