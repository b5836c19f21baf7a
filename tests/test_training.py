"""training.descend: the one gradient-descent loop and its one divergence rule."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_lib import attention, linear, network
from backprop_lib.activations import sigmoid
from backprop_lib.training import DIVERGED, TrainResult, descend


def quadratic(c):
    """L = 1/2 c w^2 for one weight: each step multiplies w by (1 - lr c)."""
    forward = lambda p: (0.5 * c * float(p["w"] @ p["w"]), p["w"], p["w"])  # noqa: E731
    backward = lambda w: {"w": c * w}  # noqa: E731
    return forward, backward


def test_losses_are_before_each_update_and_after_the_last():
    forward, backward = quadratic(2.0)
    run = descend(forward, backward, {"w": np.array([1.0])}, lr=0.25, steps=3)
    np.testing.assert_allclose(run.losses, [1.0 * 0.5**(2 * t) for t in range(4)], rtol=1e-14)
    np.testing.assert_allclose(run.params["w"], [0.125], rtol=1e-14)
    assert not run.diverged and run.output is run.params["w"]


def test_a_loss_above_the_limit_stops_training_and_is_kept():
    forward, backward = quadratic(2.0)
    run = descend(forward, backward, {"w": np.array([1.0])}, lr=10.0, steps=100)  # w *= -19
    assert run.diverged and run.losses[-1] > DIVERGED >= run.losses[-2]
    assert len(run.losses) < 101 and np.all(np.isfinite(run.losses))


def test_an_update_that_overflows_keeps_the_last_finite_parameters():
    forward, backward = quadratic(1.0)
    run = descend(forward, backward, {"w": np.array([1e200])}, lr=1e300, steps=5)
    assert run.diverged and run.params["w"][0] == 1e200 and len(run.losses) == 1


def test_every_training_function_returns_the_one_result_type():
    ex = network.example()
    X, Y = np.array([[0.5, -1.0, 2.0]]), np.array([[1.0, -2.0, 4.0]])
    runs = [network.train(ex["x"], ex["y"], ex["params"], lr=0.5, steps=3),
            linear.train_linear(X, Y, np.zeros((1, 1)), np.zeros(1), lr=0.1, steps=3),
            attention.values_program(np.eye(2), np.zeros(2), np.eye(2), np.ones(2), np.ones(2), steps=3),
            attention.query_program(np.eye(2, 3), np.eye(2), np.array([1.0, 0.0, 1.0]), np.ones(2), steps=3),
            attention.keys_program(np.eye(2, 3), np.ones(2), np.ones((3, 2)), np.ones(2), steps=3)]
    for run in runs:
        assert type(run) is TrainResult and len(run.losses) == 4 and not run.diverged
    params, losses = runs[0]  # Chapter 4 unpacks (params, losses)
    assert params is runs[0].params and losses is runs[0].losses


def test_checks_are_skipped_only_inside_the_loop():
    ex = network.example()
    network.train(ex["x"], ex["y"], ex["params"], lr=0.5, steps=2)
    with pytest.raises(ValueError, match="z contains NaN"):
        sigmoid(np.array([np.nan]))  # the door is closed again after training
    forward, backward = quadratic(1.0)
    with pytest.raises(RuntimeError):
        descend(lambda _p: (_ for _ in ()).throw(RuntimeError("boom")), backward, {"w": np.ones(1)}, 0.1, 1)
    with pytest.raises(ValueError, match="z contains NaN"):
        sigmoid(np.array([np.nan]))  # also after an exception inside the loop
