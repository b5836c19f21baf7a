"""Chapter 8 exercises: BatchNorm and LayerNorm backward (end to end), and the He scale.

    BatchNorm over the batch (axis 0), LayerNorm over the features (axis -1), eps = 1e-5:
    dx = (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) / sqrt(nu + eps),  dxhat = gamma dout
    He, from the backward pass: Var(da^{l-1}) = fan_out omega^2 E[relu'^2] Var(da^l) = 1 x Var(da^l)
    when omega = sqrt(2 / fan_out)

Derived in: chapters/08_deep_networks.ipynb
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from ._checker import Case, Exercise, Feedback, Mistake

EPS = 1e-5


def _norm(x, gamma, beta, axis, ddof=0):
    mu = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, keepdims=True, ddof=ddof)
    return gamma * (x - mu) / np.sqrt(var + EPS) + beta


def _grads(dout, x, gamma, axis, *, mean_path=True, var_path=True, ddof=0):
    """The three-term formula, or a typical wrong version of it (paths left out, other variance)."""
    mu = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, keepdims=True, ddof=ddof)
    inv = 1.0 / np.sqrt(var + EPS)
    xhat = (x - mu) * inv
    dxhat = dout * gamma
    dx = dxhat.copy()
    if mean_path:
        dx = dx - dxhat.mean(axis=axis, keepdims=True)
    if var_path:
        dx = dx - xhat * (dxhat * xhat).mean(axis=axis, keepdims=True)
    lead = tuple(range(x.ndim - 1))
    return dx * inv, (dout * xhat).sum(axis=lead), dout.sum(axis=lead)


def _mistakes(axis, other_axis, what):
    return (
        Mistake(lambda p, d: _grads(d, p["x"], p["gamma"], axis, mean_path=False, var_path=False),
                "constants", f"you treated the mean and the variance as constants. Both are computed "
                f"from every x of the {what}, so dx has two more terms, one through mu and one "
                "through nu: dx = (dxhat - mean(dxhat) - xhat mean(dxhat xhat)) / sqrt(nu + eps)."),
        Mistake(lambda p, d: _grads(d, p["x"], p["gamma"], axis, var_path=False), "variance_path", """
            the path through the mean is there, the path through the variance is missing: nu depends on
            every x too; it adds - xhat * mean(dxhat * xhat)."""),
        Mistake(lambda p, d: _grads(d, p["x"], p["gamma"], axis, mean_path=False), "mean_path", """
            the path through the variance is there, the path through the mean is missing: it adds -
            mean(dxhat)."""),
        Mistake(lambda p, d: _grads(d, p["x"], p["gamma"], axis, ddof=1), "unbiased", """
            you used the unbiased variance (dividing by the group size minus 1, np.var(..., ddof=1) or
            torch.var's default). The forward pass normalises with the biased one, dividing by the group
            size (np.var's default); the running average for evaluation uses the unbiased one."""),
        Mistake(lambda p, d: _grads(d, p["x"], p["gamma"], other_axis),
                "axis", f"your means run over the wrong axis: this normalisation averages over the "
                f"{what} (axis {axis}), so the means in the backward do too (keepdims=True keeps "
                "them broadcastable)."),
    )


def _bn_cases(rng):
    return [Case({"x": rng.normal(size=(n, d)) * 2 + 1, "gamma": rng.uniform(0.5, 2, size=d),
                  "beta": rng.normal(size=d)}, batch=n)
            for n, d in [(5, 3), (2, 4), (8, 1), (4, 4)]]


BATCHNORM = Exercise(
    name="batchnorm_backward", signature="batchnorm_backward(dout, x, gamma) -> dx, dgamma, dbeta",
    returns="(dx, dgamma, dbeta): dx with the shape (N, D) of x, dgamma and dbeta (D,)",
    forward=lambda x, gamma, beta: _norm(x, gamma, beta, 0), cases=_bn_cases,
    mistakes=_mistakes(0, -1, "batch"),
)


def _ln_cases(rng):
    return [Case({"x": rng.normal(size=s) * 2 - 0.5, "gamma": rng.uniform(0.5, 2, size=s[-1]),
                  "beta": rng.normal(size=s[-1])}, batch=s[0])
            for s in [(4, 5), (1, 3), (2, 3, 4), (3, 4)]]


LAYERNORM = Exercise(
    name="layernorm_backward", signature="layernorm_backward(dout, x, gamma) -> dx, dgamma, dbeta",
    returns="(dx, dgamma, dbeta): dx with the shape of x (any leading axes, features last), "
            "dgamma and dbeta (D,)",
    forward=lambda x, gamma, beta: _norm(x, gamma, beta, -1), cases=_ln_cases,
    mistakes=_mistakes(-1, 0, "features of each example"),
    summed_over="the examples (every leading axis)",
)


# ---------------------------------------------------------------- a formula, not a gradient

@dataclass
class FormulaExercise:
    """An exercise whose answer is a number per case: ``fn(**case) == want(**case)``."""

    name: str
    function: str
    returns: str
    want: object  # want(*point values) -> float
    cases: object  # cases(rng) -> list[Case]
    mistakes: tuple = ()  # (function of the point, kind, message)

    def run(self, fn) -> Feedback:
        cases = self.cases(np.random.default_rng(0))
        got = []
        for p in (c.point for c in cases):
            try:
                g = fn(*p.values())  # positional, in the order of the signature given
            except NotImplementedError:
                g = None
            except Exception as exc:  # the reader's bug: briefly
                return Feedback(False, "exception", f"{self.function} raised {type(exc).__name__}: {exc}")
            if g is None:
                return Feedback(False, "stub", f"{self.function} is not implemented yet: it returned None "
                                f"(or raised NotImplementedError).\nIt should return {self.returns}.")
            if not isinstance(g, numbers.Real) and np.ndim(g) != 0:
                return Feedback(False, "type", f"{self.function} should return one number, got "
                                f"{type(g).__name__}.")
            got.append(float(g))

        def same(a, b):
            return abs(a - b) <= 1e-9 * abs(b)

        points = [c.point for c in cases]
        for i, (p, g) in enumerate(zip(points, got, strict=True)):
            if same(g, self.want(*p.values())):
                continue
            where = ", ".join(f"{k} = {v}" for k, v in p.items())
            # a mistake is named when it explains every case (square cases cannot tell some apart)
            for wrong, kind, message in self.mistakes:
                if all(same(h, wrong(*q.values())) for q, h in zip(points, got, strict=True)):
                    return Feedback(False, kind, f"{message}\n  (case {i + 1} of {len(cases)}: {where})")
            want = self.want(*p.values())
            return Feedback(False, "entry", f"for {where} the scale is {want:.6g}; your function "
                            f"gives {g:.6g}.\n  (case {i + 1} of {len(cases)})")
        return Feedback(True, "pass", f"Correct: {self.function} passes all {len(cases)} cases (the "
                        f"chapter's setting and {len(cases) - 1} held-back ones, fan_in != fan_out).")


HE_SCALE = FormulaExercise(
    name="he_scale", function="he_std",
    returns="omega, one number: the standard deviation of the weights of a ReLU layer with W of "
            "shape (fan_in, fan_out) that keeps Var(dL/da) the same below and above the layer",
    want=lambda _fan_in, fan_out: float(np.sqrt(2.0 / fan_out)),
    cases=lambda _rng: [Case({"fan_in": a, "fan_out": b})
                        for a, b in [(64, 64), (100, 25), (16, 64), (3, 7)]],
    mistakes=(
        (lambda fan_in, _fan_out: np.sqrt(2.0 / fan_in), "fan_in",
         "that is the forward condition (it keeps Var(a) constant). In the backward pass "
         "da^{l-1} = (phi' * da^l) W^T sums over the fan_out entries of da^l, so Var(dL/da) is "
         "kept when fan_out * omega^2 / 2 = 1."),
        (lambda _fan_in, fan_out: np.sqrt(1.0 / fan_out), "relu_half",
         "you left out the ReLU: relu'(z) is 1 for half of the units and 0 for the rest, so "
         "E[relu'^2] = 1/2 and the variance is halved at every layer; the 2 puts it back."),
        (lambda _fan_in, fan_out: 2.0 / fan_out, "variance",
         "that is the variance omega^2; the function should return the standard deviation omega."),
        (lambda fan_in, fan_out: np.sqrt(2.0 / (fan_in + fan_out)), "xavier",
         "that is Xavier/Glorot's compromise for tanh, without the ReLU's factor 2 on each condition."),
    ),
)

EXERCISES = [BATCHNORM, LAYERNORM, HE_SCALE]
