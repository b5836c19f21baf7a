"""f(x, W) = ||W x||^2 with q = W x:  df/dq = 2q,  df/dW = 2 q x^T,  df/dx = 2 W^T q.

And the reason backprop never builds a Jacobian: for o = max(0, x) on n entries the Jacobian
is an n x n diagonal matrix, while the vector-Jacobian product J^T dout is dout * 1[x > 0].

Derived in: chapters/02_vector_gradients.ipynb
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np

from ._validate import as_count, as_float_array, cache_of, checked
from .gradcheck import numerical_gradient

__all__ = ["wx_norm_sq", "norm_sq_backward", "wx_norm_sq_backward", "dq_dW", "numerical_jacobian",
           "relu_jacobian", "relu_vjp", "jacobian_vs_vjp_cost"]


@checked(W="m n", x="n")
def wx_norm_sq(W, x):
    """f = ||W x||^2 = sum_k q_k^2, q = W x. W (m, n), x (n,) -> (f, cache)."""
    q = W @ x
    return float(q @ q), (W, x, q)


@checked(dout="real", q="m")
def norm_sq_backward(dout, q):
    """dq = dout * 2 q, the gradient of f = ||q||^2; q (m,)."""
    return dout * 2.0 * q


@checked(cache=cache_of("wx_norm_sq", "m n", "n", "m"), dout="real")
def wx_norm_sq_backward(dout, cache):
    """dW = dq x^T (m, n) and dx = W^T dq (n,), with dq = 2 q dout."""
    W, x, q = cache
    dq = norm_sq_backward(dout, q)
    return np.outer(dq, x), W.T @ dq


@checked(x="n", m="count1")
def dq_dW(x, m: int):
    """T[k, i, j] = d q_k / d W_ij = 1[k = i] x_j for q = W x, W (m, n): shape (m, m, n)."""
    return np.einsum("ki,j->kij", np.eye(m), x)


def numerical_jacobian(f, x, eps: float = 1e-6):
    """J[k, ...] = d f(x)_k / d x[...] by central differences: shape f(x).shape + x.shape."""
    if not callable(f):
        raise TypeError(f"f must be a function of x, got {type(f).__name__}")
    x = as_float_array(x, "x")
    out = np.asarray(f(x), dtype=np.float64)
    J = np.empty(out.shape + x.shape)
    for k in np.ndindex(out.shape):
        J[k] = numerical_gradient(lambda v, k=k: np.asarray(f(v))[k], x, eps)
    return J


@checked(x="n")
def relu_jacobian(x):
    """J = diag(1[x > 0]) for o = max(0, x): n x n entries, n of them possibly non-zero."""
    return np.diag((x > 0).astype(np.float64))


@checked(x="n", dout="n")
def relu_vjp(dout, x):
    """dx = J^T dout = dout * 1[x > 0], without building J; dout and x have shape (n,)."""
    return np.where(x > 0, dout, 0.0)  # not dout * (x > 0), which gives -0.0 for negative dout


def _measure(fn, repeat):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak


def jacobian_vs_vjp_cost(ns, rng, repeat: int = 3):
    """For each n: fastest time (s) and peak traced memory (bytes) of J^T dout vs dout * 1[x > 0].

    Returns a list of dicts with keys n, t_jacobian, t_vjp, peak_jacobian, peak_vjp.
    """
    if isinstance(ns, (str, bytes)) or not hasattr(ns, "__iter__"):
        raise TypeError(f"ns must be a sequence of sizes, got {type(ns).__name__} {ns!r}")
    ns = [as_count(n, "ns[i]", minimum=1) for n in ns]
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator (np.random.default_rng(seed)), "
                        f"got {type(rng).__name__}")
    repeat = as_count(repeat, "repeat", minimum=1)
    rows = []
    for n in ns:
        x, dout = rng.normal(size=n), rng.normal(size=n)
        t_j, m_j = _measure(lambda x=x, dout=dout: relu_jacobian(x).T @ dout, repeat)
        t_v, m_v = _measure(lambda x=x, dout=dout: relu_vjp(dout, x), repeat)
        rows.append(dict(n=int(n), t_jacobian=t_j, t_vjp=t_v, peak_jacobian=m_j, peak_vjp=m_v))
    return rows
