"""Chapter 9 exercises: the transformer block's backward in PyTorch's row layout (B, T, d).

    split (B, T, d) -> (B, h, T, d_k)     its backward is the merge: transpose back, then reshape
    R = X + Vbar W_O^T + b_O              dX = dR (identity path), dVbar = dR W_O,
                                          dW_O = sum_{b,t} dR_bt^T Vbar_bt, db_O = sum_{b,t} dR_bt
    the whole block, end to end:          dR = dY + LN_2^T MLP^T dY,  dX = dR + LN_1^T MHA^T dR

Derived in: chapters/09_transformer_block.ipynb
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..normalization import layer_norm_backward, layer_norm_forward
from ..transformer import (
    block_forward,
    feed_forward,
    feed_forward_backward,
    multi_head_attention_backward,
    multi_head_attention_forward,
    split_heads,
)
from ._checker import Case, Exercise, Mistake

# ---- 1. the backward of the split into heads ---------------------------------------------------


def _split_cases(rng):
    return [Case({"Q": rng.normal(size=(b, t, h * dk)), "h": h}, batch=b)
            for b, t, h, dk in [(2, 5, 2, 3), (1, 3, 4, 2), (3, 4, 2, 4), (2, 2, 3, 2)]]


def _merge_like(dQh, order):
    """dQh (B, h, T, d_k) put back as (B, T, d) after the transpose ``order`` (the mistakes)."""
    B, _, T, _ = dQh.shape
    moved = dQh if order is None else dQh.transpose(order)
    return moved.reshape(B, T, -1)


SPLIT = Exercise(
    name="split_heads_backward", signature="split_backward(dQh) -> dQ",
    returns="dQ with the shape (B, T, d) of Q: the inverse of the split",
    forward=lambda Q, h: split_heads(Q, h),
    cases=_split_cases,
    mistakes=(
        Mistake(lambda _p, d: (_merge_like(d, None),), "no_transpose",
                "you reshaped straight to (B, T, d) without moving the head axis back. The split "
                "reshaped to (B, T, h, d_k) and then transposed to (B, h, T, d_k); its backward "
                "undoes the steps in the opposite order: transpose(0, 2, 1, 3), then reshape."),
        Mistake(lambda _p, d: (_merge_like(d, (0, 2, 3, 1)),), "wrong_axes",
                "the heads' features are interleaved: you transposed to (B, T, d_k, h), so the "
                "reshape takes one feature of every head in turn. Head n's d_k features are "
                "consecutive: transpose to (B, T, h, d_k) with transpose(0, 2, 1, 3), then reshape."),
        Mistake(lambda _p, d: (_merge_like(d, (0, 3, 1, 2)),), "wrong_axes",
                "you moved the feature axis d_k forward, transpose(0, 3, 1, 2); the axes to swap "
                "back are the head axis (1) and the token axis (2): transpose(0, 2, 1, 3)."),
    ),
    summed_over="the sequences of the batch",
)

# ---- 2. the output projection with the residual ------------------------------------------------


def _projection_cases(rng):
    return [Case({"X": rng.normal(size=(b, t, d)), "Vbar": rng.normal(size=(b, t, d)),
                  "W_O": rng.normal(size=(d, d)), "b_O": rng.normal(size=d)}, batch=b)
            for b, t, d in [(2, 4, 6), (1, 3, 4), (3, 2, 5), (2, 1, 3)]]


def _projection_grads(p, dR, *, identity=True, bias_axes=(0, 1), dVbar_transposed=False,
                      dW_transposed=False):
    """(dX, dVbar, dW_O, db_O) of R = X + Vbar W_O^T + b_O, or a typical mistake's, from the keywords."""
    Vbar, W = p["Vbar"], p["W_O"]
    d = W.shape[0]
    flat_dR, flat_Vbar = dR.reshape(-1, d), Vbar.reshape(-1, d)
    dW = flat_Vbar.T @ flat_dR if dW_transposed else flat_dR.T @ flat_Vbar
    dVbar = dR @ W.T if dVbar_transposed else dR @ W
    return (dR if identity else np.zeros_like(dR)), dVbar, dW, dR.sum(axis=bias_axes)


PROJECTION = Exercise(
    name="output_projection_residual", signature="output_backward(dR, Vbar, W_O) -> dX, dVbar, dW_O, db_O",
    returns="(dX, dVbar, dW_O, db_O): dX and dVbar with the shape (B, T, d) of X and Vbar, dW_O (d, d), "
            "db_O (d,)",
    forward=lambda X, Vbar, W_O, b_O: X + Vbar @ W_O.T + b_O,
    cases=_projection_cases,
    mistakes=(
        Mistake(lambda p, d: _projection_grads(p, d, identity=False), "residual",
                "the residual's identity path is missing. R = X + O, and the addition passes "
                "dR to both of its inputs unchanged: dX = dR."),
        Mistake(lambda p, d: _projection_grads(p, d, dVbar_transposed=True), "transpose",
                "dVbar = dR W_O, not dR W_O^T: the forward multiplies by W_O^T, so the backward "
                "multiplies by W_O (W_O is square, so the shapes cannot tell)."),
        Mistake(lambda p, d: _projection_grads(p, d, dW_transposed=True), "transpose",
                "that is the transpose of dW_O. W_O has shape (d_out, d_in) = (d, d), and "
                "dW_O = sum over b, t of dR_bt^T Vbar_bt (dR first), as for torch.nn.Linear."),
        Mistake(lambda p, d: _projection_grads(p, d, bias_axes=0), "batch_sum",
                "db_O is summed over the batch only. b_O is added to every token of every "
                "sequence, so its gradient sums dR over both B and T: dR.sum(axis=(0, 1))."),
        Mistake(lambda p, d: _projection_grads(p, d, bias_axes=1), "batch_sum",
                "db_O is summed over the positions only. b_O is shared by every sequence too: "
                "sum dR over both B and T, dR.sum(axis=(0, 1))."),
    ),
    summed_over="the tokens (all B sequences and T positions)",
)

