"""The checker behind every exercise: run the reader's backward, compare it with central
differences, and when it disagrees say *how* (shape, transpose, sign, batch sum, factor,
uniform-upstream shortcut, a known mistake, or the first wrong entry).

An exercise is data (``Exercise``): a forward function, the cases to try, how to call the
reader's function, and the typical mistakes with their explanations. ``run(exercise, fn)``
does the rest. Every case is drawn from a generator seeded by the exercise's name, so the
feedback for a given function is the same on every machine.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..gradcheck import numerical_gradient, relative_error

TOL = 1e-5  # relative error above which an entry is wrong (central differences: ~1e-9)


@dataclass(frozen=True)
class Case:
    """One point at which to test: every array the forward pass needs, by name."""

    point: dict
    batch: int | None = None  # number of examples, when the case has a batch axis


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer: ``grads(point, dout)`` returns it (one array per gradient).

    ``message`` is what the checker says when the reader's answer is this one; it is written as
    a paragraph (a triple-quoted string) and shown with its line breaks and indentation folded.
    """

    grads: Callable
    kind: str
    message: str

    def __post_init__(self):
        object.__setattr__(self, "message", " ".join(self.message.split()))


@dataclass
class Exercise:
    """An exercise as data. ``signature`` is the reader's function as its stub starts, with the
    gradients it returns: "keys_backward(ds, q, k) -> dk" is called keys_backward, gets the
    upstream gradient (named ds in the feedback) and the point's q and k, and returns dk, the
    gradient for k. ``call`` replaces that call when the reader gets something computed from the
    point (a saved output, a cache); ``grads`` pairs (gradient, variable) names when a gradient
    is not named d + its variable (delta1 for z1). Without a signature, give ``function``,
    ``call`` and ``grads`` (and ``upstream``, else "dout") directly."""

    name: str
    returns: str  # what it should return, said in words, for the stub message
    forward: Callable  # forward(**point) -> the output whose upstream gradient is dout
    cases: Callable  # cases(rng) -> list[Case]; the first is the chapter's setting
    signature: str = ""  # the reader's function, "name(upstream, arg, ...) -> dgrad, ..."
    mistakes: tuple = ()
    summed_over: str = "the examples of the batch"  # what an extra axis usually means
    call: Callable | None = None  # call(fn, point, dout) -> whatever the reader's function returns
    grads: tuple = ()  # ((gradient name, variable name), ...) in the order the reader returns them
    upstream: str = ""  # the reader's name for the upstream gradient
    function: str = ""  # the reader's function, e.g. "max_backward"

    def __post_init__(self):
        if self.signature:
            head, _, returned = self.signature.partition("->")
            self.function, _, params = head.strip().removesuffix(")").partition("(")
            first, *args = (a.strip() for a in params.split(","))
            self.upstream = self.upstream or first
            self.grads = self.grads or tuple(
                (g, g.removeprefix("grad_") if g.startswith("grad_") else g[1:])
                for g in returned.replace(",", " ").split())
            if self.call is None:
                self.call = lambda fn, point, dout: fn(dout, *(point[a] for a in args))
        if not (self.function and self.call and self.grads):
            raise TypeError(f"Exercise {self.name!r}: give a signature, or function, call and grads")
        self.upstream = self.upstream or "dout"


@dataclass
class Feedback:
    """What the checker says. Shown as plain text in a notebook; truthy when correct."""

    ok: bool
    kind: str  # pass, stub, exception, count, shape, transpose, sign, factor, ...
    text: str
    details: dict = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__


class _Stop(Exception):
    def __init__(self, feedback: Feedback):
        self.feedback = feedback


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def _shape(s: tuple) -> str:
    return "a number" if s == () else f"shape {s}"


def _close(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.all(relative_error(a, b) <= TOL))


def _upstream(rng, shape: tuple):
    """A random upstream gradient, never uniform (all ones hides many wrong formulas)."""
    if shape == ():
        return float(rng.choice([-1.0, 1.0]) * rng.uniform(1.5, 3.0))
    return rng.normal(size=shape)


def _ones(shape: tuple):
    return 1.0 if shape == () else np.ones(shape)


def _loss(ex: Exercise, point: dict, dout) -> Callable:
    def loss_of(name):
        def f(v):
            return float(np.sum(np.asarray(dout) * ex.forward(**{**point, name: v})))
        return f
    return loss_of


def numerical_grads(ex: Exercise, point: dict, dout) -> list:
    """Central-difference gradients of  L = sum(dout * forward(point))  for every variable."""
    loss_of = _loss(ex, point, dout)
    return [numerical_gradient(loss_of(var), point[var]) for _, var in ex.grads]


def _copy(point: dict) -> dict:
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in point.items()}


