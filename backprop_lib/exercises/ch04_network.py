"""Chapter 4 exercises: the error signals of the 3-4-2 network (column convention).

    softmax VJP:   dz = J^T dout = a * (dout - sum(a * dout))      a = softmax(z), z (D_out,)
    hidden delta:  delta1 = a1 (1 - a1) * (W2^T delta2)            a1 = sigma(z1), W2 (D_out, H)
    softmax + cross-entropy, batch mean:  dz = (softmax(z) - y) / N   z, y (D_out, N), y one-hot
    the whole batched backward of the network (build it):
        delta2 = J^T (a2 - y) / N,  delta1 = a1 (1 - a1) * (W2^T delta2)      x (D_in, N), y (D_out, N)
        dW1 = delta1 x^T,  db1 = delta1 summed over the columns,  dW2 = delta2 a1^T,  db2 likewise

Derived in: chapters/04_network_by_hand.ipynb
"""

from __future__ import annotations

import numpy as np

from .. import network as nw
from ..activations import sigmoid, softmax, softmax_vjp
from ..cross_entropy import cross_entropy
from ._checker import Case, Exercise, Mistake


def _softmax_cases(rng):
    return [Case({"z": rng.normal(size=k)}) for k in (2, 3, 5, 4)]


SOFTMAX_VJP = Exercise(
    name="softmax_vjp", signature="softmax_vjp(dout, a) -> dz",
    returns="dz = dL/dz with the shape (D_out,) of z, computed from dout and the saved output a",
    forward=lambda z: softmax(z),
    call=lambda fn, p, dout: fn(dout, softmax(p["z"])),
    cases=_softmax_cases,
    mistakes=(
        Mistake(lambda p, d: (d * softmax(p["z"]) * (1 - softmax(p["z"])),), "diagonal", """
            you kept only the diagonal of the Jacobian, a_m (1 - a_m), as if each output depended on its
            own input only. Every a_m also depends on every z_j through the shared denominator:
            J[m, j] = a_m (1[m = j] - a_j)."""),
        Mistake(lambda p, d: (softmax(p["z"]) * (d - d.sum()),), "weights", """
            the sum must be weighted by a: dz_j = a_j (dout_j - sum_m a_m dout_m)."""),
        Mistake(lambda p, d: (d - softmax(p["z"]) @ d,), "factor_a", """
            you computed dout - (a . dout) and forgot the factor a in front: dz_j = a_j (dout_j - sum_m
            a_m dout_m). (With dout all ones both are 0, so only a random upstream gradient shows the
            difference.)"""),
    ),
)


def _delta_cases(rng):
    cases = []
    for h, k, n in [(4, 2, None), (4, 2, 3), (5, 3, None), (3, 1, 2)]:
        z1 = rng.normal(size=(h,) if n is None else (h, n))
        cases.append(Case({"z1": z1, "W2": rng.normal(size=(k, h))}, batch=n))
    return cases


def _z2(z1, W2):
    return W2 @ sigmoid(z1)


HIDDEN_DELTA = Exercise(
    name="hidden_delta", signature="hidden_delta(delta2, W2, a1) -> delta1",
    returns="delta1 = dL/dz1, with the shape of a1: (H,) for one example, (H, N) for a batch",
    grads=(("delta1", "z1"),),
    forward=_z2,
    call=lambda fn, p, d2: fn(d2, p["W2"], sigmoid(p["z1"])),
    cases=_delta_cases,
    mistakes=(
        Mistake(lambda p, d: (p["W2"].T @ d,), "local", """
            you stopped at dL/da1 = W2^T delta2; delta1 is the gradient with respect to z1, one step
            further back through the sigmoid: multiply element-wise by a1 (1 - a1)."""),
        Mistake(lambda p, d: (sigmoid(p["z1"]) * (p["W2"].T @ d),), "local", """
            the sigmoid's local gradient is a1 (1 - a1), not a1."""),
    ),
)

