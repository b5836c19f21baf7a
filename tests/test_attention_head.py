import numpy as np
import pytest
from helpers import assert_grad_close, central_diff

from backprop_lib import check_gradient
from backprop_lib.activations import softmax_vjp
from backprop_lib.attention import projection_backward, scores_backward, weighted_values_backward
from backprop_lib.attention_head import (
    attention_head_backward,
    attention_head_forward,
    causal_mask,
    make_benchmark,
)

NAMES = ("X", "Wq", "Wk", "Wv")
# (batch or None for a single (d_in, T) sequence, d_in, d_k, d_v, T)
SHAPES = [(None, 3, 2, 4, 4), (1, 3, 4, 2, 5), (2, 4, 3, 3, 3), (3, 2, 5, 2, 6), (2, 5, 4, 6, 1)]


def make(rng, batch, d_in, d_k, d_v, T):
    xshape = (d_in, T) if batch is None else (batch, d_in, T)
    p = {"X": rng.normal(size=xshape), "Wq": rng.normal(size=(d_k, d_in)),
         "Wk": rng.normal(size=(d_k, d_in)), "Wv": rng.normal(size=(d_v, d_in))}
    dshape = (d_v, T) if batch is None else (batch, d_v, T)
    return p, rng.normal(size=dshape)  # random, non-uniform upstream gradient


def loss_fn(dout, mask=None):
    return lambda **p: float(np.sum(dout * attention_head_forward(mask=mask, **p)[0]))


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("shape", SHAPES, ids=[str(s) for s in SHAPES])
def test_every_gradient_matches_central_differences(rng, shape, causal):
    p, dout = make(rng, *shape)
    mask = causal_mask(shape[-1]) if causal else None
    Vbar, cache = attention_head_forward(mask=mask, **p)
    grads = attention_head_backward(dout, cache)
    for name, g in zip(NAMES, grads, strict=True):
        assert g.shape == p[name].shape, f"d{name} has shape {g.shape}, {name} has {p[name].shape}"
        f = loss_fn(dout, mask)
        num = central_diff(lambda v, name=name, f=f: f(**{**p, name: v}), p[name])
        assert_grad_close(f"attention head d{name} {shape} causal={causal}", g, num,
                          rtol=1e-6, atol=1e-8)


def test_check_gradient_agrees_with_a_general_mask(rng):
    p, dout = make(rng, 2, 3, 3, 2, 4)
    mask = rng.random((2, 4, 4)) < 0.5
    mask[:, 0, :] = True  # every query sees key 0
    _, cache = attention_head_forward(mask=mask, **p)
    rep = check_gradient(loss_fn(dout, mask), p, dict(zip(NAMES, attention_head_backward(dout, cache),
                                                          strict=True)))
    assert rep.ok, str(rep)


def test_columns_of_A_sum_to_one_and_Vbar_is_V_A(rng):
    p, _ = make(rng, 2, 3, 4, 2, 5)
    Vbar, c = attention_head_forward(**p)
    np.testing.assert_allclose(c["A"].sum(axis=-2), 1.0, rtol=1e-12)
    np.testing.assert_allclose(Vbar, c["V"] @ c["A"], rtol=1e-12)
    # a direct loop-free formula written independently
    Q, K, V = (np.einsum("ij,bjt->bit", p[w], p["X"]) for w in ("Wq", "Wk", "Wv"))
    S = np.einsum("bki,bkj->bij", K, Q) / np.sqrt(4)
    E = np.exp(S - S.max(axis=1, keepdims=True))
    np.testing.assert_allclose(Vbar, np.einsum("bvi,bij->bvj", V, E / E.sum(axis=1, keepdims=True)),
                               rtol=1e-12)


def test_large_scores_do_not_overflow(rng):
    p, dout = make(rng, 1, 3, 2, 2, 4)
    p["Wq"] = p["Wq"] * 1e3
    Vbar, cache = attention_head_forward(**p)
    grads = attention_head_backward(dout, cache)
    assert np.all(np.isfinite(Vbar)) and all(np.all(np.isfinite(g)) for g in grads)


