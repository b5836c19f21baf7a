"""One shared oracle for the tests: central differences, written independently of the library."""

from __future__ import annotations

import numpy as np


def central_diff(f, x, eps=1e-6):
    """d f / d x for scalar f at array x, by central differences (float64)."""
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += eps
        xm[idx] -= eps
        g[idx] = (f(xp) - f(xm)) / (2 * eps)
    return g


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