def _ce_cases(rng):
    cases = []
    for k, n in [(2, 3), (3, 1), (5, 4), (4, 2)]:  # first: the chapter's two classes, a batch of 3
        y = np.eye(k)[:, rng.integers(0, k, size=n)]
        cases.append(Case({"z": 2.0 * rng.normal(size=(k, n)), "y": y}, batch=n))
    return cases


def _scaled(fn, p, dout):
    """The reader returns dL/dz of the mean loss; the checker's upstream gradient scales it."""
    dz = fn(p["z"], p["y"])
    if dz is None or isinstance(dz, (tuple, list)):
        return dz
    return dout * np.asarray(dz, dtype=float)


def _a(p):
    return softmax(p["z"], 0)


SOFTMAX_CROSS_ENTROPY = Exercise(
    name="softmax_cross_entropy", signature="softmax_cross_entropy_backward(z, y) -> dz",
    returns="dz = dL/dz of the mean cross-entropy, with the shape (D_out, N) of z",
    forward=lambda z, y: cross_entropy(z, y),
    call=_scaled,
    cases=_ce_cases,
    mistakes=(
        Mistake(lambda p, d: (d * (_a(p) - p["y"]),), "mean", """
            you forgot the mean over the batch: L = (1/N) sum_n L_n, so every column of dz is (a - y) /
            N, with N = z.shape[1] the number of examples."""),
        Mistake(lambda p, d: (d * _a(p) / p["z"].shape[1],), "target", """
            you used a instead of a - y: the target enters the gradient, dz = (a - y) / N (from
            dL/da_j = -y_j / a_j through the softmax Jacobian)."""),
        Mistake(lambda p, d: (d * _a(p),), "target", """
            you used a instead of a - y, and left out the mean over the batch: dz = (a - y) / N."""),
        Mistake(lambda p, d: (d * softmax_vjp((_a(p) - p["y"]) / p["z"].shape[1], _a(p)),),
                "jacobian_twice", """
            you applied the softmax Jacobian to a - y. But a - y is already dL/dz: the Jacobian was used
            once to get there (J^T (-y / a) = a - y). Applying it again differentiates through the
            softmax twice."""),
        Mistake(lambda p, d: (d * softmax_vjp(_a(p) - p["y"], _a(p)),), "jacobian_twice", """
            you applied the softmax Jacobian to a - y (and left out the mean over the batch). a - y is
            already dL/dz: the Jacobian was used once to get there; dz = (a - y) / N."""),
    ),
    summed_over="the examples (columns) of the batch",
    upstream="dout",
)


# ---- build it: the full batched backward of the 3-4-2 network ---------------------------------

_PARAMS = ("W1", "b1", "W2", "b2")


def _network_cases(rng):
    ex = nw.example()["params"]
    cases = []
    for d, h, k, n in [(3, 4, 2, 5), (3, 4, 2, 1), (2, 5, 3, 4), (4, 3, 3, 6)]:
        if (d, h, k) == (3, 4, 2):  # the chapter's network, with its weights
            params = {name: ex[name].copy() for name in _PARAMS}
        else:
            params = {"W1": rng.normal(size=(h, d)), "b1": 0.5 * rng.normal(size=h),
                      "W2": rng.normal(size=(k, h)), "b2": 0.5 * rng.normal(size=k)}
        y = np.eye(k)[:, rng.integers(0, k, size=n)]
        cases.append(Case({"x": rng.normal(size=(d, n)), "y": y, **params}, batch=n))
    return cases


def _network_loss(x, y, W1, b1, W2, b2):
    return nw.loss(nw.forward(x, {"W1": W1, "b1": b1, "W2": W2, "b2": b2}), y)