# ---- 3. one whole block, end to end ------------------------------------------------------------

KEYS = ("ln1_gamma", "ln1_beta", "W_Q", "b_Q", "W_K", "b_K", "W_V", "b_V", "W_O", "b_O",
        "ln2_gamma", "ln2_beta", "W_1", "b_1", "W_2", "b_2")
CHECKED = tuple(k for k in KEYS if k != "b_K")  # db_K = 0 exactly: finite differences see noise


def _block_params(rng, d, d_ff):
    shapes = {"W_Q": (d, d), "W_K": (d, d), "W_V": (d, d), "W_O": (d, d), "W_1": (d_ff, d),
              "W_2": (d, d_ff), "b_1": (d_ff,)}
    p = {}
    for k in KEYS:
        if k.endswith("gamma"):
            p[k] = rng.uniform(0.5, 1.5, size=d)
        else:
            p[k] = rng.normal(size=shapes.get(k, (d,))) / np.sqrt(shapes.get(k, (d, d))[-1])
    return p


def _block_cases(rng):
    return [Case({"X": rng.normal(size=(b, t, d)), **_block_params(rng, d, 4 * d), "h": h}, batch=b)
            for b, t, d, h in [(2, 3, 4, 2), (1, 4, 4, 1), (2, 2, 6, 3), (3, 1, 4, 2)]]


def _block_grads(p, dY, *, second_identity=True, first_identity=True, attention_upstream="dR",
                 ln2=True):
    """(dX, one gradient per CHECKED key) of the block, or a typical mistake's, from the keywords."""
    params = {k: p[k] for k in KEYS}
    U1, ln1_cache = layer_norm_forward(p["X"], p["ln1_gamma"], p["ln1_beta"])
    attn_out, att_cache = multi_head_attention_forward(U1, params, h=p["h"])
    R = p["X"] + attn_out
    U2, ln2_cache = layer_norm_forward(R, p["ln2_gamma"], p["ln2_beta"])
    _, mlp_cache = feed_forward(U2, params)
    dU2, grads = feed_forward_backward(dY, mlp_cache)
    if ln2:
        dR_branch, grads["ln2_gamma"], grads["ln2_beta"] = layer_norm_backward(dU2, ln2_cache)
    else:
        dR_branch = dU2
        grads["ln2_gamma"], grads["ln2_beta"] = layer_norm_backward(dU2, ln2_cache)[1:]
    dR = dY + dR_branch if second_identity else dR_branch
    dU1, att_grads = multi_head_attention_backward(dR if attention_upstream == "dR" else dY,
                                                   att_cache)
    grads.update(att_grads)
    dX_branch, grads["ln1_gamma"], grads["ln1_beta"] = layer_norm_backward(dU1, ln1_cache)
    dX = dR + dX_branch if first_identity else dX_branch
    return (dX, *(grads[k] for k in CHECKED))


def _call_block(fn, p, dY):
    out = fn(dY, p["X"], {k: p[k] for k in KEYS}, p["h"])
    if out is None:
        return None
    if not isinstance(out, (tuple, list)) or len(out) != 2 or not isinstance(out[1], dict):
        raise TypeError("block_backward must return a pair (dX, grads), grads a dict "
                        "{parameter name: gradient}")
    dX, grads = out
    missing = [k for k in CHECKED if k not in grads]
    if missing:
        raise LookupError(f"grads must hold one gradient for each of the 16 parameters, under "
                          f"the keys of params; it has no entry for {missing}")
    return (dX, *(grads[k] for k in CHECKED))


_BLOCK_SLIPS = (  # (the slip, as a keyword of _block_grads; its kind; the feedback)
    (dict(second_identity=False), "residual",
     "the identity path of the second residual addition is missing: Y = R + F, so "
     "dR = dY + (the MLP branch's gradient), not the branch's gradient alone."),
    (dict(first_identity=False), "residual",
     "the identity path of the first residual addition is missing: R = X + O, so "
     "dX = dR + (the attention branch's gradient), not the branch's gradient alone."),
    (dict(attention_upstream="dY"), "order",
     "the attention branch was given dY. Its output O enters R, and R reaches the "
     "loss along both paths of the second addition: pass dR = dY + (MLP branch) to "
     "the attention's backward, so compute the second half's backward first."),
    (dict(ln2=False), "layernorm",
     "LN_2's backward is missing: the MLP's input gradient is dU_2, the gradient at "
     "LN_2's output; run layer_norm_backward(dU2, cache) to get the gradient at R."),
)

BLOCK = Exercise(
    name="block_backward", function="block_backward",
    returns="(dX, grads): dX with the shape (B, T, d) of X, and grads a dict with one gradient per "
            "parameter,\nunder the keys of params and with the shape of each parameter",
    grads=(("dX", "X"), *((f"d{k}", k) for k in CHECKED)),
    forward=lambda X, h, **params: block_forward(X, params, h=h)[0],
    call=_call_block,
    cases=_block_cases,
    mistakes=tuple(Mistake(partial(_block_grads, **slip), kind, text) for slip, kind, text in _BLOCK_SLIPS),
    summed_over="the tokens (all B sequences and T positions)",
    upstream="dY",
)

EXERCISES = [SPLIT, PROJECTION, BLOCK]
