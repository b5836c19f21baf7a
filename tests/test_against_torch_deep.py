"""Chapter 8 against PyTorch in float64: F.batch_norm (training and evaluation mode, running
statistics), F.layer_norm, torch.nn.utils.clip_grad_norm_, and the deep MLP (every activation,
BatchNorm, LayerNorm, residual) against torch autograd."""

from common import require

torch = require("torch", "PyTorch is the test oracle")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch_oracle import check_op  # noqa: E402

from backprop_lib.clipping import clip_grad_norm  # noqa: E402
from backprop_lib.deep import init_mlp, mlp_backward, mlp_forward  # noqa: E402
from backprop_lib.normalization import (  # noqa: E402
    RunningStats,
    batch_norm_backward,
    batch_norm_forward,
    layer_norm_backward,
    layer_norm_forward,
)


def _ours_bn(**kw):
    def ours(dout, x, g, b):
        y, cache = batch_norm_forward(x, g, b, **kw)
        return y, batch_norm_backward(dout, cache)
    return ours


@pytest.mark.parametrize("N,D", [(2, 3), (8, 5), (128, 16)])
def test_batch_norm_training_mode(rng, N, D):
    check_op(rng, [(N, D), (D,), (D,)],
             lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True, eps=1e-5), _ours_bn(eps=1e-5))


def test_batch_norm_over_several_axes_like_batchnorm2d(rng):
    """(N, C, H, W) averaged over N, H, W with one gamma per channel: torch's BatchNorm2d."""
    check_op(rng, [(3, 4, 2, 5), (4,), (4,)],
             lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True, eps=1e-3),
             _ours_bn(axis=(0, 2, 3), eps=1e-3))


def test_batch_norm_running_statistics_and_evaluation_mode(rng):
    D = 4
    rm, rv = torch.zeros(D, dtype=torch.float64), torch.ones(D, dtype=torch.float64)
    ours = RunningStats.start(D, momentum=0.1)
    g, b = rng.normal(size=D), rng.normal(size=D)
    for _ in range(3):
        x = rng.normal(size=(6, D)) * 3 + 1
        F.batch_norm(torch.tensor(x), rm, rv, torch.tensor(g), torch.tensor(b), training=True, momentum=0.1)
        batch_norm_forward(x, g, b, running=ours)
    np.testing.assert_allclose(ours.mean, rm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.var, rv.numpy(), rtol=1e-12)
    check_op(rng, [(5, D), (D,), (D,)],
             lambda x, g, b: F.batch_norm(x, rm, rv, g, b, training=False, eps=1e-5),
             _ours_bn(running=ours, training=False))


@pytest.mark.parametrize("shape,axis", [((4, 6), -1), ((2, 3, 8), -1), ((2, 3, 4), (1, 2))])
def test_layer_norm(rng, shape, axis):
    norm_shape = shape[-1:] if axis == -1 else shape[1:]

    def ours(dout, x, g, b):
        y, cache = layer_norm_forward(x, g, b, axis=axis, eps=1e-5)
        return y, layer_norm_backward(dout, cache)

    check_op(rng, [shape, norm_shape, norm_shape],
             lambda x, g, b: F.layer_norm(x, norm_shape, g, b, eps=1e-5), ours)


@pytest.mark.parametrize("max_norm", [0.5, 3.0, 100.0])
def test_clip_grad_norm_matches_torch(rng, max_norm):
    grads = [rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(2, 2, 2))]
    ps = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, g in zip(ps, grads, strict=True):
        p.grad = torch.tensor(g)
    total_t = torch.nn.utils.clip_grad_norm_(ps, max_norm)
    clipped, total = clip_grad_norm(grads, max_norm)
    assert total == pytest.approx(float(total_t), rel=1e-12)
    for ours, p in zip(clipped, ps, strict=True):
        np.testing.assert_allclose(ours, p.grad.numpy(), rtol=1e-12, atol=1e-15)


CONFIGS = [("sigmoid", None, False), ("tanh", "batch", False), ("relu", "layer", True), ("tanh", None, True),
           ("relu", "batch", True), ("sigmoid", "layer", False)]


@pytest.mark.parametrize("activation,norm,residual", CONFIGS, ids=[f"{a}-{n}-{r}" for a, n, r in CONFIGS])
def test_mlp_matches_torch_autograd(rng, activation, norm, residual):
    params = init_mlp([5, 8, 8, 8, 3], init="xavier", norm=norm, seed=11)
    for layer in (1, 2, 3):
        params[f"b{layer}"] = rng.normal(size=8) * 0.2
        if norm:
            params[f"gamma{layer}"] = rng.uniform(0.5, 1.5, size=8)
            params[f"beta{layer}"] = rng.normal(size=8) * 0.3
    X = rng.normal(size=(7, 5))
    out, cache = mlp_forward(X, params, activation=activation, norm=norm, residual=residual)
    dout = rng.normal(size=out.shape)
    back = mlp_backward(dout, cache)

    f = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[activation]
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    tx = torch.tensor(X, requires_grad=True)
    a = tx
    for layer in (1, 2, 3, 4):
        z = a @ tp[f"W{layer}"] + tp[f"b{layer}"]
        if layer == 4:
            a = z
            break
        if norm == "batch":
            z = F.batch_norm(z, None, None, tp[f"gamma{layer}"], tp[f"beta{layer}"], training=True, eps=1e-5)
        elif norm == "layer":
            z = F.layer_norm(z, (z.shape[1],), tp[f"gamma{layer}"], tp[f"beta{layer}"], eps=1e-5)
        a = a + f(z) if residual and layer > 1 else f(z)
    a.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, a.detach().numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(back.da[0], tx.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg="dX")
    assert set(back.grads) == set(tp)
    for k, t in tp.items():
        np.testing.assert_allclose(back.grads[k], t.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=f"d{k}")
