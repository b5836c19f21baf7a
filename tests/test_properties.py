"""Property tests (hypothesis, derandomized: the same examples on every run and in CI).

1. Every backward of the library equals central differences, over random shapes (small:
   1-4 per axis, batch 1 and more) and random values, with a random non-uniform upstream
   gradient dout (the scalar checked is sum(dout * output)); 200 examples per function.
2. softmax: every output entry is >= 0, finite, and each slice sums to 1 (to 1e-12), for any
   finite input in [-1e4, 1e4]. Strictly positive is asserted when the spread of the slice
   is below 700: beyond that exp(z - max z) underflows to exactly 0.0 in float64.
3. sigmoid: mathematically in (0, 1). In float64 we assert 0 < sigmoid(z) < 1 for |z| <= 36
   (sigmoid(37) rounds to 1.0), 0 <= sigmoid(z) <= 1 for |z| <= 1e4, sigmoid(z) > 0 for
   z > -745 (exp underflows below), monotone, and sigmoid(-z) = 1 - sigmoid(z) to 1e-15.
4. Linearity, beside the finite differences of 1: backward(dout1 + dout2) = backward(dout1) +
   backward(dout2), checked in the same test as the central differences (a linear but wrong
   backward passes linearity; the finite differences catch it; linearity adds that calling a
   backward again with the same cache gives consistent results). autograd's gradient of a sum
   of two losses is the sum of their gradients and equals central differences of that sum.
5. Numerics: softmax and sigmoid at +-1e4 raise no numpy warning; training loops with a far
   too large learning rate report divergence (flag), with finite losses and no warning
   (attention.values_program, query_program and keys_program stop with diverged=True).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from backprop_lib import activations as act
from backprop_lib import attention as at
from backprop_lib import attention_head as ah
from backprop_lib import functions as fn
from backprop_lib import linear as lin
from backprop_lib import losses, ops
from backprop_lib import network as nw
from backprop_lib import vectorized as vec
from backprop_lib.engine import Node
from backprop_lib.gradcheck import numerical_gradient
from backprop_lib.tensor import Tensor

EXAMPLES = 200
PROP = settings(derandomize=True, max_examples=EXAMPLES, deadline=None, database=None)
dim = st.integers(1, 4)
seed = st.integers(0, 2**32 - 1)


def numeric_grad(f, x, eps=1e-6):
    """Central differences (gradcheck.numerical_gradient, the one helper) of f(), which reads x."""
    start = x.copy()

    def f_at(v):
        x[...] = v  # f reads x in place
        return f()

    try:
        return numerical_gradient(f_at, start, eps)
    finally:
        x[...] = start


def assert_close(analytic, numeric, name):
    analytic = np.asarray(analytic, dtype=np.float64)
    assert analytic.shape == numeric.shape, f"d{name}: shape {analytic.shape} != {numeric.shape}"
    scale = max(1.0, float(np.max(np.abs(numeric), initial=0.0)))
    err = float(np.max(np.abs(analytic - numeric), initial=0.0)) / scale
    assert err < 1e-6, f"d{name}: max error {err:.2e} (relative to {scale:.3g})"


def assert_linear(vjp, shape, r):
    """vjp(d1 + d2) = vjp(d1) + vjp(d2) for random upstream gradients of ``shape``. Only beside a
    central-difference check of the same vjp: any linear map passes this."""
    d1, d2 = r.normal(size=shape), r.normal(size=shape)
    both, one, two = (g if isinstance(g, tuple) else (g,) for g in (vjp(d1 + d2), vjp(d1), vjp(d2)))
    for g, g1, g2 in zip(both, one, two, strict=True):
        np.testing.assert_allclose(g, g1 + g2, rtol=1e-10, atol=1e-12)


def check(forward, inputs: dict, grads: dict, dout):
    """forward(**inputs) -> output array; grads[name] = analytic dL/dname for L = sum(dout * out)."""
    def L():
        return float(np.sum(dout * forward(**inputs)))

    for name, g in grads.items():
        assert_close(g, numeric_grad(L, inputs[name]), name)


# ---------------------------------------------------------------- 1. backward vs central differences

@PROP
@given(dim, dim, seed)
def test_sigmoid_backward(m, n, s):
    r = np.random.default_rng(s)
    z, dout = r.normal(scale=3, size=(m, n)), r.normal(size=(m, n))
    check(lambda z: act.sigmoid(z), {"z": z}, {"z": act.sigmoid_backward(dout, act.sigmoid(z))}, dout)
    assert_linear(lambda g: act.sigmoid_backward(g, act.sigmoid(z)), (m, n), r)


@PROP
@given(dim, dim, st.integers(0, 1), seed)
def test_softmax_vjp_and_jacobian(m, n, axis, s):
    r = np.random.default_rng(s)
    z, dout = r.normal(scale=2, size=(m + 1, n)), r.normal(size=(m + 1, n))
    a = act.softmax(z, axis=axis)
    check(lambda z: act.softmax(z, axis=axis), {"z": z}, {"z": act.softmax_vjp(dout, a, axis=axis)}, dout)
    assert_linear(lambda g: act.softmax_vjp(g, a, axis=axis), (m + 1, n), r)
    J = act.softmax_jacobian(a[:, 0])
    assert_close(J.T @ dout[:, 0], act.softmax_vjp(dout[:, 0], a[:, 0]), "z (Jacobian vs VJP)")


@PROP
@given(dim, dim, seed)
def test_squared_error_backward(m, n, s):
    r = np.random.default_rng(s)
    pred, target, dout = r.normal(size=(m, n)), r.normal(size=(m, n)), float(r.normal())
    check(lambda pred, target: losses.squared_error(pred, target), {"pred": pred, "target": target},
          {"pred": losses.squared_error_backward(pred, target, dout)}, dout)


@PROP
@given(dim, dim, dim, seed)
def test_linear_backward_rows(N, D, K, s):
    r = np.random.default_rng(s)
    X, W, b, dout = r.normal(size=(N, D)), r.normal(size=(D, K)), r.normal(size=K), r.normal(size=(N, K))
    dX, dW, db = lin.linear_backward(dout, lin.linear_forward(X, W, b)[1])
    check(lambda X, W, b: lin.linear_forward(X, W, b)[0], {"X": X, "W": W, "b": b},
          {"X": dX, "W": dW, "b": db}, dout)
    assert_linear(lambda g: lin.linear_backward(g, lin.linear_forward(X, W, b)[1]), (N, K), r)


@PROP
@given(dim, dim, dim, seed)
def test_linear_backward_columns(N, D, K, s):
    r = np.random.default_rng(s)
    X, W, b, dout = r.normal(size=(D, N)), r.normal(size=(K, D)), r.normal(size=K), r.normal(size=(K, N))
    dX, dW, db = lin.linear_backward_col(dout, lin.linear_forward_col(W, X, b)[1])
    check(lambda W, X, b: lin.linear_forward_col(W, X, b)[0], {"W": W, "X": X, "b": b},
          {"X": dX, "W": dW, "b": db}, dout)
    assert_linear(lambda g: lin.linear_backward_col(g, lin.linear_forward_col(W, X, b)[1]), (K, N), r)


@PROP
@given(dim, dim, dim, st.integers(0, 3), seed)
def test_network_backward(D, H, K, N, s):
    r = np.random.default_rng(s)
    K += 1  # softmax over at least two classes
    p = {"W1": r.normal(size=(H, D)), "b1": r.normal(size=H), "W2": r.normal(size=(K, H)),
         "b2": r.normal(size=K)}
    x = r.normal(size=(D,) if N == 0 else (D, N))
    y = r.normal(size=(K,) if N == 0 else (K, N))
    g = nw.backward(nw.forward(x, p), y)
    inputs = {**p, "x": x}

    def f(x, **params):
        return nw.loss(nw.forward(x, params), y)

    check(f, inputs, {"W1": g["dW1"], "b1": g["db1"], "W2": g["dW2"], "b2": g["db2"], "x": g["dL_da0"]}, 1.0)


@PROP
@given(dim, dim, seed)
def test_wx_norm_sq_backward(m, n, s):
    r = np.random.default_rng(s)
    W, x, dout = r.normal(size=(m, n)), r.normal(size=n), float(r.normal())
    dW, dx = vec.wx_norm_sq_backward(dout, vec.wx_norm_sq(W, x)[1])
    check(lambda W, x: vec.wx_norm_sq(W, x)[0], {"W": W, "x": x}, {"W": dW, "x": dx}, dout)
    q = W @ x
    check(lambda q: float(q @ q), {"q": q}, {"q": vec.norm_sq_backward(dout, q)}, dout)


@PROP
@given(st.integers(1, 12), seed)
def test_relu_vjp(n, s):
    r = np.random.default_rng(s)
    x = r.normal(size=n)
    x[np.abs(x) < 1e-3] = 0.5  # central differences are wrong within eps of the kink
    dout = r.normal(size=n)
    check(lambda x: np.maximum(x, 0), {"x": x}, {"x": vec.relu_vjp(dout, x)}, dout)
    assert_linear(lambda g: vec.relu_vjp(g, x), (n,), r)
    assert_close(vec.relu_jacobian(x).T @ dout, vec.relu_vjp(dout, x), "x (Jacobian vs VJP)")


@PROP
@given(dim, dim, seed)
def test_attention_weighted_values_backward(d, n, s):
    r = np.random.default_rng(s)
    v, alpha, dvbar = r.normal(size=(d, n)), r.normal(size=n), r.normal(size=d)
    dv, dalpha = at.weighted_values_backward(dvbar, v, alpha)
    check(at.weighted_values, {"V": v, "A": alpha}, {"V": dv, "A": dalpha}, dvbar)
    assert_linear(lambda g: at.weighted_values_backward(g, v, alpha), (d,), r)


@PROP
@given(dim, dim, dim, seed)
def test_attention_value_layer_backward(d, m, n, s):
    r = np.random.default_rng(s)
    V, b, x, dv = r.normal(size=(d, m)), r.normal(size=d), r.normal(size=(m, n)), r.normal(size=(d, n))
    dV, db, dx = at.value_layer_backward(dv, V, x)
    check(at.value_layer, {"W": V, "b": b, "X": x}, {"W": dV, "b": db, "X": dx}, dv)


@PROP
@given(dim, dim, st.integers(0, 4), seed)
def test_attention_projection_backward(d, m, n, s):
    r = np.random.default_rng(s)
    W, x = r.normal(size=(d, m)), r.normal(size=(m,) if n == 0 else (m, n))
    dp = r.normal(size=(d,) if n == 0 else (d, n))
    dW, dx = at.projection_backward(dp, W, x)
    check(at.projection, {"W": W, "X": x}, {"W": dW, "X": dx}, dp)


@PROP
@given(dim, dim, seed)
def test_attention_scores_backward(d, n, s):
    r = np.random.default_rng(s)
    q, k, ds = r.normal(size=d), r.normal(size=(d, n)), r.normal(size=n)
    dq, dk = at.scores_backward(ds, q, k)
    check(at.scores, {"Q": q, "K": k}, {"Q": dq, "K": dk}, ds)
    assert_linear(lambda g: at.scores_backward(g, q, k), (n,), r)


@PROP
@given(st.integers(1, 6), seed)
def test_softmax_circuit_branches_sum_to_the_jacobian(n, s):
    e = np.random.default_rng(s).normal(size=n)
    top, mid = at.softmax_branches(e)
    J = np.empty((n, n))
    for m in range(n):
        J[m] = numeric_grad(lambda m=m: at.softmax_circuit(e)[2][m], e)
    assert_close(top + mid, J, "e")


@PROP
@given(st.integers(0, 2), dim, dim, st.integers(2, 5), st.booleans(), seed)
def test_attention_head_backward(B, d_in, d, T, causal, s):
    r = np.random.default_rng(s)
    X = r.normal(size=(d_in, T) if B == 0 else (B, d_in, T))
    Wq, Wk, Wv = r.normal(size=(d, d_in)), r.normal(size=(d, d_in)), r.normal(size=(d + 1, d_in))
    mask = ah.causal_mask(T) if causal else None
    Vbar, cache = ah.attention_head_forward(X, Wq, Wk, Wv, mask)
    dout = r.normal(size=Vbar.shape)
    dX, dWq, dWk, dWv = ah.attention_head_backward(dout, cache)
    check(lambda X, Wq, Wk, Wv: ah.attention_head_forward(X, Wq, Wk, Wv, mask)[0],
          {"X": X, "Wq": Wq, "Wk": Wk, "Wv": Wv}, {"X": dX, "Wq": dWq, "Wk": dWk, "Wv": dWv}, dout)
    assert_linear(lambda g: ah.attention_head_backward(g, cache), Vbar.shape, r)


@PROP
@given(st.integers(0, 2), dim, st.integers(2, 4), seed)
def test_attention_head_pieces(B, d, T, s):
    r = np.random.default_rng(s)
    lead = () if B == 0 else (B,)
    V, A = r.normal(size=lead + (d, T)), act.softmax(r.normal(size=lead + (T, T)), axis=-2)
    dVbar = r.normal(size=lead + (d, T))
    dV, dA = at.weighted_values_backward(dVbar, V, A)
    check(lambda V, A: V @ A, {"V": V, "A": A}, {"V": dV, "A": dA}, dVbar)
    Q, K, dS = r.normal(size=lead + (d, T)), r.normal(size=lead + (d, T)), r.normal(size=lead + (T, T))
    dQ, dK = at.scores_backward(dS, Q, K, 0.5)
    check(lambda Q, K: 0.5 * np.swapaxes(K, -1, -2) @ Q, {"Q": Q, "K": K}, {"Q": dQ, "K": dK}, dS)
    X, W = r.normal(size=lead + (d + 1, T)), r.normal(size=(d, d + 1))
    dout = r.normal(size=lead + (d, T))
    dW, dX = at.projection_backward(dout, W, X)
    check(lambda X, W: W @ X, {"X": X, "W": W}, {"X": dX, "W": dW}, dout)


def _autograd_grads(op, arrays, extra, dout):
    ts = [Tensor(a, requires_grad=True, name=f"in{i}") for i, a in enumerate(arrays)]
    out = op.apply(*ts, *extra)
    (out * Tensor(dout)).sum().backward()
    return [t.grad for t in ts]


AUTOGRAD_OPS = {
    "Linear": (fn.Linear, lambda r, n, m: [r.normal(size=(n, m)), r.normal(size=(m + 1, m)),
                                          r.normal(size=m + 1)], ()),
    "Sigmoid": (fn.Sigmoid, lambda r, n, m: [r.normal(scale=3, size=(n, m))], ()),
    "Softmax": (fn.Softmax, lambda r, n, m: [r.normal(size=(n, m + 1))], (1,)),
    "SquaredError": (fn.SquaredError, lambda r, n, m: [r.normal(size=(n, m)), r.normal(size=(n, m))], ()),
    "Add": (ops.Add, lambda r, n, m: [r.normal(size=(n, m)), r.normal(size=(m,))], ()),
    "Sub": (ops.Sub, lambda r, n, m: [r.normal(size=(n, m)), r.normal(size=(1, m))], ()),
    "Mul": (ops.Mul, lambda r, n, m: [r.normal(size=(n, m)), r.normal(size=(n, 1))], ()),
    "Pow": (ops.Pow, lambda r, n, m: [r.uniform(0.5, 2.0, size=(n, m))], (2.5,)),
    "Sum": (ops.Sum, lambda r, n, m: [r.normal(size=(n, m))], ()),
    "Select": (ops.Select, lambda r, n, m: [r.normal(size=(n, m))], ((0, slice(None)),)),
    # Chapter 9's ops whose shapes matter (broadcasting, axes, masks); extra may depend on the
    # drawn sizes. Exp, Tanh, Reshape, Permute: fixed shapes in test_autograd / test_against_torch
    "Div": (ops.Div, lambda r, n, m: [r.normal(size=(n, m)), r.uniform(0.5, 2.0, size=m)], ()),
    "MatMul": (ops.MatMul, lambda r, n, m: [r.normal(size=(2, n, m)), r.normal(size=(m, n))], ()),
    "Sum axis": (ops.Sum, lambda r, n, m: [r.normal(size=(n, m, 2))], (1, False)),
    "Max axis": (ops.Max, lambda r, n, m: [r.normal(size=(n, m))], (-1, True)),
    "MaskedFill": (ops.MaskedFill, lambda r, n, m: [r.normal(size=(2, n, m))],
                   lambda r, n, m: (r.random((n, m)) < 0.5, 0.25)),
}


@pytest.mark.parametrize("name", sorted(AUTOGRAD_OPS))
def test_autograd_function_backward(name):
    op, make, extra = AUTOGRAD_OPS[name]

    @PROP
    @given(dim, dim, seed)
    def run(n, m, s):
        r = np.random.default_rng(s)
        arrays = make(r, n, m)
        args = extra(r, n, m) if callable(extra) else extra
        out = op.forward(_Ctx(), *arrays, *args)
        dout = r.normal(size=np.shape(out))
        grads = _autograd_grads(op, arrays, args, dout)

        def fwd(**kw):
            return op.forward(_Ctx(), *[kw[f"in{i}"] for i in range(len(arrays))], *args)

        check(fwd, {f"in{i}": a for i, a in enumerate(arrays)},
              {f"in{i}": g for i, g in enumerate(grads)}, dout)

    run()


class _Ctx:
    needs_input_grad = (True, True, True)

    def save_for_backward(self, *a):
        pass


@PROP
@given(st.lists(st.floats(-3, 3), min_size=3, max_size=3))
def test_scalar_engine_backward(vals):
    a, b, c = (Node(v, n) for v, n in zip(vals, "abc", strict=True))
    f = ((a * b + c).sigmoid() * a + (b * b + 1.0).reciprocal() - c * 2.0).exp()
    f.backward()

    def value(v):
        x, y, z = v
        sig = 1 / (1 + np.exp(-(x * y + z)))
        return float(np.exp(sig * x + 1 / (y * y + 1) - 2 * z))

    v = np.array(vals, dtype=float)
    assert_close(np.array([a.grad, b.grad, c.grad]), numeric_grad(lambda: value(v), v), "abc")


# ---------------------------------------------------------------- 2-3. softmax and sigmoid ranges

big = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)


@PROP
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=6), elements=big),
       st.integers(0, 1))
def test_softmax_is_a_probability_distribution(z, axis):
    axis = min(axis, z.ndim - 1)
    with np.errstate(over="raise", invalid="raise", divide="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        a = act.softmax(z, axis=axis)
    assert np.all(np.isfinite(a)) and np.all(a >= 0)
    np.testing.assert_allclose(a.sum(axis=axis), 1.0, rtol=0, atol=1e-12)
    spread = np.max(z, axis=axis) - np.min(z, axis=axis)
    small = spread < 700
    assert np.all(np.moveaxis(a, axis, 0)[:, small] > 0), "softmax entry 0 although spread < 700"


@PROP
@given(hnp.arrays(np.float64, st.integers(1, 20), elements=big))
def test_sigmoid_range(z):
    with np.errstate(over="raise", invalid="raise", divide="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        s = act.sigmoid(z)
        s_neg = act.sigmoid(-z)
    assert np.all((s >= 0) & (s <= 1))
    inner = np.abs(z) <= 36
    assert np.all((s[inner] > 0) & (s[inner] < 1))
    assert np.all(s[z > -745] > 0)
    np.testing.assert_allclose(s_neg, 1 - s, rtol=0, atol=1e-15)
    order = np.argsort(z)
    assert np.all(np.diff(s[order]) >= 0)


# ---------------------------------------------------------------- 4. linearity (the VJPs': in 1)

@PROP
@given(dim, dim, seed)
def test_autograd_gradient_of_two_losses_is_the_sum(n, m, s):
    r = np.random.default_rng(s)
    x, w = r.normal(size=(n, m)), r.normal(size=(m,))

    def grad(*which):
        W = Tensor(w, requires_grad=True, name="w")
        X = Tensor(x)
        pieces = {"sq": lambda: ops.Sum.apply(ops.Pow.apply(ops.Mul.apply(X, W), 2.0)),
                  "sig": lambda: ops.Sum.apply(fn.Sigmoid.apply(ops.Mul.apply(X, W)))}
        total = pieces[which[0]]()
        for name in which[1:]:
            total = ops.Add.apply(total, pieces[name]())
        total.backward()
        return W.grad

    np.testing.assert_allclose(grad("sq", "sig"), grad("sq") + grad("sig"), rtol=1e-10, atol=1e-12)
    w_nudged = w.copy()

    def both_losses():  # sum((x w)^2) + sum(sigmoid(x w)), written without the library
        xw = x * w_nudged
        return float(np.sum(xw**2) + np.sum(1 / (1 + np.exp(-xw))))

    assert_close(grad("sq", "sig"), numeric_grad(both_losses, w_nudged), "w")


# ---------------------------------------------------------------- 5. numerics at the extremes

@pytest.mark.parametrize("v", [1e4, -1e4])
def test_softmax_and_sigmoid_are_finite_and_silent_at_1e4(v):
    z = np.array([v, 0.0, -v, v / 2])
    with np.errstate(over="raise", invalid="raise", divide="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        a = act.softmax(z)
        s = act.sigmoid(z)
        d = act.softmax_vjp(np.ones(4), a)
        ds = act.sigmoid_backward(np.ones(4), s)
    for arr in (a, s, d, ds):
        assert np.all(np.isfinite(arr))
    assert a.sum() == pytest.approx(1.0)
    assert s[0] == (1.0 if v > 0 else 0.0)


def test_training_loops_report_divergence_without_nan_or_warnings():
    r = np.random.default_rng(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        X, Y = r.normal(size=(2, 8)), r.normal(size=(2, 8))
        run = lin.train_linear(X, Y, np.zeros((2, 2)), np.zeros(2), lr=50.0, steps=100)
        assert run.diverged and np.all(np.isfinite(run.losses))
        ok = lin.train_linear(X, Y, np.zeros((2, 2)), np.zeros(2), lr=1e-3, steps=10)
        assert not ok.diverged

        ex = nw.example()
        p, curve = nw.train(ex["x"], ex["y"], ex["params"], lr=100.0, steps=300)  # unpacks as before
        assert np.all(np.isfinite(curve))
        # the loss of a softmax output is bounded (<= 1), so even lr = 1e308 only saturates the
        # network; if the weights overflowed, training would stop with diverged=True.
        huge = nw.train(ex["x"], ex["y"], ex["params"], lr=1e308, steps=50)
        assert np.all(np.isfinite(huge.losses)) and huge.diverged == (len(huge.losses) < 51)
        assert all(np.all(np.isfinite(v)) for v in huge.params.values())
        assert not nw.train(ex["x"], ex["y"], ex["params"], lr=0.5, steps=5).diverged

        V, b, x = r.normal(size=(2, 3)), r.normal(size=2), r.normal(size=(3, 4))
        al = act.softmax(r.normal(size=4))
        res = at.values_program(V, b, x, r.normal(size=2), al, eta=1e3, steps=200)
        assert res.diverged and np.all(np.isfinite(res.losses))
        res = at.values_program(V, b, x, r.normal(size=2), al, eta=1e-3, steps=5)
        assert not res.diverged and len(res.losses) == 6
        Q, k, x1 = r.normal(size=(2, 3)), r.normal(size=(2, 4)), np.r_[r.normal(size=2), 1.0]
        for as_written in (False, True):
            res = at.query_program(Q, k, x1, r.normal(size=4), eta=1e3, steps=200, as_written=as_written)
            assert res.diverged and np.all(np.isfinite(res.losses))
        K0, q0, y4 = r.normal(size=(2, 3)), r.normal(size=2), r.normal(size=4)
        res = at.keys_program(K0, q0, x, y4, eta=1e3, steps=200)
        assert res.diverged and np.all(np.isfinite(res.losses))
        res = at.keys_program(K0, q0, x, y4, eta=1e-3, steps=5)
        assert not res.diverged and len(res.losses) == 6
