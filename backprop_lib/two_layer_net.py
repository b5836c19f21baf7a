"""The 3-4-2 network of Chapter 4 on the autograd engine:  a2 = softmax(sigmoid(x W1^T + b1) W2^T + b2).

Derived in: chapters/05_autograd.ipynb
"""

from __future__ import annotations

from .functions import Linear, Sigmoid, Softmax
from .tensor import Tensor

__all__ = ["TwoLayerNet"]


class TwoLayerNet:
    """a2 = softmax(sigmoid(x W1^T + b1) W2^T + b2, dim=1), built from the layers of functions.py.

    W1 (H, D_in), b1 (H,), W2 (D_out, H), b2 (D_out,) become leaf Tensors with requires_grad=True;
    x is (N, D_in).
    """

    def __init__(self, W1, b1, W2, b2):
        self.W1 = Tensor(W1, requires_grad=True, name="W1")
        self.b1 = Tensor(b1, requires_grad=True, name="b1")
        self.W2 = Tensor(W2, requires_grad=True, name="W2")
        self.b2 = Tensor(b2, requires_grad=True, name="b2")

    def forward(self, x: Tensor) -> Tensor:
        z1 = Linear.apply(x, self.W1, self.b1)  # z^1
        a1 = Sigmoid.apply(z1)  # a^1
        z2 = Linear.apply(a1, self.W2, self.b2)  # z^2, the logits
        return Softmax.apply(z2, 1)  # a^2

    __call__ = forward

    def parameters(self) -> list[Tensor]:
        return [self.W1, self.b1, self.W2, self.b2]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()
