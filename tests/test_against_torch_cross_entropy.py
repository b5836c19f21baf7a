"""backprop_lib.cross_entropy (and the network's cross-entropy choice) against PyTorch, float64.

F.log_softmax, F.cross_entropy (integer labels and probability targets) and
F.binary_cross_entropy_with_logits, through tests/torch_oracle.py ``check_op`` (random inputs,
random non-uniform upstream gradient). PyTorch puts the classes on axis 1 of an (N, D_out) batch;
chapter 4 (and backprop_lib.cross_entropy) on axis 0 of (D_out, N): the torch side transposes.
Without torch these tests skip with the reason; with CI=true a missing torch is a failure.
"""

from common import require

torch = require("torch", "PyTorch is the test oracle")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from torch_oracle import check_op  # noqa: E402

from backprop_lib import network  # noqa: E402
from backprop_lib.cross_entropy import (  # noqa: E402
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_backward,
    cross_entropy,
    cross_entropy_backward,
    log_softmax,
    log_softmax_backward,
)

F = torch.nn.functional


@pytest.mark.parametrize("shape, axis", [((5,), 0), ((4, 3), 0), ((4, 3), 1), ((2, 3, 4), -1)])
def test_log_softmax(shape, axis, rng):
    check_op(rng, [shape], lambda z: F.log_softmax(z, dim=axis),
             lambda dout, z: (log_softmax(z, axis),
                              [log_softmax_backward(dout, log_softmax(z, axis), axis)]))


@pytest.mark.parametrize("D_out, N", [(3, 1), (4, 6), (10, 2)])
def test_cross_entropy_integer_labels(D_out, N, rng):
    labels = rng.integers(0, D_out, size=N)
    check_op(rng, [(D_out, N)], lambda z: F.cross_entropy(z.T, torch.tensor(labels)),
             lambda dout, z: (cross_entropy(z, labels), [cross_entropy_backward(z, labels, float(dout))]))


@pytest.mark.parametrize("D_out, N", [(2, 3), (5, 4)])
def test_cross_entropy_one_hot_and_probability_targets(D_out, N, rng):
    one_hot = np.eye(D_out)[:, rng.integers(0, D_out, size=N)]
    probs = rng.dirichlet(np.ones(D_out), size=N).T
    for y in (one_hot, probs):
        check_op(rng, [(D_out, N)], lambda z, y=y: F.cross_entropy(z.T, torch.tensor(y.T)),
                 lambda dout, z, y=y: (cross_entropy(z, y), [cross_entropy_backward(z, y, float(dout))]))


def test_cross_entropy_single_example(rng):
    check_op(rng, [(4,)], lambda z: F.cross_entropy(z, torch.tensor(2)),
             lambda dout, z: (cross_entropy(z, 2), [cross_entropy_backward(z, 2, float(dout))]))


def test_cross_entropy_at_huge_logits(rng):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0], [0.0, -5e3, -1e4]])
    labels = np.array([1, 1, 0])
    check_op(rng, None, lambda z: F.cross_entropy(z.T, torch.tensor(labels)),
             lambda dout, z: (cross_entropy(z, labels), [cross_entropy_backward(z, labels, float(dout))]),
             inputs=[z])


@pytest.mark.parametrize("shape", [(), (5,), (3, 4)])
def test_binary_cross_entropy_with_logits(shape, rng):
    y = rng.uniform(size=shape)
    check_op(rng, [shape], lambda z: F.binary_cross_entropy_with_logits(z, torch.tensor(y)),
             lambda dout, z: (binary_cross_entropy_with_logits(z, y),
                              [binary_cross_entropy_with_logits_backward(z, y, float(dout))]))


def test_binary_cross_entropy_with_logits_at_huge_logits(rng):
    z = np.array([1e4, -1e4, 1e4, -1e4, 0.5])
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    check_op(rng, None, lambda z: F.binary_cross_entropy_with_logits(z, torch.tensor(y)),
             lambda dout, z: (binary_cross_entropy_with_logits(z, y),
                              [binary_cross_entropy_with_logits_backward(z, y, float(dout))]),
             inputs=[z])


def _torch_network_ce(x, y, W1, b1, W2, b2):
    col = (lambda b: b) if x.ndim == 1 else (lambda b: b[:, None])
    z2 = W2 @ torch.sigmoid(W1 @ x + col(b1)) + col(b2)
    if x.ndim == 1:
        return F.cross_entropy(z2, y)  # one example: a (D_out,) vector in both conventions
    return F.cross_entropy(z2.T, y.T)  # classes on axis 0 here, on axis 1 in torch


@pytest.mark.parametrize("N", [None, 1, 4])
def test_network_with_cross_entropy(N, rng):
    cols = () if N is None else (N,)
    y = np.eye(2)[:, rng.integers(0, 2, size=N or 1)].reshape((2,) + cols)

    def ours(dout, x, y, W1, b1, W2, b2):
        p = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
        g = network.backward(network.forward(x, p), y, loss="cross_entropy")
        grads = [g["dL_da0"], None, g["dW1"], g["db1"], g["dW2"], g["db2"]]
        return g["loss"], [None if v is None else dout * v for v in grads]

    shapes = [(3,) + cols, None, (4, 3), (4,), (2, 4), (2,)]
    inputs = [y if s is None else rng.normal(size=s) for s in shapes]
    check_op(rng, None, _torch_network_ce, ours, inputs=inputs,
             grad=[True, False, True, True, True, True])
