"""The transformer block as a forward program of Tensor ops:  H = X + MHA(LN1(X)),  Y = H + FFN(LN2(H)).

Nothing here is a backward: every line is a primitive op of Chapter 5's engine (ops.py), so
``Y.backward(dout)`` derives dL/dX and the 16 parameter gradients by the chain rule alone.
That makes it the third, independent check of the hand-derived block (transformer.py), next to
finite differences and PyTorch.

Row layout as in PyTorch: X (B, T, d); a linear map U W^T + b with W (d_out, d_in);
LN(U) = gamma (U - mean) / sqrt(var + 1e-5) + beta over the d features (biased variance);
h heads of d_k = d / h features, split by reshape (B, T, h, d_k) and transpose (0, 2, 1, 3);
scores S = Q K^T / sqrt(d_k) (B, h, T, T), softmax over the keys (last axis), query i sees
keys j <= i when causal; FFN(U) = GELU(U W_1^T + b_1) W_2^T + b_2 with the tanh GELU
0.5 u (1 + tanh(sqrt(2/pi) (u + 0.044715 u^3))).

Derived in: chapters/09_transformer_block.ipynb
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import _check_array, checked, dict_of
from .tensor import Tensor

__all__ = ["block_forward_tensor", "block_gradients_autograd"]

LN_EPS = 1e-5
# the shapes of the 16 parameters of one block (d model features, f = d_ff hidden features)
PARAM_SHAPES = {"ln1_gamma": "d", "ln1_beta": "d", "W_Q": "d d", "b_Q": "d", "W_K": "d d",
                "b_K": "d", "W_V": "d d", "b_V": "d", "W_O": "d d", "b_O": "d",
                "ln2_gamma": "d", "ln2_beta": "d", "W_1": "f d", "b_1": "f", "W_2": "d f",
                "b_2": "d"}
PARAMS_OF_A_BLOCK = "a dict of the block's 16 parameter arrays (transformer.init_block)"


def _tensor(spec: str):
    """A ``checked`` spec: a Tensor whose data has shape ``spec``, or an array (then a constant)."""
    def check(value, name, sizes, source):
        if isinstance(value, Tensor):
            _check_array(name, value.data, spec, sizes, source)
            return value
        return Tensor(_check_array(name, value, spec, sizes, source), name=name)
    return check


def _tensors(what: str, **specs: str):
    """A ``checked`` spec: a dict whose keys ``specs`` hold Tensors (or arrays) of those shapes."""
    def check(d, name, sizes, source):
        if not isinstance(d, dict):
            raise TypeError(f"{name} must be {what}, got {type(d).__name__}")
        if missing := [k for k in specs if k not in d]:
            raise ValueError(f"{name} must be {what} with keys {tuple(specs)}, missing {missing}")
        return {k: _tensor(spec)(d[k], k, sizes, source) for k, spec in specs.items()}
    return check


def _door(d: int, h: int, causal) -> bool:
    """The checks `checked` cannot declare: h divides d, causal is a bool."""
    if d % h:
        raise ValueError(f"h = {h} heads must divide d = {d} features (each head gets d / h)")
    if not isinstance(causal, (bool, np.bool_)):
        raise TypeError(f"causal must be True or False, got {type(causal).__name__} {causal!r}")
    return bool(causal)


def _linear(U: Tensor, W: Tensor, b: Tensor) -> Tensor:
    """U W^T + b: (..., d_in) -> (..., d_out)."""
    return U @ W.swapaxes(0, 1) + b


def _layer_norm(U: Tensor, gamma: Tensor, beta: Tensor) -> Tensor:
    """gamma (U - mu) / sqrt(var + eps) + beta, mu and var over the last axis."""
    C = U - U.mean(-1, keepdims=True)
    var = (C * C).mean(-1, keepdims=True)
    return C * (var + LN_EPS) ** -0.5 * gamma + beta


def _gelu(U: Tensor) -> Tensor:
    """0.5 u (1 + tanh(sqrt(2/pi) (u + 0.044715 u^3))), GPT-2's tanh GELU."""
    cube = U * U * U  # not U**3: numpy's power is ~200x slower for a cube than two products
    return 0.5 * U * (1.0 + (math.sqrt(2.0 / math.pi) * (U + 0.044715 * cube)).tanh())


