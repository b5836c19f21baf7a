"""The transformer block (backprop_lib/transformer.py): finite differences for every parameter
and the input, the causal mask forward and backward, split/merge, checkpointing, the memory
formula, properties and bad input. PyTorch's cross-check: tests/test_against_torch_transformer.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_lib import transformer as tr
from backprop_lib._validate import trusted
from backprop_lib.gradcheck import numerical_gradient

PROP = settings(derandomize=True, max_examples=25, deadline=None, database=None)
B, T, D, H = 2, 5, 8, 2


def block_params(rng, d=D, h=H, d_ff=None):
    """init_block's arrays moved off their special values (gamma 1, zero biases) at random."""
    p = tr.init_block(d, h, d_ff=d_ff, seed=int(rng.integers(1000)))
    return {k: v + 0.3 * rng.normal(size=v.shape) for k, v in p.items()}


def setup(rng, b=B, t=T, d=D, h=H):
    return block_params(rng, d, h), rng.normal(size=(b, t, d)), rng.normal(size=(b, t, d))


def normwise_error(analytic, numeric) -> float:
    return float(np.max(np.abs(analytic - numeric)) / max(np.max(np.abs(numeric)), 1e-300))


# ---------------------------------------------------------------- finite differences

def test_block_backward_matches_central_differences_for_the_input_and_all_16_parameters(rng):
    p, X, dY = setup(rng)
    dX, grads = tr.block_backward(dY, tr.block_forward(X, p, h=H)[1])
    assert list(grads) == list(tr.PARAM_KEYS)

    def loss(X, p):
        with trusted():  # the arguments were checked by the calls above: skip the door's checks
            return float(np.sum(dY * tr.block_forward(X, p, h=H)[0]))

    assert normwise_error(dX, numerical_gradient(lambda x: loss(x, p), X)) < 1e-7
    for key in tr.PARAM_KEYS:
        num = numerical_gradient(lambda v, key=key: loss(X, {**p, key: v}), p[key])
        assert grads[key].shape == p[key].shape, key
        if key == "b_K":
            # q . (k + b_K) adds q . b_K to every key's score of a query: the softmax ignores it
            assert np.max(np.abs(grads[key])) < 1e-12 and np.max(np.abs(num)) < 1e-7
            continue
        assert normwise_error(grads[key], num) < 1e-7, key


def test_parts_match_central_differences_without_the_mask(rng):
    p, X, dO = setup(rng)
    cache = tr.multi_head_attention_forward(X, p, h=H, causal=False)[1]
    dX, grads = tr.multi_head_attention_backward(dO, cache)
    num = numerical_gradient(lambda x: float(np.sum(dO * tr.multi_head_attention_forward(
        x, p, h=H, causal=False)[0])), X)
    assert normwise_error(dX, num) < 1e-7
    num = numerical_gradient(lambda w: float(np.sum(dO * tr.multi_head_attention_forward(
        X, {**p, "W_K": w}, h=H, causal=False)[0])), p["W_K"])
    assert normwise_error(grads["W_K"], num) < 1e-7
    dX, grads = tr.feed_forward_backward(dO, tr.feed_forward(X, p)[1])
    num = numerical_gradient(lambda x: float(np.sum(dO * tr.feed_forward(x, p)[0])), X)
    assert normwise_error(dX, num) < 1e-7
    assert list(grads) == ["W_1", "b_1", "W_2", "b_2"]


# ---------------------------------------------------------------- the causal mask

def test_the_future_changes_nothing_forward(rng):
    p, X, _ = setup(rng, t=6)
    Y = tr.block_forward(X, p, h=H)[0]
    for t in range(6):
        X2 = X.copy()
        X2[:, t + 1:] = rng.normal(scale=5, size=X2[:, t + 1:].shape)
        Y2 = tr.block_forward(X2, p, h=H)[0]
        np.testing.assert_array_equal(Y2[:, :t + 1], Y[:, :t + 1])
        if t < 5:
            assert not np.allclose(Y2[:, t + 1:], Y[:, t + 1:])
    Yfull = tr.block_forward(X2, p, h=H, causal=False)[0]  # without the mask the past sees the future
    assert not np.allclose(Yfull[:, 0], Y[:, 0])


