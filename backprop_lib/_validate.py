"""Input checks shared by the public functions: clear errors at the door, not deep in numpy."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import numbers

import numpy as np

_TRUSTED = contextvars.ContextVar("trusted", default=False)


@contextlib.contextmanager
def trusted():
    """Skip the checks inside a loop whose arguments were checked once, at its door.

    training.descend runs its steps in this block: a training step then costs the arithmetic,
    not the checks (with arrays this small, numpy's per-call overhead is most of a step).
    """
    token = _TRUSTED.set(True)
    try:
        yield
    finally:
        _TRUSTED.reset(token)


def as_float_array(x, name: str, *, ndim: int | tuple[int, ...] | None = None,
                   finite: bool = True) -> np.ndarray:
    """Return ``x`` as a float64 array (lists and integer arrays are converted).

    Raises TypeError for non-numeric input, ValueError for a wrong number of
    dimensions or (when ``finite``) NaN/inf entries. ``name`` is the argument name.
    """
    if _TRUSTED.get():
        return np.asarray(x, dtype=np.float64)
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__} {x!r}")
    if getattr(getattr(x, "dtype", None), "kind", None) == "c":  # numpy would drop the imaginary part
        raise TypeError(f"{name} must be an array of real numbers, got complex dtype {x.dtype}")
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
    if _TRUSTED.get():
        return
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


def _fit_axes(tokens: list[str], ndim: int, sizes: dict) -> list[str] | None:
    """The tokens of the axes present in an array of ``ndim`` axes, or None if none fit.

    An optional axis ("B?") is present or absent as an earlier argument decided; otherwise
    optional axes are filled from the right (so "B? d T?" reads a 2-D array as (d, T))."""
    present = [not t.endswith("?") or sizes.get(t[:-1]) is not None for t in tokens]
    free = [i for i, t in enumerate(tokens) if t.endswith("?") and t[:-1] not in sizes]
    extra = ndim - sum(present)
    if not 0 <= extra <= len(free):
        return None
    for i in free[len(free) - extra:]:
        present[i] = True
    return [t.rstrip("?") if p else None for t, p in zip(tokens, present, strict=True)]


def _check_array(name: str, value, spec: str, sizes: dict, source: dict) -> np.ndarray:
    arr = as_float_array(value, name)
    tokens = spec.split()
    axes = _fit_axes(tokens, arr.ndim, sizes)
    if axes is None:
        lo, hi = sum(not t.endswith("?") for t in tokens), len(tokens)
        want = " or ".join(f"{d}-D" for d in range(lo, hi + 1))
        raise ValueError(f"{name} must be {want}, got shape {arr.shape} ({arr.ndim}-D)")
    for axis, n in zip([a for a in axes if a is not None], arr.shape, strict=True):
        base, _, plus = axis.partition("+")  # "d+1": one more than d
        if base == "_":
            continue
        if not base.isdigit() and base not in sizes:
            sizes[base], source[base] = n - int(plus or 0), name
        elif n != _size(axis, sizes):
            why = f" ({axis} = {_size(axis, sizes)}, from {source[base]})" if base in source else ""
            dims = [str(d) if isinstance(d := _size(a, sizes), int)
                    and source.get(a.partition("+")[0]) != name else "any" for a in axes if a]
            want = "(" + ", ".join(dims) + (",)" if len(dims) == 1 else ")")
            raise ValueError(f"{name} must have shape {want}, got {arr.shape}{why}")
    for t, axis in zip(tokens, axes, strict=True):  # an absent optional axis stays absent
        if axis is None and t[:-1] not in sizes:
            sizes[t[:-1]], source[t[:-1]] = None, name
    return arr


def _size(axis: str, sizes: dict):
    base, _, plus = axis.partition("+")
    n = int(base) if base.isdigit() else sizes.get(base)
    return axis if n is None else n + int(plus or 0)


def cache_of(forward: str, *specs: str):
    """A spec for the tuple of arrays that ``forward`` returns as its cache, one shape per entry."""
    def check(cache, name, sizes, source):
        if not (isinstance(cache, tuple) and len(cache) == len(specs)
                and all(isinstance(c, np.ndarray) for c in cache)):
            raise TypeError(f"{name} must be the tuple of arrays returned by {forward}, "
                            f"got {type(cache).__name__}")
        return tuple(_check_array(f"{name}[{i}]", c, spec, sizes, source)
                     for i, (c, spec) in enumerate(zip(cache, specs, strict=True)))
    return check


def dict_of(what: str, **specs: str):
    """A spec for a dict of named arrays (network parameters, a cache): each key has a shape.

    An array is named by its key in errors; other keys are passed through unchecked.
    """
    def check(d, name, sizes, source):
        if not isinstance(d, dict):
            raise TypeError(f"{name} must be {what}, got {type(d).__name__}")
        if missing := [k for k in specs if k not in d]:
            raise ValueError(f"{name} must be {what} with keys {tuple(specs)}, missing {missing}")
        return {**d, **{k: _check_array(k, d[k], spec, sizes, source) for k, spec in specs.items()}}
    return check


_SCALARS = {"real": as_real, "positive": as_positive_float, "count": as_count,
            "count1": lambda x, name: as_count(x, name, minimum=1)}


def checked(**specs):
    """Check the named arguments at the door; the function body then sees float64 arrays.

    ``@checked(v="d n", alpha="n")``: one token per axis; a name binds an axis size the first
    time it is seen and every later argument must match it, a number is a fixed size, ``_`` is
    any size, and ``B?`` marks an axis that may be absent (a batch axis, or the column axis
    that makes a vector a matrix); "*" is any shape and "=a" the shape of argument a (checked
    earlier). "real", "positive", "count" and "count1" (at least 1) check a number instead;
    cache_of(...) and dict_of(...) check a tuple or dict of arrays, binding the same names.
    Wrong input raises ValueError/TypeError naming the argument, the expected and the given shape.
    """
    def wrap(fn):
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def door(*args, **kwargs):
            if _TRUSTED.get():
                return fn(*args, **kwargs)
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            values, sizes, source = bound.arguments, {}, {}
            for name, spec in specs.items():
                if callable(spec):  # cache_of, dict_of
                    values[name] = spec(values[name], name, sizes, source)
                elif spec in _SCALARS:
                    values[name] = _SCALARS[spec](values[name], name)
                elif spec == "*":
                    values[name] = as_float_array(values[name], name)
                elif spec.startswith("="):  # "=a": the shape of argument a
                    arr, like = as_float_array(values[name], name), values[spec[1:]]
                    if arr.shape != like.shape:
                        raise ValueError(f"{name} must have the shape of {spec[1:]} {like.shape}, "
                                         f"got {arr.shape}")
                    values[name] = arr
                else:
                    values[name] = _check_array(name, values[name], spec, sizes, source)
            return fn(*bound.args, **bound.kwargs)

        return door

    return wrap