def _call(ex: Exercise, fn, point: dict, dout, label: str):
    """Call the reader's function; turn None, exceptions and wrong counts into feedback."""
    who = getattr(fn, "__qualname__", ex.function)
    names = ", ".join(g for g, _ in ex.grads)
    try:
        result = ex.call(fn, _copy(point), np.copy(dout) if np.ndim(dout) else dout)
    except NotImplementedError:
        result = None
    except Exception as exc:  # the reader's bug: report it briefly, never a traceback
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        msg = msg if len(msg) <= 200 else msg[:197] + "..."
        msg += _exception_hint(exc, point)
        raise _Stop(Feedback(False, "exception",
                             f"{who} raised {type(exc).__name__}: {msg}\n"
                             f"  (on {label}). Fix the error, then run this cell again.",
                             {"exception": type(exc).__name__})) from None
    if result is None:
        raise _Stop(Feedback(False, "stub",
                             f"{who} is not implemented yet: it returned None (or raised "
                             f"NotImplementedError).\nIt should return {ex.returns}."))
    n = len(ex.grads)
    if n == 1:
        if isinstance(result, (tuple, list)):
            if len(result) == 1:
                result = result[0]
            else:
                raise _Stop(Feedback(False, "count",
                                     f"{who} returned {len(result)} values; it should return "
                                     f"only {names}: {ex.returns}."))
        result = (result,)
    elif not isinstance(result, (tuple, list)) or len(result) != n:
        got = (f"{len(result)} values" if isinstance(result, (tuple, list))
               else "a single value")
        raise _Stop(Feedback(False, "count",
                             f"{who} returned {got}; it should return a tuple ({names}) of "
                             f"{n} gradients, in that order: {ex.returns}."))
    arrays = []
    for (gname, _), g in zip(ex.grads, result, strict=True):
        if g is None:
            raise _Stop(Feedback(False, "stub",
                                 f"{who} returned None for {gname}: that part is not "
                                 f"implemented yet.\nIt should return {ex.returns}."))
        try:
            arrays.append(np.asarray(g, dtype=np.float64))
        except (TypeError, ValueError):
            raise _Stop(Feedback(False, "type",
                                 f"{gname} should be an array of numbers, got "
                                 f"{type(g).__name__}.")) from None
    return arrays


def _exception_hint(exc: Exception, point: dict) -> str:
    text = str(exc)
    if any(np.ndim(v) >= 3 for v in point.values()) and isinstance(exc, ValueError):
        return ("\n  Hint: these arrays are 3-D (batch first). `.T` reverses every axis, the "
                "batch axis included; swap only the last two with np.swapaxes(M, -1, -2).")
    if "matmul" in text or "aligned" in text or "broadcast" in text:
        return ("\n  Hint: write the shape under each factor; in a matrix product the inner "
                "sizes must agree, and the result must have the shape of the variable.")
    return ""


def _describe(case: Case, index: int, total: int) -> str:
    shapes = ", ".join(f"{k} {_shape(np.shape(v))}" for k, v in case.point.items())
    which = "the chapter's setting" if index == 0 else "a held-back case"
    return f"case {index + 1} of {total}, {which}: {shapes}"


def _shape_feedback(ex, gname, var, g, e) -> Feedback | None:
    s, gs = e.shape, g.shape
    if gs == s:
        return None
    head = (f"{gname} has {_shape(gs)} but {var} has {_shape(s)}: a gradient has the shape "
            f"of its variable")
    if len(s) == 2 and gs == s[::-1]:
        return Feedback(False, "transpose", head + " - did you transpose?")
    if len(s) >= 3 and gs == s[::-1]:
        return Feedback(False, "transpose", head + ". On a 3-D array `.T` reverses all the "
                        "axes, the batch axis included; swap only the last two with "
                        "np.swapaxes(M, -1, -2).")
    if len(s) >= 2 and gs == s[:-2] + (s[-1], s[-2]):
        return Feedback(False, "transpose", head + " - did you transpose the last two axes?")
    if g.size == e.size and _close(g.reshape(s), e):
        return Feedback(False, "reshape", head + f". The numbers are right: return them with "
                        f"{_shape(s)} (e.g. .reshape({s}) or np.ravel).")
    if len(gs) == len(s) + 1:
        for axis in range(len(gs)):
            if tuple(np.delete(np.array(gs), axis)) == s:
                summed = g.sum(axis=axis)
                why = (" Summed over that axis, your numbers are right." if _close(summed, e)
                       else "")
                return Feedback(False, "batch_sum",
                                f"{head}. It has an extra axis {axis} of length {gs[axis]}: one "
                                f"gradient for each of {ex.summed_over}. {var} is shared by "
                                f"all of them, so its gradient is the sum of their "
                                f"contributions: sum over axis {axis}.{why}",
                                {"axis": axis})
    return Feedback(False, "shape", head + ".")


