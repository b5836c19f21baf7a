"""Adam (backprop_lib/adam.py): a first step worked by hand, the sign-like step it takes, and
several steps against torch.optim.Adam in float64."""

from __future__ import annotations

import numpy as np
import pytest
from common import require

from backprop_lib.adam import AdamState, adam_init, adam_step


def test_first_step_by_hand():
    """t = 1: m = 0.1 g, v = 0.001 g^2, m_hat = g, v_hat = g^2, so p <- p - lr g / (|g| + eps).

    p = (1, -2), g = (0.5, -3), lr = 0.1, eps = 1e-8:
    0.1 * 0.5 / 0.50000001 = 0.1 (1 - 2e-8) to first order, so p_0 = 1 - 0.1 + 2e-9;
    0.1 * 3 / 3.00000001 = 0.1 (1 - 3.33e-9), so p_1 = -2 + 0.1 - 3.333e-10.
    """
    params = {"w": np.array([1.0, -2.0])}
    new, state = adam_step(params, {"w": np.array([0.5, -3.0])}, adam_init(params), lr=0.1)
    np.testing.assert_allclose(new["w"], [0.900000002, -1.9000000003333333], rtol=0, atol=1e-15)
    assert state.t == 1
    np.testing.assert_allclose(state.m["w"], [0.05, -0.3], rtol=1e-15)
    np.testing.assert_allclose(state.v["w"], [0.00025, 0.009], rtol=1e-13)


def test_a_constant_gradient_moves_every_coordinate_by_lr_whatever_its_size():
    """m_hat = g and v_hat = g^2 exactly for a constant g: each step is lr * sign(g) (eps aside),
    for a gradient coordinate of 1e-3 as for one of 1e3: not a multiple of the gradient."""
    params = {"w": np.array([0.0, 0.0, 0.0])}
    g = {"w": np.array([1e-3, -1e3, 2.0])}
    state = adam_init(params)
    for _ in range(5):
        params, state = adam_step(params, g, state, lr=0.01, eps=0.0)
    np.testing.assert_allclose(params["w"], [-0.05, 0.05, -0.05], rtol=1e-12)


def test_nothing_is_changed_in_place():
    params = {"w": np.array([1.0, 2.0])}
    state = adam_init(params)
    adam_step(params, {"w": np.array([0.3, -0.1])}, state, lr=0.1)
    np.testing.assert_array_equal(params["w"], [1.0, 2.0])
    assert state.t == 0 and not state.m["w"].any() and not state.v["w"].any()


@pytest.mark.parametrize("kw", [{}, dict(betas=(0.8, 0.99), eps=1e-6)])
def test_several_steps_agree_with_torch_optim_adam(rng, kw):
    torch = require("torch", "PyTorch is the test oracle")
    shapes = {"W": (3, 4), "b": (4,), "g": (2, 1, 3)}
    params = {k: rng.normal(size=s) for k, s in shapes.items()}
    leaves = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    opt = torch.optim.Adam(list(leaves.values()), lr=0.05, **kw)
    state = adam_init(params)
    for _ in range(8):
        grads = {k: rng.normal(size=s) * rng.choice([1e-3, 1.0, 1e2]) for k, s in shapes.items()}
        for k, leaf in leaves.items():
            leaf.grad = torch.tensor(grads[k])
        opt.step()
        params, state = adam_step(params, grads, state, lr=0.05, **kw)
        for k, leaf in leaves.items():
            np.testing.assert_allclose(params[k], leaf.detach().numpy(), rtol=1e-12, atol=0, err_msg=k)
            torch_state = opt.state[leaf]
            np.testing.assert_allclose(state.m[k], torch_state["exp_avg"].numpy(), rtol=1e-12, err_msg=k)
            np.testing.assert_allclose(state.v[k], torch_state["exp_avg_sq"].numpy(), rtol=1e-12, err_msg=k)
    assert state.t == 8


def test_bad_input_is_named():
    params = {"w": np.ones(2)}
    state = adam_init(params)
    with pytest.raises(ValueError, match=r"grads must have the keys of params.*missing \['w'\]"):
        adam_step(params, {"v": np.ones(2)}, state, lr=0.1)
    with pytest.raises(ValueError, match=r"grads\['w'\] must have the shape of params\['w'\] \(2,\), "
                                         r"got \(3,\)"):
        adam_step(params, {"w": np.ones(3)}, state, lr=0.1)
    with pytest.raises(TypeError, match="state must be the AdamState"):
        adam_step(params, {"w": np.ones(2)}, {"t": 0}, lr=0.1)
    with pytest.raises(ValueError, match=r"state.m\['w'\] must have the shape"):
        adam_step(params, {"w": np.ones(2)}, AdamState(0, {"w": np.ones(3)}, state.v), lr=0.1)
    with pytest.raises(ValueError, match=r"betas\[1\] must be in \[0, 1\), got 1.0"):
        adam_step(params, {"w": np.ones(2)}, state, lr=0.1, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="lr must be a positive"):
        adam_step(params, {"w": np.ones(2)}, state, lr=-0.1)
    with pytest.raises(ValueError, match="eps must be >= 0"):
        adam_step(params, {"w": np.ones(2)}, state, lr=0.1, eps=-1e-8)
    with pytest.raises(TypeError, match="params must be a non-empty dict"):
        adam_init([np.ones(2)])


# hypothesis (derandomized, as tests/test_properties.py): the properties that make Adam's step
# not a gradient step
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PROP = settings(derandomize=True, max_examples=30, deadline=None, database=None)


@PROP
@given(st.integers(1, 6), st.integers(1, 5), st.floats(1e-3, 1e3), st.integers(0, 2 ** 31))
def test_the_updates_ignore_the_scale_of_the_gradients(n, steps, c, seed):
    """eps = 0: m_hat / sqrt(v_hat) is unchanged when every gradient is multiplied by c > 0, so the
    whole trajectory is the same for the loss c L as for L (a gradient step would be c times longer),
    and the first step moves every coordinate by exactly lr."""
    rng = np.random.default_rng(seed)
    grads = [rng.normal(size=n) for _ in range(steps)]
    start = {"w": rng.normal(size=n)}
    runs = []
    for scale in (1.0, c):
        p, state = start, adam_init(start)
        for g in grads:
            p, state = adam_step(p, {"w": scale * g}, state, lr=0.01, eps=0.0)
            if state.t == 1:
                np.testing.assert_allclose(np.abs(p["w"] - start["w"]), 0.01, rtol=1e-12)
        runs.append(p["w"])
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-12, atol=1e-15)
