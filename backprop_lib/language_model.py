"""A small language model: embeddings + positions -> n transformer blocks -> LayerNorm -> readout.

    X^0 = W_tok[tokens] + W_pos[:T]             (B, T, d)    W_tok (vocab, d), W_pos (T_max, d)
    X^l = block(X^{l-1}),  l = 1 .. n_blocks    (B, T, d)    transformer.block_forward
    U = LN(X^n)                                 (B, T, d)    normalization.layer_norm_forward
    logits = U W_out^T                          (B, T, vocab) W_out (vocab, d), the readout
    (W_tok, W_pos, W_out are the keys tok_emb, pos_emb, readout: an embedding is a linear
    layer without bias on a one-hot token, so its table is a weight matrix)
    L = mean over the scored positions (b, i) of -log softmax(logits[b, i])[targets[b, i]]

The loss mask: targets[b, i] = IGNORE (tasks.IGNORE = -100) marks a position that is not
scored; the mean runs over the others only (as torch.nn.functional.cross_entropy's
ignore_index), so dL/dlogits is 0 at an ignored position and (softmax - onehot) / N_scored at a
scored one (cross_entropy.cross_entropy_backward, on the scored rows).

Backward: dU = dlogits W_out, dW_out = dlogits^T U (summed over every position); the final
LayerNorm's and the blocks' backward in reverse order give dX^0; then dW_pos[i] = sum over the
batch of dX^0[:, i] for i < T (rows T .. T_max - 1 of W_pos were not used: 0), and dW_tok[v] =
sum of dX^0[b, i] over every position holding token v: a scatter-add (np.add.at), since a row
of W_tok is read once per occurrence of its token.

Choices. The positional table W_pos is learned (GPT-2's choice): the task needs to tell positions
apart exactly (query i reads key 2L - 1 - i), a learned table can make any two positions as
different as it needs, and its gradient is one more scatter to derive; a sinusoidal table would
work too and has no gradient at all. The readout W_out is not tied to W_tok: each matrix keeps
its own gradient (tying them, W_out = W_tok, would add the two gradients). W_out has no bias:
LN's beta already adds W_out beta, an offset of every logit, so a bias would repeat it.

params: a flat dict: "tok_emb" (vocab, d), "pos_emb" (T_max, d), "block{l}.<key>" for the 16
keys of transformer.PARAM_KEYS and l = 0 .. n_blocks - 1, "lnf_gamma", "lnf_beta" (d,),
"readout" (vocab, d). Gradients are dicts with the same keys.

Derived in: chapters/09_transformer_block.ipynb
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validate import _TRUSTED, as_count, as_float_array, as_positive_float, check_shape, dict_of, trusted
from .adam import _betas, _eps, adam_init, adam_step
from .cross_entropy import cross_entropy, cross_entropy_backward
from .normalization import NormCache, layer_norm_backward, layer_norm_forward
from .tasks import IGNORE, make_batch
from .training import TrainResult, descend
from .transformer import PARAM_KEYS, block_backward, block_forward, init_block

__all__ = ["CHAPTER_RUN", "PROBE_SEED", "init_model", "model_forward", "model_backward", "loss_and_grads",
           "train_model", "chapter_run", "predict", "accuracy", "generate", "ModelCache",
           "LMTrainResult"]

# The chapter's training run, one place for the chapter, tools/torch_curve.py and the tests:
# the reversal task (tasks.make_batch) with `length` letters of `n_symbols`, a model of
# n_blocks blocks of width d with h heads, `steps` Adam updates at lr on batches of `batch`
# sequences drawn from default_rng(seed), initial weights from init_model(..., seed=init_seed),
# the probe's attention recorded every `record_every` steps.
CHAPTER_RUN = dict(n_symbols=8, length=6, d=32, h=2, n_blocks=2, batch=32, steps=200, lr=3e-3,
                   seed=0, init_seed=0, record_every=10)
PROBE_SEED = 2026  # the one sequence whose attention maps train_model records (tasks.make_batch)


def _n_blocks(params: dict) -> int:
    n = 0
    while f"block{n}.ln1_gamma" in params:
        n += 1
    return n


@dataclass(frozen=True)
class ModelCache:
    """What model_backward needs: the tokens, the final LN's input cache and output U, the blocks'
    caches, the readout and the table sizes."""

    tokens: np.ndarray  # (B, T) ints
    U: np.ndarray  # (B, T, d): LN(X^n), the readout's input
    ln: NormCache
    blocks: list  # one transformer.BlockCache per block
    readout: np.ndarray  # (vocab, d)
    T_max: int

    @property
    def attention(self) -> np.ndarray:
        """A[l, b, n, i, j]: the weight head n of block l gives key j for query i, (n_blocks, B, h, T, T)."""
        return np.stack([c.attention for c in self.blocks])


# ---------------------------------------------------------------- checks at the door

_BLOCK_SPECS = dict(ln1_gamma="d", ln1_beta="d", W_Q="d d", b_Q="d", W_K="d d", b_K="d", W_V="d d", b_V="d",
                    W_O="d d", b_O="d", ln2_gamma="d", ln2_beta="d", W_1="d_ff d", b_1="d_ff",
                    W_2="d d_ff", b_2="d")


def _params(params, name: str, sizes: dict, source: dict) -> dict:
    """The model's dict, every array checked: shapes bind vocab, T_max, d (and d_ff)."""
    if not isinstance(params, dict):
        raise TypeError(f"{name} must be the dict of init_model, got {type(params).__name__}")
    n = _n_blocks(params)
    if n == 0:
        raise ValueError(f"{name} must hold at least one block ('block0.ln1_gamma', ...; init_model), "
                         f"got keys {sorted(params)[:6]}")
    specs = dict(tok_emb="vocab d", pos_emb="T_max d", lnf_gamma="d", lnf_beta="d", readout="vocab d")
    for i in range(n):
        specs.update({f"block{i}.{k}": spec for k, spec in _BLOCK_SPECS.items()})
    checked = dict_of("the dict of init_model", **specs)(params, name, sizes, source)
    return {k: checked[k] for k in specs}  # no stray keys: the gradients have exactly these