def test_no_gradient_flows_from_the_future(rng):
    p, X, _ = setup(rng, t=6)
    cache = tr.block_forward(X, p, h=H)[1]
    A = cache.attention
    assert A.shape == (B, H, 6, 6)
    np.testing.assert_allclose(A.sum(axis=-1), 1.0, rtol=1e-14)
    assert np.all(A[..., np.triu_indices(6, 1)[0], np.triu_indices(6, 1)[1]] == 0.0)
    for t in range(6):
        dY = np.zeros_like(X)
        dY[:, t] = rng.normal(size=(B, D))  # dL/dY nonzero only at position t
        dX, _ = tr.block_backward(dY, cache)
        assert np.all(dX[:, t + 1:] == 0.0), f"position {t} sends gradient to the future"
        assert np.all(np.abs(dX[:, :t + 1]).sum(axis=-1) > 0)


# ---------------------------------------------------------------- heads: split and merge

@PROP
@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_split_and_merge_are_inverses_and_each_others_backward(b, t, h, d_k, seed):
    r = np.random.default_rng(seed)
    X, G = r.normal(size=(b, t, h * d_k)), r.normal(size=(b, h, t, d_k))
    Xh = tr.split_heads(X, h)
    assert Xh.shape == (b, h, t, d_k)
    np.testing.assert_array_equal(Xh[:, -1, :, 0], X[:, :, (h - 1) * d_k])  # head n = features n d_k..
    np.testing.assert_array_equal(tr.merge_heads(Xh), X)
    np.testing.assert_array_equal(tr.split_heads(tr.merge_heads(G), h), G)
    # backward: <split(X), G> = <X, merge(G)> for all X, G, so d<split(X), G>/dX = merge(G)
    np.testing.assert_allclose(np.sum(Xh * G), np.sum(X * tr.merge_heads(G)), rtol=1e-12, atol=1e-12)


def test_merge_is_the_backward_of_split_by_central_differences(rng):
    X, G = rng.normal(size=(2, 3, 6)), rng.normal(size=(2, 3, 3, 2))
    num = numerical_gradient(lambda x: float(np.sum(G * tr.split_heads(x, 3))), X)
    np.testing.assert_allclose(tr.merge_heads(G), num, rtol=1e-8, atol=1e-9)


# ---------------------------------------------------------------- GELU

@PROP
@given(st.lists(st.floats(-8, 8), min_size=1, max_size=6))
def test_gelu_identity_and_derivative(values):
    x = np.array(values)
    np.testing.assert_allclose(tr.gelu(x) - tr.gelu(-x), x, rtol=1e-12, atol=1e-12)  # x Phi(x) + x Phi(-x)
    num = numerical_gradient(lambda v: float(np.sum(tr.gelu(v))), x)
    np.testing.assert_allclose(tr.gelu_backward(np.ones_like(x), x), num, rtol=1e-7, atol=1e-8)


def test_gelu_values():
    x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])
    t = np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))
    np.testing.assert_allclose(tr.gelu(x), 0.5 * x * (1 + t), rtol=1e-15)
    assert tr.gelu(np.array([0.0]))[0] == 0.0 and tr.gelu_backward(np.ones(1), np.zeros(1))[0] == 0.5


def test_gelu_takes_a_number_as_any_shape():
    """gelu(1.0) is gelu of a 0-d array (it raised numpy's 'return arrays must be of ArrayType')."""
    t = np.tanh(np.sqrt(2 / np.pi) * 1.044715)
    slope = float(tr.gelu_backward(np.ones(1), np.ones(1))[0])
    for x in (1.0, np.float64(1.0), np.array(1.0)):
        assert abs(float(tr.gelu(x)) - 0.5 * (1 + t)) < 1e-15
        assert abs(float(tr.gelu_backward(1.0, x)) - slope) < 1e-15