def test_single_sequence_equals_batch_of_one(rng):
    p, dout = make(rng, None, 3, 2, 4, 4)
    Z1, c1 = attention_head_forward(**p)
    Zb, cb = attention_head_forward(**{**p, "X": p["X"][None]})
    np.testing.assert_array_equal(Z1, Zb[0])
    g1, gb = attention_head_backward(dout, c1), attention_head_backward(dout[None], cb)
    np.testing.assert_array_equal(g1[0], gb[0][0])
    for a, b in zip(g1[1:], gb[1:], strict=True):
        np.testing.assert_array_equal(a, b)


def test_batch_gradients_are_sums_over_sequences(rng):
    p, dout = make(rng, 3, 3, 2, 2, 4)
    _, cache = attention_head_forward(**p)
    dX, *dW = attention_head_backward(dout, cache)
    parts = [attention_head_backward(dout[b], attention_head_forward(**{**p, "X": p["X"][b]})[1])
             for b in range(3)]
    np.testing.assert_allclose(dX, np.stack([g[0] for g in parts]), rtol=1e-12, atol=1e-14)
    for k in range(3):
        np.testing.assert_allclose(dW[k], sum(g[k + 1] for g in parts), rtol=1e-12, atol=1e-14)


# ---- the causal mask ---------------------------------------------------------------------

def test_causal_mask_is_keys_up_to_the_query():
    np.testing.assert_array_equal(causal_mask(3), [[1, 1, 1], [0, 1, 1], [0, 0, 1]])


def test_masked_weights_and_masked_score_gradients_are_exactly_zero(rng):
    p, dout = make(rng, 2, 3, 4, 2, 6)
    mask = causal_mask(6)
    _, c = attention_head_forward(mask=mask, **p)
    hidden = np.broadcast_to(~mask, c["A"].shape)
    assert np.all(c["A"][hidden] == 0.0)
    np.testing.assert_allclose(c["A"].sum(axis=-2), 1.0, rtol=1e-12)
    dV, dA = weighted_values_backward(dout, c["V"], c["A"])
    dS = softmax_vjp(dA, c["A"], axis=-2)
    assert np.all(dS[hidden] == 0.0)
    assert np.any(dS[~hidden] != 0.0)


def test_a_future_token_does_not_change_earlier_outputs_or_their_gradients(rng):
    p, dout = make(rng, 2, 3, 4, 2, 6)
    mask, t = causal_mask(6), 3
    dout[..., t + 1:] = 0.0  # a loss that reads outputs 0..t only
    Vbar, c = attention_head_forward(mask=mask, **p)
    X2 = p["X"].copy()
    X2[..., t + 1:] += rng.normal(size=X2[..., t + 1:].shape) * 5.0
    Vbar2, c2 = attention_head_forward(mask=mask, **{**p, "X": X2})
    np.testing.assert_array_equal(Vbar[..., : t + 1], Vbar2[..., : t + 1])
    assert not np.allclose(Vbar[..., t + 1:], Vbar2[..., t + 1:])
    g, g2 = attention_head_backward(dout, c), attention_head_backward(dout, c2)
    for k in (1, 2, 3):  # weight gradients: identical bits
        np.testing.assert_array_equal(g[k], g2[k])
    np.testing.assert_array_equal(g[0][..., t + 1:], 0.0)  # future tokens get no gradient


def test_without_the_mask_a_future_token_does_change_earlier_outputs(rng):
    p, _ = make(rng, 1, 3, 4, 2, 5)
    X2 = p["X"].copy()
    X2[..., -1] += 1.0
    Vbar = attention_head_forward(**p)[0]
    Vbar2 = attention_head_forward(**{**p, "X": X2})[0]
    assert not np.allclose(Vbar[..., 0], Vbar2[..., 0])


# ---- negative tests: a wrong backward must fail the gradient check ------------------------

