"""A multi-layer perceptron of any depth (rows are examples), with what it takes to train deep.

    hidden layer l = 1 .. M-1:  z^l = a^{l-1} W^l + b^l,  a^l = f(norm(z^l))  [+ a^{l-1} if residual]
    output layer M:             out = a^{M-1} W^M + b^M
    loss:                       L = 1/(2N) sum (out - y)^2   (a mean over the N examples; y the targets)

    backward:  dz^l = f'(.) * da^l (through norm's backward),  dW^l = a^{l-1 T} dz^l,
               da^{l-1} = dz^l W^{l T}  [+ da^l if residual: the identity path adds I]

X (N, D_in); params is a dict like network.py's: "W1" ... "WM" (D_{l-1}, D_l), "b1" ... "bM"
(D_l,), and with a normalisation "gamma1", "beta1" ... for the hidden layers. f is sigmoid,
tanh or relu; norm is None, "batch" (BatchNorm over the batch axis) or "layer" (LayerNorm over
the features). Initial weights w ~ N(0, omega^2) with omega from ``init_std``.

Derived in: chapters/08_deep_networks.ipynb
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validate import as_count, as_float_array, as_positive_float, check_shape, trusted
from .activations import sigmoid
from .clipping import _clip
from .normalization import _backward, _forward, _normalize
from .training import TrainResult, descend

__all__ = ["ACTIVATIONS", "INITS", "NORMS", "init_std", "init_mlp", "mlp_forward", "mlp_backward",
           "mlp_gradients", "train_mlp", "MLPCache", "MLPGrads", "DeepTrainResult"]

ACTIVATIONS = ("sigmoid", "tanh", "relu")
INITS = ("normal", "xavier", "he")
NORMS = (None, "batch", "layer")
EPS = 1e-5  # the normalisations' eps, PyTorch's default

# f(z) and f'(z) written with the saved output a = f(z): sigma' = a(1 - a) <= 1/4, tanh' = 1 - a^2 <= 1
_F = {"sigmoid": sigmoid, "tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0)}
_DF = {"sigmoid": lambda a: a * (1.0 - a), "tanh": lambda a: 1.0 - a * a, "relu": lambda a: (a > 0) * 1.0}


def _choice(value, name: str, options) -> object:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{name} must be one of {options}, got {type(value).__name__} {value!r}")
    if value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


def _flag(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return value


def init_std(fan_in, fan_out, init: str = "he", scale: float = 1.0) -> float:
    """omega = scale * (1 | sqrt(2 / (fan_in + fan_out)) | sqrt(2 / fan_in)) for normal | xavier | he.

    Xavier/Glorot averages the forward and backward conditions of tanh (fan_in omega^2 = 1 and
    fan_out omega^2 = 1); He keeps them for ReLU, which halves the variance (fan_in omega^2 / 2
    = 1, PyTorch's default mode "fan_in"). "normal" is omega = scale.
    """
    fan_in, fan_out = as_count(fan_in, "fan_in", minimum=1), as_count(fan_out, "fan_out", minimum=1)
    init = _choice(init, "init", INITS)
    scale = as_positive_float(scale, "scale")
    base = {"normal": 1.0, "xavier": np.sqrt(2.0 / (fan_in + fan_out)), "he": np.sqrt(2.0 / fan_in)}[init]
    return float(scale * base)


def init_mlp(sizes, *, init: str = "he", scale: float = 1.0, norm: str | None = None, seed=0) -> dict:
    """{"W1": (D_0, D_1), "b1": zeros (D_1,), ..., "WM", "bM"} for sizes (D_in, D_1, ..., D_out).

    W^l ~ N(0, omega^2), omega = init_std(D_{l-1}, D_l, init, scale); with norm "batch" or
    "layer" every hidden layer also gets gamma^l = ones, beta^l = zeros. seed: an int for
    default_rng.
    """
    if not isinstance(sizes, (list, tuple)) or len(sizes) < 2:
        raise TypeError(f"sizes must be a list of at least two layer widths, got {type(sizes).__name__} "
                        f"{sizes!r}")
    sizes = [as_count(s, f"sizes[{i}]", minimum=1) for i, s in enumerate(sizes)]
    init, norm = _choice(init, "init", INITS), _choice(norm, "norm", NORMS)
    as_positive_float(scale, "scale")
    rng = np.random.default_rng(as_count(seed, "seed"))
    params = {}
    M = len(sizes) - 1
    for layer, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        params[f"W{layer}"] = rng.normal(0.0, init_std(d_in, d_out, init, scale), size=(d_in, d_out))
        params[f"b{layer}"] = np.zeros(d_out)
        if norm is not None and layer < M:
            params[f"gamma{layer}"], params[f"beta{layer}"] = np.ones(d_out), np.zeros(d_out)
    return params


def _check_params(params, X_shape, norm, residual) -> dict:
    """The layers' arrays, checked once: W^l chain from X's width; b, gamma, beta one per unit."""
    if not isinstance(params, dict) or "W1" not in params:
        raise TypeError(f"params must be the dict of init_mlp ('W1', 'b1', ...), got {type(params).__name__}")
    M = 1
    while f"W{M + 1}" in params:
        M += 1
    out, d = {}, X_shape[1]
    for layer in range(1, M + 1):
        W = as_float_array(params[f"W{layer}"], f"W{layer}", ndim=2)
        if layer == 1 and W.shape[0] != d:
            raise ValueError(f"X must have shape (any, {W.shape[0]}) for W1 of shape {W.shape}, "
                             f"got {X_shape}")
        check_shape(f"W{layer}", W, (d, None), f"its rows match the width {d} of the layer below")
        keys = ["b"] + (["gamma", "beta"] if norm is not None and layer < M else [])
        out[f"W{layer}"] = W
        for k in keys:
            if f"{k}{layer}" not in params:
                raise ValueError(f"params has no {k}{layer!r}: " + (
                    f"norm={norm!r} needs gamma and beta in every hidden layer (init_mlp(..., norm=...))"
                    if k != "b" else "every layer has a bias"))
            out[f"{k}{layer}"] = as_float_array(params[f"{k}{layer}"], f"{k}{layer}")
            check_shape(f"{k}{layer}", out[f"{k}{layer}"], (W.shape[1],), "one per unit of the layer")
        if residual and 1 < layer < M and W.shape[0] != W.shape[1]:
            raise ValueError(f"W{layer} must be square for a residual layer, got shape {W.shape}")
        d = W.shape[1]
    return out


@dataclass(frozen=True)
class MLPCache:
    """What mlp_forward keeps for the backward pass, with three measurements of the forward pass."""

    layers: list  # per layer l = 1 .. M: (a^{l-1}, W^l, norm cache or None, h = f(.) output, residual?)
    activation: str
    norm: str | None

    def slopes_sq(self) -> np.ndarray:
        """mean over the batch and the units of f'(z^l)^2, for the hidden layers l = 1 .. M-1."""
        df = _DF[self.activation]
        return np.array([float(np.mean(df(h) ** 2)) for _, _, _, h, _ in self.layers[:-1]])

    def predicted_factors(self) -> np.ndarray:
        """r^l = sqrt(E[f'(z^l)^2] ||W^l||_F^2 / D_l): the expected ||da^{l-1}|| / ||da^l|| of a plain
        layer l = 1 .. M-1 (random W, f' independent of da; Chapter 8 derives it)."""
        w = np.array([float(np.sum(W * W)) / W.shape[1] for _, W, _, _, _ in self.layers[:-1]])
        return np.sqrt(self.slopes_sq() * w)

    def dead_fraction(self) -> np.ndarray:
        """For relu: the fraction of units of each hidden layer that are 0 for every example (dead)."""
        return np.array([float(np.mean(np.all(h <= 0, axis=0))) for _, _, _, h, _ in self.layers[:-1]])


def _forward_mlp(X, params, activation, norm, residual):
    f, axes, cache, a = _F[activation], {"batch": (0,), "layer": (1,)}.get(norm), [], X
    M = sum(k[0] == "W" for k in params)
    for layer in range(1, M + 1):
        W = params[f"W{layer}"]
        z = a @ W + params[f"b{layer}"]
        if layer == M:
            cache.append((a, W, None, None, False))
            return z, MLPCache(cache, activation, norm)
        nc = None
        if norm is not None:
            if norm == "batch" and z.shape[0] < 2:
                raise ValueError(f"X must have more than one example for norm='batch' (training mode); got "
                                 f"shape {X.shape}")
            mu, var = _normalize(z, axes, EPS, f"mlp_forward layer {layer}")
            g = params[f"gamma{layer}"].reshape(1, -1)
            beta = params[f"beta{layer}"].reshape(1, -1)
            z, nc = _forward(z, g, beta, mu, var, EPS, axes, g.shape[1:], True)
        h = f(z)
        res = residual and layer > 1
        cache.append((a, W, nc, h, res))
        a = a + h if res else h  # o = x + F(x)
    raise AssertionError("unreachable")


def mlp_forward(X, params, *, activation: str = "tanh", norm: str | None = None, residual: bool = False):
    """out = a^{M-1} W^M + b^M after M-1 hidden layers a^l = f(norm(a^{l-1} W^l + b^l)) [+ a^{l-1}].

    X (N, D_in); params from init_mlp. BatchNorm uses the statistics of this batch (training
    mode, eps = 1e-5). residual=True adds the identity to every hidden layer after the first
    (their W must be square). Returns (out (N, D_out), cache).
    """
    X = as_float_array(X, "X", ndim=2)
    activation, norm = _choice(activation, "activation", ACTIVATIONS), _choice(norm, "norm", NORMS)
    residual = _flag(residual, "residual")
    return _forward_mlp(X, _check_params(params, X.shape, norm, residual), activation, norm, residual)


@dataclass
class MLPGrads:
    """dL/dp for every parameter (a dict like params) and dL/da^l for l = 0 .. M-1 (da[0] = dX)."""

    grads: dict
    da: list

    @property
    def dW_norms(self) -> np.ndarray:
        """||dW^l|| (Frobenius) for l = 1 .. M."""
        return np.array([np.linalg.norm(self.grads[f"W{layer}"]) for layer in range(1, len(self.da) + 1)])

    @property
    def da_norms(self) -> np.ndarray:
        """||dL/da^l|| for l = 0 .. M-1 (index 0 is the input X)."""
        return np.array([np.linalg.norm(d) for d in self.da])


def _backward_mlp(dout, cache: MLPCache) -> MLPGrads:
    df = _DF[cache.activation]
    M = len(cache.layers)
    grads, da = {}, [None] * M
    d = dout  # dL/d(output of layer layer)
    for layer in range(M, 0, -1):
        a_prev, W, nc, h, res = cache.layers[layer - 1]
        if h is None:  # the output layer: dz = dout
            dz = d
        else:
            dz = d * df(h)  # dh = da^l; dz = f'(z) * dh
            if nc is not None:
                dz, grads[f"gamma{layer}"], grads[f"beta{layer}"] = _backward(dz, nc, (1,))
        grads[f"W{layer}"], grads[f"b{layer}"] = a_prev.T @ dz, dz.sum(axis=0)
        d_prev = dz @ W.T
        if res:
            d_prev = d_prev + d  # the identity path: da^{l-1} += da^l
        da[layer - 1] = d_prev
        d = d_prev
    return MLPGrads(grads, da)


def mlp_backward(dout, cache) -> MLPGrads:
    """dW^l = a^{l-1 T} dz^l, db^l = sum_rows dz^l, da^{l-1} = dz^l W^{l T} [+ da^l], for l = M .. 1.

    dout = dL/d out (N, D_out); cache from mlp_forward. Returns MLPGrads (grads per parameter,
    and da[layer] = dL/da^l with da[0] = dL/dX).
    """
    if not isinstance(cache, MLPCache):
        raise TypeError(f"cache must be the cache returned by mlp_forward, got {type(cache).__name__}")
    a_prev, W = cache.layers[-1][:2]
    dout = as_float_array(dout, "dout", ndim=2)
    check_shape("dout", dout, (a_prev.shape[0], W.shape[1]), "dout has the shape of the output")
    return _backward_mlp(dout, cache)


def _loss(X, y, params, activation, norm, residual):
    out, cache = _forward_mlp(X, params, activation, norm, residual)
    R = out - y
    return 0.5 * float((R * R).sum()) / len(y), out, (R / len(y), cache)


def mlp_gradients(X, y, params, *, activation: str = "tanh", norm: str | None = None,
                  residual: bool = False):
    """L = 1/(2N) sum (out - y)^2 and its gradients: dout = (out - y) / N. Returns (L, MLPGrads).

    X (N, D_in), y (N, D_out).
    """
    X = as_float_array(X, "X", ndim=2)
    activation, norm = _choice(activation, "activation", ACTIVATIONS), _choice(norm, "norm", NORMS)
    residual = _flag(residual, "residual")
    params = _check_params(params, X.shape, norm, residual)
    y = as_float_array(y, "y", ndim=2)
    check_shape("y", y, (X.shape[0], params[f"W{sum(k[0] == 'W' for k in params)}"].shape[1]),
                "y has the shape of the output (N, D_out)")
    loss, _, (dout, cache) = _loss(X, y, params, activation, norm, residual)
    return loss, _backward_mlp(dout, cache)


@dataclass
class DeepTrainResult(TrainResult):
    """training.TrainResult, plus what happened to the gradient at every step (before clipping)."""

    dW_norms: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (steps, M): ||dW^l||
    total_norms: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (steps,): global norm
    clipped: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # (steps,)


def train_mlp(X, y, params, *, steps: int = 20, lr: float = 0.1, activation: str = "tanh",
              norm: str | None = None, residual: bool = False, max_norm: float | None = None
              ) -> DeepTrainResult:
    """Full-batch gradient descent (training.descend) on L = 1/(2N) sum (out - y)^2.

    max_norm: clip the global gradient norm to it before each step (clipping.clip_grad_norm).
    Divergence is descend's rule: the loss passes 1e12, or an update overflows. The norms of
    every step's gradients are recorded before clipping. params are not changed.
    """
    X = as_float_array(X, "X", ndim=2)
    steps, lr = as_count(steps, "steps"), as_positive_float(lr, "lr")
    activation, norm = _choice(activation, "activation", ACTIVATIONS), _choice(norm, "norm", NORMS)
    residual = _flag(residual, "residual")
    if max_norm is not None:
        max_norm = as_positive_float(max_norm, "max_norm")
    params = _check_params(params, X.shape, norm, residual)
    M = sum(k[0] == "W" for k in params)
    y = as_float_array(y, "y", ndim=2)
    check_shape("y", y, (X.shape[0], params[f"W{M}"].shape[1]), "y has the shape of the output (N, D_out)")
    norms, totals, clipped = [], [], []

    def backward(cache):
        back = _backward_mlp(*cache)
        names = list(back.grads)
        flat, total = _clip([back.grads[k] for k in names], max_norm if max_norm is not None else np.inf)
        norms.append(back.dW_norms)
        totals.append(total)
        clipped.append(max_norm is not None and total > max_norm)
        return dict(zip(names, flat, strict=True))

    with trusted():
        run = descend(lambda p: _loss(X, y, p, activation, norm, residual), backward, params, lr, steps)
    return DeepTrainResult(run.params, run.losses, run.output, run.diverged, np.array(norms).reshape(-1, M),
                           np.array(totals), np.array(clipped, dtype=bool))
