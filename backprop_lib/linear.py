"""Linear layer  Y = X W + b  (rows are samples) and  Z = W X + b  (columns are samples).

    rows:    dX = dY W^T      dW = X^T dY      db = sum of dY over the rows     X (N, D_in), W (D_in, D_out)
    columns: dX = W^T dZ      dW = dZ X^T      db = sum of dZ over the columns  X (D_in, N), W (D_out, D_in)

The column form is the row form transposed (X_row = X_col^T, W_row = W_col^T), so the numbers agree.

Derived in: chapters/03_linear_layer.ipynb
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import as_count, as_float_array, as_positive_float, check_shape

__all__ = ["linear_forward", "linear_backward", "linear_forward_col", "linear_backward_col",
           "absorb_bias", "append_ones", "train_linear", "max_stable_lr", "TrainResult"]


def _checked(X, W, b, *, rows: bool):
    X = as_float_array(X, "X", ndim=2)
    W = as_float_array(W, "W", ndim=2)
    if rows:  # X (N, D_in) @ W (D_in, D_out)
        check_shape("W", W, (X.shape[1], None), f"W is (D_in, D_out) and X is {X.shape} = (N, D_in)")
        b = as_float_array(b, "b")
        check_shape("b", b, (W.shape[1],), "one bias per output column of W")
    else:  # W (D_out, D_in) @ X (D_in, N)
        check_shape("X", X, (W.shape[1], None), f"X is (D_in, N) and W is {W.shape} = (D_out, D_in)")
        b = as_float_array(b, "b")
        check_shape("b", b, (W.shape[0],), "one bias per output row of W")
    return X, W, b


def _cache(cache, forward: str):
    if not (isinstance(cache, tuple) and len(cache) == 2 and all(isinstance(c, np.ndarray) for c in cache)):
        raise TypeError(f"cache must be the pair of arrays returned by {forward}, got {type(cache).__name__}")
    return cache


def linear_forward(X, W, b):
    """Y = X W + b (b added to every row). X (N, D_in), W (D_in, D_out), b (D_out,) -> Y (N, D_out)."""
    X, W, b = _checked(X, W, b, rows=True)
    return X @ W + b, (X, W)


def linear_backward(dout, cache):
    """dX = dout W^T (N, D_in), dW = X^T dout (D_in, D_out), db = dout summed over rows (D_out,)."""
    X, W = _cache(cache, "linear_forward")
    dout = as_float_array(dout, "dout", ndim=2)
    check_shape("dout", dout, (X.shape[0], W.shape[1]), "dout has the shape of Y = X W + b")
    return dout @ W.T, X.T @ dout, dout.sum(axis=0)


def linear_forward_col(W, X, b):
    """Z = W X + b (b added to every column). W (D_out, D_in), X (D_in, N), b (D_out,) -> Z (D_out, N)."""
    X, W, b = _checked(X, W, b, rows=False)
    return W @ X + b[:, None], (W, X)


def linear_backward_col(dout, cache):
    """dX = W^T dout (D_in, N), dW = dout X^T (D_out, D_in), db = dout summed over columns (D_out,)."""
    W, X = _cache(cache, "linear_forward_col")
    dout = as_float_array(dout, "dout", ndim=2)
    check_shape("dout", dout, (W.shape[0], X.shape[1]), "dout has the shape of Z = W X + b")
    return W.T @ dout, dout @ X.T, dout.sum(axis=1)


def append_ones(X):
    """[X; 1 ... 1]: a row of ones under the columns of X (D_in, N) -> (D_in + 1, N)."""
    X = as_float_array(X, "X", ndim=2)
    return np.vstack([X, np.ones((1, X.shape[1]))])


def absorb_bias(W, b):
    """[W | b]: the bias as an extra last column of W (D_out, D_in) -> (D_out, D_in + 1).

    Then [W | b] [X; 1] = W X + b, and its gradient is [dW | db].
    """
    W = as_float_array(W, "W", ndim=2)
    b = as_float_array(b, "b")
    check_shape("b", b, (W.shape[0],), "one bias per output row of W")
    return np.hstack([W, b[:, None]])


@dataclass
class TrainResult:
    W: np.ndarray
    b: np.ndarray
    losses: np.ndarray  # loss before each step, and after the last one
    diverged: bool


def train_linear(X, Y, W0, b0, lr, steps: int = 50) -> TrainResult:
    """Gradient descent on L = 1/2 ||W X + b - Y||^2 (column convention, full batch).

    X (D_in, N), Y (D_out, N), W0 (D_out, D_in), b0 (D_out,). Stops early, with
    ``diverged=True`` and no exception, when the loss grows past 1e12 or stops being finite.
    """
    lr, steps = as_positive_float(lr, "lr"), as_count(steps, "steps")
    W, b = as_float_array(W0, "W0", ndim=2).copy(), as_float_array(b0, "b0", ndim=1).copy()
    X = as_float_array(X, "X", ndim=2)
    check_shape("X", X, (W.shape[1], None), f"X is (D_in, N) and W0 is {W.shape} = (D_out, D_in)")
    check_shape("b0", b, (W.shape[0],), "one bias per output row of W0")
    Y = as_float_array(Y, "Y", ndim=2)
    check_shape("Y", Y, (W.shape[0], X.shape[1]), "Y has the shape of Z = W X + b")
    losses, diverged = [], False
    # Inputs are checked once above; the loop inlines linear_forward_col, squared_error and
    # their backwards (same operations, same numbers) without re-checking them at every step.
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(steps + 1):
            if not np.isfinite(W.sum() + b.sum()):
                diverged = True  # one huge step overflowed before the loss could be checked
                break
            R = W @ X + b[:, None] - Y  # Z - Y, the residual; dL/dZ = R
            loss = 0.5 * float((R * R).sum())
            losses.append(loss if np.isfinite(loss) else np.inf)
            if not np.isfinite(loss) or loss > 1e12:
                diverged = True
                break
            if step == steps:
                break
            W, b = W - lr * (R @ X.T), b - lr * R.sum(axis=1)  # dW = dZ X^T, db = sum of dZ
    return TrainResult(W, b, np.array(losses), diverged)


def max_stable_lr(X) -> float:
    """2 / lambda_max(X1 X1^T), X1 = [X; 1]: gradient descent on the squared loss diverges above it."""
    X1 = append_ones(X)
    return 2.0 / float(np.linalg.eigvalsh(X1 @ X1.T)[-1])
