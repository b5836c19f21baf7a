"""The transformer block written with Tensor ops (backprop_lib.transformer_autograd): the
engine's gradients against central differences and against the hand-derived block of
backprop_lib.transformer (Chapter 9's three-way check; PyTorch is the third, in
test_against_torch_transformer_autograd.py), the causal mask, and bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_lib import transformer as tr
from backprop_lib.gradcheck import check_gradient
from backprop_lib.tensor import Tensor
from backprop_lib.transformer_autograd import block_forward_tensor, block_gradients_autograd

TOL = 1e-10  # relative: max |engine - hand| / max |hand|, per array


def block_params(rng, d, h, d_ff=None):
    """init_block's parameters plus noise: gamma away from 1, biases non-zero, so no term vanishes."""
    return {k: v + 0.3 * rng.normal(size=v.shape) for k, v in tr.init_block(d, h, d_ff=d_ff).items()}


def _tiny(rng, B=2, T=3, d=4, h=2, d_ff=8):
    return rng.normal(size=(B, T, d)), block_params(rng, d, h, d_ff)


def relative(ours, ref) -> float:
    return float(np.max(np.abs(ours - ref)) / np.max(np.abs(ref)))


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


@pytest.mark.parametrize("B, T, d, h, causal, checkpoint", [
    (2, 5, 8, 2, True, False), (2, 5, 8, 2, False, False), (1, 6, 12, 3, True, True),
    (3, 1, 4, 4, True, False)])
def test_engine_agrees_with_the_hand_derived_block(B, T, d, h, causal, checkpoint, rng):
    X, dout = rng.normal(size=(B, T, d)), rng.normal(size=(B, T, d))
    params = block_params(rng, d, h)
    Y, cache = tr.block_forward(X, params, h=h, causal=causal, checkpoint=checkpoint)
    dX, grads = tr.block_backward(dout, cache)
    assert relative(block_forward_tensor(X, params, h=h, causal=causal).data, Y) < TOL
    dX_engine, grads_engine = block_gradients_autograd(X, params, dout, h=h, causal=causal)
    assert relative(dX_engine, dX) < TOL
    assert grads_engine.keys() == grads.keys() == set(tr.PARAM_KEYS)
    for k in tr.PARAM_KEYS:
        if np.max(np.abs(grads[k])) < 1e-12:  # b_K always; W_Q, W_K when T = 1: exactly 0
            assert np.max(np.abs(grads_engine[k])) < 1e-12, k
        else:
            assert relative(grads_engine[k], grads[k]) < TOL, k


@settings(derandomize=True, max_examples=25, deadline=None, database=None)
@given(st.integers(1, 3), st.integers(1, 6), st.sampled_from([(4, 1), (4, 2), (6, 3), (8, 4)]),
       st.booleans(), st.sampled_from([0.1, 1.0, 30.0]), st.integers(0, 2**32 - 1))
def test_engine_equals_the_hand_derived_block_on_random_shapes(B, T, d_h, causal, scale, seed):
    # scale 30: large inputs and sharp attention (scores of hundreds) stay exact on both sides
    (d, h), r = d_h, np.random.default_rng(seed)
    X, dout = scale * r.normal(size=(B, T, d)), r.normal(size=(B, T, d))
    params = block_params(r, d, h)
    params["W_Q"] *= scale
    Y, cache = tr.block_forward(X, params, h=h, causal=causal)
    dX, grads = tr.block_backward(dout, cache)
    dX_engine, grads_engine = block_gradients_autograd(X, params, dout, h=h, causal=causal)
    assert relative(dX_engine, dX) < TOL
    size = max(np.max(np.abs(g)) for g in grads.values())
    for k in tr.PARAM_KEYS:  # normwise over all gradients: b_K (and W_Q, W_K at T = 1) are 0
        assert np.max(np.abs(grads_engine[k] - grads[k])) < TOL * size, k


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
