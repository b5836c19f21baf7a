"""Input checks shared by the public functions: clear errors at the door, not deep in numpy."""

from __future__ import annotations

import numbers

import numpy as np


def as_float_array(x, name: str, *, ndim: int | tuple[int, ...] | None = None,
                   finite: bool = True) -> np.ndarray:
    """Return ``x`` as a float64 array (lists and integer arrays are converted).

    Raises TypeError for non-numeric input, ValueError for a wrong number of
    dimensions or (when ``finite``) NaN/inf entries. ``name`` is the argument name.
    """
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__} {x!r}")
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must be an array of numbers, got {type(x).__name__}: {exc}"
        ) from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got shape {arr.shape} ({arr.ndim}-D)")
    if finite and not np.all(np.isfinite(arr)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0]) if arr.ndim else ()
        raise ValueError(f"{name} contains NaN or infinity (first at index {bad})")
    return arr


def check_shape(name: str, arr: np.ndarray, expected: tuple, hint: str = "") -> None:
    """Raise ValueError unless ``arr.shape`` matches ``expected`` (None matches any size)."""
    ok = arr.ndim == len(expected) and all(
        e is None or e == s for e, s in zip(expected, arr.shape, strict=True)
    )
    if not ok:
        want = "(" + ", ".join("any" if e is None else str(e) for e in expected)
        want += ",)" if len(expected) == 1 else ")"
        msg = f"{name} must have shape {want}, got {arr.shape}"
        if hint:
            msg += f" ({hint})"
        raise ValueError(msg)


def as_positive_float(x, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__} {x!r}")
    x = float(x)
    if not np.isfinite(x) or x <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {x}")
    return x


def as_real(x, name: str, *, finite: bool = True) -> float:
    """Return ``x`` (a Python or numpy real number, or a 0-d array) as a float."""
    if isinstance(x, np.ndarray) and x.ndim == 0:
        x = x.item()
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__} {x!r}")
    x = float(x)
    if finite and not np.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x}")
    return x


def as_count(x, name: str, *, minimum: int = 0) -> int:
    """Return ``x`` as an int >= ``minimum`` (an integral float such as 3.0 is accepted)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be an integer, got {type(x).__name__} {x!r}")
    if not float(x).is_integer():
        raise ValueError(f"{name} must be a whole number, got {x}")
    n = int(x)
    if n < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {n}")
    return n
