"""The exercise checker: reference solutions pass, stubs and typical mistakes get the intended
feedback, the feedback is deterministic, and the solutions published in the chapters pass."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest
from common import CHAPTERS

from backprop_lib.autograd import Function
from backprop_lib.exercises import EXERCISES, Exercise, check

sw = np.swapaxes


# ---- reference solutions (the same formulas as the chapters' Solution dropdowns) ----

def mul_backward(dout, x, y):
    return dout * y, dout * x


def max_backward(dout, x, y):
    return (dout, 0.0) if x > y else (0.0, dout)


def sigmoid_gate_backward(dout, a):
    return dout * (1.0 - a) * a


def wx_norm_sq_backward(dout, W, x):
    dq = 2.0 * dout * (W @ x)
    return np.outer(dq, x), W.T @ dq


def abs_vjp(dout, x):
    return dout * np.sign(x)


def linear_backward_rows(dY, X, W):
    return dY @ W.T, X.T @ dY, dY.sum(axis=0)


def linear_backward_cols(dZ, W, X):
    return dZ @ X.T, W.T @ dZ, dZ.sum(axis=1)


def softmax_vjp(dout, a):
    return a * (dout - np.dot(a, dout))


def hidden_delta(delta2, W2, a1):
    return a1 * (1.0 - a1) * (W2.T @ delta2)


def _softmax_cols(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def softmax_cross_entropy_backward(z, y):
    return (_softmax_cols(z) - y) / z.shape[1]


def network_backward(x, y, params, *, mean=True, jacobian=True, dsigma="a", bias_axis=1,
                     transpose=False):
    """Chapter 4's batched backward (columns are examples, mean loss); the keywords make the
    typical mistakes the checker must name."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    z1 = W1 @ x + b1[:, None]
    a1 = 1.0 / (1.0 + np.exp(-z1))
    a2 = _softmax_cols(W2 @ a1 + b2[:, None])
    g = (a2 - y) / (x.shape[1] if mean else 1)
    delta2 = a2 * (g - np.sum(a2 * g, axis=0)) if jacobian else g
    local = {"a": a1 * (1.0 - a1), "z": z1 * (1.0 - z1), "none": 1.0}[dsigma]
    delta1 = local * (W2.T @ delta2)
    db1, db2 = (delta1, delta2) if bias_axis is None else (delta1.sum(axis=bias_axis),
                                                           delta2.sum(axis=bias_axis))
    if transpose:
        return x @ delta1.T, db1, a1 @ delta2.T, db2
    return delta1 @ x.T, db1, delta2 @ a1.T, db2


def _vjp_cols(dout, a):
    return a * (dout - np.sum(a * dout, axis=0, keepdims=True))


class Tanh(Function):
    @staticmethod
    def forward(ctx, z):
        t = np.tanh(z)
        ctx.save_for_backward(t)
        return t

    @staticmethod
    def backward(ctx, grad_output):
        (t,) = ctx.saved_tensors
        return grad_output * (1.0 - t**2)


class MatMul(Function):
    @staticmethod
    def forward(ctx, X, W):
        ctx.save_for_backward(X, W)
        return X @ W

    @staticmethod
    def backward(ctx, grad_output):
        X, W = ctx.saved_tensors
        return grad_output @ W.T, X.T @ grad_output


def values_backward(dvbar, alpha):
    return np.outer(dvbar, alpha)


def query_backward(ds, K):
    return K @ ds


def keys_backward(ds, q, _K):
    return np.outer(q, ds)


def scores_backward(dS, Q, K):
    scale = 1.0 / np.sqrt(Q.shape[-2])
    return scale * (K @ dS), scale * (Q @ sw(dS, -1, -2))


def softmax_keys_backward(dA, A):
    return A * (dA - np.sum(A * dA, axis=-2, keepdims=True))


def projection_weight_backward(dQ, X):
    return (dQ @ sw(X, -1, -2)).sum(axis=0)


def batchnorm_backward(dout, x, gamma, eps=1e-5):
    mu, var = x.mean(axis=0), x.var(axis=0)
    inv = 1.0 / np.sqrt(var + eps)
    xhat, dxhat = (x - mu) * inv, dout * gamma
    dx = inv * (dxhat - dxhat.mean(axis=0) - xhat * (dxhat * xhat).mean(axis=0))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def layernorm_backward(dout, x, gamma, eps=1e-5):
    mu, var = x.mean(axis=-1, keepdims=True), x.var(axis=-1, keepdims=True)
    inv = 1.0 / np.sqrt(var + eps)
    xhat, dxhat = (x - mu) * inv, dout * gamma
    dx = inv * (dxhat - dxhat.mean(axis=-1, keepdims=True)
                - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True))
    lead = tuple(range(x.ndim - 1))
    return dx, (dout * xhat).sum(axis=lead), dout.sum(axis=lead)


