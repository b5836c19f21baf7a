"""Reverse mode, forward mode, finite differences: the gradient of one loss in P parameters.

    L(W1, W2) = 1/2 || W2 tanh(W1 x) - y ||^2,   x (D_in,), W1 (H, D_in), W2 (D_out, H)
    P = H (D_in + D_out) parameters

Reverse mode (backpropagation) gets all P partial derivatives from one forward and one backward
pass. Forward mode pushes one tangent direction through the forward pass (a Jacobian-vector
product) and gets one directional derivative per pass: P passes for the gradient. Central
differences need two forward passes per parameter: 2P.

Derived in: chapters/02_vector_gradients.ipynb
"""

from __future__ import annotations

import time

import numpy as np

from ._validate import as_count

__all__ = ["gradients_three_ways", "gradient_mode_cost"]

D_IN, D_OUT = 8, 4  # input and output sizes; the hidden size H sets the number of parameters


def _problem(n_hidden: int, rng):
    x, y = rng.normal(size=D_IN), rng.normal(size=D_OUT)
    W1 = rng.normal(size=(n_hidden, D_IN)) / np.sqrt(D_IN)
    W2 = rng.normal(size=(D_OUT, n_hidden)) / np.sqrt(n_hidden)
    return W1, W2, x, y


def _forward(W1, W2, x, y):
    h = np.tanh(W1 @ x)
    r = W2 @ h - y
    return 0.5 * float(r @ r), h, r


def _reverse(W1, W2, x, y):
    """One forward pass, then one backward pass: every partial derivative at once."""
    _, h, r = _forward(W1, W2, x, y)
    dz = (1.0 - h**2) * (W2.T @ r)  # dL/dh = W2^T r, then tanh' = 1 - h^2
    return np.outer(dz, x), np.outer(r, h)  # dW1 = dz x^T, dW2 = r h^T


def _jvp(W1, W2, x, y, V1, V2) -> float:
    """dL in the direction (V1, V2): the forward pass carries a tangent next to each value."""
    h = np.tanh(W1 @ x)
    dh = (1.0 - h**2) * (V1 @ x)
    r = W2 @ h - y
    dr = V2 @ h + W2 @ dh
    return float(r @ dr)


def _forward_mode(W1, W2, x, y):
    """One Jacobian-vector product per parameter, along each unit direction."""
    grads = (np.zeros_like(W1), np.zeros_like(W2))
    tangents = (np.zeros_like(W1), np.zeros_like(W2))
    for g, V in zip(grads, tangents, strict=True):
        for idx in np.ndindex(V.shape):
            V[idx] = 1.0
            g[idx] = _jvp(W1, W2, x, y, *tangents)
            V[idx] = 0.0
    return grads


def _central_differences(W1, W2, x, y, eps: float = 1e-6):
    """Two forward passes per parameter: (L(w + eps) - L(w - eps)) / (2 eps)."""
    W1, W2 = W1.copy(), W2.copy()
    grads = (np.zeros_like(W1), np.zeros_like(W2))
    for g, W in zip(grads, (W1, W2), strict=True):
        for idx in np.ndindex(W.shape):
            old = W[idx]
            W[idx] = old + eps
            hi = _forward(W1, W2, x, y)[0]
            W[idx] = old - eps
            lo = _forward(W1, W2, x, y)[0]
            W[idx] = old
            g[idx] = (hi - lo) / (2 * eps)
    return grads


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator (np.random.default_rng(seed)), "
                        f"got {type(rng).__name__}")


def gradients_three_ways(n_hidden, rng):
    """dL/dW1, dL/dW2 of  L = 1/2 ||W2 tanh(W1 x) - y||^2  by reverse mode, forward mode, differences.

    n_hidden: H, the hidden size (P = H (D_in + D_out) parameters, D_in = 8, D_out = 4); the
    problem is drawn from ``rng``. Returns a dict with "P", "reverse", "forward", "differences"
    (each a pair (dW1 (H, D_in), dW2 (D_out, H))) and "passes": how many forward-sized passes
    each mode made.
    """
    n_hidden = as_count(n_hidden, "n_hidden", minimum=1)
    _check_rng(rng)
    W1, W2, x, y = _problem(n_hidden, rng)
    P = W1.size + W2.size
    return {"P": P, "reverse": _reverse(W1, W2, x, y), "forward": _forward_mode(W1, W2, x, y),
            "differences": _central_differences(W1, W2, x, y),
            "passes": {"reverse": 2, "forward": P, "differences": 2 * P}}


def _fastest(fn, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def gradient_mode_cost(hidden_sizes, rng, repeat: int = 3):
    """For each hidden size: P and the fastest time (s) of a forward pass and of each gradient.

    hidden_sizes: a sequence of hidden sizes H. Returns a list of dicts with keys P, t_forward,
    t_reverse, t_forward_mode, t_differences. Times depend on the machine; their ratios are the
    point.
    """
    if isinstance(hidden_sizes, (str, bytes)) or not hasattr(hidden_sizes, "__iter__"):
        raise TypeError(f"hidden_sizes must be a sequence of sizes, got "
                        f"{type(hidden_sizes).__name__} {hidden_sizes!r}")
    sizes = [as_count(h, "hidden_sizes[i]", minimum=1) for h in hidden_sizes]
    _check_rng(rng)
    repeat = as_count(repeat, "repeat", minimum=1)
    rows = []
    for h in sizes:
        args = _problem(h, rng)
        rows.append(dict(P=args[0].size + args[1].size,
                         t_forward=_fastest(lambda a=args: _forward(*a), repeat),
                         t_reverse=_fastest(lambda a=args: _reverse(*a), repeat),
                         t_forward_mode=_fastest(lambda a=args: _forward_mode(*a), repeat),
                         t_differences=_fastest(lambda a=args: _central_differences(*a), repeat)))
    return rows
