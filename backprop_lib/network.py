"""Two-layer network  a1 = sigmoid(W1 a0 + b1),  a2 = softmax(W2 a1 + b2),  L = 1/2 sum (a2 - y)^2.

The loss is a choice (keyword ``loss`` of loss, backward, gradients, train): "squared_error"
(the default, as in the notes) or "cross_entropy", L = -sum_j y_j log a2_j, for which the
softmax Jacobian cancels and delta2 = a2 - y (backprop_lib.cross_entropy).

Column convention, as in the notes: w^l_jk connects neuron k of layer l-1 to neuron j of
layer l, so W1 has shape (H, D) and W2 has shape (K, H); an input is a vector (D,) or a batch
of N columns (D, N). For a batch the loss is the mean over examples of the per-example loss.

Backward, with delta^l = dL/dz^l:
    delta2 = J_softmax^T (a2 - y)            dW2 = delta2 a1^T    db2 = delta2
             (cross-entropy: a2 - y)
    delta1 = a1 (1 - a1) * (W2^T delta2)     dW1 = delta1 a0^T    db1 = delta1
(summed over the batch columns for the parameter gradients).

Derived in: chapters/04_network_by_hand.ipynb
"""

from __future__ import annotations

import numpy as np

from ._validate import as_count, as_float_array, as_positive_float, check_shape
from .activations import _sigmoid, _softmax
from .cross_entropy import _cross_entropy

LOSSES = ("squared_error", "cross_entropy")

__all__ = ["PARAM_NAMES", "LOSSES", "example", "forward", "loss", "backward", "gradients",
           "sgd_step", "train", "TrainRun"]

PARAM_NAMES = ("W1", "b1", "W2", "b2")


def example() -> dict:
    """The worked example of the notes: {"x": a0 (3,), "y": (2,), "params": {W1, b1, W2, b2}}."""
    params = {
        "W1": np.array([[0.2, -0.3, 0.5],
                        [0.7, 0.1, -0.2],
                        [-0.5, 0.4, 0.3],
                        [0.1, -0.4, 0.2]]),
        "b1": np.array([0.1, -0.2, 0.05, 0.0]),
        "W2": np.array([[0.3, -0.6, 0.2, 0.1],
                        [-0.2, 0.1, 0.4, -0.5]]),
        "b2": np.array([0.05, -0.1]),
    }
    return {"x": np.array([1.0, 0.5, -1.0]), "y": np.array([1.0, 0.0]), "params": params}


def _params(params) -> dict:
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict with keys {PARAM_NAMES}, got {type(params).__name__}")
    if set(PARAM_NAMES) - set(params):
        raise ValueError(f"params must be a dict with keys {PARAM_NAMES}, got keys {sorted(params)}")
    p = {k: as_float_array(params[k], k) for k in PARAM_NAMES}
    check_shape("W1", p["W1"], (None, None), "(H, D): row j holds the weights into neuron j")
    H, D = p["W1"].shape
    check_shape("b1", p["b1"], (H,))
    check_shape("W2", p["W2"], (None, H), "(K, H)")
    check_shape("b2", p["b2"], (p["W2"].shape[0],))
    return p


def _col(b, x):
    """Bias as a column when x is a batch of columns."""
    return b if x.ndim == 1 else b[:, None]


def forward(x, params) -> dict:
    """Forward pass; returns the cache {a0, z1, a1, z2, a2, params} that backward needs.

    x: (D,) or (D, N). z1, a1: (H,) or (H, N). z2, a2: (K,) or (K, N).
    """
    p = _params(params)
    return _forward(_input(x, p), p)


def _input(x, p):
    a0 = as_float_array(x, "x", ndim=(1, 2))
    check_shape("x", a0, (p["W1"].shape[1],) + a0.shape[1:], "one input per column")
    return a0


def _forward(a0, p) -> dict:
    """forward without input checks (for training loops that checked once)."""
    z1 = p["W1"] @ a0 + _col(p["b1"], a0)
    a1 = _sigmoid(z1)
    z2 = p["W2"] @ a1 + _col(p["b2"], a1)
    a2 = _softmax(z2, 0)
    return {"a0": a0, "z1": z1, "a1": a1, "z2": z2, "a2": a2, "params": p}


def _batch(a0) -> int:
    return 1 if a0.ndim == 1 else a0.shape[1]