def _value_feedback(ex, fn, gname, var, g, e, case, point, dout) -> Feedback:
    if _close(-g, e):
        return Feedback(False, "sign", f"{gname} has the right size in every entry but the "
                        f"opposite sign: check the sign of the local derivative (or a "
                        f"subtraction in the wrong order).")
    if g.ndim >= 2 and g.shape[-1] == g.shape[-2] and _close(np.swapaxes(g, -1, -2), e):
        return Feedback(False, "transpose", f"{gname} is the transpose of the true gradient "
                        f"(the shapes agree only because {var} is square here): check the "
                        f"order of the factors and which one is transposed.")
    # the uniform-upstream shortcut: right when dout is all ones, wrong otherwise
    ones = _ones(np.shape(dout))
    try:
        at_ones = _call(ex, fn, point, ones, "dout = ones")
        want_ones = numerical_grads(ex, point, ones)
        k = [name for name, _ in ex.grads].index(gname)
        if all(_close(a, b) for a, b in zip(at_ones, want_ones, strict=True)):
            # Right at all ones says little when the true gradient there is zero (the softmax:
            # J^T 1 = 0), so say "must depend on dout" only of a result that ignores dout.
            if _close(at_ones[k], g):
                return Feedback(False, "uniform",
                                f"{gname} is right when {ex.upstream} is all ones, but wrong "
                                f"for the random {ex.upstream} used here: the result must "
                                f"depend on {ex.upstream}. Multiply the local gradient by the "
                                f"upstream gradient (chain rule); a test with {ex.upstream} = 1 "
                                f"cannot see the difference.")
            if np.any(np.abs(want_ones[k]) > 1e-8):
                return Feedback(False, "uniform",
                                f"{gname} is right when {ex.upstream} is all ones, but wrong "
                                f"for the random {ex.upstream} used here: a test with "
                                f"{ex.upstream} = 1 cannot see the difference. Check how "
                                f"{ex.upstream} enters: each entry is a local gradient times "
                                f"an entry of {ex.upstream}, summed.")
    except _Stop:
        pass
    flat_e = e.ravel()
    if np.any(np.abs(flat_e) > 1e-8):
        c = float(np.dot(g.ravel(), flat_e) / np.dot(flat_e, flat_e))
        if abs(c) > 1e-12 and _close(g, c * e):
            if case.batch and case.batch > 1 and abs(c * case.batch - 1) < 1e-6:
                return Feedback(False, "factor",
                                f"{gname} is the true gradient divided by the batch size "
                                f"{case.batch}: the loss sums over the examples, so the "
                                f"gradient is a sum, not a mean.", {"factor": c})
            return Feedback(False, "factor",
                            f"{gname} is {c:.4g} times the true gradient in every entry: a "
                            f"constant factor is missing or extra.", {"factor": c})
    bad = np.argwhere(relative_error(g, e) > TOL)
    idx = tuple(int(i) for i in bad[0]) if g.ndim else ()
    where = f"{gname}[{', '.join(map(str, idx))}]" if idx else gname
    return wrong_entry(f"{len(bad)} of {e.size} entries of {gname} are wrong. The first is {where}",
                       float(e[idx]), float(g[idx]), "your function", index=idx)


def wrong_entry(what: str, expected: float, given: float, who: str, **details) -> Feedback:
    """The last resort when no typical mistake fits: name one wrong number, expected and given."""
    return Feedback(False, "entry", f"{what}: expected {_fmt(expected)} (central differences), "
                    f"{who} gives {_fmt(given)}.", details)


def run(ex: Exercise, fn) -> Feedback:
    """Check ``fn`` on every case of ``ex``; stop at the first problem and explain it."""
    rng = np.random.default_rng(zlib.crc32(ex.name.encode()))
    cases = ex.cases(rng)
    for i, case in enumerate(cases):
        label = _describe(case, i, len(cases))
        point = case.point
        out_shape = np.shape(ex.forward(**point))
        dout = _upstream(rng, out_shape)
        expected = numerical_grads(ex, point, dout)
        try:
            given = _call(ex, fn, point, dout, label)
            for k, ((gname, var), g, e) in enumerate(zip(ex.grads, given, expected, strict=True)):
                if g.shape == e.shape and _close(g, e):
                    continue
                fb = None
                for m in ex.mistakes:
                    try:
                        wrong = m.grads(_copy(point), dout)[k]
                    except Exception:  # this mistake is impossible for these shapes
                        continue
                    if wrong is None:
                        continue
                    wrong = np.asarray(wrong, dtype=float)
                    if not _close(wrong, e) and _close(g, wrong):
                        fb = Feedback(False, m.kind, f"{gname}: {m.message}")
                        break
                if fb is None:
                    fb = _shape_feedback(ex, gname, var, g, e)
                if fb is None:
                    fb = _value_feedback(ex, fn, gname, var, g, e, case, point, dout)
                raise _Stop(fb)
        except _Stop as stop:
            fb = stop.feedback
            if fb.kind not in ("stub", "exception"):
                passed = f"The first {i} cases passed. " if i > 1 else (
                    "The first case passed. " if i == 1 else "")
                fb.text += (f"\n  ({passed}Failing: {label}; {ex.upstream} is random, not "
                            f"all ones.)")
            fb.details.setdefault("case", i)
            return fb
    n = len(cases)
    names = " and ".join(g for g, _ in ex.grads)
    return Feedback(True, "pass",
                    f"Correct: {ex.function} passes all {n} cases (the chapter's setting and "
                    f"{n - 1} held-back ones): every entry of {names} agrees with central "
                    f"differences, for random upstream gradients.")