def he_std(_fan_in, fan_out):
    return np.sqrt(2.0 / fan_out)


def _bn_parts(dout, x, gamma, axis=0, ddof=0, mean_path=True, var_path=True):
    mu, var = x.mean(axis=axis, keepdims=True), x.var(axis=axis, keepdims=True, ddof=ddof)
    inv = 1.0 / np.sqrt(var + 1e-5)
    xhat, dxhat = (x - mu) * inv, dout * gamma
    dx = dxhat - (dxhat.mean(axis=axis, keepdims=True) if mean_path else 0)
    dx = dx - (xhat * (dxhat * xhat).mean(axis=axis, keepdims=True) if var_path else 0)
    lead = tuple(range(x.ndim - 1))
    return dx * inv, (dout * xhat).sum(axis=lead), dout.sum(axis=lead)


def head_backward(dVbar, cache, *, axis=-2, scaled=True, paths="qkv", dS_t=False, dW_first=False,
                  dW_unsummed=False):
    """The attention head's backward (chapter 7), or one slip of it selected by a keyword."""
    X, Q, K, V, A = cache["X"], cache["Q"], cache["K"], cache["V"], cache["A"]
    dV, dA = dVbar @ sw(A, -1, -2), sw(V, -1, -2) @ dVbar
    dS = A * (dA - np.sum(A * dA, axis=axis, keepdims=True))
    dS = sw(dS, -1, -2) if dS_t else dS
    scale = 1 / np.sqrt(Q.shape[-2]) if scaled else 1.0
    dQ, dK = scale * K @ dS, scale * Q @ sw(dS, -1, -2)

    def dW(dout):  # dout: dQ, dK or dV
        if dW_first:
            return dout[0] @ X[0].T
        per_sequence = dout @ sw(X, -1, -2)
        return per_sequence if dW_unsummed else per_sequence.sum(axis=0)

    terms = {"q": cache["Wq"].T @ dQ, "k": cache["Wk"].T @ dK, "v": cache["Wv"].T @ dV}
    return sum(terms[t] for t in paths), dW(dQ), dW(dK), dW(dV)


def split_backward(dQh, *, order=(0, 2, 1, 3)):
    """The split's backward (chapter 9): move the head axis back, then undo the reshape; another
    ``order`` (or None: no transpose) is one of the catalogued slips."""
    B, _, T, _ = dQh.shape
    moved = dQh if order is None else dQh.transpose(order)
    return moved.reshape(B, T, -1)


def output_backward(dH, Vbar, W_O, *, identity=True, bias_axes=(0, 1), dVbar_t=False, dW_t=False):
    """H = X + Vbar W_O^T + b_O (chapter 9), or one slip of it selected by a keyword."""
    rows_dH, rows_Vbar = dH.reshape(-1, dH.shape[-1]), Vbar.reshape(-1, Vbar.shape[-1])
    dW = rows_Vbar.T @ rows_dH if dW_t else rows_dH.T @ rows_Vbar
    dX = dH if identity else 0.0 * dH
    return dX, dH @ (W_O.T if dVbar_t else W_O), dW, dH.sum(axis=bias_axes)


def block_backward(dY, X, params, h, *, second_identity=True, first_identity=True,
                   attention_gets="dH", ln2=True):
    """The transformer block's backward from the library's pieces (chapter 9), or one slip."""
    from backprop_lib.normalization import layer_norm_backward, layer_norm_forward
    from backprop_lib.transformer import (
        feed_forward,
        feed_forward_backward,
        multi_head_attention_backward,
        multi_head_attention_forward,
    )

    U1, ln1 = layer_norm_forward(X, params["ln1_gamma"], params["ln1_beta"])
    attn_out, att = multi_head_attention_forward(U1, params, h=h)
    H = X + attn_out
    U2, ln2_cache = layer_norm_forward(H, params["ln2_gamma"], params["ln2_beta"])
    _, mlp = feed_forward(U2, params)
    dU2, grads = feed_forward_backward(dY, mlp)
    dH_mlp, grads["ln2_gamma"], grads["ln2_beta"] = layer_norm_backward(dU2, ln2_cache)
    dH = (dY if second_identity else 0.0) + (dH_mlp if ln2 else dU2)
    dU1, att_grads = multi_head_attention_backward(dH if attention_gets == "dH" else dY, att)
    dX_att, grads["ln1_gamma"], grads["ln1_beta"] = layer_norm_backward(dU1, ln1)
    return (dH if first_identity else 0.0) + dX_att, {**grads, **att_grads}