def _int_array(x, name: str, shape_hint: str) -> np.ndarray:
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be an int array {shape_hint}, got {type(x).__name__} {x!r}")
    arr = np.asarray(x)
    if arr.dtype == object or arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be an int array {shape_hint} of token ids, got dtype {arr.dtype}"
                        + (" (round them and use .astype(int) if they are whole numbers)"
                           if np.issubdtype(arr.dtype, np.floating) else ""))
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape {shape_hint} (2-D), got shape {arr.shape}")
    return arr


def _tokens(tokens, sizes: dict, name: str = "tokens") -> np.ndarray:
    vocab, T_max = sizes["vocab"], sizes["T_max"]
    tokens = _int_array(tokens, name, "(B, T)")
    if tokens.shape[1] > T_max:
        raise ValueError(f"{name} must have shape (B, T) with T <= T_max = {T_max} (the rows of pos_emb), "
                         f"got {tokens.shape}: the positional table has no row for position {T_max}")
    if tokens.size == 0:
        raise ValueError(f"{name} must hold at least one token, got shape {tokens.shape}")
    if tokens.min() < 0 or tokens.max() >= vocab:
        bad = tokens.flat[np.flatnonzero((tokens < 0) | (tokens >= vocab))[0]]
        raise ValueError(f"{name} must be token ids in 0..{vocab - 1} (the rows of tok_emb), got {int(bad)}")
    return tokens


def _targets(targets, tokens: np.ndarray, vocab: int) -> np.ndarray:
    targets = _int_array(targets, "targets", f"{tokens.shape}, as tokens")
    if targets.shape != tokens.shape:
        raise ValueError(f"targets must have the shape of tokens {tokens.shape}, got {targets.shape}")
    scored = targets != IGNORE
    if not scored.any():
        raise ValueError(f"targets must score at least one position (every entry is IGNORE = {IGNORE})")
    bad = scored & ((targets < 0) | (targets >= vocab))
    if bad.any():
        raise ValueError(f"targets must be token ids in 0..{vocab - 1} or IGNORE = {IGNORE}, "
                         f"got {int(targets[bad][0])}")
    return targets


