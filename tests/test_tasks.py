"""The reversal task (backprop_lib/tasks.py): the batches, the loss mask, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_lib.tasks import IGNORE, decode, loss_mask, make_batch


def test_a_batch_is_a_sequence_its_delimiter_and_its_reverse():
    L, n = 5, 7
    tokens, targets = make_batch(3, 16, length=L, n_symbols=n)
    assert tokens.shape == targets.shape == (16, 2 * L) and tokens.dtype == targets.dtype == np.int64
    for row, tgt in zip(tokens, targets, strict=True):
        first, delim = row[:L], row[L]
        assert delim == n and np.all((first >= 0) & (first < n))
        full = list(row) + [tgt[-1]]  # the whole sequence: the inputs and the last target
        assert full[L + 1:] == list(first[::-1])  # the second half is the first, reversed
        assert list(tgt[L:]) == full[L + 1:]  # the scored targets are the next tokens
        assert np.all(tgt[:L] == IGNORE)


def test_the_scored_target_of_query_i_is_the_input_at_key_2L_minus_1_minus_i():
    L = 4
    tokens, targets = make_batch(0, 8, length=L)
    for i in range(L, 2 * L):
        np.testing.assert_array_equal(targets[:, i], tokens[:, 2 * L - 1 - i])


def test_batches_are_deterministic_from_a_seed_and_a_generator_advances():
    a, b = make_batch(11, 4), make_batch(11, 4)
    np.testing.assert_array_equal(a[0], b[0])
    rng = np.random.default_rng(11)
    first, second = make_batch(rng, 4), make_batch(rng, 4)
    np.testing.assert_array_equal(first[0], a[0])
    assert not np.array_equal(first[0], second[0])


def test_every_letter_occurs():
    tokens, _ = make_batch(1, 200, length=6, n_symbols=8)
    counts = np.bincount(tokens[:, :6].ravel(), minlength=9)
    assert counts[8] == 0 and counts[:8].min() > 100  # 1200 draws: about 150 per letter


def test_loss_mask_and_decode():
    tokens, targets = make_batch(2, 1, length=3, n_symbols=4)
    mask = loss_mask(targets)
    np.testing.assert_array_equal(mask[0], [False, False, False, True, True, True])
    text = decode(tokens[0], n_symbols=4)
    letters = text.split(" | ")[0].split()
    assert text.split()[3] == "|" and len(letters) == 3 and set(letters) <= set("abcd")
    assert decode(targets[0], n_symbols=4).startswith(". . . ")
    assert decode([0, 1, 4, 1, 0], n_symbols=4) == "a b | b a"


def test_bad_input_is_named():
    with pytest.raises(TypeError, match="rng_or_seed must be a numpy Generator"):
        make_batch("seed", 4)
    with pytest.raises(ValueError, match="n_symbols must be <= 26"):
        make_batch(0, 4, n_symbols=27)
    with pytest.raises(ValueError, match="batch must be >= 1"):
        make_batch(0, 0)
    with pytest.raises(TypeError, match="targets must be an int array"):
        loss_mask(np.zeros(3))
    with pytest.raises(ValueError, match=r"tokens must be in 0..4 .*got 5"):
        decode([0, 5], n_symbols=4)
    with pytest.raises(ValueError, match=r"tokens must be 1-D .*got shape \(1, 2\)"):
        decode([[0, 1]])
