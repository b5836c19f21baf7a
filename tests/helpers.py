"""Shared test helpers: central differences (the library's one helper) and a gradient comparison."""

from __future__ import annotations

import numpy as np

from backprop_lib.gradcheck import numerical_gradient


def central_diff(f, x, eps=1e-6):
    """d f / d x for scalar f at array x, by central differences (float64).

    The course's one central-difference helper, gradcheck.numerical_gradient, which
    tests/test_gradcheck.py checks against closed-form gradients.
    """
    return numerical_gradient(f, np.array(x, dtype=np.float64), eps)


def assert_grad_close(name, analytic, numeric, rtol=1e-6, atol=1e-8):
    analytic, numeric = np.asarray(analytic), np.asarray(numeric)
    assert analytic.shape == numeric.shape, (
        f"{name}: gradient shape {analytic.shape} != variable shape {numeric.shape}"
    )
    if not np.allclose(analytic, numeric, rtol=rtol, atol=atol):
        i = np.unravel_index(np.argmax(np.abs(analytic - numeric)), analytic.shape)
        raise AssertionError(
            f"{name}: analytic {analytic[i]:.8g} vs numerical {numeric[i]:.8g} at index {i}"
        )