REFERENCE = {
    "mul_gate": mul_backward, "max_gate": max_backward, "sigmoid_gate": sigmoid_gate_backward,
    "wx_norm_sq": wx_norm_sq_backward, "abs_vjp": abs_vjp,
    "linear_rows": linear_backward_rows, "linear_cols": linear_backward_cols,
    "softmax_vjp": softmax_vjp, "hidden_delta": hidden_delta,
    "softmax_cross_entropy": softmax_cross_entropy_backward, "network_backward": network_backward,
    "tanh_function": Tanh, "matmul_function": MatMul,
    "values_gradient": values_backward, "query_gradient": query_backward,
    "keys_gradient": keys_backward, "scaled_scores": scores_backward,
    "softmax_keys": softmax_keys_backward, "projection_weight": projection_weight_backward,
    "batchnorm_backward": batchnorm_backward, "layernorm_backward": layernorm_backward,
    "he_scale": he_std, "head_backward": head_backward,
    "split_heads_backward": split_backward, "output_projection_residual": output_backward,
    "block_backward": block_backward,
}


GRADIENT_EXERCISES = sorted(n for n, e in EXERCISES.items() if isinstance(e, Exercise))


def test_every_exercise_has_a_reference_solution():
    # the scalar engine has its own checker and its reference below (engine_backward)
    assert set(REFERENCE) | {"scalar_engine"} == set(EXERCISES)
    # he_scale (chapter 8) is a formula with a checker of its own; the rest are gradients
    assert set(GRADIENT_EXERCISES) | {"he_scale"} == set(REFERENCE)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_reference_solution_passes(name):
    fb = check(name, REFERENCE[name])
    assert fb.ok and fb.kind == "pass", str(fb)
    assert "Correct" in str(fb) and "held-back" in str(fb)


@pytest.mark.parametrize("name", GRADIENT_EXERCISES)
def test_every_exercise_has_a_held_back_case_and_a_random_upstream(name):
    ex = EXERCISES[name]
    cases = ex.cases(np.random.default_rng(0))
    assert len(cases) >= 3
    shapes = {tuple(np.shape(v) for v in c.point.values()) for c in cases}
    assert len(shapes) >= 2 or all(np.ndim(v) == 0 for c in cases for v in c.point.values())


def _stub(*_args):
    return None


class _StubTanh(Tanh):
    @staticmethod
    def backward(_ctx, _grad_output):
        return None


class _StubMatMul(MatMul):
    @staticmethod
    def backward(_ctx, _grad_output):
        return None


STUBS = {"tanh_function": _StubTanh, "matmul_function": _StubMatMul}


@pytest.mark.parametrize("name", GRADIENT_EXERCISES)
def test_the_stub_is_told_what_to_return(name):
    fb = check(name, STUBS.get(name, _stub))
    assert not fb.ok and fb.kind == "stub"
    assert "not implemented yet" in str(fb)
    assert f"It should return {EXERCISES[name].returns}" in str(fb)


def test_not_implemented_error_counts_as_the_stub():
    def stub(dout, x, y):
        raise NotImplementedError

    assert check("mul_gate", stub).kind == "stub"


def test_feedback_is_deterministic():
    wrong = lambda dY, X, W: (dY @ W.T, X.T @ dY, dY[0] + 0.5)  # noqa: E731
    assert str(check("linear_rows", wrong)) == str(check("linear_rows", wrong))


# ---- typical mistakes: (exercise, wrong function, feedback kind, words the message must contain) --