def _heads(h) -> int:
    return as_count(h, "h", minimum=1)


def _door(tokens, params, h):
    sizes, source = {}, {}
    params = _params(params, "params", sizes, source)
    return _tokens(tokens, sizes), params, _heads(h), sizes


# ---------------------------------------------------------------- the model

def init_model(vocab: int, d: int, h: int, n_blocks: int, T_max: int, *, seed=0) -> dict:
    """tok_emb, pos_emb ~ N(0, 1); blocks from transformer.init_block; lnf gamma 1, beta 0;
    readout ~ N(0, 1/d).

    Shapes: tok_emb (vocab, d), pos_emb (T_max, d), block{l}.* as init_block(d, h), lnf_* (d,),
    readout (vocab, d). h must divide d (init_block checks). seed: an int; block l's weights
    come from init_block(d, h, seed=s_l) with s_l drawn from default_rng(seed).
    """
    vocab, d = as_count(vocab, "vocab", minimum=2), as_count(d, "d", minimum=1)
    h, n_blocks = _heads(h), as_count(n_blocks, "n_blocks", minimum=1)
    T_max = as_count(T_max, "T_max", minimum=1)
    rng = np.random.default_rng(as_count(seed, "seed"))
    params = {"tok_emb": rng.normal(size=(vocab, d)), "pos_emb": rng.normal(size=(T_max, d))}
    for i in range(n_blocks):
        block = init_block(d, h, seed=int(rng.integers(2 ** 31)))
        params.update({f"block{i}.{k}": v for k, v in block.items()})
    params.update(lnf_gamma=np.ones(d), lnf_beta=np.zeros(d),
                  readout=rng.normal(scale=1.0 / np.sqrt(d), size=(vocab, d)))
    return params


def _forward(tokens, params, h):
    T = tokens.shape[1]
    X = params["tok_emb"][tokens] + params["pos_emb"][:T]
    caches = []
    for i in range(_n_blocks(params)):
        X, cache = block_forward(X, {k: params[f"block{i}.{k}"] for k in PARAM_KEYS}, h=h)
        caches.append(cache)
    U, ln = layer_norm_forward(X, params["lnf_gamma"], params["lnf_beta"])
    logits = U @ params["readout"].T
    return logits, ModelCache(tokens, U, ln, caches, params["readout"], params["pos_emb"].shape[0])


def _backward(dlogits, cache: ModelCache) -> dict:
    vocab, d = cache.readout.shape
    grads = {"readout": dlogits.reshape(-1, vocab).T @ cache.U.reshape(-1, d)}
    dX, grads["lnf_gamma"], grads["lnf_beta"] = layer_norm_backward(dlogits @ cache.readout, cache.ln)
    for i in reversed(range(len(cache.blocks))):
        dX, g = block_backward(dX, cache.blocks[i])
        grads.update({f"block{i}.{k}": g[k] for k in PARAM_KEYS})
    tok = np.zeros((vocab, d))
    np.add.at(tok, cache.tokens, dX)  # row v gets the sum of dX over the positions holding token v
    pos = np.zeros((cache.T_max, d))
    pos[:dX.shape[1]] = dX.sum(axis=0)  # position i is used once per sequence
    grads.update(tok_emb=tok, pos_emb=pos)
    return grads


def _loss(logits, targets):
    """The masked mean cross-entropy and dL/dlogits (0 at ignored positions)."""
    mask = targets != IGNORE
    z = logits[mask].T  # (vocab, N_scored): cross_entropy's column layout
    onehot = (np.arange(z.shape[0])[:, None] == targets[mask][None, :]).astype(np.float64)
    loss = cross_entropy(z, onehot)
    dlogits = np.zeros_like(logits)
    dlogits[mask] = cross_entropy_backward(z, onehot).T
    return loss, dlogits


