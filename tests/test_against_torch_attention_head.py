from common import require

torch = require("torch", "PyTorch is the test oracle")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from backprop_lib.attention_head import (  # noqa: E402
    attention_head_backward,
    attention_head_forward,
    causal_mask,
)

NAMES = ("X", "Wq", "Wk", "Wv")
SHAPES = [(1, 3, 2, 4, 5), (3, 4, 4, 3, 6), (2, 8, 6, 5, 7)]  # (B, d_in, d_k, d_v, T)


def setup(rng, B, d_in, d_k, d_v, T):
    p = {"X": rng.normal(size=(B, d_in, T)), "Wq": rng.normal(size=(d_k, d_in)),
         "Wk": rng.normal(size=(d_k, d_in)), "Wv": rng.normal(size=(d_v, d_in))}
    return p, rng.normal(size=(B, d_v, T))


def torch_grads(p, dout, loss_of):
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in p.items()}
    Vbar = loss_of(**t)
    (Vbar * torch.tensor(dout)).sum().backward()
    return Vbar.detach().numpy(), [t[k].grad.numpy() for k in NAMES]


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("shape", SHAPES, ids=[str(s) for s in SHAPES])
def test_matches_torch_autograd_in_the_column_convention(rng, shape, causal):
    p, dout = setup(rng, *shape)
    T, d_k = shape[-1], shape[2]
    mask = causal_mask(T) if causal else None

    def head(X, Wq, Wk, Wv):
        Q, K, V = Wq @ X, Wk @ X, Wv @ X
        S = K.transpose(-1, -2) @ Q / d_k**0.5
        if mask is not None:
            S = S.masked_fill(~torch.tensor(mask), float("-inf"))
        return V @ torch.softmax(S, dim=-2)  # over the keys

    Vbar_t, gt = torch_grads(p, dout, head)
    Vbar, cache = attention_head_forward(mask=mask, **p)
    np.testing.assert_allclose(Vbar, Vbar_t, rtol=1e-10, atol=1e-12)
    for name, ours, theirs in zip(NAMES, attention_head_backward(dout, cache), gt, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-11, err_msg=f"d{name}")


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
def test_matches_torch_scaled_dot_product_attention(rng, causal):
    # PyTorch's row convention: tokens are rows, so transpose X in and Vbar out
    p, dout = setup(rng, 2, 5, 4, 3, 6)
    F = torch.nn.functional

    def head(X, Wq, Wk, Wv):
        Xr = X.transpose(-1, -2)  # (B, T, d_in)
        out = F.scaled_dot_product_attention(Xr @ Wq.T, Xr @ Wk.T, Xr @ Wv.T, is_causal=causal)
        return out.transpose(-1, -2)

    Vbar_t, gt = torch_grads(p, dout, head)
    Vbar, cache = attention_head_forward(mask=causal_mask(6) if causal else None, **p)
    np.testing.assert_allclose(Vbar, Vbar_t, rtol=1e-10, atol=1e-12)
    for name, ours, theirs in zip(NAMES, attention_head_backward(dout, cache), gt, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-11, err_msg=f"d{name}")
