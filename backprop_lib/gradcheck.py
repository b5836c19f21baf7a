"""Gradient checking: compare an analytic gradient with central finite differences.

    df/dx_i  ~  (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)      error O(eps^2)

Derived in: chapters/02_vector_gradients.ipynb
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validate import as_float_array, as_positive_float, checked

# Central differences with eps = 1e-6 carry round-off of about 1e-10 / |gradient| and
# truncation of about eps^2: relative errors below this are noise, and vary between machines.
NOISE = 1e-6

__all__ = ["numerical_gradient", "relative_error", "check_gradient", "GradCheckReport"]


@checked(x="*", eps="positive")
def numerical_gradient(f, x, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar function ``f`` at ``x`` (float64).

    ``f`` takes an array shaped like ``x`` and returns a number. The result has the shape of ``x``.
    """
    if not callable(f):
        raise TypeError(f"f must be a function of x, got {type(f).__name__}")
    x = x.copy()
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        f_plus = float(f(x))
        flat[i] = old - eps
        f_minus = float(f(x))
        flat[i] = old
        gflat[i] = (f_plus - f_minus) / (2.0 * eps)
    return grad


def relative_error(analytic, numeric, floor: float = 1e-4) -> np.ndarray:
    """|a - n| / max(|a|, |n|, floor), entry by entry.

    The floor stops entries whose true gradient is 0 (where both are round-off noise)
    from producing huge relative errors; below it the error is effectively absolute.

    NaN or infinite entries are allowed and propagate (a NaN gradient gives a NaN error,
    which check_gradient reports as a failure). analytic and numeric must have the same shape.
    """
    a = as_float_array(analytic, "analytic", finite=False)
    n = as_float_array(numeric, "numeric", finite=False)
    if a.shape != n.shape:
        raise ValueError(f"numeric must have the shape of analytic {a.shape}, got {n.shape}")
    floor = as_positive_float(floor, "floor")
    with np.errstate(invalid="ignore"):  # inf - inf: NaN, as documented
        return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)


@dataclass
class _Entry:
    name: str
    max_rel_error: float
    worst_index: tuple
    analytic: float
    numeric: float
    ok: bool
    size: int = 0


@dataclass
class GradCheckReport:
    """The result of ``check_gradient``: one line per argument, worst entry first named."""

    tol: float
    entries: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(e.ok for e in self.entries)

    @property
    def max_rel_error(self) -> float:
        return max((e.max_rel_error for e in self.entries), default=0.0)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        lines = []
        for e in self.entries:
            verdict = "ok  " if e.ok else "FAIL"
            if e.ok and e.max_rel_error < NOISE:
                # at round-off level the worst entry is machine-dependent noise: don't print it
                lines.append(f"{verdict} d/d{e.name}: max relative error < {NOISE:.0e} ({e.size} entries)")
                continue
            lines.append(
                f"{verdict} d/d{e.name}: max relative error {e.max_rel_error:.1e}"
                f" at index {e.worst_index} (analytic {e.analytic:.6g},"
                f" numerical {e.numeric:.6g})"
            )
        return "\n".join(lines)

    __repr__ = __str__

    def raise_if_failed(self) -> GradCheckReport:
        if not self.ok:
            raise AssertionError(f"gradient check failed (tol {self.tol:g}):\n{self}")
        return self


def check_gradient(f, inputs: dict, analytic: dict, *, eps: float = 1e-6,
                   tol: float = 1e-5, floor: float = 1e-4) -> GradCheckReport:
    """Check analytic gradients of a scalar function against central differences.

    f        : called as ``f(**inputs)``, returns a number (for a layer with upstream
               gradient ``dout`` use ``lambda **kw: np.sum(dout * layer(**kw))``).
    inputs   : {name: array}, the point at which to check.
    analytic : {name: array}, the gradient to check, same shape as ``inputs[name]``.
    Returns a GradCheckReport (truthy when every entry's relative error is <= tol).
    """
    if not callable(f):
        raise TypeError(f"f must be a function, got {type(f).__name__}")
    if not isinstance(inputs, dict) or not isinstance(analytic, dict):
        raise TypeError("inputs and analytic must be dicts {argument name: array}")
    point = {k: as_float_array(v, f"inputs[{k!r}]").copy() for k, v in inputs.items()}
    report = GradCheckReport(tol=tol)
    for name, grad in analytic.items():
        if name not in point:
            raise ValueError(f"analytic has {name!r}, which is not one of inputs {list(point)}")
        grad = as_float_array(grad, f"analytic[{name!r}]", finite=False)
        x = point[name]
        if grad.shape != x.shape:
            hint = " (transposed?)" if grad.shape == x.shape[::-1] and x.ndim == 2 else ""
            raise ValueError(
                f"analytic[{name!r}] has shape {grad.shape} but {name} has shape {x.shape}{hint};"
                f" a gradient always has the shape of its variable"
            )

        def f_of(v, name=name):
            return f(**{**point, name: v})

        num = numerical_gradient(f_of, x, eps)
        err = relative_error(grad, num, floor)
        if err.size == 0:
            report.entries.append(_Entry(name, 0.0, (), 0.0, 0.0, True, 0))
            continue
        worst = np.unravel_index(int(np.nanargmax(np.nan_to_num(err, nan=np.inf))), err.shape)
        worst_err = float(err[worst]) if np.isfinite(err[worst]) else float("inf")
        report.entries.append(
            _Entry(name, worst_err, tuple(int(i) for i in worst), float(grad[worst]),
                   float(num[worst]), worst_err <= tol, int(err.size))
        )
    return report