def model_forward(tokens, params, *, h: int):
    """logits = LN(blocks(W_tok[tokens] + W_pos[:T])) W_out^T: (B, T) int tokens -> (B, T, vocab).

    params from init_model; h heads per block (h must divide d: the block checks). T must be
    <= T_max, the rows of the positional table. Returns (logits, ModelCache); cache.attention is
    (n_blocks, B, h, T, T).
    """
    tokens, params, h, _ = _door(tokens, params, h)
    return _forward(tokens, params, h)


def model_backward(dlogits, cache) -> dict:
    """dW_out = dlogits^T U, dX^n from the final LN's backward, the blocks' backward in reverse,
    then dW_pos[:T] = sum_b dX^0, dW_tok = scatter-add of dX^0 over the tokens (np.add.at).

    dlogits (B, T, vocab); cache the ModelCache of model_forward. Returns grads with the keys of
    params.
    """
    if not isinstance(cache, ModelCache):
        raise TypeError(f"cache must be the ModelCache returned by model_forward, got {type(cache).__name__}")
    if not _TRUSTED.get():
        B, T = cache.tokens.shape
        dlogits = as_float_array(dlogits, "dlogits")
        check_shape("dlogits", dlogits, (B, T, cache.readout.shape[0]), "the shape of the logits")
    with trusted():
        return _backward(dlogits, cache)


def loss_and_grads(tokens, targets, params, *, h: int):
    """L = masked mean cross-entropy of model_forward's logits, and dL/dp for every parameter.

    tokens, targets (B, T) ints; targets = IGNORE (-100) where not scored (tasks.make_batch).
    Returns (L, grads with the keys of params).
    """
    tokens, params, h, sizes = _door(tokens, params, h)
    targets = _targets(targets, tokens, sizes["vocab"])
    logits, cache = _forward(tokens, params, h)
    with trusted():
        loss, dlogits = _loss(logits, targets)
        return loss, _backward(dlogits, cache)


# ---------------------------------------------------------------- training

@dataclass
class LMTrainResult(TrainResult):
    """training.TrainResult (losses[t]: the loss of batch t before update t), plus:

    accuracies     : (steps + 1,) the fraction of batch t's scored positions predicted right
                     (argmax of the logits) before update t.
    attention      : (K, n_blocks, h, T, T) the attention weights on the probe sequence at the
                     recorded steps (the widget's frames; K small: every record_every steps).
    recorded_steps : (K,) the step of each frame: 0, record_every, ..., and the last step.
    probe          : (T,) the probe's tokens (tasks.make_batch(PROBE_SEED, 1, ...)[0][0]).
    """

    accuracies: np.ndarray = field(default_factory=lambda: np.zeros(0))
    attention: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0, 0, 0)))
    recorded_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    probe: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))


def _correct(logits, targets) -> float:
    mask = targets != IGNORE
    return float(np.mean(logits.argmax(axis=-1)[mask] == targets[mask]))