MISTAKES = [
    # the attention head end to end (chapter 7): each catalogued slip is named
    ("head_backward", lambda dVbar, c: head_backward(dVbar, c, axis=-1), "axis",
     ["dX:", "wrong axis", "axis -2"]),
    ("head_backward", lambda dVbar, c: head_backward(dVbar, c, scaled=False), "scale",
     ["1 / sqrt(d_k) is missing"]),
    ("head_backward", lambda dVbar, c: head_backward(dVbar, c, paths="kv"), "missing_path",
     ["three paths", "through the queries", "W_q^T dQ"]),
    ("head_backward", lambda dVbar, c: head_backward(dVbar, c, paths="qv"), "missing_path",
     ["through the keys", "W_k^T dK"]),
    ("head_backward", lambda dVbar, c: head_backward(dVbar, c, paths="qk"), "missing_path",
     ["through the values", "W_v^T dV"]),
    ("head_backward", lambda dVbar, c: head_backward(dVbar, c, dS_t=True), "transpose",
     ["dS is transposed", "row = key"]),
    ("head_backward", lambda dVbar, c: head_backward(dVbar, c, dW_first=True), "batch_sum",
     ["dWq:", "first sequence", "dW_q = sum_b dQ_b X_b^T"]),
    ("head_backward", lambda dVbar, c: head_backward(dVbar, c, dW_unsummed=True), "batch_sum",
     ["dWq has shape (2, 3, 4)", "sequences of the batch", "sum over axis 0"]),
    # wrong shape: transposed dW on a non-square W, with the brief's wording
    ("linear_rows", lambda dY, X, W: (dY @ W.T, dY.T @ X, dY.sum(0)), "transpose",
     ["dW has shape (2, 3) but W has shape (3, 2)", "shape of its variable", "did you transpose"]),
    ("keys_gradient", lambda ds, q, _K: np.outer(ds, q), "transpose", ["did you transpose"]),
    # transposed result where the shapes agree (square case, held back)
    ("matmul_function", None, "transpose", ["grad_W has shape (4, 3) but W has shape (3, 4)"]),
    ("keys_gradient",  # transposed only where it still fits: the held-back square case
     lambda ds, q, K: np.outer(q, ds).T if K.shape[0] == K.shape[1] else np.outer(q, ds),
     "transpose", ["transpose of the true gradient", "square", "The first case passed"]),
    # sign error
    ("linear_rows", lambda dY, X, W: (-dY @ W.T, X.T @ dY, dY.sum(0)), "sign", ["opposite sign"]),
    ("mul_gate", lambda d, x, y: (-d * y, -d * x), "sign", ["opposite sign"]),
    # missing sum over the batch (extra axis), and a mean instead of a sum
    ("linear_rows", lambda dY, X, W: (dY @ W.T, X.T @ dY, dY), "batch_sum",
     ["db has shape (4, 2) but b has shape (2,)", "sum over axis 0", "your numbers are right"]),
    ("projection_weight", lambda dQ, X: dQ @ sw(X, -1, -2), "batch_sum",
     ["extra axis 0", "sequences of the batch", "sum over axis 0"]),
    ("query_gradient", lambda ds, K: K * ds, "batch_sum", ["the keys", "sum over axis 1"]),
    ("linear_rows", lambda dY, X, W: (dY @ W.T, X.T @ dY, dY.mean(0)), "factor",
     ["divided by the batch size 4", "sum, not a mean"]),
    ("linear_rows", lambda dY, X, W: (dY @ W.T, X.T @ dY, dY[0]), "batch_sum",
     ["first example", "sums the rows"]),
    ("linear_cols", lambda dZ, W, X: (dZ @ X.T, W.T @ dZ, dZ.sum(0)), "batch_sum",
     ["axis 1", "columns"]),
    # uniform-upstream shortcut: right only when dout is all ones
    ("mul_gate", lambda _d, x, y: (y, x), "uniform", ["right when dout is all ones", "depend on dout"]),
    ("softmax_vjp", lambda _d, a: np.zeros_like(a), "uniform", ["all ones"]),
    ("abs_vjp", lambda _d, x: np.sign(x), "uniform", ["all ones"]),
    ("tanh_function", None, "uniform", ["grad_output is all ones"]),
    # wrong shape in general, and the right numbers in the wrong shape
    ("hidden_delta", lambda d, W, a: (a * (1 - a) * (W.T @ d))[:, None], "reshape",
     ["has shape (4, 1) but z1 has shape (4,)", "numbers are right"]),
    ("values_gradient", lambda dvbar, alpha: np.outer(dvbar, alpha)[:, :1], "shape",
     ["dV has shape (3, 1) but V has shape (3, 4)"]),
    # a constant factor
    ("wx_norm_sq", lambda d, W, x: (d * np.outer(W @ x, x), 2 * d * W.T @ W @ x), "factor",
     ["0.5 times the true gradient"]),
    ("scaled_scores", lambda dS, Q, K: (K @ dS, Q @ sw(dS, -1, -2)), "scale", ["1 / sqrt(d_k)"]),
    # 3-D transpose with .T
    ("scaled_scores", lambda dS, Q, K: (K @ dS / np.sqrt(3), Q @ dS.T / np.sqrt(3)), "exception",
     ["raised ValueError", "np.swapaxes(M, -1, -2)"]),
    # typical mistakes of single exercises
    ("max_gate", lambda d, _x, _y: (d, d), "distributor", ["add gate", "routes"]),
    ("max_gate", lambda d, x, y: (0.0, d) if x > y else (d, 0.0), "swapped", ["smaller input"]),
    ("mul_gate", lambda d, x, y: (d * x, d * y), "not_swapped", ["OTHER input"]),
    ("sigmoid_gate", lambda d, a: d * a, "local", ["a (1 - a)"]),
    ("softmax_vjp", lambda d, a: d * a * (1 - a), "diagonal", ["diagonal", "shared denominator"]),
    ("softmax_vjp", lambda d, a: d - np.dot(a, d), "factor_a", ["forgot the factor a"]),
    ("hidden_delta", lambda d, W, _a: W.T @ d, "local", ["a1 (1 - a1)"]),
    ("softmax_cross_entropy", lambda z, y: _softmax_cols(z) - y, "mean",
     ["forgot the mean over the batch", "(a - y) / N"]),
    ("softmax_cross_entropy", lambda z, _y: _softmax_cols(z) / z.shape[1], "target",
     ["used a instead of a - y"]),
    ("softmax_cross_entropy", lambda z, _y: _softmax_cols(z), "target",
     ["used a instead of a - y", "mean over the batch"]),
    ("softmax_cross_entropy",
     lambda z, y: _vjp_cols((_softmax_cols(z) - y) / z.shape[1], _softmax_cols(z)),
     "jacobian_twice", ["applied the softmax Jacobian to a - y", "already dL/dz"]),
    ("softmax_cross_entropy", lambda z, y: _vjp_cols(_softmax_cols(z) - y, _softmax_cols(z)),
     "jacobian_twice", ["applied the softmax Jacobian to a - y", "mean over the batch"]),
    ("softmax_cross_entropy", lambda z, y: (y - _softmax_cols(z)) / z.shape[1], "sign",
     ["opposite sign"]),
    # chapter 4, build it: the whole batched backward of the network
    ("network_backward", lambda x, y, p: network_backward(x, y, p, mean=False), "mean",
     ["forgot the mean over the batch", "N = x.shape[1]"]),
    ("network_backward", lambda x, y, p: network_backward(x, y, p, jacobian=False), "jacobian",
     ["softmax Jacobian is missing", "dL/da2, not dL/dz2"]),
    ("network_backward", lambda x, y, p: network_backward(x, y, p, dsigma="z"), "sigmoid_z",
     ["z1 (1 - z1)", "instead of the activation"]),
    ("network_backward", lambda x, y, p: network_backward(x, y, p, dsigma="none"), "local",
     ["a1 (1 - a1)"]),
    ("network_backward", lambda x, y, p: network_backward(x, y, p, transpose=True), "transpose",
     ["the transpose", "shape (H, D_in) of W1"]),
    ("network_backward",  # only dW1 transposed: named all the same
     lambda x, y, p: (network_backward(x, y, p)[0].T, *network_backward(x, y, p)[1:]), "transpose",
     ["the transpose"]),
    ("network_backward", lambda x, y, p: network_backward(x, y, p, bias_axis=0), "bias_axis",
     ["summed delta over axis 0", "axis 1"]),
    ("network_backward", lambda x, y, p: network_backward(x, y, p, bias_axis=None), "batch_sum",
     ["extra axis 1", "sum over axis 1", "your numbers are right"]),
    ("network_backward", lambda x, y, p: network_backward(x, y, p)[:3], "count",
     ["(dW1, db1, dW2, db2) of 4 gradients"]),
    ("matmul_function", None, "order", ["swapped", "order"]),
    ("softmax_keys", lambda dA, A: A * (dA - np.sum(A * dA, axis=-1, keepdims=True)), "axis",
     ["axis -2"]),
    ("abs_vjp", lambda d, x: np.where(x > 0, d, 0.0), "relu", ["ReLU"]),
    # chapter 8: the normalisations' typical mistakes, and the He scale's
    ("batchnorm_backward", lambda d, x, g: _bn_parts(d, x, g, mean_path=False, var_path=False), "constants",
     ["mean and the variance as constants", "every x of the batch"]),
    ("batchnorm_backward", lambda d, x, g: _bn_parts(d, x, g, var_path=False), "variance_path",
     ["variance is missing"]),
    ("batchnorm_backward", lambda d, x, g: _bn_parts(d, x, g, mean_path=False), "mean_path",
     ["mean is missing"]),
    ("batchnorm_backward", lambda d, x, g: _bn_parts(d, x, g, ddof=1), "unbiased",
     ["unbiased variance", "biased one"]),
    ("batchnorm_backward", lambda d, x, g: _bn_parts(d, x, g, axis=-1), "axis", ["wrong axis", "axis 0"]),
    ("layernorm_backward", lambda d, x, g: _bn_parts(d, x, g, axis=-1, mean_path=False, var_path=False),
     "constants", ["features of each example"]),
    ("layernorm_backward", lambda d, x, g: _bn_parts(d, x, g, axis=0), "axis", ["wrong axis", "axis -1"]),
    ("layernorm_backward", lambda d, x, g: _bn_parts(d, x, g, axis=-1, ddof=1), "unbiased",
     ["unbiased variance"]),
    ("layernorm_backward",
     lambda d, x, g: (layernorm_backward(d, x, g)[0], (d * x).sum(axis=0), d.sum(axis=0)), "entry",
     ["dgamma"]),
    ("he_scale", lambda fan_in, _fan_out: np.sqrt(2.0 / fan_in), "fan_in", ["forward condition", "fan_out"]),
    ("he_scale", lambda _fan_in, fan_out: np.sqrt(1.0 / fan_out), "relu_half", ["E[relu'^2] = 1/2"]),
    ("he_scale", lambda _fan_in, fan_out: 2.0 / fan_out, "variance", ["standard deviation"]),
    ("he_scale", lambda fan_in, fan_out: np.sqrt(2.0 / (fan_in + fan_out)), "xavier", ["Xavier"]),
    ("he_scale", lambda _fan_in, _fan_out: 0.1, "entry", ["your function gives 0.1"]),
    # chapter 9: the block's split, output projection with the residual, and the whole block
    ("split_heads_backward", lambda d: split_backward(d, order=None), "no_transpose",
     ["without moving the head axis back", "transpose(0, 2, 1, 3), then reshape"]),
    ("split_heads_backward", lambda d: split_backward(d, order=(0, 2, 3, 1)), "wrong_axes",
     ["interleaved", "consecutive"]),
    ("split_heads_backward", lambda d: split_backward(d, order=(0, 3, 1, 2)), "wrong_axes",
     ["feature axis d_k forward", "head axis (1) and the token axis (2)"]),
    ("split_heads_backward", lambda d: d.transpose(0, 2, 1, 3), "reshape",
     ["dQ has shape (2, 5, 2, 3) but Q has shape (2, 5, 6)", "numbers are right"]),
    ("output_projection_residual", lambda dH, Vbar, W: output_backward(dH, Vbar, W, identity=False),
     "residual", ["dX:", "identity path is missing", "dX = dR"]),
    ("output_projection_residual", lambda dH, Vbar, W: output_backward(dH, Vbar, W, dVbar_t=True),
     "transpose", ["dVbar:", "dVbar = dR W_O, not dR W_O^T"]),
    ("output_projection_residual", lambda dH, Vbar, W: output_backward(dH, Vbar, W, dW_t=True),
     "transpose", ["dW_O:", "transpose of dW_O"]),
    ("output_projection_residual", lambda dH, Vbar, W: output_backward(dH, Vbar, W, bias_axes=0),
     "batch_sum", ["db_O:", "batch only", "both B and T"]),
    ("output_projection_residual", lambda dH, Vbar, W: output_backward(dH, Vbar, W, bias_axes=1),
     "batch_sum", ["db_O:", "positions only"]),
    ("block_backward", lambda dY, X, p, h: block_backward(dY, X, p, h, second_identity=False),
     "residual", ["second residual addition", "dR = dY + "]),
    ("block_backward", lambda dY, X, p, h: block_backward(dY, X, p, h, first_identity=False),
     "residual", ["first residual addition", "dX = dR + "]),
    ("block_backward", lambda dY, X, p, h: block_backward(dY, X, p, h, attention_gets="dY"),
     "order", ["attention branch was given dY"]),
    ("block_backward", lambda dY, X, p, h: block_backward(dY, X, p, h, ln2=False),
     "layernorm", ["LN_2's backward is missing"]),
    ("block_backward", lambda dY, X, p, h: (block_backward(dY, X, p, h)[0], {}), "exception",
     ["raised LookupError", "16 parameters", "no entry for ['ln1_gamma'"]),
    # an exception is reported briefly, with the case
    ("linear_rows", lambda dY, X, W: (dY @ W, X.T @ dY, dY.sum(0)), "exception",
     ["raised ValueError", "case 1 of 4", "inner sizes"]),
    # wrong number of results
    ("linear_rows", lambda dY, _X, W: dY @ W.T, "count", ["tuple (dX, dW, db) of 3 gradients"]),
    # nothing else fits: the first wrong entry, with expected and given values
    ("hidden_delta", lambda d, W, a: a * (1 - a) * (W.T @ d) + np.arange(a.size).reshape(a.shape),
     "entry", ["entries of delta1 are wrong", "delta1[1]", "expected", "your function gives"]),
]


