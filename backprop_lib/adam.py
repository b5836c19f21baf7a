"""Adam:  p <- p - lr m_hat / (sqrt(v_hat) + eps), with running averages m of g and v of g^2.

    m_t = beta1 m_{t-1} + (1 - beta1) g_t          (first moment: a running mean of g)
    v_t = beta2 v_{t-1} + (1 - beta2) g_t^2        (second moment: a running mean of g^2)
    m_hat = m_t / (1 - beta1^t),   v_hat = v_t / (1 - beta2^t)   (the averages start at 0)
    p_t = p_{t-1} - lr m_hat / (sqrt(v_hat) + eps)

Every operation is per coordinate (g^2, sqrt and the division are elementwise), with
t = 1, 2, ... the number of steps taken and m_0 = v_0 = 0. This is ``torch.optim.Adam`` with its
defaults (betas = (0.9, 0.999), eps = 1e-8, no weight decay, no amsgrad, no maximize), operation
for operation, so that a run of it and of PyTorch's from the same weights and gradients agree to
float rounding.

Adam uses the gradient but does not step along it. Each coordinate is divided by its own
sqrt(v_hat), the root mean square of its recent gradients: a coordinate whose gradient is
consistently g moves by lr * g / |g| = lr sign(g), whatever the size of g. The step is roughly
sign-like, of length about lr per coordinate, so the direction differs from -dL/dp whenever the
coordinates have gradients of different sizes, and lr is a distance in parameter space, not a
multiple of the gradient. The bias corrections undo the zero start: after the first step
m_hat = g and v_hat = g^2, so the first update is exactly -lr g / (|g| + eps).

Derived in: chapters/09_transformer_block.ipynb
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from ._validate import _TRUSTED, as_float_array, as_positive_float, as_real

__all__ = ["AdamState", "adam_init", "adam_step"]


@dataclass(frozen=True)
class AdamState:
    """Adam's memory: the step count t and the running moments m, v (dicts like the params)."""

    t: int
    m: dict
    v: dict


def _arrays(d, name: str) -> dict:
    if not isinstance(d, dict) or not d:
        raise TypeError(f"{name} must be a non-empty dict of arrays {{name: array}}, got {type(d).__name__}")
    return {k: as_float_array(v, f"{name}[{k!r}]") for k, v in d.items()}


def _like(d, name: str, params: dict, what: str) -> dict:
    """A dict with the keys of params, each array of the shape of its parameter."""
    d = _arrays(d, name)
    if d.keys() != params.keys():
        missing, extra = sorted(set(params) - set(d)), sorted(set(d) - set(params))
        raise ValueError(f"{name} must have the keys of params ({what}); missing {missing}, extra {extra}")
    for k, arr in d.items():
        if arr.shape != params[k].shape:
            raise ValueError(f"{name}[{k!r}] must have the shape of params[{k!r}] {params[k].shape}, "
                             f"got {arr.shape}")
    return d


def adam_init(params) -> AdamState:
    """AdamState(t = 0, m = 0, v = 0): zeros of the shape of every parameter.

    params: {name: array}. The zeros are why the bias corrections 1 - beta^t are needed.
    """
    params = _arrays(params, "params")
    return AdamState(0, {k: np.zeros_like(p) for k, p in params.items()},
                     {k: np.zeros_like(p) for k, p in params.items()})


def _betas(betas) -> tuple[float, float]:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2), got {type(betas).__name__} {betas!r}")
    out = []
    for i, b in enumerate(betas):
        b = as_real(b, f"betas[{i}]")
        if not 0.0 <= b < 1.0:
            raise ValueError(f"betas[{i}] must be in [0, 1), got {b}")
        out.append(b)
    return out[0], out[1]


def _eps(eps) -> float:
    eps = as_real(eps, "eps")
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    return eps


def adam_step(params, grads, state, *, lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
    """p <- p - lr m_hat / (sqrt(v_hat) + eps) for every array; returns (new_params, new_state).

    params, grads: {name: array}, grads with the keys and shapes of params; state: the AdamState
    of the previous step (adam_init(params) before the first). Nothing is changed in place.
    The operations are torch.optim.Adam's, in its order: m <- m + (1 - beta1)(g - m) (its lerp),
    v <- beta2 v + (1 - beta2) g^2, p <- p - (lr / (1 - beta1^t)) m / (sqrt(v) / sqrt(1 - beta2^t) + eps).
    """
    if not _TRUSTED.get():
        params = _arrays(params, "params")
        grads = _like(grads, "grads", params, "one gradient per parameter")
        if not isinstance(state, AdamState):
            raise TypeError(f"state must be the AdamState of adam_init or adam_step, "
                            f"got {type(state).__name__}")
        _like(state.m, "state.m", params, "from adam_init(params)")
        _like(state.v, "state.v", params, "from adam_init(params)")
        if isinstance(state.t, bool) or not isinstance(state.t, numbers.Integral) or state.t < 0:
            raise ValueError(f"state.t must be a step count >= 0, got {state.t!r}")
        lr = as_positive_float(lr, "lr")
        betas, eps = _betas(betas), _eps(eps)
    beta1, beta2 = betas
    t = state.t + 1
    step_size = lr / (1.0 - beta1 ** t)
    sqrt_c2 = (1.0 - beta2 ** t) ** 0.5
    new_p, new_m, new_v = {}, {}, {}
    for k, p in params.items():
        g = grads[k]
        m = state.m[k] + (1.0 - beta1) * (g - state.m[k])
        v = beta2 * state.v[k] + ((1.0 - beta2) * g) * g
        new_p[k] = p - (step_size * m) / (np.sqrt(v) / sqrt_c2 + eps)
        new_m[k], new_v[k] = m, v
    return new_p, AdamState(t, new_m, new_v)
