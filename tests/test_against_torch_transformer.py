"""The transformer block against PyTorch float64 with the same weights: F.layer_norm, F.linear,
F.scaled_dot_product_attention and F.gelu(approximate="tanh"), backward by torch.autograd.
Y and every gradient agree to 1e-10 relative (normwise: max |ours - torch| / max |torch|)."""

from common import require

torch = require("torch", "PyTorch is the test oracle")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from torch_oracle import check_op  # noqa: E402

from backprop_lib import transformer as tr  # noqa: E402

F = torch.nn.functional
TOL = 1e-10
SHAPES = [(2, 5, 8, 2), (3, 7, 12, 3), (1, 1, 4, 4), (2, 16, 16, 4)]  # (B, T, d, h)


def torch_block(X, P, h, causal):
    """The pre-norm block written with torch.nn.functional: the oracle."""
    B, T, d = X.shape

    def split(M):
        return M.reshape(B, T, h, d // h).transpose(1, 2)

    U = F.layer_norm(X, (d,), P["ln1_gamma"], P["ln1_beta"], eps=1e-5)
    q, k, v = (split(F.linear(U, P[f"W_{n}"], P[f"b_{n}"])) for n in "QKV")
    Vbar = F.scaled_dot_product_attention(q, k, v, is_causal=causal).transpose(1, 2).reshape(B, T, d)
    H = X + F.linear(Vbar, P["W_O"], P["b_O"])
    U2 = F.layer_norm(H, (d,), P["ln2_gamma"], P["ln2_beta"], eps=1e-5)
    return H + F.linear(F.gelu(F.linear(U2, P["W_1"], P["b_1"]), approximate="tanh"), P["W_2"], P["b_2"])


def relative(ours, theirs) -> float:
    """max |ours - theirs| / max |theirs|; absolute where torch's is exactly 0 (W_Q, W_K at T = 1)."""
    scale = np.max(np.abs(theirs))
    return float(np.max(np.abs(ours - theirs)) / (scale if scale > 0 else 1.0))


@pytest.mark.parametrize("causal", [True, False], ids=["causal", "full"])
@pytest.mark.parametrize("shape", SHAPES, ids=[str(s) for s in SHAPES])
def test_block_matches_torch_in_value_and_every_gradient(rng, shape, causal):
    B, T, d, h = shape
    p = {k: v + 0.3 * rng.normal(size=v.shape) for k, v in tr.init_block(d, h, seed=3).items()}
    X, dY = rng.normal(size=(B, T, d)), rng.normal(size=(B, T, d))

    tp = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
    tX = torch.tensor(X, requires_grad=True)
    tY = torch_block(tX, tp, h, causal)
    tY.backward(torch.tensor(dY))

    Y, cache = tr.block_forward(X, p, h=h, causal=causal)
    dX, grads = tr.block_backward(dY, cache)
    assert relative(Y, tY.detach().numpy()) < TOL
    assert relative(dX, tX.grad.numpy()) < TOL
    for k in tr.PARAM_KEYS:
        if k == "b_K":  # its gradient is 0 (the softmax ignores q . b_K): both are round-off
            assert np.max(np.abs(grads[k])) < 1e-12 and float(tp[k].grad.abs().max()) < 1e-12
            continue
        assert relative(grads[k], tp[k].grad.numpy()) < TOL, k


def test_attention_weights_match_torch(rng):
    B, T, d, h = 2, 6, 8, 2
    p = tr.init_block(d, h, seed=5)
    X = rng.normal(size=(B, T, d))
    U = F.layer_norm(torch.tensor(X), (d,), torch.tensor(p["ln1_gamma"]), torch.tensor(p["ln1_beta"]))
    q, k = (F.linear(U, torch.tensor(p[f"W_{n}"]), torch.tensor(p[f"b_{n}"])).reshape(B, T, h, d // h)
            .transpose(1, 2) for n in "QK")
    S = (q @ k.transpose(-1, -2)) / np.sqrt(d // h)
    A = torch.softmax(S.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf")), dim=-1)
    np.testing.assert_allclose(tr.block_forward(X, p, h=h)[1].attention, A.numpy(), rtol=1e-12, atol=1e-14)


def test_gelu_matches_torch(rng):
    x = np.concatenate([rng.normal(scale=3, size=(4, 5)), np.array([[-30.0, -5.0, 0.0, 5.0, 30.0]])])
    check_op(rng, None, lambda t: F.gelu(t, approximate="tanh"),
             lambda dout, x: (tr.gelu(x), [tr.gelu_backward(dout, x)]), inputs=[x], rtol=1e-12, atol=1e-14)


def test_feed_forward_matches_torch(rng):
    p = tr.init_block(6, 2, d_ff=10, seed=2)
    check_op(rng, [(2, 3, 6), (10, 6), (10,), (6, 10), (6,)],
             lambda X, W1, b1, W2, b2: F.linear(F.gelu(F.linear(X, W1, b1), approximate="tanh"), W2, b2),
             lambda dout, X, W1, b1, W2, b2: _ffn(dout, X, W1, b1, W2, b2), rtol=1e-11, atol=1e-13,
             inputs=[rng.normal(size=(2, 3, 6))] + [p[k] + 0.2 for k in ("W_1", "b_1", "W_2", "b_2")])


def _ffn(dout, X, W1, b1, W2, b2):
    out, cache = tr.feed_forward(X, {"W_1": W1, "b_1": b1, "W_2": W2, "b_2": b2})
    dX, g = tr.feed_forward_backward(dout, cache)
    return out, [dX, g["W_1"], g["b_1"], g["W_2"], g["b_2"]]
