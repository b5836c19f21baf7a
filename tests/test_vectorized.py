import json

import numpy as np
import pytest
from common import ROOT
from helpers import assert_grad_close, central_diff
from prose_numbers import output_numbers

from backprop_lib import check_gradient
from backprop_lib.vectorized import (
    dq_dW,
    jacobian_vs_vjp_cost,
    numerical_jacobian,
    relu_jacobian,
    relu_vjp,
    wx_norm_sq,
    wx_norm_sq_backward,
)

SEED_W, SEED_X = [[0.1, 0.5], [-0.3, 0.8]], [0.2, 0.4]
# The lecture's numbers for f(x, W) = ||W x||^2 at that point
SEED = {"q": [0.22, 0.26], "f": [0.116], "dq": [0.44, 0.52],
        "dW": [0.088, 0.176, 0.104, 0.208], "dx": [-0.112, 0.636]}


def test_seed_example_numbers():
    f, cache = wx_norm_sq(SEED_W, SEED_X)
    dW, dx = wx_norm_sq_backward(1.0, cache)
    np.testing.assert_allclose(cache[2], SEED["q"], atol=1e-15)
    assert f == pytest.approx(0.116, abs=1e-15)
    np.testing.assert_allclose(dW.ravel(), SEED["dW"], atol=1e-15)
    np.testing.assert_allclose(dx, SEED["dx"], atol=1e-15)


def test_chapter_2_shows_every_number_of_the_seed_example():
    nb = json.loads((ROOT / "chapters" / "02_vector_gradients.ipynb").read_text())
    shown = output_numbers(nb)
    for name, values in SEED.items():
        for v in values:
            assert any(abs(s - v) < 5e-7 for s in shown), f"{name} = {v} is not in the stored outputs"
    assert 134217728 in shown, "the 4096 x 4096 Jacobian's size in bytes is not shown"


@pytest.mark.parametrize("m,n", [(1, 1), (2, 2), (3, 5), (6, 2)])
def test_backward_matches_finite_differences(rng, m, n):
    W, x, dout = rng.normal(size=(m, n)), rng.normal(size=n), rng.normal()
    f, cache = wx_norm_sq(W, x)
    dW, dx = wx_norm_sq_backward(dout, cache)
    check_gradient(lambda W, x: dout * wx_norm_sq(W, x)[0], {"W": W, "x": x},
                   {"W": dW, "x": dx}).raise_if_failed()


def test_transposed_weight_gradient_fails(rng):
    W, x = rng.normal(size=(3, 3)), rng.normal(size=3)
    dW, dx = wx_norm_sq_backward(1.0, wx_norm_sq(W, x)[1])
    report = check_gradient(lambda W: wx_norm_sq(W, x)[0], {"W": W}, {"W": dW.T})
    assert not report.ok and "FAIL d/dW" in str(report)


@pytest.mark.parametrize("m,n", [(2, 2), (3, 4)])
def test_dq_dW_entries_match_numerical_jacobian(rng, m, n):
    W, x = rng.normal(size=(m, n)), rng.normal(size=n)
    T = dq_dW(x, m)
    assert T.shape == (m, m, n)
    np.testing.assert_allclose(T, numerical_jacobian(lambda V: V @ x, W), atol=1e-8)


def test_numerical_jacobian_agrees_with_the_test_oracle(rng):
    A, x = rng.normal(size=(3, 4)), rng.normal(size=4)
    J = numerical_jacobian(lambda v: np.tanh(A @ v), x)
    for k in range(3):
        assert_grad_close(f"row {k}", J[k], central_diff(lambda v, k=k: np.tanh(A @ v)[k], x))


@pytest.mark.parametrize("n", [1, 5, 64])
def test_relu_vjp_equals_jacobian_transpose_times_dout(rng, n):
    x, dout = rng.normal(size=n), rng.normal(size=n)
    J = relu_jacobian(x)
    assert J.shape == (n, n)
    np.testing.assert_array_equal(relu_vjp(dout, x), J.T @ dout)
    assert_grad_close("dx", relu_vjp(dout, x), central_diff(lambda v: np.sum(dout * np.maximum(v, 0)), x))


def test_cost_measurement_reports_the_jacobian_memory(rng):
    rows = jacobian_vs_vjp_cost([16, 128], rng, repeat=1)
    assert [r["n"] for r in rows] == [16, 128]
    for r in rows:
        assert r["peak_jacobian"] >= r["n"] ** 2 * 8 > r["peak_vjp"]
        assert r["t_jacobian"] > 0 and r["t_vjp"] > 0


def test_wrong_shapes_raise_value_errors_naming_the_argument():
    with pytest.raises(ValueError, match=r"x must have shape \(2,\), got \(3,\)"):
        wx_norm_sq(np.ones((2, 2)), np.ones(3))
    with pytest.raises(ValueError, match=r"dout must have shape \(4,\), got \(3,\)"):
        relu_vjp(np.ones(3), np.ones(4))
