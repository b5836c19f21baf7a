"""Chapter 1 exercises: the backward of single gates (scalars).

    mul:      f = x y          dx = dout * y,  dy = dout * x          (the switcher)
    max:      f = max(x, y)    the larger input gets dout, the other 0 (the router)
    sigmoid:  s = sigma(z)     dz = dout * s (1 - s)

Derived in: chapters/01_computational_graphs.ipynb
"""

from __future__ import annotations

import numpy as np

from ..activations import sigmoid
from ._checker import Case, Exercise, Mistake


def _pair(rng, far: float = 0.0):
    while True:
        x, y = (float(v) for v in np.round(rng.uniform(-4, 4, size=2), 2))
        if abs(x - y) > max(far, 0.1) and min(abs(x), abs(y)) > 0.1:
            return x, y


def _pairs(rng, n=4):
    cases = [_pair(rng, far=0.5) for _ in range(n)]
    # make sure both orders occur: max must route to x in one case and to y in another
    cases[0] = (max(cases[0]), min(cases[0]))
    cases[1] = (min(cases[1]), max(cases[1]))
    return [Case({"x": x, "y": y}) for x, y in cases]


MUL = Exercise(
    name="mul_gate", function="mul_backward",
    returns="(dx, dy): the gradients of the loss with respect to x and y, two numbers",
    grads=(("dx", "x"), ("dy", "y")),
    forward=lambda x, y: np.asarray(x) * np.asarray(y),
    call=lambda fn, p, dout: fn(dout, p["x"], p["y"]),
    cases=_pairs,
    mistakes=(
        Mistake(lambda p, d: (d * p["x"], d * p["y"]), "not_swapped",
                "each input's local gradient is the OTHER input (df/dx = y): the multiply gate "
                "switches its inputs."),
        Mistake(lambda _p, d: (d, d), "distributor",
                "both inputs got dout unchanged: that is the add gate (local gradients 1); "
                "for f = x y the local gradients are y and x."),
    ),
)

MAX = Exercise(
    name="max_gate", function="max_backward",
    returns="(dx, dy): dout for the larger input and 0 for the other, two numbers",
    grads=(("dx", "x"), ("dy", "y")),
    forward=lambda x, y: np.maximum(x, y),
    call=lambda fn, p, dout: fn(dout, p["x"], p["y"]),
    cases=_pairs,
    mistakes=(
        Mistake(lambda _p, d: (d, d), "distributor",
                "both inputs got dout: that is the add gate. The max gate routes: only the "
                "input that won (the larger one) affects f, so the other gets 0."),
        Mistake(lambda p, d: (d * (p["x"] < p["y"]), d * (p["y"] < p["x"])), "swapped",
                "the gradient went to the smaller input; it belongs to the larger one, the "
                "only input that f depends on near this point."),
        Mistake(lambda p, _d: (max(p["x"], p["y"]) * (p["x"] > p["y"]),
                              max(p["x"], p["y"]) * (p["y"] > p["x"])), "value",
                "you routed the forward value max(x, y); backward routes the upstream "
                "gradient dout."),
    ),
)


def _logits(rng):
    return [Case({"s": float(np.round(v, 2))}) for v in rng.uniform(-4, 4, size=4)]


SIGMOID = Exercise(
    name="sigmoid_gate", function="sigmoid_gate_backward",
    returns="ds = dL/ds, one number, computed from dout and the saved output a",
    grads=(("ds", "s"),),
    forward=lambda s: sigmoid(np.asarray(s)),
    call=lambda fn, p, dout: fn(dout, float(sigmoid(np.asarray(p["s"])))),
    cases=_logits,
    mistakes=(
        Mistake(lambda p, d: (d * sigmoid(np.asarray(p["s"])),), "local",
                "you multiplied dout by a; the local gradient is da/ds = a (1 - a)."),
        Mistake(lambda p, d: (d * (1 - sigmoid(np.asarray(p["s"]))),), "local",
                "you multiplied dout by (1 - a); the local gradient is da/ds = a (1 - a)."),
    ),
)

EXERCISES = [MUL, MAX, SIGMOID]
