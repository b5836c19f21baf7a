"""The PyTorch twin of backprop_lib/language_model.py (a test oracle only, never a reader's
dependency): the same model in float64 from our initial weights, written with torch's own
functions, so that every number of ours can be compared with an independent implementation.

    X = E[tokens] + P[:T]                                       (indexing, as F.embedding)
    block: U = F.layer_norm(X), q, k, v = F.linear(U, W, b) split into heads,
           Vbar = F.scaled_dot_product_attention(q, k, v, is_causal=True), H = X + F.linear(Vbar, W_O, b_O),
           Y = H + F.linear(F.gelu(F.linear(F.layer_norm(H), W_1, b_1), approximate="tanh"), W_2, b_2)
    logits = F.linear(F.layer_norm(X^n), R),  L = F.cross_entropy(..., ignore_index=-100)
    training: torch.optim.Adam on the same batches (tasks.make_batch from the same Generator).
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch
import torch.nn.functional as F

from backprop_lib.language_model import CHAPTER_RUN, init_model
from backprop_lib.tasks import IGNORE, make_batch

EPS = 1e-5


@contextlib.contextmanager
def one_thread():
    """torch on one thread for the block (the same numbers; on a busy 2-core machine torch's two
    threads wait for each other and a run of small ops is several times slower)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def leaves(params: dict) -> dict:
    """Our params as float64 leaf tensors that collect gradients."""
    return {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}


def _block(X, p, h):
    B, T, d = X.shape
    U = F.layer_norm(X, (d,), p["ln1_gamma"], p["ln1_beta"], eps=EPS)
    q, k, v = (F.linear(U, p[f"W_{n}"], p[f"b_{n}"]).view(B, T, h, d // h).transpose(1, 2) for n in "QKV")
    Vbar = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, d)
    H = X + F.linear(Vbar, p["W_O"], p["b_O"])
    U2 = F.layer_norm(H, (d,), p["ln2_gamma"], p["ln2_beta"], eps=EPS)
    return H + F.linear(F.gelu(F.linear(U2, p["W_1"], p["b_1"]), approximate="tanh"), p["W_2"], p["b_2"])


def logits(tokens, P: dict, h: int):
    tokens = torch.as_tensor(tokens)
    X = F.embedding(tokens, P["tok_emb"]) + P["pos_emb"][: tokens.shape[1]]
    n = 0
    while f"block{n}.ln1_gamma" in P:
        X = _block(X, {k.split(".", 1)[1]: v for k, v in P.items() if k.startswith(f"block{n}.")}, h)
        n += 1
    d = X.shape[-1]
    return F.linear(F.layer_norm(X, (d,), P["lnf_gamma"], P["lnf_beta"], eps=EPS), P["readout"])


def loss(tokens, targets, P: dict, h: int):
    z = logits(tokens, P, h)
    return F.cross_entropy(z.reshape(-1, z.shape[-1]), torch.as_tensor(targets).reshape(-1),
                           ignore_index=IGNORE)


def loss_and_grads(tokens, targets, params: dict, h: int):
    """(L, {name: dL/dp}) from torch autograd, as numpy."""
    P = leaves(params)
    with one_thread():
        L = loss(tokens, targets, P, h)
        L.backward()
    return L.item(), {k: v.grad.numpy() for k, v in P.items()}


def train(params: dict, *, h: int, steps: int, lr: float, seed: int, batch: int, length: int):
    """torch.optim.Adam on the batches train_model draws: (losses, final params as numpy), with
    losses[t] the loss of batch t before update t."""
    P = leaves(params)
    opt = torch.optim.Adam(list(P.values()), lr=lr)
    rng = np.random.default_rng(seed)
    n_symbols = params["tok_emb"].shape[0] - 1
    losses = []
    with one_thread():
        for t in range(steps + 1):
            tokens, targets = make_batch(rng, batch, length=length, n_symbols=n_symbols)
            opt.zero_grad()
            L = loss(tokens, targets, P, h)
            losses.append(L.item())
            if t < steps:
                L.backward()
                opt.step()
    return np.array(losses), {k: v.detach().numpy() for k, v in P.items()}


def chapter_curve(steps=None) -> np.ndarray:
    """PyTorch's loss curve of the chapter's run (language_model.CHAPTER_RUN), or its first steps."""
    c = CHAPTER_RUN
    params = init_model(c["n_symbols"] + 1, c["d"], c["h"], c["n_blocks"], 2 * c["length"],
                        seed=c["init_seed"])
    return train(params, h=c["h"], steps=c["steps"] if steps is None else steps, lr=c["lr"], seed=c["seed"],
                 batch=c["batch"], length=c["length"])[0]