# ---------------------------------------------------------------- properties of the block

@PROP
@given(st.integers(1, 3), st.integers(1, 5), st.sampled_from([(4, 1), (4, 2), (6, 3)]), st.booleans(),
       st.integers(0, 2**32 - 1))
def test_block_properties(b, t, dh, causal, seed):
    d, h = dh
    r = np.random.default_rng(seed)
    p, X, dY = block_params(r, d, h), r.normal(size=(b, t, d)), r.normal(size=(b, t, d))
    Y, cache = tr.block_forward(X, p, h=h, causal=causal)
    # pre-norm: LN1 and LN2 ignore a constant added to a token's features, the residuals carry it
    c = r.normal(scale=3, size=(b, t, 1))
    np.testing.assert_allclose(tr.block_forward(X + c, p, h=h, causal=causal)[0], Y + c, rtol=1e-9, atol=1e-9)
    # the sequences of a batch do not interact
    perm = r.permutation(b)
    np.testing.assert_allclose(tr.block_forward(X[perm], p, h=h, causal=causal)[0], Y[perm], rtol=1e-12,
                               atol=1e-12)
    # no positional information: without the mask, permuting the positions permutes the output
    if not causal:
        pos = r.permutation(t)
        np.testing.assert_allclose(tr.block_forward(X[:, pos], p, h=h, causal=False)[0], Y[:, pos],
                                   rtol=1e-10, atol=1e-10)
    # the backward is linear in dY (beside the central differences above)
    d2 = r.normal(size=dY.shape)
    (g1, p1), (g2, p2), (g12, p12) = (tr.block_backward(g, cache) for g in (dY, d2, 2.0 * dY + d2))
    np.testing.assert_allclose(g12, 2.0 * g1 + g2, rtol=1e-9, atol=1e-10)
    for k in tr.PARAM_KEYS:
        np.testing.assert_allclose(p12[k], 2.0 * p1[k] + p2[k], rtol=1e-9, atol=1e-10, err_msg=k)


def test_attention_rows_are_probabilities_and_the_first_query_sees_itself_only(rng):
    p, X, _ = setup(rng)
    A = tr.multi_head_attention_forward(X, p, h=H)[1].attention
    assert np.all(A >= 0) and np.all(A[:, :, 0, 0] == 1.0)
    A_full = tr.multi_head_attention_forward(X, p, h=H, causal=False)[1].attention
    assert np.all(A_full > 0)


# ---------------------------------------------------------------- checkpointing and memory

def test_checkpointing_gives_the_same_gradients_bit_for_bit(rng):
    p, X, dY = setup(rng, t=7)
    Y, cache = tr.block_forward(X, p, h=H)
    Yc, ccache = tr.block_forward(X, p, h=H, checkpoint=True)
    np.testing.assert_array_equal(Yc, Y)
    dX, grads = tr.block_backward(dY, cache)
    dXc, gradsc = tr.block_backward(dY, ccache)
    np.testing.assert_array_equal(dXc, dX)
    for k in tr.PARAM_KEYS:
        np.testing.assert_array_equal(gradsc[k], grads[k], err_msg=k)
    assert tr.saved_bytes(ccache) == X.nbytes == tr.activation_bytes(B, 7, D, H, checkpoint=True)
    np.testing.assert_array_equal(ccache.attention, cache.attention)  # recomputed on demand


@pytest.mark.parametrize("shape", [(2, 5, 8, 2, None), (1, 1, 4, 4, None), (3, 7, 6, 1, 10),
                                   (2, 9, 12, 3, 5)])
