"""Attention components against central differences, and the three source programs against an
independent, loop-by-loop re-implementation written here from the Julia listings."""

import numpy as np
import pytest
from helpers import assert_grad_close, central_diff

from backprop_lib.activations import softmax, softmax_jacobian
from backprop_lib.attention import (
    keys_program,
    projection,
    projection_backward,
    query_program,
    query_update_as_written,
    scores,
    scores_backward,
    softmax_branches,
    softmax_circuit,
    value_layer,
    value_layer_backward,
    values_program,
    weighted_values,
    weighted_values_backward,
)
from backprop_lib.linear import append_ones

SHAPES = [(3, 1), (3, 2), (2, 5), (4, 3)]  # (d, n): n = 1 is a single value/key/input column


# --- the source's data, typed in from the Julia listings ------------------------------------

V0 = [[-1, 6, 7], [2, 2, 2], [5, 5, 5]]
X_VALUES = [[1, 3], [4, 0.3], [2, 2]]
Y_VALUES = [-1, 20, 5]
ALPHA = [5, -2]
Q0 = [[1.0, 5, 0.2, 0], [1, 2, 0.4, 0], [4, 5, 1, 0]]
K_FIXED = [[1, -3, 6], [2, 0, 1], [4, 5, 1]]
X_QUERY = [0.5, 0.5, 0.3, 1]
K0 = [[1, -3, 6.0, 0], [2, 0, 1, 0], [4, 5, 1, 0]]
Q_FIXED = [1.0, 5, 0.2]
X_KEYS = [[0.5, 0.2, 0.4], [0.5, 0.2, 0.6], [0.3, 0.25, 0.7], [1, 1, 1]]
Y_QK = [-3.14, -6.3, 2.21]


def _loops_values(V, b, x, y, alpha, eta, steps):
    """The Julia 'Values' program with scalar loops: v = V x .+ b, vbar = v alpha' (the source's z)."""
    V, b = [list(map(float, r)) for r in V], [float(t) for t in b]
    d, m, n = len(V), len(x), len(alpha)
    losses = []

    def vbar_of():
        v = [[sum(V[i][p] * x[p][j] for p in range(m)) + b[i] for j in range(n)] for i in range(d)]
        return [sum(v[i][j] * alpha[j] for j in range(n)) for i in range(d)]

    for _ in range(steps):
        vbar = vbar_of()
        r = [vbar[i] - y[i] for i in range(d)]
        losses.append(0.5 * sum(t * t for t in r))
        # dL/dw = (vbar - y) * alpha * x' ; dL/db = sum over columns of (vbar - y) * alpha
        gV = [[sum(r[i] * alpha[j] * x[p][j] for j in range(n)) for p in range(m)] for i in range(d)]
        gb = [sum(r[i] * alpha[j] for j in range(n)) for i in range(d)]
        V = [[V[i][p] - eta * gV[i][p] for p in range(m)] for i in range(d)]
        b = [b[i] - eta * gb[i] for i in range(d)]
    return np.array(V), np.array(b), np.array(vbar_of()), np.array(losses)


def _loops_query(Q, k, x, y, eta, steps, julia_broadcast):
    """The Julia 'Query' program with scalar loops. julia_broadcast=True reproduces
    dL_dQ = dL_dq .* x[1:end-1]' subtracted from every row; False uses dL/dQ_ij = dL/dq_i x_j."""
    Q = [list(map(float, r)) for r in Q]
    d, cols, n = len(Q), len(x), len(y)

    def e_of():
        q = [sum(Q[i][c] * x[c] for c in range(cols)) for i in range(d)]
        return q, [sum(q[i] * k[i][j] for i in range(d)) for j in range(n)]

    losses = []
    for _ in range(steps):
        q, e = e_of()
        r = [e[j] - y[j] for j in range(n)]
        losses.append(0.5 * sum(t * t for t in r))
        gq = [sum(r[j] * k[i][j] for j in range(n)) for i in range(d)]  # (e - y') k'
        for i in range(d):
            for c in range(cols - 1):
                Q[i][c] -= eta * (gq[c] * x[c] if julia_broadcast else gq[i] * x[c])
            Q[i][cols - 1] -= eta * gq[i]
    return np.array(Q), np.array(e_of()[1]), np.array(losses)


