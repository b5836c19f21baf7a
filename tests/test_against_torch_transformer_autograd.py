"""The transformer block written with Tensor ops against PyTorch in float64: the forward value
and all 17 gradients of Chapter 5's engine agree with torch.autograd on the same composition
(test_against_torch_transformer.torch_block: F.layer_norm, F.linear,
F.scaled_dot_product_attention, the tanh F.gelu) to 1e-10 relative (Chapter 9's third check)."""

from common import require

torch = require("torch", "PyTorch is the test oracle")

import pytest  # noqa: E402
from test_against_torch_transformer import torch_block  # noqa: E402
from test_transformer_autograd import block_params  # noqa: E402
from torch_oracle import check_op  # noqa: E402

from backprop_lib.transformer import PARAM_KEYS  # noqa: E402
from backprop_lib.transformer_autograd import block_forward_tensor, block_gradients_autograd  # noqa: E402


@pytest.mark.parametrize("B, T, d, h, causal", [(2, 5, 8, 2, True), (1, 4, 6, 3, False)])
def test_engine_block_matches_torch(B, T, d, h, causal, rng):
    params = block_params(rng, d, h)

    def theirs(X, *ps):
        return torch_block(X, dict(zip(PARAM_KEYS, ps, strict=True)), h, causal)

    def ours(dout, X, *ps):
        p = dict(zip(PARAM_KEYS, ps, strict=True))
        Y = block_forward_tensor(X, p, h=h, causal=causal).data
        dX, grads = block_gradients_autograd(X, p, dout, h=h, causal=causal)
        return Y, [dX] + [grads[k] for k in PARAM_KEYS]

    # per entry: rtol 1e-10; atol 1e-12 for dL/db_K, which is exactly 0 (round-off on both sides)
    check_op(rng, None, theirs, ours, inputs=[rng.normal(size=(B, T, d))] + [params[k] for k in PARAM_KEYS],
             rtol=1e-10, atol=1e-12)
