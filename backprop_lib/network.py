"""Two-layer network  a1 = sigmoid(W1 a0 + b1),  a2 = softmax(W2 a1 + b2),  L = 1/2 sum (a2 - y)^2.

The loss is a choice (``loss=``): "squared_error" (the worked example's) or "cross_entropy",
L = -sum_j y_j log a2_j, whose delta2 = a2 - y (the softmax Jacobian cancels; chapter 4).

Column convention, as in the notes: w^l_jk connects neuron k of layer l-1 to neuron j of
layer l, so W1 has shape (H, D_in) and W2 has shape (D_out, H); an input is a vector (D_in,) or a
batch of N columns (D_in, N). For a batch the loss is the mean over examples of the per-example loss.

Backward, with delta^l = dL/dz^l:
    delta2 = J_softmax^T (a2 - y)            dW2 = delta2 a1^T    db2 = delta2
    delta1 = a1 (1 - a1) * (W2^T delta2)     dW1 = delta1 a0^T    db1 = delta1
(summed over the batch columns for the parameter gradients).

Derived in: chapters/04_network_by_hand.ipynb
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, check_shape, checked, dict_of
from .activations import sigmoid, softmax, softmax_vjp
from .cross_entropy import cross_entropy
from .losses import squared_error
from .training import TrainResult, descend

__all__ = ["PARAM_NAMES", "LOSSES", "example", "forward", "loss", "backward", "gradients",
           "sgd_step", "train"]

LOSSES = ("squared_error", "cross_entropy")

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


# The shapes every function of this module checks at its door: W1 (H, D_in): row j holds the
# weights into hidden neuron j; W2 (D_out, H); an input is a column (D_in,) or N columns (D_in, N).
# (The signatures below write D_in as plain D, and their error messages name it so.)
_PARAMS = dict_of(f"a dict with keys {PARAM_NAMES}", W1="H D", b1="H", W2="D_out H", b2="D_out")
_CACHE = dict_of("the dict returned by forward", a0="D N?", a1="H N?", a2="D_out N?")


def _col(b, x):
    """Bias as a column when x is a batch of columns."""
    return b if x.ndim == 1 else b[:, None]


@checked(params=_PARAMS, x="D N?")
def forward(x, params) -> dict:
    """Forward pass; returns the cache {a0, z1, a1, z2, a2, params} that backward needs.

    x: (D_in,) or (D_in, N). z1, a1: (H,) or (H, N). z2, a2: (D_out,) or (D_out, N).
    """
    p, a0 = params, x
    z1 = p["W1"] @ a0 + _col(p["b1"], a0)
    a1 = sigmoid(z1)
    z2 = p["W2"] @ a1 + _col(p["b2"], a1)
    a2 = softmax(z2, axis=0)
    return {"a0": a0, "z1": z1, "a1": a1, "z2": z2, "a2": a2, "params": p}


def _batch(a0) -> int:
    return 1 if a0.ndim == 1 else a0.shape[1]


def _loss_name(loss, name, sizes, source):  # noqa: ARG001 (the signature @checked calls)
    if not isinstance(loss, str):
        raise TypeError(f"loss must be one of {LOSSES}, got {type(loss).__name__} {loss!r}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    return loss


def _distributions(y, loss):
    """Cross-entropy's delta2 = a2 - y needs one distribution per column of y."""
    if loss == "cross_entropy" and (np.any(y < 0) or not np.allclose(y.sum(axis=0), 1.0, rtol=0,
                                                                      atol=1e-9)):
        raise ValueError("y must hold one distribution per column (entries >= 0 summing to 1, "
                         "e.g. one-hot) for loss='cross_entropy'; got column sums "
                         f"{np.round(y.sum(axis=0), 6)}")


@checked(cache=_CACHE, y="D_out N?", loss=_loss_name)
def loss(cache, y, loss: str = "squared_error") -> float:
    """L = (1/N) sum over examples of 1/2 sum_j (a2_j - y_j)^2; for one example 1/2 ||a2 - y||^2.

    The mean over the batch, unlike losses.squared_error (a sum, as the attention notes use it):
    the source's 3-4-2 network averages, so that the learning rate does not depend on N.
    loss="cross_entropy": L = -(1/N) sum over examples of sum_j y_j log a2_j, computed from the
    logits z2 (log-softmax), so it stays finite when a2_j rounds to 0.
    """
    _distributions(y, loss)
    if loss == "cross_entropy":
        return cross_entropy(cache["z2"], y)
    return squared_error(cache["a2"], y) / _batch(cache["a0"])