def _loops_keys(K, q, x, y, eta, steps):
    """The Julia 'Keys' program with scalar loops: k = K x, e = q' k."""
    K = [list(map(float, r)) for r in K]
    d, rows, n = len(K), len(x), len(x[0])

    def e_of():
        k = [[sum(K[i][p] * x[p][j] for p in range(rows)) for j in range(n)] for i in range(d)]
        return [sum(q[i] * k[i][j] for i in range(d)) for j in range(n)]

    losses = []
    for _ in range(steps):
        e = e_of()
        r = [e[j] - y[j] for j in range(n)]
        losses.append(0.5 * sum(t * t for t in r))
        gK = [[sum(q[i] * r[j] * x[p][j] for j in range(n)) for p in range(rows)] for i in range(d)]
        K = [[K[i][p] - eta * gK[i][p] for p in range(rows)] for i in range(d)]
    return np.array(K), np.array(e_of()), np.array(losses)


# --- the three programs -----------------------------------------------------------------------

def test_values_program_matches_the_loop_implementation():
    res = values_program(V0, [0, 0, 0], X_VALUES, Y_VALUES, ALPHA, eta=0.002, steps=10)
    V, b, vbar, losses = _loops_values(V0, [0, 0, 0], X_VALUES, Y_VALUES, ALPHA, 0.002, 10)
    np.testing.assert_allclose(res.params["Wv"], V, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.params["b"], b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.output, vbar, rtol=1e-10)
    np.testing.assert_allclose(res.losses[:-1], losses, rtol=1e-8, atol=1e-14)
    assert losses[0] == pytest.approx(20123.3)  # by hand: vbar = [159.4, 48.8, 122] at the start
    np.testing.assert_allclose(vbar, Y_VALUES, atol=1e-5)  # the program fits y


@pytest.mark.parametrize("as_written", [True, False])
def test_query_program_matches_the_loop_implementation(as_written):
    res = query_program(Q0, K_FIXED, X_QUERY, Y_QK, eta=0.02, steps=100, as_written=as_written)
    Q, e, losses = _loops_query(Q0, K_FIXED, X_QUERY, Y_QK, 0.02, 100, julia_broadcast=as_written)
    np.testing.assert_allclose(res.params["Wq"], Q, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.output, e, rtol=1e-10)
    np.testing.assert_allclose(res.losses[:-1], losses, rtol=1e-8)
    assert losses[0] == pytest.approx(887.85445)  # by hand: e = [25.5, 14.82, 24.78] at the start
    if as_written:  # the source's step makes every row of the weight block move identically
        np.testing.assert_allclose(np.diff(Q[:, :3] - np.asarray(Q0)[:, :3], axis=0), 0, atol=1e-12)


def test_query_program_as_written_ends_worse_than_gradient_descent():
    seed = query_program(Q0, K_FIXED, X_QUERY, Y_QK, eta=0.02, steps=100, as_written=True)
    true = query_program(Q0, K_FIXED, X_QUERY, Y_QK, eta=0.02, steps=100)
    assert seed.losses[-1] > 10 * true.losses[-1]


def test_keys_program_matches_the_loop_implementation():
    res = keys_program(K0, Q_FIXED, X_KEYS, Y_QK, eta=0.01, steps=300)
    K, e, losses = _loops_keys(K0, Q_FIXED, X_KEYS, Y_QK, 0.01, 300)
    np.testing.assert_allclose(res.params["Wk"], K, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.output, e, rtol=1e-10)
    np.testing.assert_allclose(res.losses[:-1], losses, rtol=1e-8)
    assert losses[0] == pytest.approx(168.00305)  # by hand: e = [8.26, 4.76, 11.36] at the start


def test_programs_do_not_modify_their_inputs():
    Q = np.array(Q0)
    query_program(Q, K_FIXED, X_QUERY, Y_QK, steps=3)
    np.testing.assert_array_equal(Q, np.array(Q0))


# --- finite differences for every parameter -------------------------------------------------

@pytest.mark.parametrize("d,n", SHAPES)
def test_weighted_values_backward(rng, d, n):
    v, alpha = rng.normal(size=(d, n)), rng.normal(size=n)
    dvbar = rng.normal(size=d)  # non-uniform upstream gradient
    dv, dalpha = weighted_values_backward(dvbar, v, alpha)
    assert_grad_close("vbar = v alpha, dv", dv, central_diff(lambda t: dvbar @ weighted_values(t, alpha), v))
    assert_grad_close("vbar = v alpha, dalpha", dalpha,
                      central_diff(lambda t: dvbar @ weighted_values(v, t), alpha))


