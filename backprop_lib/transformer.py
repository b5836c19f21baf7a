"""Pre-norm transformer block, row layout:  R = X + MHA(LN1(X)),  Y = R + FFN(LN2(R)).

PyTorch's row layout: X (B, T, d) holds B sequences of T positions with d features; a linear
map is  Y = X W^T + b  with W (d_out, d_in), as torch.nn.Linear. h heads of d_k = d / h
features, d_ff = 4 d hidden units, N = B T rows. Forward, with the shape of every result:

    U1 = LN1(X)                                (B, T, d)      normalization.layer_norm_forward
    Q = U1 W_Q^T + b_Q,  K = ..,  V = ..        (B, T, d)
    Q_h, K_h, V_h = split_heads(Q), ..          (B, h, T, d_k) reshape(B, T, h, d_k), swap T and h
    S = Q_h K_h^T / sqrt(d_k), causal mask     (B, h, T, T)   attention.scores, attention_head.mask_scores
    A = softmax of S over the keys (last axis) (B, h, T, T)   activations.softmax
    Vbar_h = A V_h,  Vbar = merge_heads(Vbar_h) (B, h, T, d_k) -> (B, T, d)   attention.weighted_values
    O = Vbar W_O^T + b_O,  R = X + O            (B, T, d)      residual.residual_forward
    U2 = LN2(R),  P = U2 W_1^T + b_1            (B, T, d), (B, T, d_ff)
    G = gelu(P),  F = G W_2^T + b_2,  Y = R + F (B, T, d_ff), (B, T, d), (B, T, d)

Backward, dY (B, T, d) given; every gradient has the shape of its variable, and every line is
a backward function of an earlier chapter (a weight's gradient sums over the N rows):

    dF = dY                                    (B, T, d)      residual: F is added to R
    dG = dF W_2,  dW_2 = dF^T G,  db_2 = sum dF (B, T, d_ff), (d, d_ff), (d,)
    dP = gelu_backward(dG, P)                  (B, T, d_ff)
    dU2 = dP W_1,  dW_1 = dP^T U2,  db_1       (B, T, d), (d_ff, d), (d_ff,)
    dR = dY + LN2 backward(dU2)                (B, T, d)      the identity path + the FFN path
       (dgamma_2, dbeta_2 (d,) from layer_norm_backward)
    dO = dR,  dVbar = dO W_O,  dW_O = dO^T Vbar (B, T, d), (d, d)
    dVbar_h = split_heads(dVbar)               (B, h, T, d_k) merge's backward is split
    dA = dVbar_h V_h^T,  dV_h = A^T dVbar_h     (B, h, T, T), (B, h, T, d_k)  weighted_values_backward
    dS = A * (dA - sum over keys of A * dA)    (B, h, T, T)   activations.softmax_vjp (0 where masked)
    dQ_h = dS K_h / sqrt(d_k),  dK_h = dS^T Q_h / sqrt(d_k)   (B, h, T, d_k)  scores_backward
    dQ, dK, dV = merge_heads(dQ_h), ..          (B, T, d)      split's backward is merge
    dU1 = dQ W_Q + dK W_K + dV W_V              (B, T, d)      three paths into U1 add
       (dW_Q = dQ^T U1 (d, d), db_Q = sum dQ (d,), and the same for K and V)
    dX = dR + LN1 backward(dU1)                (B, T, d)      (dgamma_1, dbeta_1 (d,))

Chapters 6 and 7 wrote attention in the column layout (one token per column): S_col = K^T Q
(keys x queries), softmax over the keys (axis -2), Vbar_col = V A_col (each column the
A-weighted mean of the values, hence the bar). The row layout is that transposed:
Q_col = Q_h^T, S = S_col^T, A = A_col^T, Vbar_h = Vbar_col^T. So the heads are stacked
into a batch of B h matrices and the column-layout functions are called on transposed views
(no copy); one matrix product per step for all heads and positions, no Python loop over either.

Activation checkpointing: block_forward(..., checkpoint=True) keeps only X (and the params);
block_backward then recomputes the forward and runs the same backward (same numbers, bit for
bit). activation_bytes gives what a cache keeps, saved_bytes counts it.

Derived in: chapters/09_transformer_block.ipynb
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from dataclasses import dataclass
from functools import partial

import numpy as np

from ._validate import as_count, as_float_array, check_shape, checked, dict_of, trusted
from .activations import softmax, softmax_vjp
from .attention import scores, scores_backward, weighted_values, weighted_values_backward
from .attention_head import causal_mask, mask_scores
from .normalization import NormCache, layer_norm_backward, layer_norm_forward
from .residual import residual_backward, residual_forward

__all__ = ["PARAM_KEYS", "init_block", "split_heads", "merge_heads", "gelu", "gelu_backward",
           "multi_head_attention_forward", "multi_head_attention_backward", "feed_forward",
           "feed_forward_backward", "block_forward", "block_backward", "saved_bytes",
           "activation_bytes", "checkpoint_cost", "AttentionCache", "FeedForwardCache", "BlockCache",
           "CheckpointCost"]

PARAM_KEYS = ("ln1_gamma", "ln1_beta", "W_Q", "b_Q", "W_K", "b_K", "W_V", "b_V", "W_O", "b_O",
              "ln2_gamma", "ln2_beta", "W_1", "b_1", "W_2", "b_2")
_ATTN_KEYS = PARAM_KEYS[2:10]
_FFN_KEYS = PARAM_KEYS[12:]
_EPS = 1e-5  # LayerNorm's eps, PyTorch's default
_GELU_C = np.sqrt(2.0 / np.pi)
_GELU_A = 0.044715

_ATTN_PARAMS = dict_of("the parameters of a block (init_block)", W_Q="d d", b_Q="d", W_K="d d", b_K="d",
                       W_V="d d", b_V="d", W_O="d d", b_O="d")
_FFN_PARAMS = dict_of("the parameters of a block (init_block)", W_1="d_ff d", b_1="d_ff", W_2="d d_ff",
                      b_2="d")
_BLOCK_PARAMS = dict_of("the parameters of a block (init_block)", ln1_gamma="d", ln1_beta="d", W_Q="d d",
                        b_Q="d", W_K="d d", b_K="d", W_V="d d", b_V="d", W_O="d d", b_O="d",
                        ln2_gamma="d", ln2_beta="d", W_1="d_ff d", b_1="d_ff", W_2="d d_ff", b_2="d")


def _t(M):
    return np.swapaxes(M, -1, -2)


def _heads(d: int, h: int, what: str) -> int:
    """d_k = d / h; ValueError unless h divides d."""
    if d % h:
        raise ValueError(f"h must divide d: {what} has d = {d} features, which {h} heads cannot split "
                         f"evenly (d % h = {d % h}); choose h among the divisors of d")
    return d // h


def _flag(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def _dout(dout, shape: tuple, forward: str) -> np.ndarray:
    dout = as_float_array(dout, "dout")
    check_shape("dout", dout, shape, f"the shape of the output of {forward}")
    return dout


def _linear(X, W, b):
    """Y = X W^T + b: W (d_out, d_in), X (..., d_in) -> (..., d_out), one matrix product for all rows.

    (numpy multiplies a stack (B, T, d_in) @ (d_in, d_out) as B separate products; the rows as
    one (B T, d_in) matrix are one product, several times faster with two BLAS threads.)
    """
    Y = X.reshape(-1, X.shape[-1]) @ W.T
    Y += b
    return Y.reshape(*X.shape[:-1], W.shape[0])


def _linear_backward(dY, X, W):
    """dX = dY W, dW = dY^T X (summed over every row), db = dY summed over every row."""
    rows_dY, rows_X = dY.reshape(-1, dY.shape[-1]), X.reshape(-1, X.shape[-1])
    return (rows_dY @ W).reshape(X.shape), rows_dY.T @ rows_X, rows_dY.sum(axis=0)


# ---------------------------------------------------------------- parameters

@checked(d="count1", h="count1", seed="count")
def init_block(d: int, h: int, *, d_ff=None, seed: int = 0) -> dict:
    """The 16 parameters of one block: W ~ N(0, 1/fan_in), biases 0, LayerNorm gamma 1, beta 0.

    W_Q, W_K, W_V, W_O (d, d); W_1 (d_ff, d); W_2 (d, d_ff); b_Q .. b_O, b_2, ln*_gamma,
    ln*_beta (d,); b_1 (d_ff,). d_ff defaults to 4 d; h must divide d. Keys: PARAM_KEYS.

    Derived in: chapters/09_transformer_block.ipynb
    """
    _heads(d, h, "init_block")
    d_ff = 4 * d if d_ff is None else as_count(d_ff, "d_ff", minimum=1)
    rng = np.random.default_rng(seed)

    def weight(d_out, d_in):
        return rng.normal(scale=1.0 / np.sqrt(d_in), size=(d_out, d_in))

    p = {"ln1_gamma": np.ones(d), "ln1_beta": np.zeros(d)}
    for name in "QKVO":
        p[f"W_{name}"], p[f"b_{name}"] = weight(d, d), np.zeros(d)
    p.update(ln2_gamma=np.ones(d), ln2_beta=np.zeros(d), W_1=weight(d_ff, d), b_1=np.zeros(d_ff),
             W_2=weight(d, d_ff), b_2=np.zeros(d))
    return p


# ---------------------------------------------------------------- heads: a reshape and its inverse

@checked(X="B T d", h="count1")
def split_heads(X, h: int) -> np.ndarray:
    """X_h[b, n, t, :] = X[b, t, n d_k:(n + 1) d_k]: (B, T, d) -> (B, h, T, d_k), d_k = d / h.

    reshape(B, T, h, d_k) then swap the T and h axes; it moves entries, so its backward moves
    them back: the backward of split_heads is merge_heads, and the other way round.

    Derived in: chapters/09_transformer_block.ipynb
    """
    B, T, d = X.shape
    d_k = _heads(d, h, f"X of shape {X.shape}")
    return np.ascontiguousarray(X.reshape(B, T, h, d_k).transpose(0, 2, 1, 3))


@checked(X_h="B h T d_k")
def merge_heads(X_h) -> np.ndarray:
    """X[b, t, n d_k + i] = X_h[b, n, t, i]: (B, h, T, d_k) -> (B, T, h d_k), split_heads' inverse.

    Merges the heads' outputs Vbar_h into Vbar (and, in the backward, dQ_h into dQ, ..).
    Also split_heads' backward (and split_heads is merge_heads' backward).

    Derived in: chapters/09_transformer_block.ipynb
    """
    B, h, T, d_k = X_h.shape
    return X_h.transpose(0, 2, 1, 3).reshape(B, T, h * d_k)


# ---------------------------------------------------------------- GELU (tanh approximation)

def _gelu_tanh(x):
    """t = tanh(c x (1 + a x^2)) = tanh(c (x + a x^3)), computed in place in one temporary.

    (x ** 3 is numpy's slow general power, and every temporary of a (B, T, d_ff) array is a
    pass over memory: written this way gelu costs about a third of the plain expression.)
    """
    t = np.asarray(x * x)  # an array even for 0-d x (numpy returns a scalar there)
    t *= _GELU_A
    t += 1.0
    t *= x
    t *= _GELU_C
    return np.tanh(t, out=t)


@checked(x="*")
def gelu(x) -> np.ndarray:
    """gelu(x) = x/2 (1 + tanh(c (x + a x^3))), c = sqrt(2/pi), a = 0.044715; any shape.

    The tanh approximation of x Phi(x) (GPT-2's; torch.nn.functional.gelu(x, approximate="tanh")).
    Smooth everywhere, so central differences check it at any point.

    Derived in: chapters/09_transformer_block.ipynb
    """
    y = _gelu_tanh(x)
    y += 1.0
    y *= x
    y *= 0.5
    return y


@checked(x="*", dout="=x")
def gelu_backward(dout, x) -> np.ndarray:
    """dx = dout (1/2 (1 + t) + x/2 (1 - t^2) c (1 + 3 a x^2)), t = tanh(c (x + a x^3)).

    x is the saved input of gelu (not its output); dout has its shape.

    Derived in: chapters/09_transformer_block.ipynb
    """
    t = _gelu_tanh(x)
    slope = np.asarray(t * t)  # then x/2 (1 - t^2) c (1 + 3 a x^2), in place
    np.subtract(1.0, slope, out=slope)
    slope *= x
    slope *= 1.0 + (3.0 * _GELU_A) * (x * x)
    slope *= 0.5 * _GELU_C
    t += 1.0  # t becomes 1/2 (1 + t) + slope
    t *= 0.5
    t += slope
    t *= dout
    return t


# ---------------------------------------------------------------- multi-head attention

@dataclass(frozen=True)
class AttentionCache:
    """What multi-head attention's backward needs: its input U, the heads Q, K, V, the weights A, Vbar.

    Q, K, V (B h, T, d_k), heads stacked along the first axis, in the row layout; A (B h, T, T)
    in the column layout of Chapter 7 (A[:, j, i] = weight of key j for query i); Vbar (B, T, d),
    the merged heads' outputs (the input of W_O).
    """

    U: np.ndarray
    Q: np.ndarray
    K: np.ndarray
    V: np.ndarray
    A: np.ndarray
    Vbar: np.ndarray
    params: dict
    h: int

    @property
    def attention(self) -> np.ndarray:
        """A[b, n, i, j]: the weight head n of sequence b gives key j for query i, (B, h, T, T).

        Each row sums to 1; causal: 0 for j > i. A view of the cache, no copy.
        """
        B, T, _ = self.U.shape
        return _t(self.A).reshape(B, self.h, T, T)


def _attention_core(Qc, Kc, Vc, causal):
    """Vbar_col = V softmax(mask(K^T Q / sqrt(d_k))) over the keys, Chapter 7's functions."""
    T = Qc.shape[-1]
    S = mask_scores(scores(Qc, Kc, 1.0 / np.sqrt(Qc.shape[-2])), causal_mask(T) if causal else None)
    A = softmax(S, axis=-2)
    return weighted_values(Vc, A), A


@checked(X="B T d", params=_ATTN_PARAMS, h="count1")
def multi_head_attention_forward(X, params, *, h: int, causal=True):
    """O = merge_heads(softmax(Q_h K_h^T / sqrt(d_k)) V_h) W_O^T + b_O,  Q = X W_Q^T + b_Q, ..

    X (B, T, d); params with W_Q, W_K, W_V, W_O (d, d), b_Q, .., b_O (d,) (other keys are
    ignored); h heads of d_k = d / h; causal: query i sees keys j <= i. Returns (O (B, T, d),
    AttentionCache); cache.attention is the weights (B, h, T, T).

    Derived in: chapters/09_transformer_block.ipynb
    """
    B, T, d = X.shape
    d_k = _heads(d, h, f"X of shape {X.shape}")
    causal = _flag(causal, "causal")
    p = params
    with trusted():
        heads = [split_heads(_linear(X, p[f"W_{n}"], p[f"b_{n}"]), h).reshape(B * h, T, d_k) for n in "QKV"]
        Vbarc, A = _attention_core(*(_t(M) for M in heads), causal)
        Vbar = merge_heads(_t(Vbarc).reshape(B, h, T, d_k))
        out = _linear(Vbar, p["W_O"], p["b_O"])
    return out, AttentionCache(X, *heads, A, Vbar, {k: p[k] for k in _ATTN_KEYS}, h)


def _opened(cache, kind, forward: str, dout):
    """(cache, its params, dout) after the door's checks: cache is the ``kind`` that ``forward``
    returns, dout has the shape of that forward's input."""
    if not isinstance(cache, kind):
        raise TypeError(f"cache must be the {kind.__name__} returned by {forward}, "
                        f"got {type(cache).__name__}")
    return cache, cache.params, _dout(dout, cache.U.shape, forward)


def multi_head_attention_backward(dout, cache):
    """dX = dQ W_Q + dK W_K + dV W_V (three paths), dW_O = dO^T Vbar, .. (the module docstring's steps).

    dout (B, T, d) is dL/dO; cache the AttentionCache of multi_head_attention_forward.
    Returns (dX (B, T, d), grads {W_Q, b_Q, W_K, b_K, W_V, b_V, W_O, b_O}).

    Derived in: chapters/09_transformer_block.ipynb
    """
    c, p, dout = _opened(cache, AttentionCache, "multi_head_attention_forward", dout)
    B, T, d = c.U.shape
    d_k = d // c.h
    grads = {}
    with trusted():
        dVbar, grads["W_O"], grads["b_O"] = _linear_backward(dout, c.Vbar, p["W_O"])
        dVbarc = _t(split_heads(dVbar, c.h).reshape(B * c.h, T, d_k))
        Qc, Kc, Vc = _t(c.Q), _t(c.K), _t(c.V)
        dVc, dA = weighted_values_backward(dVbarc, Vc, c.A)
        dS = softmax_vjp(dA, c.A, axis=-2)  # masked entries: A = 0 there, so dS = 0 exactly
        dQc, dKc = scores_backward(dS, Qc, Kc, 1.0 / np.sqrt(d_k))
        dX = np.zeros_like(c.U)
        for name, dMc in zip("QKV", (dQc, dKc, dVc), strict=True):
            dM = merge_heads(_t(dMc).reshape(B, c.h, T, d_k))
            dX_m, grads[f"W_{name}"], grads[f"b_{name}"] = _linear_backward(dM, c.U, p[f"W_{name}"])
            dX += dX_m  # the three paths into U add
    return dX, {k: grads[k] for k in _ATTN_KEYS}


# ---------------------------------------------------------------- the MLP

@dataclass(frozen=True)
class FeedForwardCache:
    """What the MLP's backward needs: its input U (B, T, d), P = U W_1^T + b_1 and G = gelu(P)."""

    U: np.ndarray
    P: np.ndarray
    G: np.ndarray
    params: dict


@checked(X="B T d", params=_FFN_PARAMS)
def feed_forward(X, params):
    """F = gelu(X W_1^T + b_1) W_2^T + b_2, row by row.

    X (B, T, d); W_1 (d_ff, d), b_1 (d_ff,), W_2 (d, d_ff), b_2 (d,) (other keys are ignored).
    Returns (F (B, T, d), FeedForwardCache).

    Derived in: chapters/09_transformer_block.ipynb
    """
    p = params
    with trusted():
        P = _linear(X, p["W_1"], p["b_1"])
        G = gelu(P)
        F = _linear(G, p["W_2"], p["b_2"])
    return F, FeedForwardCache(X, P, G, {k: p[k] for k in _FFN_KEYS})


def feed_forward_backward(dout, cache):
    """dX = gelu_backward(dout W_2, P) W_1;  dW_2 = dout^T G, dW_1 = dP^T X, db = row sums.

    dout (B, T, d) is dL/dF; cache the FeedForwardCache of feed_forward.
    Returns (dX (B, T, d), grads {W_1, b_1, W_2, b_2}).

    Derived in: chapters/09_transformer_block.ipynb
    """
    c, p, dout = _opened(cache, FeedForwardCache, "feed_forward", dout)
    with trusted():
        dG, dW_2, db_2 = _linear_backward(dout, c.G, p["W_2"])
        dP = gelu_backward(dG, c.P)
        dX, dW_1, db_1 = _linear_backward(dP, c.U, p["W_1"])
    return dX, {"W_1": dW_1, "b_1": db_1, "W_2": dW_2, "b_2": db_2}


# ---------------------------------------------------------------- the block

def _pre_norm(X, params, ln, sublayer):
    """sublayer(LN(X), params) and the caches (ln_cache, sublayer_cache); the residual adds X.

    ln names the LayerNorm ("ln1" or "ln2": params[ln + "_gamma"], params[ln + "_beta"]).
    """
    U, ln_cache = layer_norm_forward(X, params[f"{ln}_gamma"], params[f"{ln}_beta"], eps=_EPS)
    out, sublayer_cache = sublayer(U, params)
    return out, (ln_cache, sublayer_cache)


def _pre_norm_backward(dout, cache, sublayer_backward, ln):
    """The branch's dX = LN backward(sublayer backward(dout)), and the grads of both."""
    ln_cache, sublayer_cache = cache
    dU, grads = sublayer_backward(dout, sublayer_cache)
    dX, grads[f"{ln}_gamma"], grads[f"{ln}_beta"] = layer_norm_backward(dU, ln_cache)
    return dX, grads


@dataclass(frozen=True)
class BlockCache:
    """The block's cache: the two residual caches, or (checkpoint=True) only X.

    attn = (x shape, (LN1 NormCache, AttentionCache)), ffn = (R's shape, (LN2 NormCache,
    FeedForwardCache)), as residual.residual_forward returns them; None when checkpointed.
    """

    X: np.ndarray | None
    attn: tuple | None
    ffn: tuple | None
    params: dict
    h: int
    causal: bool
    checkpoint: bool

    @property
    def attention(self) -> np.ndarray:
        """The attention weights (B, h, T, T) of the block (recomputed when checkpointed)."""
        attn = self.attn if self.attn is not None else _recompute(self).attn
        return attn[1][1].attention


def _recompute(cache: BlockCache) -> BlockCache:
    return block_forward(cache.X, cache.params, h=cache.h, causal=cache.causal)[1]


@checked(X="B T d", params=_BLOCK_PARAMS, h="count1")
def block_forward(X, params, *, h: int, causal=True, checkpoint=False):
    """Y = R + FFN(LN2(R)),  R = X + MHA(LN1(X)): the pre-norm block, no dropout.

    X (B, T, d); params the 16 arrays of init_block (keys PARAM_KEYS, d_ff = W_1's rows); h
    heads (h must divide d); causal: position i attends to positions j <= i. checkpoint=True
    keeps only X (and the params) in the cache; block_backward then recomputes the forward.
    Returns (Y (B, T, d), BlockCache); cache.attention is the weights (B, h, T, T).

    Derived in: chapters/09_transformer_block.ipynb
    """
    _heads(X.shape[2], h, f"X of shape {X.shape}")
    causal, checkpoint = _flag(causal, "causal"), _flag(checkpoint, "checkpoint")
    p = {k: params[k] for k in PARAM_KEYS}
    with trusted():
        attention = partial(multi_head_attention_forward, h=h, causal=causal)
        R, attn = residual_forward(X, _pre_norm, p, "ln1", attention)  # R = X + MHA(LN_1(X))
        Y, ffn = residual_forward(R, _pre_norm, p, "ln2", feed_forward)  # Y = R + MLP(LN_2(R))
    if checkpoint:
        return Y, BlockCache(X, None, None, p, h, causal, True)
    return Y, BlockCache(None, attn, ffn, p, h, causal, False)


def block_backward(dout, cache):
    """dX = dR + LN1 backward(MHA backward(dR)),  dR = dY + LN2 backward(FFN backward(dY)).

    dout (B, T, d) is dL/dY; cache the BlockCache of block_forward (checkpointed: the forward
    is recomputed first). Returns (dX (B, T, d), grads with the 16 keys of PARAM_KEYS).

    Derived in: chapters/09_transformer_block.ipynb
    """
    if not isinstance(cache, BlockCache):
        raise TypeError(f"cache must be the BlockCache returned by block_forward, got {type(cache).__name__}")
    shape = cache.X.shape if cache.checkpoint else cache.attn[0]
    dout = _dout(dout, shape, "block_forward")
    mlp_branch = partial(_pre_norm_backward, sublayer_backward=feed_forward_backward, ln="ln2")
    attention_branch = partial(_pre_norm_backward, sublayer_backward=multi_head_attention_backward,
                               ln="ln1")
    with trusted():
        if cache.checkpoint:
            cache = _recompute(cache)
        dR, (g_ffn,) = residual_backward(dout, cache.ffn, mlp_branch)  # dR = dY + the MLP branch's
        dX, (g_attn,) = residual_backward(dR, cache.attn, attention_branch)  # dX = dR + MHA branch's
    grads = {**g_attn, **g_ffn}
    return dX, {k: grads[k] for k in PARAM_KEYS}


# ---------------------------------------------------------------- memory

def _arrays(obj, found: dict):
    if isinstance(obj, np.ndarray):
        found.setdefault(id(obj), obj)
    elif isinstance(obj, NormCache):
        _arrays((obj.xhat, obj.inv_std), found)  # obj.gamma is the parameter, reshaped
    elif isinstance(obj, (AttentionCache, FeedForwardCache, BlockCache)):
        _arrays([v for k, v in vars(obj).items() if k != "params"], found)
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            _arrays(item, found)


def saved_bytes(cache) -> int:
    """Bytes of the arrays a cache keeps for backward: the activations, not the parameters.

    cache: a BlockCache, AttentionCache or FeedForwardCache. Each array is counted once;
    activation_bytes gives the same number as a formula.

    Derived in: chapters/09_transformer_block.ipynb
    """
    if not isinstance(cache, (BlockCache, AttentionCache, FeedForwardCache)):
        raise TypeError(f"cache must be a cache of this module (block_forward, "
                        f"multi_head_attention_forward, feed_forward), got {type(cache).__name__}")
    found = {}
    _arrays(cache, found)
    return sum(a.nbytes for a in found.values())


@checked(B="count1", T="count1", d="count1", h="count1")
def activation_bytes(B: int, T: int, d: int, h: int, d_ff=None, *, checkpoint=False) -> int:
    """8 (8 N d + 2 N + 2 N d_ff + B h T^2) bytes, N = B T (float64); checkpoint: 8 N d.

    What block_backward needs, term by term (N = B T rows, d_ff = 4 d by default):
      LN1:  xhat1 (N d) and 1/sqrt(nu + eps) (N): its three-term input gradient uses both
      MHA:  its input U1 (N d): dW_Q, dW_K, dW_V = dQ^T U1, ..
            Q, K (2 N d): dK_h = dS^T Q_h, dQ_h = dS K_h;  V (N d): dA = dVbar_h V_h^T
            A (B h T^2): dV_h = A^T dVbar_h and the softmax's backward dS = A * (dA - ..)
            (the scores S are not kept: softmax_vjp needs only A)
            Vbar (N d): dW_O = dO^T Vbar
      LN2:  xhat2 (N d), 1/sqrt(nu + eps) (N)
      FFN:  its input U2 (N d): dW_1 = dP^T U2;  P (N d_ff): gelu_backward(dG, P);
            G = gelu(P) (N d_ff): dW_2 = dF^T G
    The residual adds keep nothing (their backward copies dY), nor do the biases. With
    checkpoint=True only X (N d) is kept. The quadratic term B h T^2 (A) dominates for long
    sequences.

    Derived in: chapters/09_transformer_block.ipynb
    """
    _heads(d, h, "activation_bytes")
    d_ff = 4 * d if d_ff is None else as_count(d_ff, "d_ff", minimum=1)
    _flag(checkpoint, "checkpoint")
    N = B * T
    if checkpoint:
        return 8 * N * d
    return 8 * (8 * N * d + 2 * N + 2 * N * d_ff + B * h * T * T)


@dataclass(frozen=True)
class CheckpointCost:
    """One measurement of checkpoint_cost: bytes kept between forward and backward, peak bytes
    traced during forward + backward (tracemalloc, numpy's allocations), median seconds."""

    checkpoint: bool
    kept_bytes: int
    peak_bytes: int
    seconds: float


@checked(B="count1", T="count1", d="count1", h="count1", n_blocks="count1", seed="count", repeat="count1")
def checkpoint_cost(B: int = 8, T: int = 128, d: int = 128, h: int = 4, *, n_blocks: int = 4,
                    seed: int = 0, repeat: int = 3) -> tuple:
    """Memory and time of forward + backward through n_blocks stacked blocks, without and with
    checkpointing: returns (CheckpointCost(False, ..), CheckpointCost(True, ..)).

    kept_bytes sums saved_bytes over the blocks after the forward pass (what checkpointing
    saves); peak_bytes is the peak of numpy's allocations during forward + backward above the
    start (tracemalloc), seconds the median of ``repeat`` untraced runs (the two settings
    interleaved). Checkpointing keeps one
    block's activations at a time instead of all n_blocks, for one more forward per block.

    Derived in: chapters/09_transformer_block.ipynb
    """
    _heads(d, h, "checkpoint_cost")
    rng = np.random.default_rng(seed)
    blocks = [init_block(d, h, seed=seed + i) for i in range(n_blocks)]
    X, dY = rng.normal(size=(B, T, d)), rng.normal(size=(B, T, d))

    def run(checkpoint):
        caches, out = [], X
        for p in blocks:
            out, cache = block_forward(out, p, h=h, checkpoint=checkpoint)
            caches.append(cache)
        kept = sum(saved_bytes(c) for c in caches)
        grad = dY
        for cache in reversed(caches):
            grad, _ = block_backward(grad, cache)
        return kept

    run(False), run(True)  # warm up
    seconds = {False: [], True: []}
    for _ in range(repeat):  # interleaved, so that both see the same load of the machine
        for checkpoint in (False, True):
            t0 = time.perf_counter()
            run(checkpoint)
            seconds[checkpoint].append(time.perf_counter() - t0)
    results = []
    for checkpoint in (False, True):
        was_tracing = tracemalloc.is_tracing()
        if not was_tracing:
            tracemalloc.start()
        try:
            start = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            kept = run(checkpoint)
            peak = tracemalloc.get_traced_memory()[1] - start
        finally:
            if not was_tracing:
                tracemalloc.stop()
        results.append(CheckpointCost(checkpoint, kept, peak, statistics.median(seconds[checkpoint])))
    return tuple(results)