def test_memory_formula_equals_the_bytes_the_cache_keeps(rng, shape):
    b, t, d, h, d_ff = shape
    p = block_params(rng, d, h, d_ff)
    X = rng.normal(size=(b, t, d))
    cache = tr.block_forward(X, p, h=h)[1]
    assert tr.saved_bytes(cache) == tr.activation_bytes(b, t, d, h, d_ff)
    # the parts: attention keeps its input, Q, K, V, Vbar (N d each) and A (B h T^2)
    attn = tr.multi_head_attention_forward(X, p, h=h)[1]
    assert tr.saved_bytes(attn) == 8 * (5 * b * t * d + b * h * t * t)
    ffn = tr.feed_forward(X, p)[1]
    assert tr.saved_bytes(ffn) == 8 * b * t * (d + 2 * (d_ff or 4 * d))


def test_checkpoint_cost_measures_less_kept_memory_and_returns_numbers():
    plain, ckpt = tr.checkpoint_cost(2, 16, 8, 2, n_blocks=3, repeat=1)
    assert (plain.checkpoint, ckpt.checkpoint) == (False, True)
    assert plain.kept_bytes == 3 * tr.activation_bytes(2, 16, 8, 2)
    assert ckpt.kept_bytes == 3 * tr.activation_bytes(2, 16, 8, 2, checkpoint=True)
    assert ckpt.peak_bytes < plain.peak_bytes
    assert plain.peak_bytes >= plain.kept_bytes
    assert plain.seconds > 0 and ckpt.seconds > 0


# ---------------------------------------------------------------- bad input

def test_heads_must_divide_d(rng):
    p, X, _ = setup(rng)
    for call in (lambda: tr.init_block(8, 3), lambda: tr.split_heads(X, 3),
                 lambda: tr.block_forward(X, p, h=3), lambda: tr.multi_head_attention_forward(X, p, h=5),
                 lambda: tr.activation_bytes(2, 5, 8, 3)):
        with pytest.raises(ValueError, match=r"h must divide d.*d = 8"):
            call()


def test_bad_arrays_and_parameters_get_clear_errors(rng):
    p, X, dY = setup(rng)
    with pytest.raises(ValueError, match=r"X must be 3-D, got shape \(5, 8\)"):
        tr.block_forward(X[0], p, h=H)
    with pytest.raises(ValueError, match=r"W_Q must have shape \(8, 8\), got \(8, 7\)"):
        tr.block_forward(X, {**p, "W_Q": p["W_Q"][:, :7]}, h=H)
    with pytest.raises(ValueError, match=r"b_1 must have shape \(32,\), got \(31,\)"):
        tr.feed_forward(X, {**p, "b_1": p["b_1"][:31]})
    with pytest.raises(ValueError, match=r"missing \['W_O'\]"):
        tr.block_forward(X, {k: v for k, v in p.items() if k != "W_O"}, h=H)
    with pytest.raises(TypeError, match="X must be an array of real numbers, got complex"):
        tr.block_forward(X + 1j, p, h=H)
    with pytest.raises(TypeError, match="W_V must be an array of real numbers, got complex"):
        tr.multi_head_attention_forward(X, {**p, "W_V": p["W_V"] * 1j}, h=H)
    with pytest.raises(TypeError, match="X must be an array of numbers"):
        tr.block_forward([["a", "b"]], p, h=H)
    with pytest.raises(TypeError, match="causal must be True or False"):
        tr.block_forward(X, p, h=H, causal="yes")
    cache = tr.block_forward(X, p, h=H)[1]
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 5, 8\), got \(2, 4, 8\)"):
        tr.block_backward(dY[:, :4], cache)
    with pytest.raises(TypeError, match="cache must be the BlockCache"):
        tr.block_backward(dY, tr.multi_head_attention_forward(X, p, h=H)[1])
    with pytest.raises(TypeError, match="cache must be a cache of this module"):
        tr.saved_bytes({"X": X})