class _MatMulTransposed(MatMul):
    @staticmethod
    def backward(ctx, grad_output):
        X, W = ctx.saved_tensors
        return grad_output @ W.T, (X.T @ grad_output).T


class _MatMulSwapped(MatMul):
    @staticmethod
    def backward(ctx, grad_output):
        X, W = ctx.saved_tensors
        return X.T @ grad_output, grad_output @ W.T


class _TanhOnes(Tanh):
    @staticmethod
    def backward(ctx, _grad_output):  # ignores the upstream gradient: the mistake under test
        (t,) = ctx.saved_tensors
        return 1.0 - t**2


CLASSES = {("matmul_function", "transpose"): _MatMulTransposed,
           ("matmul_function", "order"): _MatMulSwapped,
           ("tanh_function", "uniform"): _TanhOnes}


@pytest.mark.parametrize("name, wrong, kind, words", MISTAKES,
                         ids=[f"{m[0]}-{m[2]}-{i}" for i, m in enumerate(MISTAKES)])
def test_typical_mistake_gets_the_intended_feedback(name, wrong, kind, words):
    fn = wrong if wrong is not None else CLASSES[name, kind]
    fb = check(name, fn)
    text = str(fb)
    assert not fb.ok and fb.kind == kind, f"expected {kind}, got {fb.kind}:\n{text}"
    for w in words:
        assert w in text, f"{w!r} missing from:\n{text}"
    assert text.strip().lower() != "wrong"