@pytest.mark.parametrize("d,n", SHAPES)
def test_value_layer_backward(rng, d, n):
    m = d + 1
    V, b, x = rng.normal(size=(d, m)), rng.normal(size=d), rng.normal(size=(m, n))
    dv = rng.normal(size=(d, n))
    dV, db, dx = value_layer_backward(dv, V, x)
    L = lambda V_, b_, x_: np.sum(dv * value_layer(V_, b_, x_))  # noqa: E731
    assert_grad_close("v = Vx + b, dV", dV, central_diff(lambda t: L(t, b, x), V))
    assert_grad_close("v = Vx + b, db", db, central_diff(lambda t: L(V, t, x), b))
    assert_grad_close("v = Vx + b, dx", dx, central_diff(lambda t: L(V, b, t), x))


@pytest.mark.parametrize("d,n", SHAPES)
def test_scores_backward(rng, d, n):
    q, k, ds = rng.normal(size=d), rng.normal(size=(d, n)), rng.normal(size=n)
    dq, dk = scores_backward(ds, q, k)
    assert_grad_close("s = k^T q, dq", dq, central_diff(lambda t: ds @ scores(t, k), q))
    assert_grad_close("s = k^T q, dk", dk, central_diff(lambda t: ds @ scores(q, t), k))


@pytest.mark.parametrize("d,n", SHAPES)
@pytest.mark.parametrize("single_column", [True, False])
def test_projection_backward_with_absorbed_bias(rng, d, n, single_column):
    m = 3
    x = append_ones(rng.normal(size=m) if single_column else rng.normal(size=(m, n)))
    W = rng.normal(size=(d, m + 1))
    dp = rng.normal(size=(d,) if single_column else (d, n))
    dW, dx = projection_backward(dp, W, x)
    assert dW.shape == W.shape and dx.shape == x.shape
    assert_grad_close("p = W x~, dW", dW, central_diff(lambda t: np.sum(dp * projection(t, x)), W))
    assert_grad_close("p = W x~, dx", dx, central_diff(lambda t: np.sum(dp * projection(W, t)), x))
    # the bias column's gradient is dp summed over the columns
    np.testing.assert_allclose(dW[:, -1], dp if single_column else dp.sum(axis=1))


@pytest.mark.parametrize("n", [1, 2, 5])
def test_softmax_circuit_branches_add_up_to_the_jacobian(rng, n):
    s = rng.normal(size=n) * 3
    E, C, alpha = softmax_circuit(s)
    np.testing.assert_allclose(alpha, softmax(s), rtol=1e-12)
    np.testing.assert_allclose(E / C, alpha)
    top, mid = softmax_branches(s)
    np.testing.assert_allclose(top + mid, softmax_jacobian(alpha), atol=1e-15)
    J = np.array([central_diff(lambda t, i=i: softmax(t)[i], s) for i in range(n)])
    assert_grad_close("softmax Jacobian (top + mid)", top + mid, J)
    np.testing.assert_allclose(np.diag(top + mid), alpha * (1 - alpha))  # alpha_1 (1 - alpha_1)


def test_softmax_circuit_is_stable_for_large_scores():
    _, _, alpha = softmax_circuit([1000.0, 999.0])
    np.testing.assert_allclose(alpha, [1 / (1 + np.exp(-1)), 1 / (1 + np.exp(1))])


def test_full_chain_query_and_keys_through_softmax_and_values(rng):
    """s -> softmax -> vbar = v alpha: the pieces compose to the gradient of the whole chain."""
    d, n, m = 3, 4, 2
    Q, K = rng.normal(size=(d, m + 1)), rng.normal(size=(d, m + 1))
    x1, x = append_ones(rng.normal(size=m)), append_ones(rng.normal(size=(m, n)))
    v, y = rng.normal(size=(d, n)), rng.normal(size=d)

    def loss(Q_, K_):
        alpha = softmax(scores(projection(Q_, x1), projection(K_, x)))
        return 0.5 * np.sum((weighted_values(v, alpha) - y) ** 2)

    q, k = projection(Q, x1), projection(K, x)
    alpha = softmax(scores(q, k))
    _, dalpha = weighted_values_backward(weighted_values(v, alpha) - y, v, alpha)
    top, mid = softmax_branches(scores(q, k))
    ds = (top + mid).T @ dalpha
    dq, dk = scores_backward(ds, q, k)
    assert_grad_close("chain dQ", projection_backward(dq, Q, x1)[0],
                      central_diff(lambda t: loss(t, K), Q))
    assert_grad_close("chain dK", projection_backward(dk, K, x)[0],
                      central_diff(lambda t: loss(Q, t), K))


