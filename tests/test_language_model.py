"""The language model (backprop_lib/language_model.py) on tiny sizes: every gradient against
central differences (embedding and positional tables included), the loss mask, causality,
training (Adam through training.descend), and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from common import ROOT
from helpers import assert_grad_close, central_diff

from backprop_lib import language_model as lm
from backprop_lib._validate import trusted
from backprop_lib.tasks import IGNORE, make_batch

H = 2


@pytest.fixture
def tiny(rng):
    """vocab 5, d 4, 2 heads, 2 blocks, T_max 7; B = 2 sequences of T = 6 with repeated tokens
    (the scatter-add) and a token (4) and a position (6) that never occur (zero gradient rows).
    The parameters are perturbed away from init (gamma != 1, beta != 0, biases != 0)."""
    params = lm.init_model(5, 4, H, 2, 7, seed=3)
    params = {k: v + 0.3 * rng.normal(size=v.shape) for k, v in params.items()}
    tokens = np.array([[0, 1, 1, 3, 2, 0], [2, 2, 3, 0, 1, 1]])
    targets = np.array([[IGNORE, IGNORE, 3, 1, IGNORE, 2], [IGNORE, 0, 4, 2, 1, IGNORE]])
    return params, tokens, targets


def _masked_loss(logits, targets):
    """The loss written out independently: -mean over scored (b, i) of log softmax(logits[b, i])[y]."""
    total, n = 0.0, 0
    for b, i in zip(*np.nonzero(targets != IGNORE), strict=True):
        z = logits[b, i]
        total += np.log(np.sum(np.exp(z - z.max()))) + z.max() - z[targets[b, i]]
        n += 1
    return total / n


def test_every_gradient_matches_central_differences(tiny, rng):
    """Central differences of the loss (written out in this file) for every entry of the two
    tables and the readout, and a random sample of 10 entries of every block array."""
    params, tokens, targets = tiny
    loss, grads = lm.loss_and_grads(tokens, targets, params, h=H)
    assert grads.keys() == params.keys()
    assert loss == pytest.approx(_masked_loss(lm.model_forward(tokens, params, h=H)[0], targets), rel=1e-12)
    for key, value in params.items():
        picks = (np.arange(value.size) if not key.startswith("block")
                 else rng.choice(value.size, min(10, value.size), replace=False))
        f = _loss_of_entries(params, key, picks, tokens, targets)
        numeric = central_diff(f, value.reshape(-1)[picks])
        assert_grad_close(key, grads[key].reshape(-1)[picks], numeric, rtol=1e-5, atol=1e-9)


def _loss_of_entries(params, key, picks, tokens, targets):
    """The loss as a function of the entries ``picks`` of params[key] (flat indices)."""
    value = params[key]

    def f(v):
        full = value.copy().reshape(-1)
        full[picks] = v
        with trusted():
            logits = lm.model_forward(tokens, {**params, key: full.reshape(value.shape)}, h=H)[0]
        return _masked_loss(logits, targets)
    return f


def test_the_embedding_gradient_is_a_scatter_add_and_unused_rows_get_zero(tiny):
    params, tokens, targets = tiny
    _, grads = lm.loss_and_grads(tokens, targets, params, h=H)
    assert not grads["tok_emb"][4].any()  # token 4 is never an input (only a target)
    assert not grads["pos_emb"][6].any()  # T = 6 < T_max = 7
    assert grads["tok_emb"][:4].any(axis=1).all() and grads["pos_emb"][:6].any(axis=1).all()


def test_model_backward_with_a_random_upstream_gradient(tiny, rng):
    params, tokens, _ = tiny
    logits, cache = lm.model_forward(tokens, params, h=H)
    G = rng.normal(size=logits.shape)
    grads = lm.model_backward(G, cache)
    for key in ("tok_emb", "pos_emb", "block0.W_Q", "block1.ln2_gamma", "readout"):
        def f(v, key=key):
            with trusted():
                return float(np.sum(lm.model_forward(tokens, {**params, key: v}, h=H)[0] * G))
        assert_grad_close(key, grads[key], central_diff(f, params[key]), rtol=1e-5, atol=1e-9)


def test_the_loss_mask_gives_ignored_positions_zero_gradient_on_the_logits(tiny):
    """dL/dlogits is (softmax - onehot) / N_scored at a scored position, 0 at an ignored one:
    the gradients are model_backward of exactly that (built here from the definition)."""
    params, tokens, targets = tiny
    logits, cache = lm.model_forward(tokens, params, h=H)
    scored = targets != IGNORE
    a = np.exp(logits - logits.max(axis=-1, keepdims=True))
    a /= a.sum(axis=-1, keepdims=True)
    onehot = np.eye(5)[np.where(scored, targets, 0)]
    dlogits = np.where(scored[..., None], (a - onehot) / scored.sum(), 0.0)
    want = lm.model_backward(dlogits, cache)
    _, grads = lm.loss_and_grads(tokens, targets, params, h=H)
    for key in params:
        np.testing.assert_allclose(grads[key], want[key], rtol=1e-10, atol=1e-14, err_msg=key)
    # an ignored position's logits do not enter the loss: scoring one more position changes it
    more = targets.copy()
    more[0, 0] = 1
    assert lm.loss_and_grads(tokens, more, params, h=H)[0] != pytest.approx(
        lm.loss_and_grads(tokens, targets, params, h=H)[0], rel=1e-6)


def test_causal_the_logits_at_i_do_not_depend_on_later_tokens(tiny):
    params, tokens, _ = tiny
    other = tokens.copy()
    other[:, 3:] = (other[:, 3:] + 1) % 5
    a, b = lm.model_forward(tokens, params, h=H)[0], lm.model_forward(other, params, h=H)[0]
    np.testing.assert_array_equal(a[:, :3], b[:, :3])
    assert not np.allclose(a[:, 3:], b[:, 3:])


def test_the_cache_holds_every_blocks_attention(tiny):
    params, tokens, _ = tiny
    _, cache = lm.model_forward(tokens, params, h=H)
    A = cache.attention
    assert A.shape == (2, 2, H, 6, 6)
    np.testing.assert_allclose(A.sum(axis=-1), 1.0, rtol=1e-12)
    assert not np.triu(A, k=1).any()  # causal: no weight on a later key


def test_train_model_is_deterministic_learns_and_records_frames():
    params = lm.init_model(5, 16, 2, 1, 6, seed=1)
    copy = {k: v.copy() for k, v in params.items()}
    run = lm.train_model(params, h=2, steps=25, lr=1e-2, seed=4, batch=8, length=3, record_every=10)
    again = lm.train_model(params, h=2, steps=25, lr=1e-2, seed=4, batch=8, length=3, record_every=10)
    np.testing.assert_array_equal(run.losses, again.losses)
    assert all(np.array_equal(params[k], copy[k]) for k in params)  # not changed in place
    assert len(run.losses) == len(run.accuracies) == 26 and not run.diverged
    assert run.losses[-5:].mean() < 0.8 * run.losses[:5].mean()
    np.testing.assert_array_equal(run.recorded_steps, [0, 10, 20, 25])
    assert run.attention.shape == (4, 1, 2, 6, 6) and run.probe.shape == (6,)
    assert run.output.shape == (8, 6, 5)
    # losses[t] is the loss of batch t (the t-th make_batch of default_rng(seed)) before update t
    rng = np.random.default_rng(4)
    tokens, targets = make_batch(rng, 8, length=3, n_symbols=4)
    assert run.losses[0] == pytest.approx(lm.loss_and_grads(tokens, targets, params, h=2)[0], rel=1e-14)


def test_predict_accuracy_and_generate_agree():
    params = lm.init_model(5, 8, 2, 1, 8, seed=0)
    tokens, targets = make_batch(0, 4, length=4, n_symbols=4)
    pred = lm.predict(tokens, params, h=2)
    scored = targets != IGNORE
    want = np.mean(pred[scored] == targets[scored])
    assert lm.accuracy(tokens, targets, params, h=2) == pytest.approx(want)
    out = lm.generate(tokens[:, :5], params, h=2, n_new=3)
    assert out.shape == (4, 8) and np.array_equal(out[:, :5], tokens[:, :5])
    # greedy: each new token is predict's last prediction on the prefix
    np.testing.assert_array_equal(out[:, 5], lm.predict(tokens[:, :5], params, h=2)[:, -1])
    np.testing.assert_array_equal(out[:, 7], lm.predict(out[:, :7], params, h=2)[:, -1])


def test_bad_input_is_named(tiny):
    params, tokens, targets = tiny
    with pytest.raises(ValueError, match=r"T <= T_max = 7 .*got \(2, 8\)"):
        lm.model_forward(np.zeros((2, 8), dtype=int), params, h=H)
    with pytest.raises(ValueError, match=r"tokens must be token ids in 0..4 .*got 5"):
        lm.model_forward([[0, 5]], params, h=H)
    with pytest.raises(ValueError, match=r"tokens must be token ids in 0..4 .*got -1"):
        lm.model_forward([[0, -1]], params, h=H)
    with pytest.raises(TypeError, match="tokens must be an int array .*float64"):
        lm.model_forward(tokens.astype(float), params, h=H)
    with pytest.raises(TypeError, match="tokens must be an int array .*bool"):
        lm.model_forward(tokens > 0, params, h=H)
    with pytest.raises(ValueError, match=r"tokens must have shape \(B, T\) \(2-D\), got shape \(6,\)"):
        lm.model_forward(tokens[0], params, h=H)
    with pytest.raises(ValueError, match="h must divide d"):
        lm.model_forward(tokens, params, h=3)
    with pytest.raises(ValueError, match="h must divide d"):
        lm.init_model(5, 6, 4, 1, 7)
    with pytest.raises(TypeError, match="complex"):
        lm.model_forward(tokens, {**params, "readout": params["readout"] + 0j}, h=H)
    with pytest.raises(ValueError, match=r"block1.W_1 must have shape \(16, 4\), got \(16, 5\)"):
        lm.model_forward(tokens, {**params, "block1.W_1": np.ones((16, 5))}, h=H)
    with pytest.raises(ValueError, match=r"readout must have shape \(5, 4\), got \(6, 4\)"):
        lm.model_forward(tokens, {**params, "readout": np.ones((6, 4))}, h=H)
    with pytest.raises(ValueError, match="missing"):
        lm.model_forward(tokens, {k: v for k, v in params.items() if k != "lnf_beta"}, h=H)
    with pytest.raises(ValueError, match="targets must have the shape of tokens"):
        lm.loss_and_grads(tokens, targets[:, :5], params, h=H)
    with pytest.raises(ValueError, match="targets must score at least one position"):
        lm.loss_and_grads(tokens, np.full_like(targets, IGNORE), params, h=H)
    with pytest.raises(ValueError, match=r"targets must be token ids in 0..4 or IGNORE = -100, got 7"):
        lm.loss_and_grads(tokens, np.where(targets == 3, 7, targets), params, h=H)
    _, cache = lm.model_forward(tokens, params, h=H)
    with pytest.raises(ValueError, match=r"dlogits must have shape \(2, 6, 5\), got \(2, 6, 4\)"):
        lm.model_backward(np.ones((2, 6, 4)), cache)
    with pytest.raises(TypeError, match="cache must be the ModelCache"):
        lm.model_backward(np.ones((2, 6, 5)), {"tokens": tokens})
    with pytest.raises(ValueError, match=r"length must be <= T_max / 2 = 3"):
        lm.train_model(params, h=H, steps=1, length=4)
    with pytest.raises(ValueError, match=r"T \+ n_new - 1 <= T_max = 7 .*got \(2, 6\) and n_new = 3"):
        lm.generate(tokens, params, h=H, n_new=3)


# ---------------------------------------------------------------- the chapter's run (once)

@pytest.fixture(scope="module")
def chapter():
    return lm.chapter_run()


def test_our_chapter_curve_agrees_with_the_stored_pytorch_curve_at_every_step(chapter):
    """chapters/data/ch09_torch_losses.json (tools/torch_curve.py; its first steps are re-run in
    PyTorch by tests/test_against_torch_language_model.py) against our whole curve."""
    data = json.loads((ROOT / "chapters" / "data" / "ch09_torch_losses.json").read_text())
    assert data["settings"] == lm.CHAPTER_RUN, "CHAPTER_RUN changed: rerun tools/torch_curve.py"
    _, run = chapter
    assert len(run.losses) == len(data["losses"]) == lm.CHAPTER_RUN["steps"] + 1
    np.testing.assert_allclose(run.losses, data["losses"], rtol=1e-9, atol=0)


def test_the_chapter_model_learns_to_reverse(chapter):
    c = lm.CHAPTER_RUN
    _, run = chapter
    L, h = c["length"], c["h"]
    assert run.losses[-1] < 0.02 < 2.0 < run.losses[0] and not run.diverged
    tokens, targets = make_batch(12345, 256, length=L, n_symbols=c["n_symbols"])  # held out
    assert lm.accuracy(tokens, targets, run.params, h=h) > 0.99
    out = lm.generate(tokens[:, :L + 1], run.params, h=h, n_new=L)  # the prompt "x |"
    assert out.shape == (256, 2 * L + 1)
    assert np.mean(np.all(out[:, L + 1:] == tokens[:, L - 1::-1], axis=1)) > 0.95


def test_a_trained_head_reads_the_anti_diagonal(chapter):
    """For the probe, query i >= L puts its largest weight on key 2L - 1 - i in at least one head
    after training, and in none at initialisation."""
    L = lm.CHAPTER_RUN["length"]
    _, run = chapter
    want = [2 * L - 1 - i for i in range(L, 2 * L)]

    def reads(frame):
        return [(b, n) for b in range(frame.shape[0]) for n in range(frame.shape[1])
                if list(frame[b, n, L:].argmax(axis=-1)) == want]
    assert reads(run.attention[-1]) and not reads(run.attention[0])
    assert run.recorded_steps[-1] == lm.CHAPTER_RUN["steps"] and run.recorded_steps[1] == 10


def test_a_shorter_chapter_run_is_a_prefix_of_the_whole(chapter):
    _, run = chapter
    _, short = lm.chapter_run(steps=5)
    np.testing.assert_array_equal(short.losses, run.losses[:6])
