"""The deep MLP, residual blocks, clipping and the new activations: every backward against
central differences, init scales against their formulas, training and clipping behaviour."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_grad_close, central_diff

from backprop_lib.activations import relu, relu_backward, tanh, tanh_backward
from backprop_lib.clipping import clip_grad_norm
from backprop_lib.deep import init_mlp, init_std, mlp_backward, mlp_forward, mlp_gradients, train_mlp
from backprop_lib.linear import linear_backward, linear_forward
from backprop_lib.residual import residual_backward, residual_forward


def test_tanh_and_relu_backward_match_central_differences(rng):
    z = rng.normal(size=(3, 4)) + 0.05  # no entry at the kink of relu
    dout = rng.normal(size=(3, 4))
    assert_grad_close("tanh", tanh_backward(dout, tanh(z)),
                      central_diff(lambda v: float(np.sum(dout * np.tanh(v))), z))
    assert_grad_close("relu", relu_backward(dout, relu(z)),
                      central_diff(lambda v: float(np.sum(dout * np.maximum(v, 0))), z))


CONFIGS = [(act, norm, res) for act in ("sigmoid", "tanh", "relu") for norm in (None, "batch", "layer")
           for res in (False, True)]


@pytest.mark.parametrize("activation,norm,residual", CONFIGS, ids=[f"{a}-{n}-{r}" for a, n, r in CONFIGS])
def test_mlp_gradients_match_central_differences(rng, activation, norm, residual):
    params = init_mlp([3, 5, 5, 5, 2], init="xavier", scale=1.3, norm=norm, seed=4)
    for layer in (1, 2, 3):  # non-trivial gamma, beta and biases
        params[f"b{layer}"] = rng.normal(size=5) * 0.3
        if norm:
            params[f"gamma{layer}"] = rng.uniform(0.5, 1.5, size=5)
            params[f"beta{layer}"] = rng.normal(size=5) * 0.2
    X, T = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    kw = dict(activation=activation, norm=norm, residual=residual)
    loss, back = mlp_gradients(X, T, params, **kw)

    def loss_with(key):
        return lambda v: mlp_gradients(X, T, {**params, key: v}, **kw)[0]

    assert set(back.grads) == set(params)
    for key, value in params.items():
        numeric = central_diff(loss_with(key), value)
        assert_grad_close(f"d{key}", back.grads[key], numeric, rtol=1e-5, atol=1e-8)
    dX = central_diff(lambda v: mlp_gradients(v, T, params, **kw)[0], X)
    assert_grad_close("dX", back.da[0], dX, rtol=1e-5, atol=1e-8)
    assert back.dW_norms.shape == (4,) and back.da_norms.shape == (4,)


def test_hidden_activation_gradients_match_central_differences(rng):
    """da[l] = dL/da^l: perturb a^l by adding to the layer's output (a hook on the bias of the
    next layer: d(a W + b)/db = 1 summed, so check dL/da^l W through a shifted input instead)."""
    params = init_mlp([2, 4, 4, 1], init="he", seed=1)
    X, T = rng.normal(size=(5, 2)), rng.normal(size=(5, 1))
    _, back = mlp_gradients(X, T, params, activation="tanh")
    a1 = np.tanh(X @ params["W1"] + params["b1"])

    def loss_of_a1(v):
        a2 = np.tanh(v @ params["W2"] + params["b2"])
        out = a2 @ params["W3"] + params["b3"]
        return 0.5 * float(np.sum((out - T) ** 2)) / 5

    assert_grad_close("da1", back.da[1], central_diff(loss_of_a1, a1))


def test_mlp_backward_with_a_random_upstream_gradient(rng):
    params = init_mlp([3, 4, 2], seed=2)
    X = rng.normal(size=(4, 3))
    out, cache = mlp_forward(X, params, activation="relu")
    dout = rng.normal(size=out.shape)
    back = mlp_backward(dout, cache)
    f = lambda v: float(np.sum(dout * mlp_forward(v, params, activation="relu")[0]))  # noqa: E731
    assert_grad_close("dX", back.da[0], central_diff(f, X))


def test_init_std_formulas():
    assert init_std(64, 64, "he") == pytest.approx(np.sqrt(2 / 64))
    assert init_std(100, 50, "xavier") == pytest.approx(np.sqrt(2 / 150))
    assert init_std(100, 50, "normal", scale=0.3) == pytest.approx(0.3)
    assert init_std(64, 64, "he", scale=2.0) == pytest.approx(2 * np.sqrt(2 / 64))
    W = init_mlp([400, 300], init="he", seed=0)["W1"]
    assert W.std() == pytest.approx(np.sqrt(2 / 400), rel=0.01)


def test_he_init_keeps_the_relu_gradient_norm_roughly_constant_and_sigmoid_vanishes():
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(64, 64)), rng.normal(size=(64, 1))
    sizes = [64] + [64] * 20 + [1]
    _, he = mlp_gradients(X, T, init_mlp(sizes, init="he", seed=3), activation="relu")
    ratio = he.da_norms[1] / he.da_norms[-1]
    assert 0.2 < ratio < 5, ratio
    _, sig = mlp_gradients(X, T, init_mlp(sizes, init="xavier", seed=3), activation="sigmoid")
    assert sig.da_norms[1] / sig.da_norms[-1] < 1e-4
    _, sig_bn = mlp_gradients(X, T, init_mlp(sizes, init="xavier", norm="batch", seed=3),
                             activation="sigmoid", norm="batch")
    assert sig_bn.da_norms[1] / sig_bn.da_norms[-1] > 100 * sig.da_norms[1] / sig.da_norms[-1]


def test_residual_block_backward_matches_central_differences(rng):
    W, b = rng.normal(size=(4, 4)), rng.normal(size=4)

    def block(x, W, b):
        z, lc = linear_forward(x, W, b)
        a = np.tanh(z)
        return a, (lc, a)

    def block_backward(dout, cache):
        lc, a = cache
        return linear_backward(dout * (1 - a * a), lc)

    x, dout = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    y, cache = residual_forward(x, block, W, b)
    dx, (dW, db) = residual_backward(dout, cache, block_backward)
    f = lambda v: float(np.sum(dout * residual_forward(v, block, W, b)[0]))  # noqa: E731
    assert_grad_close("residual dx", dx, central_diff(f, x))
    g = lambda v: float(np.sum(dout * residual_forward(x, block, v, b)[0]))  # noqa: E731
    assert_grad_close("residual dW", dW, central_diff(g, W))
    with pytest.raises(ValueError, match="shape of x"):
        residual_forward(x, lambda v: (v[:, :2], None))


def test_clip_grad_norm_caps_the_global_norm_and_keeps_the_direction(rng):
    grads = [rng.normal(size=(3, 2)), rng.normal(size=4)]
    total = np.sqrt(sum((g ** 2).sum() for g in grads))
    clipped, n = clip_grad_norm(grads, total / 2)
    assert n == pytest.approx(total)
    new = np.sqrt(sum((g ** 2).sum() for g in clipped))
    assert new == pytest.approx(total / 2, rel=1e-6)
    np.testing.assert_allclose(clipped[0] / grads[0], clipped[1][0] / grads[1][0])
    same, _ = clip_grad_norm(grads, total * 2)
    assert all(np.array_equal(a, b) for a, b in zip(same, grads, strict=True))


def test_clipping_tames_an_exploding_training_run():
    rng = np.random.default_rng(5)
    X, T = rng.normal(size=(32, 8)), rng.normal(size=(32, 1))
    params = init_mlp([8] + [32] * 10 + [1], init="normal", scale=0.6, seed=0)
    wild = train_mlp(X, T, params, steps=15, lr=0.05, activation="relu")
    tame = train_mlp(X, T, params, steps=15, lr=0.05, activation="relu", max_norm=1.0)
    assert wild.diverged and not tame.diverged
    assert tame.clipped.any() and np.isfinite(tame.losses).all()
    assert tame.losses[-1] < tame.losses[0]
    assert params["W1"] is not tame.params["W1"]  # the input params are not changed
    assert tame.dW_norms.shape == (15, 11) and tame.total_norms.shape == (15,)


def test_bad_input_to_the_mlp():
    params = init_mlp([3, 4, 4, 2], norm="batch")
    with pytest.raises(ValueError, match="more than one example"):
        mlp_forward(np.ones((1, 3)), params, norm="batch")
    with pytest.raises(ValueError, match=r"X must have shape \(any, 3\) .*got \(2, 4\)"):
        mlp_forward(np.ones((2, 4)), params)
    with pytest.raises(ValueError, match=r"W2 must have shape \(4, any\), got \(3, 4\)"):
        mlp_forward(np.ones((2, 3)), {**params, "W2": np.ones((3, 4))})
    with pytest.raises(ValueError, match="activation must be one of"):
        mlp_forward(np.ones((2, 3)), params, activation="softplus")
    with pytest.raises(ValueError, match="gamma"):
        mlp_forward(np.ones((2, 3)), init_mlp([3, 4, 2]), norm="layer")
    with pytest.raises(ValueError, match="square"):
        mlp_forward(np.ones((2, 3)), init_mlp([3, 4, 5, 2]), residual=True)
    out, _ = mlp_forward(np.ones((3, 3)), params, norm="batch")  # equal examples: zero variance, eps > 0
    assert np.all(np.isfinite(out))
