"""The transformer block written with Tensor ops (backprop_lib.transformer_autograd): the
engine's gradients against central differences, the causal mask, bad input, and the
hand-derived block of backprop_lib.transformer (the three-way check of Chapter 9)."""

import numpy as np
import pytest
from common import random_block_params

from backprop_lib.gradcheck import check_gradient
from backprop_lib.tensor import Tensor
from backprop_lib.transformer_autograd import block_forward_tensor, block_gradients_autograd


def _tiny(rng, B=2, T=3, d=4, d_ff=8):
    return rng.normal(size=(B, T, d)), random_block_params(rng, d, d_ff)


@pytest.mark.parametrize("causal", [True, False])
def test_engine_gradients_match_finite_differences(causal, rng):
    X, params = _tiny(rng)
    dout = rng.normal(size=X.shape)
    dX, grads = block_gradients_autograd(X, params, dout, h=2, causal=causal)

    def loss(X, **p):
        return float(np.sum(dout * block_forward_tensor(X, p, h=2, causal=causal).data))

    # floor 1e-3: dL/db_K is exactly 0 (b_K adds q_i . b_K to every score of row i, and the
    # softmax ignores a shift), so there both sides are round-off, 1e-10 for the differences
    check_gradient(loss, {"X": X, **params}, {"X": dX, **grads}, tol=1e-6,
                   floor=1e-3).raise_if_failed()
    assert np.max(np.abs(grads["b_K"])) < 1e-14 * np.max(np.abs(grads["b_Q"]))


def test_leaf_tensors_get_the_same_gradients_as_the_array_function(rng):
    X, params = _tiny(rng)
    dout = rng.normal(size=X.shape)
    dX, grads = block_gradients_autograd(X, params, dout, h=2)
    leaves = {k: Tensor(v, requires_grad=True) for k, v in params.items()}
    Xt = Tensor(X)  # a constant input: only the parameters get gradients
    block_forward_tensor(Xt, leaves, h=2).backward(dout)
    assert Xt.grad is None
    for k, t in leaves.items():
        np.testing.assert_array_equal(t.grad, grads[k], err_msg=k)


def test_causal_block_sends_no_gradient_to_the_past_from_the_future(rng):
    X, params = _tiny(rng, T=4)
    dout = np.zeros_like(X)
    dout[:, 1] = rng.normal(size=(2, 4))  # only position 1's output matters
    dX, _ = block_gradients_autograd(X, params, dout, h=2)
    assert np.all(dX[:, 2:] == 0.0)  # positions 2, 3 (the future of 1) get exactly nothing
    assert np.all(np.abs(dX[:, :2]) > 0)
    later = X.copy()
    later[:, 3] += 1.0  # changing the last position changes no earlier output
    Y, Y2 = (block_forward_tensor(x, params, h=2).data for x in (X, later))
    np.testing.assert_array_equal(Y[:, :3], Y2[:, :3])
    assert not np.allclose(Y[:, 3], Y2[:, 3])


def test_bad_input_is_named(rng):
    X, params = _tiny(rng)
    with pytest.raises(ValueError, match="h = 3 heads must divide d = 4"):
        block_forward_tensor(X, params, h=3)
    with pytest.raises(ValueError, match="missing \\['W_O'\\]"):
        block_forward_tensor(X, {k: v for k, v in params.items() if k != "W_O"}, h=2)
    with pytest.raises(ValueError, match=r"W_2 must have shape \(4, 8\), got \(8, 4\)"):
        block_gradients_autograd(X, {**params, "W_2": params["W_1"]}, X, h=2)
    with pytest.raises(TypeError, match="causal must be True or False, got str 'yes'"):
        block_gradients_autograd(X, params, X, h=2, causal="yes")
    with pytest.raises(TypeError, match="X must be an array of numbers"):
        block_forward_tensor("X", params, h=2)
    with pytest.raises(ValueError, match="X must be 3-D"):
        block_forward_tensor(Tensor(X[0]), params, h=2)
