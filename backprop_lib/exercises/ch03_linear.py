"""Chapter 3 exercises: the linear layer backward in both conventions.

    rows    Y = X W + b:  dX = dY W^T,  dW = X^T dY,  db = sum of dY over the rows
    columns Z = W X + b:  dW = dZ X^T,  dX = W^T dZ,  db = sum of dZ over the columns

Derived in: chapters/03_linear_layer.ipynb
"""

from __future__ import annotations

from ._checker import Case, Exercise, Mistake

# (N, D_in, D_out): the chapter's batch first, then batch size 1, a square W, a wide layer
_SHAPES = [(4, 3, 2), (1, 3, 2), (3, 2, 2), (2, 4, 5)]


def _row_cases(rng):
    return [Case({"X": rng.normal(size=(n, i)), "W": rng.normal(size=(i, o)),
                  "b": rng.normal(size=o)}, batch=n) for n, i, o in _SHAPES]


def _col_cases(rng):
    return [Case({"W": rng.normal(size=(o, i)), "X": rng.normal(size=(i, n)),
                  "b": rng.normal(size=o)}, batch=n) for n, i, o in _SHAPES]


LINEAR_ROWS = Exercise(
    name="linear_rows", signature="linear_backward_rows(dY, X, W) -> dX, dW, db",
    returns="(dX, dW, db) with the shapes of X (N, D_in), W (D_in, D_out) and b (D_out,)",
    forward=lambda X, W, b: X @ W + b, cases=_row_cases,
    mistakes=(
        Mistake(lambda _p, d: (None, None, d[0]), "batch_sum", """
            you took the first example's row of dY; b is added to every row, so db sums the rows of dY
            over the whole batch."""),
    ),
)

LINEAR_COLS = Exercise(
    name="linear_cols", signature="linear_backward_cols(dZ, W, X) -> dW, dX, db",
    returns="(dW, dX, db) with the shapes of W (D_out, D_in), X (D_in, N) and b (D_out,)",
    forward=lambda W, X, b: W @ X + b[:, None], cases=_col_cases,
    mistakes=(
        Mistake(lambda _p, d: (None, None, d.sum(axis=0)), "batch_sum", """
            you summed dZ over its rows (axis 0), which mixes the outputs; in the column convention the
            examples are the columns, so db sums over axis 1."""),
    ),
)

EXERCISES = [LINEAR_ROWS, LINEAR_COLS]
