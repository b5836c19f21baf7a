"""A multi-layer perceptron of any depth (rows are examples), with what it takes to train deep.

    hidden layer l = 1 .. M-1:  z^l = a^{l-1} W^l + b^l,  a^l = f(norm(z^l))  [+ a^{l-1} if residual]
    output layer M:             out = a^{M-1} W^M + b^M
    loss:                       L = 1/(2N) sum (out - T)^2   (a mean over the N examples)

    backward:  dz^l = f'(.) * da^l (through norm's backward),  dW^l = a^{l-1 T} dz^l,
               da^{l-1} = dz^l W^{l T}  [+ da^l if residual: the identity path adds I]

X (N, D_in), W^l (D_{l-1}, D_l), b^l (D_l,). f is sigmoid, tanh or relu; norm is None, "batch"
(BatchNorm over the batch axis) or "layer" (LayerNorm over the features), each with its
gamma^l, beta^l (D_l,). Initial weights w ~ N(0, omega^2) with omega from ``init_std``.

Derived in: chapters/08_deep_networks.ipynb
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validate import as_count, as_float_array, as_positive_float, check_shape
from .activations import _sigmoid
from .clipping import _clip
from .normalization import _backward, _forward, _normalize

__all__ = ["ACTIVATIONS", "INITS", "NORMS", "init_std", "init_mlp", "mlp_forward", "mlp_backward",
           "mlp_gradients", "train_mlp", "MLPCache", "MLPGrads", "DeepTrainResult"]

ACTIVATIONS = ("sigmoid", "tanh", "relu")
INITS = ("normal", "xavier", "he")
NORMS = (None, "batch", "layer")

# f(z) and f'(z) written with the saved output a = f(z): sigma' = a(1 - a) <= 1/4, tanh' = 1 - a^2 <= 1
_F = {"sigmoid": _sigmoid, "tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0)}
_DF = {"sigmoid": lambda a: a * (1.0 - a), "tanh": lambda a: 1.0 - a * a, "relu": lambda a: (a > 0) * 1.0}


def _choice(value, name: str, options) -> object:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{name} must be one of {options}, got {type(value).__name__} {value!r}")
    if value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


def init_std(fan_in, fan_out, init: str = "he", scale: float = 1.0) -> float:
    """omega = scale * (1 | sqrt(2 / (fan_in + fan_out)) | sqrt(2 / fan_in)) for normal | xavier | he.

    Xavier/Glorot keeps Var(da) and Var(a) roughly constant for tanh (average of both
    conditions, fan_in omega^2 = 1 and fan_out omega^2 = 1); He keeps them constant for ReLU,
    which halves the variance (fan_in omega^2 / 2 = 1). "normal" is omega = scale.
    """
    fan_in, fan_out = as_count(fan_in, "fan_in", minimum=1), as_count(fan_out, "fan_out", minimum=1)
    init = _choice(init, "init", INITS)
    scale = as_positive_float(scale, "scale")
    base = {"normal": 1.0, "xavier": np.sqrt(2.0 / (fan_in + fan_out)), "he": np.sqrt(2.0 / fan_in)}[init]
    return float(scale * base)


def init_mlp(sizes, *, init: str = "he", scale: float = 1.0, norm: str | None = None, seed=0) -> list:
    """Layers [{"W": (D_{l-1}, D_l), "b": zeros (D_l,)}, ...] for sizes (D_in, D_1, ..., D_out).

    W ~ N(0, omega^2), omega = init_std(D_{l-1}, D_l, init, scale); with norm "batch" or "layer"
    every hidden layer also gets gamma = ones, beta = zeros. seed: an int for default_rng.
    """
    if not isinstance(sizes, (list, tuple)) or len(sizes) < 2:
        raise TypeError(f"sizes must be a list of at least two layer widths, got {type(sizes).__name__} "
                        f"{sizes!r}")
    sizes = [as_count(s, f"sizes[{i}]", minimum=1) for i, s in enumerate(sizes)]
    init, norm = _choice(init, "init", INITS), _choice(norm, "norm", NORMS)
    as_positive_float(scale, "scale")
    rng = np.random.default_rng(as_count(seed, "seed"))
    layers = []
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layer = {"W": rng.normal(0.0, init_std(d_in, d_out, init, scale), size=(d_in, d_out)),
                 "b": np.zeros(d_out)}
        if norm is not None and i < len(sizes) - 2:
            layer.update(gamma=np.ones(d_out), beta=np.zeros(d_out))
        layers.append(layer)
    return layers


def _check_params(params, X_shape, norm, residual) -> list:
    if not isinstance(params, (list, tuple)) or not params or not all(isinstance(p, dict) for p in params):
        raise TypeError(f"params must be a list of layer dicts (init_mlp), got {type(params).__name__}")
    out, d = [], X_shape[1]
    for i, p in enumerate(params):
        if "W" not in p or "b" not in p:
            raise TypeError(f"params[{i}] must hold 'W' and 'b', got keys {sorted(p)}")
        W = as_float_array(p["W"], f"params[{i}]['W']", ndim=2)
        if i == 0 and W.shape[0] != d:
            raise ValueError(f"X must have shape (any, {W.shape[0]}) for params[0]['W'] of shape {W.shape}, "
                             f"got {X_shape}")
        check_shape(f"params[{i}]['W']", W, (d, None), f"its rows match the width {d} of the layer below")
        q = {"W": W, "b": as_float_array(p["b"], f"params[{i}]['b']")}
        check_shape(f"params[{i}]['b']", q["b"], (W.shape[1],))
        hidden = i < len(params) - 1
        if norm is not None and hidden:
            for k in ("gamma", "beta"):
                if k not in p:
                    raise ValueError(f"params[{i}] has no {k!r}: norm={norm!r} needs gamma and beta in every "
                                     "hidden layer (init_mlp(..., norm=...))")
                q[k] = as_float_array(p[k], f"params[{i}][{k!r}]")
                check_shape(f"params[{i}][{k!r}]", q[k], (W.shape[1],))
        if residual and hidden and i > 0 and W.shape[0] != W.shape[1]:
            raise ValueError(f"params[{i}]['W'] must be square for a residual layer, got shape {W.shape}")
        out.append(q)
        d = W.shape[1]
    return out


@dataclass(frozen=True)
class MLPCache:
    """What mlp_forward keeps for the backward pass, with two measurements of the forward pass."""

    layers: list  # per layer: (a_prev, W, norm cache or None, h = f(.) output, residual?)
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
    last = len(params) - 1
    for i, p in enumerate(params):
        z = a @ p["W"] + p["b"]
        if i == last:
            cache.append((a, p["W"], None, None, False))
            return z, MLPCache(cache, activation, norm)
        nc = None
        if norm is not None:
            if norm == "batch" and z.shape[0] < 2:
                raise ValueError(f"norm='batch' in training mode needs more than one example; X has shape "
                                 f"{X.shape}")
            mu, var = _normalize(z, axes, 1e-5, f"mlp_forward layer {i + 1}")
            g = p["gamma"].reshape(1, -1)
            z, nc = _forward(z, g, p["beta"].reshape(1, -1), mu, var, 1e-5, axes, g.shape[1:], True)
        h = f(z)
        res = residual and i > 0
        cache.append((a, p["W"], nc, h, res))
        a = a + h if res else h  # y = x + F(x)
    raise AssertionError("unreachable")


def mlp_forward(X, params, *, activation: str = "tanh", norm: str | None = None, residual: bool = False):
    """out = a^{M-1} W^M + b^M after M-1 hidden layers a^l = f(norm(a^{l-1} W^l + b^l)) [+ a^{l-1}].

    X (N, D_in); params from init_mlp. BatchNorm uses the statistics of this batch (training
    mode, eps = 1e-5). residual=True adds the identity to every hidden layer after the first
    (their W must be square). Returns (out (N, D_out), cache).
    """
    X = as_float_array(X, "X", ndim=2)
    activation, norm = _choice(activation, "activation", ACTIVATIONS), _choice(norm, "norm", NORMS)
    if not isinstance(residual, bool):
        raise TypeError(f"residual must be True or False, got {type(residual).__name__} {residual!r}")
    params = _check_params(params, X.shape, norm, residual)
    return _forward_mlp(X, params, activation, norm, residual)


@dataclass
class MLPGrads:
    """Gradients of every layer (dicts like params) and dL/da^l for l = 0 .. M-1 (da[0] = dX)."""

    grads: list
    da: list

    @property
    def dW_norms(self) -> np.ndarray:
        """||dW^l|| (Frobenius) for l = 1 .. M."""
        return np.array([np.linalg.norm(g["W"]) for g in self.grads])

    @property
    def da_norms(self) -> np.ndarray:
        """||dL/da^l|| for l = 0 .. M-1 (index 0 is the input X)."""
        return np.array([np.linalg.norm(d) for d in self.da])


def _backward_mlp(dout, cache: MLPCache) -> MLPGrads:
    df = _DF[cache.activation]
    grads, da = [None] * len(cache.layers), [None] * len(cache.layers)
    d = dout  # dL/d(out of the current layer)
    for i in range(len(cache.layers) - 1, -1, -1):
        a_prev, W, nc, h, res = cache.layers[i]
        g = {}
        if h is None:  # the output layer: dz = dout
            dz = d
        else:
            dz = d * df(h)  # dh = da^l; dz = f'(z) * dh
            if nc is not None:
                dz, g["gamma"], g["beta"] = _backward(dz, nc, (1,))
        g["W"], g["b"] = a_prev.T @ dz, dz.sum(axis=0)
        d_prev = dz @ W.T
        if res:
            d_prev = d_prev + d  # the identity path: da^{l-1} += da^l
        grads[i], da[i] = g, d_prev
        d = d_prev
    return MLPGrads(grads, da)


def mlp_backward(dout, cache) -> MLPGrads:
    """dW^l = a^{l-1 T} dz^l, db^l = sum_rows dz^l, da^{l-1} = dz^l W^{l T} [+ da^l], for l = M .. 1.

    dout = dL/d out (N, D_out); cache from mlp_forward. Returns MLPGrads (grads per layer, and
    da[l] = dL/da^l with da[0] = dL/dX).
    """
    if not isinstance(cache, MLPCache):
        raise TypeError(f"cache must be the cache returned by mlp_forward, got {type(cache).__name__}")
    a_prev, W = cache.layers[-1][:2]
    dout = as_float_array(dout, "dout", ndim=2)
    check_shape("dout", dout, (a_prev.shape[0], W.shape[1]), "dout has the shape of the output")
    return _backward_mlp(dout, cache)


def mlp_gradients(X, T, params, *, activation: str = "tanh", norm: str | None = None,
                  residual: bool = False):
    """L = 1/(2N) sum (out - T)^2 and its gradients: dout = (out - T) / N. Returns (L, MLPGrads).

    X (N, D_in), T (N, D_out).
    """
    out, cache = mlp_forward(X, params, activation=activation, norm=norm, residual=residual)
    T = as_float_array(T, "T", ndim=2)
    check_shape("T", T, out.shape, "T has the shape of the output (N, D_out)")
    R = out - T
    return 0.5 * float((R * R).sum()) / len(T), _backward_mlp(R / len(T), cache)


@dataclass
class DeepTrainResult:
    """The trained layers, the loss before each step (and after the last), per-step gradient norms."""

    params: list
    losses: np.ndarray
    dW_norms: np.ndarray  # (steps, M): ||dW^l|| at each step, before clipping
    total_norms: np.ndarray  # (steps,): the global norm over every parameter, before clipping
    diverged: bool
    clipped: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # (steps,)


def train_mlp(X, T, params, *, steps: int = 20, lr: float = 0.1, activation: str = "tanh",
              norm: str | None = None, residual: bool = False, max_norm: float | None = None
              ) -> DeepTrainResult:
    """Full-batch gradient descent on L = 1/(2N) sum (out - T)^2; params are copied, not changed.

    max_norm: clip the global gradient norm to it before each step (clip_grad_norm). Stops
    early with ``diverged=True`` when the loss grows past 1e12 or is not finite (the rule of
    linear.train_linear).
    """
    X = as_float_array(X, "X", ndim=2)
    steps, lr = as_count(steps, "steps"), as_positive_float(lr, "lr")
    activation, norm = _choice(activation, "activation", ACTIVATIONS), _choice(norm, "norm", NORMS)
    if not isinstance(residual, bool):
        raise TypeError(f"residual must be True or False, got {type(residual).__name__} {residual!r}")
    if max_norm is not None:
        max_norm = as_positive_float(max_norm, "max_norm")
    params = [{k: v.copy() for k, v in p.items()} for p in _check_params(params, X.shape, norm, residual)]
    T = as_float_array(T, "T", ndim=2)
    check_shape("T", T, (X.shape[0], params[-1]["W"].shape[1]), "T has the shape of the output (N, D_out)")
    losses, norms, totals, clipped, diverged = [], [], [], [], False
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(steps + 1):
            out, cache = _forward_mlp(X, params, activation, norm, residual)
            R = out - T
            loss = 0.5 * float((R * R).sum()) / len(T)
            losses.append(loss if np.isfinite(loss) else np.inf)
            if not np.isfinite(loss) or loss > 1e12:
                diverged = True
                break
            if step == steps:
                break
            back = _backward_mlp(R / len(T), cache)
            flat = [g[k] for g in back.grads for k in sorted(g)]
            new, total = _clip(flat, max_norm) if max_norm is not None else (flat, None)
            norms.append(back.dW_norms)
            totals.append(np.sqrt(sum(float((g * g).sum()) for g in flat)) if total is None else total)
            clipped.append(max_norm is not None and total > max_norm)
            it = iter(new)
            for p, g in zip(params, back.grads, strict=True):
                for k in sorted(g):
                    p[k] = p[k] - lr * next(it)
    M = len(params)
    return DeepTrainResult(params, np.array(losses), np.array(norms).reshape(-1, M), np.array(totals),
                           diverged, np.array(clipped, dtype=bool))

