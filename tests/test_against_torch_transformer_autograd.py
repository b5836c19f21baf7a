"""The transformer block written with Tensor ops against PyTorch in float64: the same
composition with F.layer_norm, F.linear, F.scaled_dot_product_attention and the tanh F.gelu,
forward value and all 17 gradients to 1e-10 relative (Chapter 9's third check)."""

from common import random_block_params, require

torch = require("torch", "PyTorch is the test oracle")

import pytest  # noqa: E402
from torch_oracle import check_op  # noqa: E402

from backprop_lib.transformer_autograd import (  # noqa: E402
    PARAM_SHAPES,
    block_forward_tensor,
    block_gradients_autograd,
)

F = torch.nn.functional
KEYS = list(PARAM_SHAPES)


def torch_block(X, p, h, causal=True):
    """H = X + MHA(LN1(X)), Y = H + FFN(LN2(H)) in PyTorch's own ops (W (d_out, d_in))."""
    B, T, d = X.shape
    U = F.layer_norm(X, (d,), p["ln1_gamma"], p["ln1_beta"], eps=1e-5)

    def split(W, b):  # (B, T, d) -> (B, h, T, d_k)
        return F.linear(U, p[W], p[b]).reshape(B, T, h, d // h).transpose(1, 2)

    Z = F.scaled_dot_product_attention(split("W_Q", "b_Q"), split("W_K", "b_K"),
                                       split("W_V", "b_V"), is_causal=causal)
    H = X + F.linear(Z.transpose(1, 2).reshape(B, T, d), p["W_O"], p["b_O"])
    U2 = F.layer_norm(H, (d,), p["ln2_gamma"], p["ln2_beta"], eps=1e-5)
    hidden = F.gelu(F.linear(U2, p["W_1"], p["b_1"]), approximate="tanh")
    return H + F.linear(hidden, p["W_2"], p["b_2"])


@pytest.mark.parametrize("B, T, d, h, causal", [(2, 5, 8, 2, True), (1, 4, 6, 3, False),
                                                (3, 6, 8, 1, True)])
def test_engine_block_matches_torch(B, T, d, h, causal, rng):
    params = random_block_params(rng, d, 4 * d)

    def theirs(X, *ps):
        return torch_block(X, dict(zip(KEYS, ps, strict=True)), h, causal)

    def ours(dout, X, *ps):
        p = dict(zip(KEYS, ps, strict=True))
        Y = block_forward_tensor(X, p, h=h, causal=causal).data
        dX, grads = block_gradients_autograd(X, p, dout, h=h, causal=causal)
        return Y, [dX] + [grads[k] for k in KEYS]

    # atol 1e-12: dL/db_K is exactly 0 in theory, round-off (1e-16) on both sides
    check_op(rng, None, theirs, ours, inputs=[rng.normal(size=(B, T, d))] + [params[k] for k in KEYS],
             rtol=1e-10, atol=1e-12)