def _pieces(rng):
    p, dout = make(rng, 2, 3, 4, 2, 4)
    _, c = attention_head_forward(**p)
    dV, dA = weighted_values_backward(dout, c["V"], c["A"])
    dS = softmax_vjp(dA, c["A"], axis=-2)
    return p, dout, c, dV, dS


def test_forgetting_the_scale_in_backward_fails(rng):
    p, dout, c, dV, dS = _pieces(rng)
    dQ, dK = scores_backward(dS, c["Q"], c["K"], 1.0)  # wrong: no 1/sqrt(d_k)
    dWq = projection_backward(dQ, c["Wq"], c["X"])[0]
    rep = check_gradient(loss_fn(dout), p, {"Wq": dWq})
    assert not rep.ok and rep.max_rel_error > 0.4, str(rep)


@pytest.mark.parametrize("dropped", ["q", "k", "v"])
def test_dropping_one_of_the_three_contributions_to_dX_fails(rng, dropped):
    p, dout, c, dV, dS = _pieces(rng)
    dQ, dK = scores_backward(dS, c["Q"], c["K"], c["scale"])
    parts = {"q": projection_backward(dQ, c["Wq"], c["X"])[1],
             "k": projection_backward(dK, c["Wk"], c["X"])[1],
             "v": projection_backward(dV, c["Wv"], c["X"])[1]}
    good = check_gradient(loss_fn(dout), p, {"X": sum(parts.values())})
    assert good.ok, str(good)
    wrong = sum(v for k, v in parts.items() if k != dropped)
    assert not check_gradient(loss_fn(dout), p, {"X": wrong}).ok


def test_softmax_over_the_wrong_axis_fails(rng):
    p, dout, c, dV, _ = _pieces(rng)
    dS = softmax_vjp(weighted_values_backward(dout, c["V"], c["A"])[1], c["A"], axis=-1)  # over queries
    dQ, _ = scores_backward(dS, c["Q"], c["K"], c["scale"])
    rep = check_gradient(loss_fn(dout), p, {"Wq": projection_backward(dQ, c["Wq"], c["X"])[0]})
    assert not rep.ok


# ---- errors a learner can act on --------------------------------------------------------

@pytest.mark.parametrize("arg, bad, match", [
    ("Wq", np.zeros((2, 4)), r"Wq must have shape \(any, 3\), got \(2, 4\)"),
    ("Wk", np.zeros((3, 3)), r"Wk must have shape \(2, 3\), got \(3, 3\)"),
    ("Wv", np.zeros((2, 5)), r"Wv must have shape \(any, 3\), got \(2, 5\)"),
    ("X", np.zeros((1, 1, 3, 4)), r"X must be 2-D or 3-D, got shape \(1, 1, 3, 4\)"),
])
def test_shape_errors_name_the_argument_and_both_shapes(rng, arg, bad, match):
    p, _ = make(rng, 2, 3, 2, 2, 4)
    with pytest.raises(ValueError, match=match):
        attention_head_forward(**{**p, arg: bad})


def test_mask_and_dout_errors(rng):
    p, dout = make(rng, 2, 3, 2, 2, 4)
    with pytest.raises(ValueError, match=r"mask must have shape \(4, 4\), got \(3, 3\)"):
        attention_head_forward(mask=causal_mask(3), **p)
    with pytest.raises(ValueError, match="mask must be booleans"):
        attention_head_forward(mask=np.ones((4, 4)), **p)
    with pytest.raises(ValueError, match="hides every key"):
        attention_head_forward(mask=np.zeros((4, 4), dtype=bool), **p)
    _, cache = attention_head_forward(**p)
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 2, 4\), got \(2, 4, 2\)"):
        attention_head_backward(dout.swapaxes(1, 2), cache)


def test_benchmark_function_runs_at_T128_d64():
    run = make_benchmark(T=128, d=64)
    assert np.isfinite(run())
    assert np.isfinite(make_benchmark(T=16, d=8, batch=2, causal=True)())