# --- negative tests: the source's slips must fail ---------------------------------------------

def test_query_update_as_written_is_not_the_gradient():
    Q, k = np.array(Q0), np.array(K_FIXED, float)
    x1, y = np.array(X_QUERY), np.array(Y_QK)
    L = lambda Q_: 0.5 * np.sum((scores(projection(Q_, x1), k) - y) ** 2)  # noqa: E731
    e = scores(projection(Q, x1), k)
    dq, _ = scores_backward(e - y, projection(Q, x1), k)
    numeric = central_diff(L, Q)
    with pytest.raises(AssertionError, match="analytic"):
        assert_grad_close("query step as written", query_update_as_written(dq, x1), numeric)
    np.testing.assert_allclose(query_update_as_written(dq, x1)[:, -1], numeric[:, -1], rtol=1e-6)
    assert_grad_close("query gradient", projection_backward(dq, Q, x1)[0], numeric)


def test_softmax_backward_with_the_typo_fails_for_non_uniform_upstream(rng):
    e, dalpha = rng.normal(size=2), np.array([0.7, -1.3])
    a1, a2 = softmax(e)
    typo = dalpha[0] * (-a1 * a2) + dalpha[0] * a2 * (1 - a2)  # dL/dalpha_1 twice
    right = dalpha[0] * (-a1 * a2) + dalpha[1] * a2 * (1 - a2)
    numeric = central_diff(lambda t: dalpha @ softmax(t), e)[1]
    assert right == pytest.approx(numeric, rel=1e-7)
    assert abs(typo - numeric) > 1e-2
    # with a uniform upstream gradient the typo is invisible: why tests never use all-ones
    ones = np.ones(2)
    assert ones[0] * (-a1 * a2) + ones[0] * a2 * (1 - a2) == pytest.approx(
        central_diff(lambda t: ones @ softmax(t), e)[1], abs=1e-9)


def test_a_wrong_value_gradient_fails(rng):
    v, alpha, dvbar = rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=3)
    wrong = np.outer(dvbar, alpha[::-1])  # alphas swapped between the columns
    with pytest.raises(AssertionError):
        assert_grad_close("dv", wrong, central_diff(lambda t: dvbar @ weighted_values(t, alpha), v))


# --- shapes and errors ------------------------------------------------------------------------

def test_wrong_shapes_raise_value_errors_naming_the_argument():
    with pytest.raises(ValueError, match=r"A must have shape \(2,\), got \(3,\)"):
        weighted_values(np.ones((3, 2)), np.ones(3))
    with pytest.raises(ValueError, match="b must have shape"):
        value_layer(np.ones((3, 3)), np.ones(2), np.ones((3, 2)))
    with pytest.raises(ValueError, match="X must have shape"):
        value_layer(np.ones((3, 3)), np.ones(3), np.ones((2, 2)))
    with pytest.raises(ValueError, match="K must have shape"):
        scores(np.ones(3), np.ones((2, 4)))
    with pytest.raises(ValueError, match="dS must have shape"):
        scores_backward(np.ones(3), np.ones(2), np.ones((2, 4)))
    with pytest.raises(ValueError, match="dv must have shape"):
        value_layer_backward(np.ones((2, 2)), np.ones((3, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="dout must have shape"):
        projection_backward(np.ones(2), np.ones((3, 4)), np.ones(4))


def test_query_update_as_written_needs_a_square_weight_block_like_julia():
    with pytest.raises(ValueError, match=r"x1 must have shape \(3,\), got \(4,\) \(d\+1 = 3, from dq\)"):
        query_update_as_written(np.ones(2), np.ones(4))


def test_append_ones():
    np.testing.assert_array_equal(append_ones([2.0, 3.0]), [2, 3, 1])
    np.testing.assert_array_equal(append_ones([[1.0, 2.0]]), [[1, 2], [1, 1]])
