"""Every backward in backprop_lib against torch.autograd, in float64, random inputs and dout.

One line per op through tests/torch_oracle.py (see its docstring). Attention modules are
cross-checked in their own test_against_torch_*.py files with the same helper.
Without torch these tests skip with the reason; with CI=true a missing torch is a failure.
"""

from common import require

torch = require("torch", "PyTorch is the test oracle")

import math  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from torch_oracle import check_op, from_autograd, from_engine  # noqa: E402

from backprop_lib import linear, network, vectorized  # noqa: E402
from backprop_lib.activations import sigmoid, sigmoid_backward, softmax, softmax_vjp  # noqa: E402
from backprop_lib.functions import Linear, Sigmoid, Softmax, SquaredError  # noqa: E402
from backprop_lib.losses import squared_error, squared_error_backward  # noqa: E402
from backprop_lib.ops import Select  # noqa: E402
from backprop_lib.scalar_examples import sigmoid_neuron_collapsed, sigmoid_neuron_gates  # noqa: E402
from backprop_lib.tensor import Tensor  # noqa: E402
from backprop_lib.two_layer_net import TwoLayerNet  # noqa: E402

F = torch.nn.functional

# -- the scalar engine of chapter 1: (torch expression, engine expression) ---------------------------
ENGINE = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "max": (torch.maximum, lambda a, b: a.maximum(b)),
    "exp": (torch.exp, lambda a: a.exp()),
    "neg": (lambda a: -a, lambda a: -a),
    "reciprocal": (torch.reciprocal, lambda a: a.reciprocal()),
    "sigmoid": (torch.sigmoid, lambda a: a.sigmoid()),
    "const ops": (lambda a: (2.0 - a) * 3.0 / 4.0 + 1.5, lambda a: (2.0 - a) * 3.0 / 4.0 + 1.5),
    "expression": (lambda a, b, c: (a * b + c.exp()) / (1 + b * b) - a.sigmoid() * c,
                   lambda a, b, c: (a * b + c.exp()) / (1 + b * b) - a.sigmoid() * c),
}


@pytest.mark.parametrize("name", ENGINE)
def test_engine(name, rng):
    theirs, ours = ENGINE[name]
    check_op(rng, [()] * ours.__code__.co_argcount, theirs, from_engine(ours))


@pytest.mark.parametrize("build", [sigmoid_neuron_gates, sigmoid_neuron_collapsed])
def test_engine_sigmoid_neuron(build, rng):
    def ours(dout, w1, w2, b, x1, x2):
        g = build((float(w1), float(w2)), float(b), (float(x1), float(x2)))
        (g["out"] * float(dout)).backward()
        return g["out"].value, [g[k].grad for k in ("w1", "w2", "b", "x1", "x2")]

    check_op(rng, [()] * 5, lambda w1, w2, b, x1, x2: torch.sigmoid(w1 * x1 + w2 * x2 + b), ours)


# -- activations and losses ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5,), (4, 3), (2, 3, 4)])
def test_sigmoid(shape, rng):
    check_op(rng, [shape], torch.sigmoid,
             lambda dout, z: (sigmoid(z), [sigmoid_backward(dout, sigmoid(z))]))


@pytest.mark.parametrize("shape,axis", [((5,), 0), ((4, 3), 0), ((4, 3), -1), ((2, 3, 4), 1)])
def test_softmax_vjp(shape, axis, rng):
    check_op(rng, [shape], lambda z: torch.softmax(z, dim=axis),
             lambda dout, z: (softmax(z, axis), [softmax_vjp(dout, softmax(z, axis), axis)]))


@pytest.mark.parametrize("shape", [(2,), (3, 4)])
def test_squared_error(shape, rng):
    check_op(rng, [shape, shape], lambda p, t: 0.5 * ((p - t) ** 2).sum(),
             lambda dout, p, t: (squared_error(p, t), [squared_error_backward(p, t, dout), None]),
             grad=[True, False])


# -- chapter 2: ||W x||^2 and the ReLU vector-Jacobian product ---------------------------------------
def test_wx_norm_sq(rng):
    def ours(dout, W, x):
        f, cache = vectorized.wx_norm_sq(W, x)
        return f, vectorized.wx_norm_sq_backward(dout, cache)

    check_op(rng, [(3, 4), (4,)], lambda W, x: ((W @ x) ** 2).sum(), ours)


def test_relu_vjp(rng):
    check_op(rng, [(7,)], torch.relu, lambda dout, x: (np.maximum(x, 0), [vectorized.relu_vjp(dout, x)]))


# -- linear layer (chapter 3), both conventions ------------------------------------------------------
@pytest.mark.parametrize("N,D,K", [(1, 3, 4), (5, 3, 2), (7, 6, 5)])
def test_linear_rows(N, D, K, rng):
    def ours(dout, X, W, b):
        Y, cache = linear.linear_forward(X, W, b)
        return Y, linear.linear_backward(dout, cache)

    check_op(rng, [(N, D), (D, K), (K,)], lambda X, W, b: X @ W + b, ours)


