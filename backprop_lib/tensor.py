"""Tensor: the engine's TensorBase plus operators, each one a primitive Function of ops.py.

Derived in: chapters/05_autograd.ipynb
"""

from __future__ import annotations

from .autograd import TensorBase
from .ops import Add, Mul, Pow, Select, Sub, Sum

__all__ = ["Tensor"]


class Tensor(TensorBase):
    """An array of float64 that records the graph of + - * ** [] and sum for backward."""

    def __add__(self, other):
        return Add.apply(self, other)

    __radd__ = __add__

    def __sub__(self, other):
        return Sub.apply(self, other)

    def __rsub__(self, other):
        return Sub.apply(other, self)

    def __mul__(self, other):
        return Mul.apply(self, other)

    __rmul__ = __mul__

    def __neg__(self):
        return self * -1.0

    def __pow__(self, exponent):
        return Pow.apply(self, exponent)

    def __getitem__(self, index):
        return Select.apply(self, index)

    def sum(self):
        return Sum.apply(self)