def test_a_mistake_that_shows_only_on_a_held_back_case_says_so():
    # right for a single example (N = 1 is case 2), wrong on the square case 3
    def wrong(dY, X, W):
        return dY @ W.T, X.T @ dY, dY.sum(axis=0) if W.shape[0] != W.shape[1] else -dY.sum(0)

    fb = check("linear_rows", wrong)
    assert fb.kind == "sign" and "The first 2 cases passed" in str(fb)
    assert "a held-back case" in str(fb)


def test_unknown_exercise_and_non_callable_are_clear_errors():
    with pytest.raises(ValueError, match="no exercise named"):
        check("nope", mul_backward)
    with pytest.raises(TypeError, match="pass your function itself"):
        check("mul_gate", mul_backward(1.0, 2.0, 3.0))


# ---- the chapters: every exercise cell shows the stub's feedback; the published solution passes --

def _cells(path):
    return json.loads(path.read_text())["cells"]


def _exercise_cells():
    for path in CHAPTERS:
        cells = _cells(path)
        for i, c in enumerate(cells):
            src = "".join(c["source"])
            m = re.search(r'^check\("(\w+)", (\w+)\)', src, re.M)
            if c["cell_type"] == "code" and m:
                sol = "".join(cells[i + 1]["source"])
                yield pytest.param(path, src, m.group(1), sol, id=f"{path.stem[:2]}-{m.group(1)}")