def train_model(params, *, h: int, steps: int = 200, lr: float = 3e-3, seed=0, batch: int = 32,
                length: int = 6, record_every: int = 10, betas=(0.9, 0.999), eps: float = 1e-8
                ) -> LMTrainResult:
    """``steps`` Adam updates (adam.adam_step) on the reversal task, one fresh batch per step.

    Batch t (t = 0 .. steps) is the t-th tasks.make_batch(rng, batch, length=length,
    n_symbols=vocab - 1) of rng = default_rng(seed): the same seed gives the same batches.
    losses[t] is the masked cross-entropy of batch t before update t (losses[steps]: the final
    params on batch steps); ``output`` the logits of the last batch. Every record_every steps
    (and at the last) the attention maps of the probe sequence are recorded. params (from
    init_model, tok_emb with vocab = n_symbols + 1 rows, T_max >= 2 length) are not changed.
    """
    sizes, source = {}, {}
    params = _params(params, "params", sizes, source)
    h = _heads(h)
    steps, batch = as_count(steps, "steps"), as_count(batch, "batch", minimum=1)
    length = as_count(length, "length", minimum=1)
    record_every = as_count(record_every, "record_every", minimum=1)
    lr = as_positive_float(lr, "lr")
    rng = np.random.default_rng(as_count(seed, "seed"))
    betas, eps = _betas(betas), _eps(eps)
    if 2 * length > sizes["T_max"]:
        raise ValueError(f"length must be <= T_max / 2 = {sizes['T_max'] // 2}: a sequence has 2 length = "
                         f"{2 * length} positions and pos_emb has T_max = {sizes['T_max']} rows")
    n_symbols = sizes["vocab"] - 1
    probe = make_batch(PROBE_SEED, 1, length=length, n_symbols=n_symbols)[0]
    state, accuracies, frames, recorded = [adam_init(params)], [], [], []

    def forward(p):
        t = len(accuracies)
        tokens, targets = make_batch(rng, batch, length=length, n_symbols=n_symbols)
        logits, cache = _forward(tokens, p, h)
        loss, dlogits = _loss(logits, targets)
        accuracies.append(_correct(logits, targets))
        if t % record_every == 0 or t == steps:
            frames.append(_forward(probe, p, h)[1].attention[:, 0])
            recorded.append(t)
        return loss, logits, (dlogits, cache)

    def update(p, grads):
        new, state[0] = adam_step(p, grads, state[0], lr=lr, betas=betas, eps=eps)
        return new

    with trusted():
        run = descend(forward, lambda c: _backward(*c), params, lr, steps, update=update)
    return LMTrainResult(run.params, run.losses, run.output, run.diverged, np.array(accuracies),
                         np.array(frames), np.array(recorded), probe[0])


def chapter_run(steps=None):
    """(initial params, LMTrainResult) of the chapter's run: CHAPTER_RUN's sizes, seeds and lr.

    steps: fewer steps than CHAPTER_RUN["steps"] (a prefix of the same run: the same first
    losses), or None for all of them.
    """
    c = CHAPTER_RUN
    steps = c["steps"] if steps is None else as_count(steps, "steps")
    params = init_model(c["n_symbols"] + 1, c["d"], c["h"], c["n_blocks"], 2 * c["length"],
                        seed=c["init_seed"])
    return params, train_model(params, h=c["h"], steps=steps, lr=c["lr"], seed=c["seed"], batch=c["batch"],
                               length=c["length"], record_every=c["record_every"])


# ---------------------------------------------------------------- using the model

def predict(tokens, params, *, h: int) -> np.ndarray:
    """argmax over the vocabulary of model_forward's logits: the predicted next token, (B, T) ints."""
    logits, _ = model_forward(tokens, params, h=h)
    return logits.argmax(axis=-1)


def accuracy(tokens, targets, params, *, h: int) -> float:
    """The fraction of scored positions (targets != IGNORE) where predict(tokens) == targets."""
    tokens, params, h, sizes = _door(tokens, params, h)
    targets = _targets(targets, tokens, sizes["vocab"])
    return _correct(_forward(tokens, params, h)[0], targets)


def generate(tokens, params, *, h: int, n_new: int) -> np.ndarray:
    """Greedy decoding: append argmax of the last position's logits, n_new times; (B, T + n_new).

    tokens (B, T) ints, the prompt (for reversal: the letters and the delimiter, T = L + 1; then
    n_new = L gives the whole reversed half). Each new token runs the whole prefix through the
    model again (T is small); the last run reads T + n_new - 1 positions, so T + n_new - 1 must
    be <= T_max.
    """
    tokens, params, h, sizes = _door(tokens, params, h)
    n_new = as_count(n_new, "n_new")
    if tokens.shape[1] + n_new - 1 > sizes["T_max"]:
        raise ValueError(f"tokens must have shape (B, T) with T + n_new - 1 <= T_max = {sizes['T_max']} (the "
                         f"positions the last step reads), got {tokens.shape} and n_new = {n_new}")
    with trusted():
        for _ in range(n_new):
            nxt = _forward(tokens, params, h)[0][:, -1].argmax(axis=-1)
            tokens = np.concatenate([tokens, nxt[:, None]], axis=1)
    return tokens