def _network_call(fn, p, dout):
    """The reader returns the gradients of the mean loss; the checker's upstream scales them."""
    grads = fn(p["x"], p["y"], {name: p[name] for name in _PARAMS})
    if not isinstance(grads, (tuple, list)):
        return grads
    return tuple(g if g is None else dout * np.asarray(g, dtype=float) for g in grads)


def _network_grads(p, dout, *, mean=True, jacobian=True, local="a", bias_axis=1,
                   transpose=False):
    """The gradients, right or with one of the typical mistakes (the keywords)."""
    x, y, W1, b1, W2, b2 = (p[k] for k in ("x", "y", *_PARAMS))
    n = x.shape[1] if mean else 1
    z1 = W1 @ x + b1[:, None]
    a1 = sigmoid(z1)
    a2 = softmax(W2 @ a1 + b2[:, None], 0)
    delta2 = softmax_vjp((a2 - y) / n, a2, 0) if jacobian else (a2 - y) / n
    dsigma = {"a": a1 * (1 - a1), "z": z1 * (1 - z1), "none": 1.0}[local]
    delta1 = dsigma * (W2.T @ delta2)
    dW1, dW2 = (x @ delta1.T, a1 @ delta2.T) if transpose else (delta1 @ x.T, delta2 @ a1.T)
    return tuple(dout * g for g in (dW1, delta1.sum(axis=bias_axis), dW2,
                                    delta2.sum(axis=bias_axis)))


NETWORK_BACKWARD = Exercise(
    name="network_backward", signature="network_backward(x, y, params) -> dW1, db1, dW2, db2",
    returns=("the tuple (dW1, db1, dW2, db2): the gradients of the mean loss over the N "
             "columns, each with the shape of its parameter"),
    forward=_network_loss,
    call=_network_call,
    cases=_network_cases,
    mistakes=(
        Mistake(lambda p, d: _network_grads(p, d, mean=False), "mean", """
            you forgot the mean over the batch: L = (1/N) sum_n L_n, so every gradient is N = x.shape[1]
            times too large. Divide dL/da2 = a2 - y by N once, at the start: everything behind it
            inherits the factor."""),
        Mistake(lambda p, d: _network_grads(p, d, jacobian=False), "jacobian", """
            you used delta2 = (a2 - y) / N, which is dL/da2, not dL/dz2: the softmax Jacobian is
            missing. With squared error, delta2 = J^T dL/da2, column by column: a2 * (g - sum over the
            column of a2 * g) with g = (a2 - y) / N. ((a2 - y) / N is delta2 for the cross-entropy,
            where the Jacobian cancels.)"""),
        Mistake(lambda p, d: _network_grads(p, d, local="z"), "sigmoid_z", """
            the sigmoid's derivative is a1 (1 - a1) with a1 = sigma(z1); you computed z1 (1 - z1), the
            formula applied to the weighted input instead of the activation."""),
        Mistake(lambda p, d: _network_grads(p, d, local="none"), "local", """
            you stopped at dL/da1 = W2^T delta2; delta1 = dL/dz1 is one step further back through the
            sigmoid: multiply element-wise by a1 (1 - a1)."""),
        Mistake(lambda p, d: _network_grads(p, d, transpose=True), "transpose", """
            you computed x delta1^T (and a1 delta2^T), the transpose: dW1 = delta1 x^T has the
            shape (H, D_in) of W1, row j collecting the weights into hidden neuron j (the index w_jk
            puts the receiving neuron j first)."""),
        Mistake(lambda p, d: _network_grads(p, d, bias_axis=0), "bias_axis", """
            you summed delta over axis 0, the neurons. The examples are the columns (axis 1): a bias is
            shared by all N examples, so its gradient sums delta over axis 1, one entry per neuron:
            db1 = delta1.sum(axis=1)."""),
    ),
    summed_over="the examples (columns) of the batch",
    upstream="dout",
)

EXERCISES = [SOFTMAX_VJP, HIDDEN_DELTA, SOFTMAX_CROSS_ENTROPY, NETWORK_BACKWARD]