EXERCISE_CELLS = list(_exercise_cells())


def test_every_chapter_has_two_to_four_exercises_after_its_summary():
    for path in CHAPTERS:
        cells = _cells(path)
        summary = max(i for i, c in enumerate(cells) if "## Summary" in "".join(c["source"]))
        checks = [i for i, c in enumerate(cells) if c["cell_type"] == "code"
                  and re.search(r'^check\("', "".join(c["source"]), re.M)]
        assert 2 <= len(checks) <= 4, f"{path.name}: {len(checks)} exercises"
        assert min(checks) > summary, f"{path.name}: exercises must come after the Summary"
    assert {p.values[2] for p in EXERCISE_CELLS} == set(EXERCISES)


@pytest.mark.parametrize("path, src, name, solution", EXERCISE_CELLS)
def test_stub_cell_stores_the_stub_feedback_and_the_solution_is_a_closed_dropdown(
        path, src, name, solution):
    cell = next(c for c in _cells(path) if "".join(c["source"]) == src)
    shown = "".join("".join(o.get("data", {}).get("text/plain", "")) for o in cell["outputs"])
    assert "not implemented yet" in shown, f"{path.name}: the stub cell of {name!r} shows {shown!r}"

    assert solution.startswith(":::{dropdown} Solution\n```python\n")
    assert ":open:" not in solution


