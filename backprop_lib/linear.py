"""Linear layer  Y = X W + b  (rows are samples) and  Z = W X + b  (columns are samples).

    rows:    dX = dY W^T      dW = X^T dY      db = sum of dY over the rows     X (N, D_in), W (D_in, D_out)
    columns: dX = W^T dZ      dW = dZ X^T      db = sum of dZ over the columns  X (D_in, N), W (D_out, D_in)

The column form is the row form transposed (X_row = X_col^T, W_row = W_col^T), so the numbers agree.
Three layouts in the course, named by their functions: linear_forward (rows, Y = X W + b),
linear_forward_col (columns, Z = W X + b, the notes' and Chapter 4's), and functions.Linear
(rows with PyTorch's weight (D_out, D_in), z = a W^T + b, Chapter 5).

Derived in: chapters/03_linear_layer.ipynb
"""

from __future__ import annotations

import numpy as np

from ._validate import cache_of, checked
from .losses import squared_error
from .training import TrainResult, descend

__all__ = ["linear_forward", "linear_backward", "linear_forward_col", "linear_backward_col",
           "absorb_bias", "append_ones", "train_linear", "max_stable_lr"]


@checked(X="N D_in", W="D_in D_out", b="D_out")
def linear_forward(X, W, b):
    """Y = X W + b (b added to every row). X (N, D_in), W (D_in, D_out), b (D_out,) -> Y (N, D_out)."""
    return X @ W + b, (X, W)


@checked(cache=cache_of("linear_forward", "N D_in", "D_in D_out"), dout="N D_out")
def linear_backward(dout, cache):
    """dX = dout W^T (N, D_in), dW = X^T dout (D_in, D_out), db = dout summed over rows (D_out,)."""
    X, W = cache
    return dout @ W.T, X.T @ dout, dout.sum(axis=0)


@checked(W="D_out D_in", X="D_in N", b="D_out")
def linear_forward_col(W, X, b):
    """Z = W X + b (b added to every column). W (D_out, D_in), X (D_in, N), b (D_out,) -> Z (D_out, N)."""
    return W @ X + b[:, None], (W, X)


@checked(cache=cache_of("linear_forward_col", "D_out D_in", "D_in N"), dout="D_out N")
def linear_backward_col(dout, cache):
    """dX = W^T dout (D_in, N), dW = dout X^T (D_out, D_in), db = dout summed over columns (D_out,)."""
    W, X = cache
    return W.T @ dout, dout @ X.T, dout.sum(axis=1)


@checked(X="d n?")
def append_ones(X):
    """[X; 1 ... 1]: a row of ones under X (D_in, N) -> (D_in + 1, N), or a 1 after x (D_in,).

    Then [W | b] [X; 1] = W X + b (the bias absorbed into the weights).
    """
    return np.concatenate([X, np.ones((1,) + X.shape[1:])])


@checked(W="D_out D_in", b="D_out")
def absorb_bias(W, b):
    """[W | b]: the bias as an extra last column of W (D_out, D_in) -> (D_out, D_in + 1).

    Then [W | b] [X; 1] = W X + b, and its gradient is [dW | db].
    """
    return np.hstack([W, b[:, None]])


@checked(W0="D_out D_in", b0="D_out", X="D_in N", y="D_out N", lr="positive", steps="count")
def train_linear(X, y, W0, b0, lr, steps: int = 50) -> TrainResult:
    """Gradient descent on L = 1/2 ||W X + b - y||^2 (column convention, full batch).

    X (D_in, N) and the targets y (D_out, N), one example per column; W0 (D_out, D_in), b0 (D_out,).
    Returns a TrainResult with params {"W", "b"}; it stops early, with ``diverged=True`` and no
    exception, by the rule of training.descend (the loss passed 1e12, or an update overflowed).
    """

    def forward(p):
        Z, cache = linear_forward_col(p["W"], X, p["b"])
        return squared_error(Z, y), Z, (cache, Z)

    def backward(caches):
        cache, Z = caches
        _, dW, db = linear_backward_col(Z - y, cache)  # dL/dZ = Z - y
        return {"W": dW, "b": db}

    return descend(forward, backward, {"W": W0, "b": b0}, lr, steps)


@checked(X="D_in N")
def max_stable_lr(X) -> float:
    """2 / lambda_max(X1 X1^T), X1 = [X; 1]: gradient descent on the squared loss diverges above it."""
    X1 = append_ones(X)
    return 2.0 / float(np.linalg.eigvalsh(X1 @ X1.T)[-1])