@pytest.mark.parametrize("N,D,K", [(1, 3, 4), (5, 3, 2)])
def test_linear_columns(N, D, K, rng):
    def ours(dout, W, X, b):
        Z, cache = linear.linear_forward_col(W, X, b)
        dX, dW, db = linear.linear_backward_col(dout, cache)
        return Z, [dW, dX, db]

    check_op(rng, [(K, D), (D, N), (K,)], lambda W, X, b: W @ X + b[:, None], ours)


# -- the 3-4-2 network of chapter 4 (column convention, batch mean) --------------------------------
def _torch_network_loss(x, y, W1, b1, W2, b2):
    col = (lambda b: b) if x.ndim == 1 else (lambda b: b[:, None])
    a1 = torch.sigmoid(W1 @ x + col(b1))
    a2 = torch.softmax(W2 @ a1 + col(b2), dim=0)
    n = 1 if x.ndim == 1 else x.shape[1]
    return 0.5 * ((a2 - y) ** 2).sum() / n


@pytest.mark.parametrize("N", [None, 1, 4])
def test_network(N, rng):
    cols = () if N is None else (N,)
    y = rng.dirichlet([1.0, 1.0], size=N or 1).T.reshape((2,) + cols)

    def ours(dout, x, y, W1, b1, W2, b2):
        p = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
        g = network.backward(network.forward(x, p), y)
        grads = [g["dL_da0"], None, g["dW1"], g["db1"], g["dW2"], g["db2"]]
        return g["loss"], [None if v is None else dout * v for v in grads]

    shapes = [(3,) + cols, None, (4, 3), (4,), (2, 4), (2,)]
    inputs = [y if s is None else rng.normal(size=s) for s in shapes]
    check_op(rng, None, _torch_network_loss, ours, inputs=inputs,
             grad=[True, False, True, True, True, True])


# -- the autograd Functions of chapter 5 ----------------------------------------------------------------
AUTOGRAD = {
    "Linear": ([(1, 3), (4, 3), (4,)], F.linear, Linear.apply),
    "Linear batch": ([(6, 5), (3, 5), (3,)], F.linear, Linear.apply),
    "Sigmoid": ([(3, 4)], torch.sigmoid, Sigmoid.apply),
    "Softmax dim=1": ([(3, 4)], lambda z: F.softmax(z, dim=1), lambda z: Softmax.apply(z, 1)),
    "Softmax dim=0": ([(3, 4)], lambda z: F.softmax(z, dim=0), lambda z: Softmax.apply(z, 0)),
    "SquaredError": ([(2, 3), (2, 3)], lambda p, t: 0.5 * F.mse_loss(p, t, reduction="sum"),
                     SquaredError.apply),
    "Add broadcast": ([(2, 3), (3,)], torch.add, lambda a, b: a + b),
    "Sub broadcast": ([(2, 3), (2, 1)], torch.sub, lambda a, b: a - b),
    "Mul broadcast": ([(2, 3), (1, 3)], torch.mul, lambda a, b: a * b),
    "Mul const, neg": ([(2, 3)], lambda a: -(0.5 * a), lambda a: -(0.5 * a)),
    "Pow": ([(2, 3)], lambda a: a**3, lambda a: a**3),
    "Sum": ([(2, 3)], torch.sum, lambda a: a.sum()),
    "Select": ([(2, 3)], lambda a: a[1, 2], lambda a: a[1, 2]),
    "Select rows": ([(4, 3)], lambda a: a[[0, 2, 0]], lambda a: Select.apply(a, [0, 2, 0])),
    "seed loss": ([(1, 2), (1, 2)], lambda a, y: 0.5 * ((a - y) ** 2).sum(),
                  lambda a, y: 0.5 * ((a - y) ** 2).sum()),
    "split loss": ([(1, 2), (1, 2)],
                   lambda a, y: 0.5 * (a[0, 0] - y[0, 0]) ** 2 + 0.5 * (a[0, 1] - y[0, 1]) ** 2,
                   lambda a, y: 0.5 * (a[0, 0] - y[0, 0]) ** 2 + 0.5 * (a[0, 1] - y[0, 1]) ** 2),
    # the ops a transformer block is written with (Chapter 9)
    "Div broadcast": ([(2, 3), (3,)], lambda a, b: a / (b * b + 1), lambda a, b: a / (b * b + 1)),
    "MatMul batched": ([(2, 3, 4), (2, 4, 5)], torch.matmul, lambda a, b: a @ b),
    "MatMul broadcast": ([(2, 1, 3, 4), (3, 4, 2)], torch.matmul, lambda a, b: a @ b),
    "Exp": ([(2, 3)], torch.exp, lambda a: a.exp()),
    "Tanh": ([(2, 3)], torch.tanh, lambda a: a.tanh()),
    "Sum axis keepdims": ([(2, 3, 4)], lambda a: a.sum((0, 2), keepdim=True),
                          lambda a: a.sum((0, 2), keepdims=True)),
    "Mean axis": ([(2, 3, 4)], lambda a: a.mean(-1), lambda a: a.mean(-1)),
    "Max axis": ([(3, 5)], lambda a: a.amax(1, keepdim=True), lambda a: a.max(1, keepdims=True)),
    "Reshape": ([(2, 3, 4)], lambda a: a.reshape(2, 3, 2, 2), lambda a: a.reshape(2, 3, 2, 2)),
    "Transpose": ([(2, 3, 4, 5)], lambda a: a.permute(0, 2, 1, 3), lambda a: a.transpose(0, 2, 1, 3)),
    "Swapaxes": ([(2, 3, 4)], lambda a: a.transpose(-2, -1), lambda a: a.swapaxes(-2, -1)),
    "MaskedFill causal softmax": (
        [(2, 4, 4)],
        lambda s: torch.softmax(s.masked_fill(torch.triu(torch.ones(4, 4, dtype=torch.bool), 1),
                                              -math.inf), dim=-1),
        lambda s: _causal_softmax(s)),
}


