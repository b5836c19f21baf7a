"""backprop_lib.modes: reverse mode, forward mode and central differences give the same gradient
(checked against a loss written here independently and against PyTorch), and count their passes."""

import numpy as np
import pytest
from common import require

import backprop_lib as bp
from backprop_lib.modes import D_IN, D_OUT, gradient_mode_cost, gradients_three_ways


def _loss(W1, W2, x, y):  # written independently of backprop_lib.modes
    return 0.5 * np.sum((W2 @ np.tanh(W1 @ x) - y) ** 2)


def _same_problem(h, seed):
    rng = np.random.default_rng(seed)  # the draw order of modes._problem: x, y, W1, W2
    x, y = rng.normal(size=D_IN), rng.normal(size=D_OUT)
    W1 = rng.normal(size=(h, D_IN)) / np.sqrt(D_IN)
    W2 = rng.normal(size=(D_OUT, h)) / np.sqrt(h)
    return W1, W2, x, y


@pytest.mark.parametrize("h", [1, 3, 6])
def test_three_modes_agree_with_central_differences_of_an_independent_loss(h):
    g = gradients_three_ways(h, np.random.default_rng(h))
    W1, W2, x, y = _same_problem(h, h)
    num1 = bp.numerical_gradient(lambda V: _loss(V, W2, x, y), W1)
    num2 = bp.numerical_gradient(lambda V: _loss(W1, V, x, y), W2)
    for mode in ("reverse", "forward", "differences"):
        d1, d2 = g[mode]
        assert d1.shape == W1.shape and d2.shape == W2.shape, mode
        np.testing.assert_allclose(d1, num1, rtol=1e-6, atol=1e-8, err_msg=f"{mode} dW1")
        np.testing.assert_allclose(d2, num2, rtol=1e-6, atol=1e-8, err_msg=f"{mode} dW2")
    assert g["P"] == h * (D_IN + D_OUT)
    assert g["passes"] == {"reverse": 2, "forward": g["P"], "differences": 2 * g["P"]}


def test_reverse_mode_matches_pytorch():
    torch = require("torch", "PyTorch float64 cross-check")
    h = 5
    g = gradients_three_ways(h, np.random.default_rng(7))
    W1, W2, x, y = (torch.tensor(a, dtype=torch.float64) for a in _same_problem(h, 7))
    W1.requires_grad_(True)
    W2.requires_grad_(True)
    (0.5 * ((W2 @ torch.tanh(W1 @ x) - y) ** 2).sum()).backward()
    np.testing.assert_allclose(g["reverse"][0], W1.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g["reverse"][1], W2.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_cost_rows_have_the_parameter_counts_and_positive_times():
    rows = gradient_mode_cost([1, 4], np.random.default_rng(0), repeat=1)
    assert [r["P"] for r in rows] == [12, 48]
    for r in rows:
        assert set(r) == {"P", "t_forward", "t_reverse", "t_forward_mode", "t_differences"}
        assert all(v > 0 for k, v in r.items() if k != "P")


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="rng"):
        gradients_three_ways(2, 0)
    with pytest.raises(TypeError, match="hidden_sizes"):
        gradient_mode_cost(5, np.random.default_rng(0))