def _cache(cache) -> dict:
    if not isinstance(cache, dict) or not {"a0", "a1", "a2", "params"} <= set(cache):
        raise TypeError(f"cache must be the dict returned by forward, got {type(cache).__name__}")
    return cache


def _target(y, cache):
    y = as_float_array(y, "y")
    check_shape("y", y, cache["a2"].shape, "the target has the shape of the softmax output")
    return y


def _loss_name(loss, y) -> str:
    """Check the loss name; cross-entropy needs one distribution per column of y (delta2 = a2 - y)."""
    if not isinstance(loss, str):
        raise TypeError(f"loss must be one of {LOSSES}, got {type(loss).__name__} {loss!r}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    if loss == "cross_entropy" and (np.any(y < 0) or not np.allclose(y.sum(axis=0), 1.0, rtol=0, atol=1e-9)):
        raise ValueError("y must hold one distribution per column (entries >= 0 summing to 1, e.g. "
                         f"one-hot) for loss='cross_entropy'; got column sums {np.round(y.sum(axis=0), 6)}")
    return loss


def loss(cache, y, loss: str = "squared_error") -> float:
    """L = (1/N) sum over examples of 1/2 sum_j (a2_j - y_j)^2; for one example 1/2 ||a2 - y||^2.

    loss="cross_entropy": L = -(1/N) sum over examples of sum_j y_j log a2_j, computed from the
    logits z2 (log-softmax), so it stays finite when a2_j rounds to 0.
    """
    cache = _cache(cache)
    y = _target(y, cache)
    return _loss(cache, y, _loss_name(loss, y))


def _loss(cache, y, loss: str = "squared_error") -> float:
    if loss == "cross_entropy":
        return _cross_entropy(cache["z2"], y)
    d = cache["a2"] - y
    return 0.5 * float((d * d).sum()) / _batch(cache["a0"])


def backward(cache, y, loss: str = "squared_error") -> dict:
    """Every error signal and gradient, each shaped like its variable.

    Keys: loss, dL_da2, delta2 (= dL/dz2), dW2, db2, dL_da1 (= W2^T delta2),
    dsigma1 (= a1 (1 - a1)), delta1 (= dL/dz1), dW1, db1, dL_da0 (= W1^T delta1).
    loss="cross_entropy": dL_da2 = -y / a2 (/ N) and delta2 = (a2 - y) / N, fused.
    """
    cache = _cache(cache)
    y = _target(y, cache)
    return _backward(cache, y, loss=_loss_name(loss, y))


def _backward(cache, y, input_grad: bool = True, loss: str = "squared_error") -> dict:
    """backward without input checks; training skips dL/da0 (input_grad=False), which it never uses."""
    a0, a1, a2, p = cache["a0"], cache["a1"], cache["a2"], cache["params"]
    n = _batch(a0)
    if loss == "cross_entropy":
        with np.errstate(divide="ignore"):  # -y/a2 is -inf where a2 rounded to 0; delta2 is not
            dL_da2 = np.where(y == 0, 0.0, -y / a2) / n  # d(-y_m log a2_m)/da2_m
        delta2 = (a2 - y) / n  # J^T dL/da2 = a2 sum_m y_m - y = a2 - y: the Jacobian cancels
    else:
        dL_da2 = (a2 - y) / n  # dL/da2_m = dL_m/da2_m = a2_m - y_m (per example)
        # softmax VJP: sum_m dL/da2_m * a2_m (delta_mj - a2_j) = a2 * (dL/da2 - sum_m a2_m dL/da2_m)
        delta2 = a2 * (dL_da2 - (a2 * dL_da2).sum(axis=0, keepdims=True))
    dL_da1 = p["W2"].T @ delta2  # dz2_i / da1_j = w2_ij
    dsigma1 = a1 * (1.0 - a1)  # sigma'(z1) = sigma (1 - sigma)
    delta1 = dsigma1 * dL_da1
    grads = {
        "loss": _loss(cache, y, loss),
        "dL_da2": dL_da2, "delta2": delta2,
        "dW2": _outer(delta2, a1), "db2": _sum_cols(delta2),
        "dL_da1": dL_da1, "dsigma1": dsigma1, "delta1": delta1,
        "dW1": _outer(delta1, a0), "db1": _sum_cols(delta1),
    }
    if input_grad:
        grads["dL_da0"] = p["W1"].T @ delta1
    return grads


def _outer(delta, a_prev):
    # dL/dw_jk = delta_j a_prev_k, summed over the batch columns
    return delta[:, None] * a_prev[None, :] if delta.ndim == 1 else delta @ a_prev.T


def _sum_cols(delta):
    return delta if delta.ndim == 1 else delta.sum(axis=1)


def gradients(x, y, params, loss: str = "squared_error") -> dict:
    """{W1, b1, W2, b2}: dL/d(parameter), each with the parameter's shape (loss: see ``loss``)."""
    g = backward(forward(x, params), y, loss=loss)
    return {k: g["d" + k] for k in PARAM_NAMES}


def sgd_step(params, grads, lr: float) -> dict:
    """A new params dict  p <- p - lr * dL/dp  (params and grads keyed W1, b1, W2, b2)."""
    p = _params(params)
    lr = as_positive_float(lr, "lr")
    if not isinstance(grads, dict):
        raise TypeError(f"grads must be a dict with keys {PARAM_NAMES}, got {type(grads).__name__}")
    if set(PARAM_NAMES) - set(grads):
        raise ValueError(f"grads must be a dict with keys {PARAM_NAMES}, got keys {sorted(grads)}")
    new = {}
    for k in PARAM_NAMES:
        g = as_float_array(grads[k], f"grads[{k!r}]", finite=False)
        check_shape(f"grads[{k!r}]", g, p[k].shape, f"the shape of {k}")
        new[k] = p[k] - lr * g
    return new


def _flat(arrays: dict):
    """One float64 vector holding every array, and {name: view of it with the array's shape}."""
    flat = np.concatenate([a.ravel() for a in arrays.values()]).astype(float)
    views, start = {}, 0
    for k, a in arrays.items():
        views[k] = flat[start:start + a.size].reshape(a.shape)
        start += a.size
    return flat, views


class TrainRun(tuple):
    """What ``train`` returns: unpacks as ``(params, losses)``; also ``.diverged`` (bool).

    When the parameters (their sum) or the loss stop being finite (a learning rate far too large),
    training stops there: ``params`` are the last finite ones, ``losses`` holds only the
    finite losses computed (fewer than steps + 1) and ``diverged`` is True. No exception,
    no NaN in ``losses``.
    """

    def __new__(cls, params, losses, diverged: bool):
        run = super().__new__(cls, (params, losses))
        run.diverged = bool(diverged)
        return run

    @property
    def params(self) -> dict:
        return self[0]

    @property
    def losses(self) -> np.ndarray:
        return self[1]


def train(x, y, params, lr: float, steps: int, loss: str = "squared_error") -> TrainRun:
    """Full-batch gradient descent; returns (params after `steps` steps, losses (steps + 1,)).

    loss: "squared_error" (default) or "cross_entropy", as in ``loss``.

    losses[t] is the loss before step t; losses[-1] is the loss of the returned params.
    The result is a TrainRun: ``p, losses = train(...)`` works, and ``.diverged`` says
    whether training stopped early because the numbers overflowed (see TrainRun).
    """
    p = _params(params)
    a0 = _input(x, p)
    y = _target(y, {"a2": _forward(a0, p)["a2"]})
    lr = as_positive_float(lr, "lr")
    steps = as_count(steps, "steps")
    loss = _loss_name(loss, y)
    losses = np.empty(steps + 1)
    # All four parameters live in one flat vector (and their gradients in another), so that a
    # step is one subtraction and the divergence test one sum: with arrays this small, numpy's
    # per-call overhead, not arithmetic, is what a training step costs.
    theta, p = _flat({k: p[k] for k in PARAM_NAMES})
    grad, g_views = _flat({k: np.zeros_like(p[k]) for k in PARAM_NAMES})
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps + 1):
            cache = _forward(a0, p)
            if t == steps:
                losses[t] = _loss(cache, y, loss)
                break
            g = _backward(cache, y, input_grad=False, loss=loss)
            losses[t] = g["loss"]
            for k in PARAM_NAMES:
                g_views[k][...] = g["d" + k]
            new = theta - lr * grad
            # one finite sum means every entry is finite (a sum past 1e308 also counts as diverged)
            if not np.isfinite(new.sum()):
                return TrainRun(p, losses[: t + 1], True)  # keep the last finite parameters
            theta[...] = new  # p holds views into theta: updated in place
    if not np.isfinite(losses[-1]):
        return TrainRun(p, losses[:-1], True)
    return TrainRun(p, losses, False)