def _causal_softmax(s):
    """softmax over the last axis of s with the future (j > i) masked, from primitive ops."""
    z = s.masked_fill(np.triu(np.ones((4, 4), bool), 1), -np.inf)
    e = (z - z.detach().max(-1, keepdims=True)).exp()
    return e / e.sum(-1, keepdims=True)


def test_max_shares_the_gradient_of_ties_as_torch_amax(rng):
    ties = np.array([[1.0, 3.0, 3.0, 0.5], [2.0, 2.0, 2.0, -1.0]])
    check_op(rng, None, lambda a: a.amax(1), from_autograd(lambda a: a.max(1)), inputs=[ties])


@pytest.mark.parametrize("name", AUTOGRAD)
def test_autograd_function(name, rng):
    shapes, theirs, ours = AUTOGRAD[name]
    check_op(rng, shapes, theirs, from_autograd(ours))


@pytest.mark.parametrize("N", [1, 5])
def test_two_layer_net(N, rng):
    def theirs(x, W1, b1, W2, b2):
        return F.softmax(F.linear(torch.sigmoid(F.linear(x, W1, b1)), W2, b2), dim=1)

    def ours(dout, x, W1, b1, W2, b2):
        net = TwoLayerNet(W1, b1, W2, b2)
        xt = Tensor(x, requires_grad=True)
        out = net(xt)
        out.backward(dout)
        return out.data, [xt.grad] + [p.grad for p in net.parameters()]

    check_op(rng, [(N, 3), (4, 3), (4,), (2, 4), (2,)], theirs, ours)


# -- the seed's program (notes section 3.5.1), as written: float32 defaults -----------------------
def _seed_program():
    ex = network.example()
    layer1, layer2 = torch.nn.Linear(3, 4), torch.nn.Linear(4, 2)
    with torch.no_grad():
        for layer, W, b in [(layer1, "W1", "b1"), (layer2, "W2", "b2")]:
            layer.weight.copy_(torch.tensor(ex["params"][W]))
            layer.bias.copy_(torch.tensor(ex["params"][b]))
    x, y = torch.tensor([ex["x"].tolist()]), torch.tensor([ex["y"].tolist()])
    a2 = F.softmax(layer2(torch.sigmoid(layer1(x))), dim=1)
    loss = 0.5 * ((a2 - y) ** 2).sum()
    return layer1, layer2, loss


def test_seed_program_gradients_equal_chapter_4_to_float32_precision():
    layer1, layer2, loss = _seed_program()
    loss.backward()
    ex = network.example()
    ref = network.gradients(ex["x"], ex["y"], ex["params"])
    for name, t in [("W1", layer1.weight), ("b1", layer1.bias), ("W2", layer2.weight),
                    ("b2", layer2.bias)]:
        np.testing.assert_allclose(t.grad.numpy(), ref[name], rtol=1e-5, atol=1e-7, err_msg=name)
    assert math.isclose(loss.item(), 0.2344, abs_tol=5e-5)


def test_seed_program_records_the_nodes_the_chapter_names():
    # Chapter 5 (and errata.md) say: nn.Linear records AddmmBackward0 (with TBackward0 for the
    # weight), and the loss line records Sub, Pow, Sum and Mul nodes, not one MseLossBackward.
    _, _, loss = _seed_program()
    names, fn = [], loss.grad_fn
    while fn is not None:
        names.append(type(fn).__name__)
        nxt = [f for f, _ in fn.next_functions if f is not None and type(f).__name__ != "AccumulateGrad"]
        fn = next((f for f in nxt if type(f).__name__ != "TBackward0"), None)
    assert names == ["MulBackward0", "SumBackward0", "PowBackward0", "SubBackward0",
                     "SoftmaxBackward0", "AddmmBackward0", "SigmoidBackward0", "AddmmBackward0"]


def test_the_oracle_catches_a_wrong_backward(rng):
    # softmax treated as element-wise (a (1 - a) dout) ignores the cross terms of the Jacobian
    def wrong(dout, z):
        a = softmax(z, -1)
        return a, [a * (1 - a) * dout]

    with pytest.raises(AssertionError, match="gradient of input 0"):
        check_op(rng, [(3, 4)], lambda z: torch.softmax(z, dim=-1), wrong)
