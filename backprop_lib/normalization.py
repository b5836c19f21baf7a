"""Batch and layer normalisation, forward and backward: one formula, two choices of axes.

    mu = mean of x over the axes A        nu = mean of (x - mu)^2 over A (biased)
    xhat = (x - mu) / sqrt(nu + eps)     o = gamma * xhat + beta
    dxhat = gamma * do
    dx = (dxhat - mean_A(dxhat) - xhat * mean_A(dxhat * xhat)) / sqrt(nu + eps)   (three terms)

The means divide by the group size, the number of entries averaged over (the product of the
sizes of the axes A: N for BatchNorm on X (N, D), D for LayerNorm); nu is the biased variance.
The two subtracted terms are the paths through mu and nu: both depend on every x in the group.

BatchNorm averages over the batch axis (A = 0 for X (N, D)); gamma and beta have the shape of
the axes that are kept, (D,). LayerNorm averages over the features (A = -1 for X (N, D) or
(B, T, D)); gamma and beta have the shape of the averaged axes, (D,). Any leading shape works:
``axis`` is an int or a tuple of ints.

A group with zero variance (a constant feature) gives xhat = 0 and o = beta; its dx is then
gamma (dout - mean(dout)) / sqrt(eps), finite for eps > 0. With eps = 0 that is 0 / 0, and
the forward pass raises ValueError instead of returning NaN.

Derived in: chapters/08_deep_networks.ipynb
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from ._validate import as_float_array, as_real, check_shape

__all__ = ["RunningStats", "batch_norm_forward", "batch_norm_backward", "layer_norm_forward",
           "layer_norm_backward", "NormCache"]


@dataclass
class RunningStats:
    """Running averages of BatchNorm's statistics, for evaluation mode (as PyTorch keeps them).

    After each training batch: mean <- (1 - momentum) mean + momentum mu,
    var <- (1 - momentum) var + momentum * nu * N / (N - 1)  (the unbiased variance; N is the
    group size, the batch size for X (N, D)).
    Start from ``RunningStats.start(shape)``: mean 0, var 1.
    """

    mean: np.ndarray
    var: np.ndarray
    momentum: float = 0.1

    @classmethod
    def start(cls, shape, momentum: float = 0.1) -> RunningStats:
        shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
        return cls(np.zeros(shape), np.ones(shape), float(momentum))


@dataclass(frozen=True)
class NormCache:
    """What the backward pass needs: xhat, 1/sqrt(nu + eps), gamma, the averaged axes."""

    xhat: np.ndarray
    inv_std: np.ndarray  # keepdims shape: broadcasts against x
    gamma: np.ndarray  # broadcast shape
    axes: tuple
    param_shape: tuple
    training: bool  # False: evaluation mode, mu and nu are constants (the running averages)


def _axes(axis, ndim: int, x_shape) -> tuple:
    items = axis if isinstance(axis, tuple) else (axis,)
    out = []
    for a in items:
        if isinstance(a, bool) or not isinstance(a, numbers.Integral):
            raise TypeError(f"axis must be an int or a tuple of ints, got {type(a).__name__} {a!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"axis must be in [{-ndim}, {ndim}) for x of shape {x_shape}, got {a}")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out) or not out:
        raise ValueError(f"axis must name distinct axes of x {x_shape}, got {axis!r}")
    return tuple(sorted(out))


def _eps(eps) -> float:
    eps = as_real(eps, "eps")
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    return eps


def _params(gamma, beta, shape: tuple, hint: str):
    gamma = as_float_array(gamma, "gamma")
    check_shape("gamma", gamma, shape, hint)
    beta = as_float_array(beta, "beta")
    check_shape("beta", beta, shape, hint)
    return gamma, beta


def _broadcast(p: np.ndarray, ndim: int, param_axes: tuple) -> np.ndarray:
    """Reshape a parameter of the shape of ``param_axes`` so that it broadcasts against x."""
    shape = [1] * ndim
    for a, s in zip(param_axes, p.shape, strict=True):
        shape[a] = s
    return p.reshape(shape)


def _mean(x, axes):
    """Mean over ``axes`` with kept dimensions (np.add.reduce: less overhead than np.mean)."""
    m = 1
    for a in axes:
        m *= x.shape[a]
    return np.add.reduce(x, axis=axes, keepdims=True) * (1.0 / m)


def _normalize(x, axes, eps, who):
    mu = _mean(x, axes)
    c = x - mu
    var = _mean(c * c, axes)  # biased: divide by the group size, as the forward pass uses
    if eps == 0 and np.any(var == 0):
        bad = tuple(int(i) for i in np.argwhere(var == 0)[0])
        raise ValueError(f"{who}: eps = 0 and x has zero variance over axis {axes} (first at index "
                         f"{bad} of the statistics): xhat = 0 / 0. Use eps > 0 (PyTorch's default is 1e-5)")
    return mu, var


def _forward(x, gamma_b, beta_b, mu, var, eps, axes, param_shape, training):
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    cache = NormCache(xhat, inv_std, gamma_b, axes, param_shape, training)
    return gamma_b * xhat + beta_b, cache


def batch_norm_forward(x, gamma, beta, *, axis=0, eps: float = 1e-5, running: RunningStats | None = None,
                       training: bool = True):
    """o = gamma * (x - mu) / sqrt(nu + eps) + beta, statistics over the batch axis ``axis``.

    x (N, D) with axis=0 (or any shape; gamma, beta have the shape of the axes kept, (D,)).
    training=True: mu, nu of this batch (and ``running`` updated in place if given);
    training=False: mu, nu = running.mean, running.var (evaluation mode; ``running`` required).
    A batch of one in training mode raises ValueError (nu would be 0 for every feature and o = beta,
    as PyTorch refuses too); so does eps = 0 with a zero variance. Returns (o, cache).
    """
    x = as_float_array(x, "x")
    if x.ndim == 0:
        raise ValueError("x must have at least 1 dimension (a batch axis), got shape ()")
    axes = _axes(axis, x.ndim, x.shape)
    kept = tuple(a for a in range(x.ndim) if a not in axes)
    param_shape = tuple(x.shape[a] for a in kept)
    gamma, beta = _params(gamma, beta, param_shape,
                          f"one per feature: the axes of x {x.shape} not averaged over ({axis!r})")
    eps = _eps(eps)
    if not isinstance(training, bool):
        raise TypeError(f"training must be True or False, got {type(training).__name__} {training!r}")
    if running is not None and not isinstance(running, RunningStats):
        raise TypeError(f"running must be a RunningStats, got {type(running).__name__}")
    m = int(np.prod([x.shape[a] for a in axes]))
    g, b = _broadcast(gamma, x.ndim, kept), _broadcast(beta, x.ndim, kept)
    if training:
        if m < 2:
            raise ValueError(f"x must have more than one value per feature over axis {axis!r} in training "
                             f"mode (batch_norm_forward); got shape {x.shape}. With one example nu = 0 and "
                             f"o = beta whatever x is; use training=False with running statistics")
        mu, var = _normalize(x, axes, eps, "batch_norm_forward")
        if running is not None:
            check_shape("running.mean", np.asarray(running.mean), param_shape)
            mom = running.momentum
            running.mean = (1 - mom) * running.mean + mom * mu.reshape(param_shape)
            running.var = (1 - mom) * running.var + mom * var.reshape(param_shape) * m / (m - 1)
    else:
        if running is None:
            raise ValueError("batch_norm_forward(training=False) needs running=RunningStats(...), "
                             "the averages collected in training")
        rm = as_float_array(running.mean, "running.mean")
        check_shape("running.mean", rm, param_shape)
        rv = as_float_array(running.var, "running.var")
        check_shape("running.var", rv, param_shape)
        mu, var = _broadcast(rm, x.ndim, kept), _broadcast(rv, x.ndim, kept)
        if eps == 0 and np.any(var == 0):
            raise ValueError("batch_norm_forward: eps = 0 and running.var has a zero entry: division by zero")
    return _forward(x, g, b, mu, var, eps, axes, param_shape, training)


def layer_norm_forward(x, gamma, beta, *, axis=-1, eps: float = 1e-5):
    """o = gamma * (x - mu) / sqrt(nu + eps) + beta, statistics over the features ``axis``.

    x (N, D) or (B, T, D), any leading shape, axis=-1 (an int or a tuple of axes); gamma and
    beta have the shape of the averaged axes, (D,). One feature (D = 1) gives xhat = 0 and
    o = beta (documented, not an error when eps > 0); eps = 0 with a zero variance raises
    ValueError. Returns (o, cache).
    """
    x = as_float_array(x, "x")
    if x.ndim == 0:
        raise ValueError("x must have at least 1 dimension (the features), got shape ()")
    axes = _axes(axis, x.ndim, x.shape)
    param_shape = tuple(x.shape[a] for a in axes)
    gamma, beta = _params(gamma, beta, param_shape,
                          f"one per feature: the axes of x {x.shape} averaged over ({axis!r})")
    eps = _eps(eps)
    mu, var = _normalize(x, axes, eps, "layer_norm_forward")
    g, b = _broadcast(gamma, x.ndim, axes), _broadcast(beta, x.ndim, axes)
    return _forward(x, g, b, mu, var, eps, axes, param_shape, True)


def _backward(dout, cache: NormCache, param_axes: tuple):
    """The three-term input gradient; dgamma, dbeta summed over the axes gamma is shared along."""
    xhat = cache.xhat
    shared = tuple(a for a in range(xhat.ndim) if a not in param_axes)
    dgamma = np.add.reduce(dout * xhat, axis=shared).reshape(cache.param_shape)
    dbeta = np.add.reduce(dout, axis=shared).reshape(cache.param_shape)
    dxhat = dout * cache.gamma
    if not cache.training:  # mu and nu are constants: only the direct path
        return dxhat * cache.inv_std, dgamma, dbeta
    axes = cache.axes
    dx = cache.inv_std * (dxhat - _mean(dxhat, axes)  # path through mu
                          - xhat * _mean(dxhat * xhat, axes))  # path through nu
    return dx, dgamma, dbeta


def _checked(dout, cache, forward: str):
    if not isinstance(cache, NormCache):
        raise TypeError(f"cache must be the NormCache returned by {forward}, got {type(cache).__name__}")
    dout = as_float_array(dout, "dout")
    if dout.shape != cache.xhat.shape:
        raise ValueError(f"dout must have the shape of x {cache.xhat.shape}, got {dout.shape}")
    return dout, cache


def batch_norm_backward(dout, cache):
    """dx = (dxhat - mean_N(dxhat) - xhat mean_N(dxhat xhat)) / sqrt(nu + eps), dxhat = gamma dout.

    dout has the shape of x; returns (dx, dgamma, dbeta), dgamma and dbeta summed over the batch.
    In evaluation mode mu and nu are constants and dx = gamma dout / sqrt(var + eps).
    """
    dout, cache = _checked(dout, cache, "batch_norm_forward")
    kept = tuple(a for a in range(cache.xhat.ndim) if a not in cache.axes)
    return _backward(dout, cache, kept)


def layer_norm_backward(dout, cache):
    """dx = (dxhat - mean_D(dxhat) - xhat mean_D(dxhat xhat)) / sqrt(nu + eps), dxhat = gamma dout.

    The same formula as BatchNorm's, with the means taken over the features; dgamma and dbeta
    are summed over every leading axis. Returns (dx, dgamma, dbeta).
    """
    dout, cache = _checked(dout, cache, "layer_norm_forward")
    return _backward(dout, cache, cache.axes)
