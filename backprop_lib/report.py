"""Plain-text tables for the chapters: fixed precision, so stored outputs are deterministic."""

from __future__ import annotations

import numbers

__all__ = ["format_table", "print_table", "agreement"]


def _cell(v, digits: int) -> str:
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        return str(v)
    if isinstance(v, numbers.Integral):
        return str(v)
    s = f"{float(v):.{digits}f}"
    return "0." + "0" * digits if s == "-0." + "0" * digits else s  # no "-0.000000"


def format_table(headers, rows, digits: int = 6) -> str:
    """Rows of values as an aligned text table; floats get ``digits`` decimals."""
    from ._validate import as_count

    digits = as_count(digits, "digits")
    text = [[str(h) for h in headers]] + [[_cell(v, digits) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in text) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in text]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def print_table(headers, rows, digits: int = 6) -> None:
    print(format_table(headers, rows, digits))


def agreement(a, b, tol: float = 1e-8) -> str:
    """'max |a - b| < tol' when a and b agree, else the size of the disagreement.

    Round-off noise (1e-11 here, 3e-11 on another CPU) is not printed, so stored outputs
    stay identical across machines while a real disagreement still shows its size.
    NaN or infinity in a or b propagates: the result then reads 'max |difference| = nan  (!)'.
    a and b must have the same shape (or shapes that broadcast, e.g. a number).
    """
    import numpy as np

    from ._validate import as_float_array, as_positive_float

    a, b = as_float_array(a, "a", finite=False), as_float_array(b, "b", finite=False)
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"b must have the shape of a {a.shape} (or be a number), got {b.shape}") from None
    tol = as_positive_float(tol, "tol")
    d = float(np.max(np.abs(a - b))) if a.size and b.size else 0.0
    return f"max |difference| < {tol:.0e}" if d < tol else f"max |difference| = {d:.3e}  (!)"
