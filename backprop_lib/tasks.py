"""Sequence reversal, a task that needs attention:  "c a h e | e h a c", predict the second half.

A sequence is L random symbols x_0 .. x_{L-1} (from n_symbols letters), the delimiter "|",
then the same symbols reversed: x_{L-1} .. x_0. The model reads it left to right and predicts
each next token (tokens_in = sequence[:-1], targets = sequence[1:], both of length T = 2L;
positions i = 0 .. T-1). The targets at i < L are random letters (and, at i = L - 1, the
delimiter) that the model need not learn, so the loss leaves them out; the targets at i >= L
are determined by the first half: targets[i] = x_{2L-1-i}, the token at input position
j = 2L - 1 - i. The position to read from depends only on the position asking: an attention
head that puts its weight on key j = 2L - 1 - i for query i (the anti-diagonal of the second
half of the attention map) solves it, and no model without attention can.

The loss mask: targets hold IGNORE = -100 (PyTorch's default ``ignore_index``) at the positions
not scored; the loss is the mean over the scored positions only, so the ignored ones get zero
gradient. Tokens are ints: the letters 0 .. n_symbols - 1, the delimiter n_symbols; the
vocabulary has n_symbols + 1 tokens. Batches come from a numpy Generator (or a seed for one),
so the same seed gives the same batches, with no download.

Derived in: chapters/09_transformer_block.ipynb
"""

from __future__ import annotations

import numbers

import numpy as np

from ._validate import as_count

__all__ = ["IGNORE", "LETTERS", "make_batch", "loss_mask", "decode"]

IGNORE = -100  # a target that is not scored (torch.nn.functional.cross_entropy's ignore_index)
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _generator(rng_or_seed) -> np.random.Generator:
    if isinstance(rng_or_seed, np.random.Generator):
        return rng_or_seed
    if isinstance(rng_or_seed, bool) or not isinstance(rng_or_seed, numbers.Real):
        raise TypeError(f"rng_or_seed must be a numpy Generator (np.random.default_rng(seed)) or an int "
                        f"seed, got {type(rng_or_seed).__name__} {rng_or_seed!r}")
    return np.random.default_rng(as_count(rng_or_seed, "rng_or_seed"))


def _sizes(length, n_symbols) -> tuple[int, int]:
    length = as_count(length, "length", minimum=1)
    n_symbols = as_count(n_symbols, "n_symbols", minimum=2)
    if n_symbols > len(LETTERS):
        raise ValueError(f"n_symbols must be <= {len(LETTERS)} (one letter each), got {n_symbols}")
    return length, n_symbols


def make_batch(rng_or_seed, batch: int, *, length: int = 6, n_symbols: int = 8):
    """tokens_in = s[:, :-1], targets = s[:, 1:] with s = (x, "|", reversed x); IGNORE where i < length.

    x: (batch, length) letters drawn uniformly from 0 .. n_symbols - 1; the delimiter is token
    n_symbols. Returns two int64 arrays (batch, T), T = 2 length: tokens_in[:, length] is the
    delimiter, targets[:, i] = IGNORE for i < length and targets[:, i] = x[:, 2 length - 1 - i]
    = tokens_in[:, 2 length - 1 - i] for i >= length (the scored positions).
    rng_or_seed: a numpy Generator (advanced by the call) or an int seed.
    """
    rng = _generator(rng_or_seed)
    batch = as_count(batch, "batch", minimum=1)
    length, n_symbols = _sizes(length, n_symbols)
    x = rng.integers(0, n_symbols, size=(batch, length))
    seq = np.concatenate([x, np.full((batch, 1), n_symbols), x[:, ::-1]], axis=1).astype(np.int64)
    tokens_in, targets = seq[:, :-1].copy(), seq[:, 1:].copy()
    targets[:, :length] = IGNORE
    return tokens_in, targets


def loss_mask(targets) -> np.ndarray:
    """mask = (targets != IGNORE): True where a position is scored; the shape of targets."""
    arr = np.asarray(targets)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
        raise TypeError(f"targets must be an int array (token ids, IGNORE = {IGNORE} where not scored), "
                        f"got {type(targets).__name__} of dtype {arr.dtype}")
    return arr != IGNORE


def decode(tokens, *, n_symbols: int = 8) -> str:
    """"c a h e | e h a c": letters for 0 .. n_symbols - 1, "|" for n_symbols, "." for IGNORE.

    tokens: a 1-D sequence of ints (one sequence, e.g. a row of make_batch's output).
    """
    n_symbols = _sizes(1, n_symbols)[1]
    arr = np.asarray(tokens)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
        raise TypeError(f"tokens must be a 1-D sequence of int token ids, got {type(tokens).__name__} "
                        f"of dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"tokens must be 1-D (one sequence), got shape {arr.shape}")
    bad = (arr != IGNORE) & ((arr < 0) | (arr > n_symbols))
    if bad.any():
        raise ValueError(f"tokens must be in 0..{n_symbols} (or IGNORE = {IGNORE}) for n_symbols = "
                         f"{n_symbols}, got {int(arr[bad][0])}")
    symbols = LETTERS[:n_symbols] + "|"
    return " ".join("." if t == IGNORE else symbols[t] for t in arr.tolist())