_loss_of = loss  # below, the argument `loss` (the loss's name) hides the function


@checked(cache=_CACHE, y="D_out N?", loss=_loss_name)
def backward(cache, y, loss: str = "squared_error") -> dict:
    """Every error signal and gradient, each shaped like its variable.

    Keys: loss, dL_da2, delta2 (= dL/dz2), dW2, db2, dL_da1 (= W2^T delta2),
    dsigma1 (= a1 (1 - a1)), delta1 (= dL/dz1), dW1, db1, dL_da0 (= W1^T delta1).
    loss="cross_entropy": dL_da2 = -y / a2 (/ N) and delta2 = (a2 - y) / N, fused.
    """
    _distributions(y, loss)
    a0, a1, a2, p = cache["a0"], cache["a1"], cache["a2"], cache["params"]
    n = _batch(a0)
    if loss == "cross_entropy":
        with np.errstate(divide="ignore"):  # -y/a2 is -inf where a2 rounded to 0; delta2 is not
            dL_da2 = np.where(y == 0, 0.0, -y / a2) / n  # d(-y_m log a2_m)/da2_m
        delta2 = (a2 - y) / n  # J^T dL/da2 = a2 sum_m y_m - y = a2 - y: the Jacobian cancels
    else:
        dL_da2 = (a2 - y) / n  # dL/da2_m = dL_m/da2_m = a2_m - y_m (per example)
        # softmax VJP: sum_m dL/da2_m * a2_m (1[m = j] - a2_j) = a2 * (dL/da2 - sum_m a2_m dL/da2_m)
        delta2 = softmax_vjp(dL_da2, a2, axis=0)
    dL_da1 = p["W2"].T @ delta2  # dz2_i / da1_j = w2_ij
    dsigma1 = a1 * (1.0 - a1)  # sigma'(z1) = sigma (1 - sigma)
    delta1 = dsigma1 * dL_da1
    return {
        "loss": _loss_of(cache, y, loss),
        "dL_da2": dL_da2, "delta2": delta2,
        "dW2": _outer(delta2, a1), "db2": _sum_cols(delta2),
        "dL_da1": dL_da1, "dsigma1": dsigma1, "delta1": delta1,
        "dW1": _outer(delta1, a0), "db1": _sum_cols(delta1),
        "dL_da0": p["W1"].T @ delta1,
    }


def _outer(delta, a_prev):
    # dL/dw_jk = delta_j a_prev_k, summed over the batch columns
    return delta[:, None] * a_prev[None, :] if delta.ndim == 1 else delta @ a_prev.T


def _sum_cols(delta):
    return delta if delta.ndim == 1 else delta.sum(axis=1)


def gradients(x, y, params, loss: str = "squared_error") -> dict:
    """{W1, b1, W2, b2}: dL/d(parameter), each with the parameter's shape."""
    g = backward(forward(x, params), y, loss)
    return {k: g["d" + k] for k in PARAM_NAMES}


@checked(params=_PARAMS, lr="positive")
def sgd_step(params, grads, lr: float) -> dict:
    """A new params dict  p <- p - lr * dL/dp  (params and grads keyed W1, b1, W2, b2)."""
    p = params
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


@checked(params=_PARAMS, x="D N?", y="D_out N?", lr="positive", steps="count", loss=_loss_name)
def train(x, y, params, lr: float, steps: int, loss: str = "squared_error") -> TrainResult:
    """Full-batch gradient descent; returns a TrainResult (params after `steps` steps, losses).

    loss: "squared_error" (default) or "cross_entropy", as in ``loss``.

    losses[t] is the loss before step t; losses[-1] is the loss of the returned params.
    ``p, losses = train(...)`` works; ``.diverged`` says whether training stopped early
    (training.descend's rule, the same for every loop of the course).
    """
    _distributions(y, loss)

    def forward_loss(p):
        cache = forward(x, p)
        return _loss_of(cache, y, loss), cache["a2"], cache

    def backward_params(cache):
        g = backward(cache, y, loss)
        return {k: g["d" + k] for k in PARAM_NAMES}

    return descend(forward_loss, backward_params, {k: params[k] for k in PARAM_NAMES}, lr, steps)