@pytest.mark.parametrize("path, src, name, solution", EXERCISE_CELLS)
def test_the_published_solution_passes(path, src, name, solution):
    code = solution.split("```python\n", 1)[1].split("\n```", 1)[0]
    stub = src.split(f'\ncheck("{name}"')[0]
    if code.startswith("    @staticmethod"):  # a method: put it in place of the stub's backward
        start = stub.index("    @staticmethod\n    def backward")
        stub = stub[:start] + code + "\n"
        code = ""
    env = {"np": np, "Function": Function}
    exec(compile(stub + "\n" + code, f"{path.name}:{name}", "exec"), env)  # noqa: S102
    fn_name = re.search(rf'check\("{name}", (\w+)\)', src).group(1)
    fb = check(name, env[fn_name])
    assert fb.ok, str(fb)


def test_right_at_all_ones_is_not_called_independent_of_dout_when_it_depends_on_it():
    """softmax's J^T 1 = 0: a wrong VJP that is 0 at all ones but uses dout must not be told
    "the result must depend on dout" (issue 14); without the catalogued mistake it gets the
    generic diagnosis."""
    from backprop_lib.exercises import _checker
    ex = EXERCISES["softmax_vjp"]
    bare = dataclasses.replace(ex, mistakes=())
    fb = _checker.run(bare, lambda d, a: d - np.dot(a, d))
    assert not fb.ok and fb.kind != "uniform" and "depend on" not in str(fb), str(fb)


# ---- the scalar engine of chapter 1: the reader writes the order and backward ----------------

def _postorder(root, dedupe=True):
    order, seen = [], set()

    def visit(n):
        if dedupe and id(n) in seen:
            return
        seen.add(id(n))
        for p in n.parents:
            visit(p)
        order.append(n)

    visit(root)
    return order


def engine_backward(root):  # the reference: an explicit stack, each node once
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents)
    root.grad = 1.0
    for node in reversed(order):
        for p, local in zip(node.parents, node.local, strict=True):
            p.grad += local * node.grad


def engine_overwrites(root):
    root.grad = 1.0
    for node in reversed(_postorder(root)):
        for p, local in zip(node.parents, node.local, strict=True):
            p.grad = local * node.grad


def engine_breadth_first(root):
    root.grad, queue, seen = 1.0, [root], {id(root)}
    while queue:
        node = queue.pop(0)
        for p, local in zip(node.parents, node.local, strict=True):
            p.grad += local * node.grad
            if id(p) not in seen:
                seen.add(id(p))
                queue.append(p)


def engine_without_visited_set(root):
    root.grad = 1.0
    for node in reversed(_postorder(root, dedupe=False)):
        for p, local in zip(node.parents, node.local, strict=True):
            p.grad += local * node.grad


def engine_pushes_every_path(root):
    def push(node, g):
        node.grad += g
        for p, local in zip(node.parents, node.local, strict=True):
            push(p, g * local)

    push(root, 1.0)


def engine_forgets_the_seed(root):
    for node in reversed(_postorder(root)):
        for p, local in zip(node.parents, node.local, strict=True):
            p.grad += local * node.grad


ENGINE_MISTAKES = [
    (engine_overwrites, "overwrite", ["accumulate", "+=", "reused node"]),
    (engine_breadth_first, "order", ["before all of its consumers", "diamond"]),
    (engine_without_visited_set, "duplicate", ["twice", "once"]),
    (engine_pushes_every_path, "exponential", ["once per path", "2^40", "exponential"]),
    (engine_forgets_the_seed, "stub", ["not implemented yet"]),
    (lambda root: root.nope, "exception", ["AttributeError", "case 1 of 4"]),
]


def test_the_reference_engine_passes():
    fb = check("scalar_engine", engine_backward)
    assert fb.ok, str(fb)


@pytest.mark.parametrize("wrong, kind, words", ENGINE_MISTAKES,
                         ids=[m[1] for m in ENGINE_MISTAKES])
def test_typical_engine_mistake_gets_the_intended_feedback(wrong, kind, words):
    fb = check("scalar_engine", wrong)
    assert not fb.ok and fb.kind == kind, f"expected {kind}, got {fb.kind}:\n{fb}"
    for w in words:
        assert w in str(fb), f"{w!r} missing from:\n{fb}"


def test_a_wrong_engine_that_fits_no_mistake_names_the_leaf():
    def off_by_half(root):
        engine_backward(root)
        for n in _postorder(root):
            if not n.parents and n.label == "z":
                n.grad *= 0.5

    fb = check("scalar_engine", off_by_half)
    assert fb.kind == "entry" and "gradient of z" in str(fb) and "expected 3" in str(fb), str(fb)
