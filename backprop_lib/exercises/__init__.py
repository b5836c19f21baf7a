"""Self-check exercises: ``check(name, your_function)`` tests a backward you wrote.

The checker compares your gradients with central differences (``numerical_gradient``) at
random points, with random (never all-ones) upstream gradients, first in the chapter's
setting and then on held-back cases (batch size 1 and more, non-square matrices). When an
answer is wrong it says how: a wrong shape, a transposed or sign-flipped result, a missing sum
over the batch, a constant factor, a result that is right only for an all-ones upstream
gradient, a typical mistake of that exercise, or the first wrong entry. Cases are seeded, so
the feedback is the same on every run and every machine.

Derived in: every chapter's Exercises section (chapters/01_... to 09_...).
"""

from __future__ import annotations

from . import (
    ch01_gates,
    ch02_vectors,
    ch03_linear,
    ch04_network,
    ch05_functions,
    ch06_attention,
    ch07_head,
    ch08_deep,
    ch09_block,
)
from ._checker import Exercise, Feedback, numerical_grads, run

__all__ = ["check", "EXERCISES", "Exercise", "Feedback", "numerical_grads"]

EXERCISES: dict = {
    ex.name: ex
    for module in (ch01_gates, ch02_vectors, ch03_linear, ch04_network, ch05_functions,
                   ch06_attention, ch07_head, ch08_deep, ch09_block)
    for ex in module.EXERCISES
}


def check(name: str, fn) -> Feedback:
    """Check your backward ``fn`` for the exercise ``name``; returns (and displays) feedback."""
    if name not in EXERCISES:
        raise ValueError(f"no exercise named {name!r}; the exercises are {sorted(EXERCISES)}")
    if not callable(fn):
        raise TypeError(f"pass your function itself (e.g. check({name!r}, my_backward)), "
                        f"got {type(fn).__name__}")
    exercise = EXERCISES[name]
    if not isinstance(exercise, Exercise):  # an exercise with a checker of its own
        return exercise.run(fn)
    return run(exercise, fn)
