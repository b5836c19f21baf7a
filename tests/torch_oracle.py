"""PyTorch as the test oracle: one call per op compares values and gradients in float64.

Modelled on early tinygrad's ``helper_test_op``. A cross-check is one line:

    from common import require
    torch = require("torch", "PyTorch is the test oracle")  # skip locally, fail in CI
    from torch_oracle import check_op, from_autograd        # noqa: E402  (import after require)

    def test_sigmoid(rng):
        check_op(rng, [(4, 3)], torch.sigmoid,
                 lambda dout, z: (sigmoid(z), [sigmoid_backward(dout, sigmoid(z))]))

``check_op(rng, shapes, torch_fn, ours, inputs=None, grad=None)``

* draws float64 inputs of ``shapes`` from ``rng`` (or uses ``inputs``, arrays or numbers),
* runs ``torch_fn(*tensors)`` on leaf tensors with requires_grad (only inputs with ``grad[i]``
  True, default all), draws a random NON-uniform upstream gradient ``dout`` of the output's
  shape, and backpropagates it with ``torch.autograd``,
* calls ``ours(dout, *arrays) -> (out, grads)``, our forward value and one gradient per input
  (None for inputs with ``grad[i]`` False), and asserts both agree with torch
  (rtol 1e-9, atol 1e-11; an error names the argument).

Adapters for the two kinds of backward in backprop_lib: ``from_autograd(op)`` for ops on
``backprop_lib.autograd.Tensor`` and ``from_engine(op)`` for the scalar ``Node`` engine. Layer
functions (forward + backward pair) are usually a short lambda, as above.
Returns ``(out, grads)`` from torch for further checks.
"""

from __future__ import annotations

import numpy as np
import torch

from backprop_lib.engine import Node
from backprop_lib.tensor import Tensor

RTOL, ATOL = 1e-9, 1e-11


def check_op(rng, shapes, torch_fn, ours, *, inputs=None, grad=None, rtol=RTOL, atol=ATOL):
    if inputs is None:
        inputs = [rng.normal(size=s) for s in shapes]
    arrays = [np.asarray(v, dtype=np.float64) for v in inputs]
    grad = [True] * len(arrays) if grad is None else list(grad)
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=g) for a, g in zip(arrays, grad, strict=True)]
    out_t = torch_fn(*ts)
    dout = rng.normal(size=tuple(out_t.shape))  # random upstream gradient, never all-ones
    out_t.backward(torch.tensor(dout, dtype=torch.float64))
    theirs = [t.grad.numpy() if g else None for t, g in zip(ts, grad, strict=True)]

    out, grads = ours(dout, *[a.copy() for a in arrays])
    np.testing.assert_allclose(np.asarray(out, dtype=np.float64), out_t.detach().numpy(),
                               rtol=rtol, atol=atol, err_msg="forward value")
    grads = list(grads)
    assert len(grads) == len(arrays), f"ours returned {len(grads)} gradients for {len(arrays)} inputs"
    for i, (g, ref) in enumerate(zip(grads, theirs, strict=True)):
        if ref is None:
            continue
        assert g is not None, f"input {i}: torch has a gradient, ours returned None"
        g = np.asarray(g, dtype=np.float64)
        assert g.shape == ref.shape, f"input {i}: gradient shape {g.shape}, torch {ref.shape}"
        np.testing.assert_allclose(g, ref, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")
    return out_t.detach().numpy(), theirs


def from_autograd(op):
    """Adapter: ``op(*Tensors) -> Tensor`` becomes ``ours(dout, *arrays) -> (out, grads)``."""

    def ours(dout, *arrays):
        ts = [Tensor(a, requires_grad=True) for a in arrays]
        out = op(*ts)
        out.backward(dout)
        return out.data, [t.grad for t in ts]

    return ours


def from_engine(op):
    """Adapter for the scalar engine: ``op(*Nodes) -> Node``; inputs are 0-d arrays."""

    def ours(dout, *arrays):
        nodes = [Node(float(a)) for a in arrays]
        out = op(*nodes)
        (out * float(dout)).backward()  # scale by the upstream gradient: one more mul gate
        return out.value, [n.grad for n in nodes]

    return ours