def _softmax(S: Tensor) -> Tensor:
    """softmax over the last axis; the row maximum is subtracted as a constant (softmax is
    unchanged by a shift, so the shift needs no gradient) so exp never overflows."""
    E = (S - S.detach().max(-1, keepdims=True)).exp()
    return E / E.sum(-1, keepdims=True)


def _attention(U: Tensor, p: dict, h: int, causal: bool) -> Tensor:
    """O = merge(softmax(Q K^T / sqrt(d_k) + mask) V) W_O^T + b_O, per head, Q = U W_Q^T + b_Q."""
    B, T, d = U.shape
    d_k = d // h

    def split(W, b):  # (B, T, d) -> (B, h, T, d_k)
        return _linear(U, p[W], p[b]).reshape(B, T, h, d_k).transpose(0, 2, 1, 3)

    Q, K, V = split("W_Q", "b_Q"), split("W_K", "b_K"), split("W_V", "b_V")
    S = Q @ K.swapaxes(-1, -2) / math.sqrt(d_k)  # (B, h, T, T): S[b, n, i, j] = q_i . k_j
    if causal:
        S = S.masked_fill(np.triu(np.ones((T, T), dtype=bool), k=1), -np.inf)  # keys j > i
    Vbar = _softmax(S) @ V  # (B, h, T, d_k): per head, each row the weighted mean of the values
    return _linear(Vbar.transpose(0, 2, 1, 3).reshape(B, T, d), p["W_O"], p["b_O"])


def _block(X: Tensor, p: dict, h: int, causal: bool) -> Tensor:
    H = X + _attention(_layer_norm(X, p["ln1_gamma"], p["ln1_beta"]), p, h, causal)
    U = _layer_norm(H, p["ln2_gamma"], p["ln2_beta"])
    return H + _linear(_gelu(_linear(U, p["W_1"], p["b_1"])), p["W_2"], p["b_2"])


@checked(X=_tensor("B T d"), params=_tensors(PARAMS_OF_A_BLOCK, **PARAM_SHAPES), h="count1")
def block_forward_tensor(X, params, *, h, causal: bool = True) -> Tensor:
    """Y = H + FFN(LN2(H)),  H = X + MHA(LN1(X)), recorded by the autograd engine.

    X (B, T, d) and the 16 parameters of ``params`` (keys as transformer.init_block: W_Q, W_K,
    W_V, W_O (d, d), W_1 (d_ff, d), W_2 (d, d_ff), biases and LayerNorm gamma, beta) are
    Tensors (leaves with requires_grad get gradients) or arrays (constants); h divides d.
    Returns Y (B, T, d) as a Tensor; ``Y.backward(dout)`` fills every leaf's ``.grad``.

    Derived in: chapters/09_transformer_block.ipynb
    """
    return _block(X, params, h, _door(X.shape[-1], h, causal))


@checked(X="B T d", params=dict_of(PARAMS_OF_A_BLOCK, **PARAM_SHAPES), dout="=X", h="count1")
def block_gradients_autograd(X, params, dout, *, h, causal: bool = True) -> tuple[np.ndarray, dict]:
    """dL/dX and dL/d(each parameter) of the block for the upstream gradient dout = dL/dY,
    derived by the engine from the forward program alone (no hand-written backward).

    X, dout (B, T, d); params the block's 16 arrays. Returns (dX (B, T, d), grads) with grads
    a dict of the same keys and shapes as params, the same contract as transformer.block_backward.

    Derived in: chapters/09_transformer_block.ipynb
    """
    causal = _door(X.shape[-1], h, causal)
    leaves = {k: Tensor(params[k], requires_grad=True, name=k) for k in PARAM_SHAPES}
    Xt = Tensor(X, requires_grad=True, name="X")
    _block(Xt, leaves, h, causal).backward(dout)
    return Xt.grad, {k: leaves[k].grad for k in PARAM_SHAPES}
