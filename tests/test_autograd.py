"""The autograd engine (backprop_lib.autograd) and its Functions (backprop_lib.functions).

Every Function's backward is checked against central differences on seeded random inputs and
random non-uniform upstream gradients; the engine's bookkeeping (order, accumulation, zeroing,
freed graphs, shape checks) is tested on small graphs whose gradients are known.
"""

import numpy as np
import pytest
from helpers import assert_grad_close, central_diff

from backprop_lib import network
from backprop_lib.autograd import Function, format_graph, graph_order, graph_saved_bytes
from backprop_lib.functions import Linear, Sigmoid, Softmax, SquaredError
from backprop_lib.ops import Select, Sum
from backprop_lib.tensor import Tensor
from backprop_lib.two_layer_net import TwoLayerNet

# name -> (input shapes, apply(*tensors) -> Tensor, the same thing in plain numpy)
OPS = {
    "linear": ([(1, 3), (4, 3), (4,)], lambda a, w, b: Linear.apply(a, w, b),
               lambda a, w, b: a @ w.T + b),
    "linear batch": ([(5, 3), (2, 3), (2,)], lambda a, w, b: Linear.apply(a, w, b),
                     lambda a, w, b: a @ w.T + b),
    "sigmoid": ([(4, 3)], lambda z: Sigmoid.apply(z), lambda z: 1 / (1 + np.exp(-z))),
    "softmax dim=1": ([(3, 4)], lambda z: Softmax.apply(z, 1),
                      lambda z: np.exp(z) / np.exp(z).sum(1, keepdims=True)),
    "softmax dim=0": ([(3, 4)], lambda z: Softmax.apply(z, 0),
                      lambda z: np.exp(z) / np.exp(z).sum(0, keepdims=True)),
    "squared error": ([(2, 3), (2, 3)], lambda p, t: SquaredError.apply(p, t),
                      lambda p, t: 0.5 * np.sum((p - t) ** 2)),
    "add": ([(2, 3), (2, 3)], lambda a, b: a + b, lambda a, b: a + b),
    "add broadcast": ([(2, 3), (3,)], lambda a, b: a + b, lambda a, b: a + b),
    "sub": ([(2, 3), (1, 3)], lambda a, b: a - b, lambda a, b: a - b),
    "rsub const": ([(2, 3)], lambda a: 1.5 - a, lambda a: 1.5 - a),
    "mul": ([(2, 3), (2, 3)], lambda a, b: a * b, lambda a, b: a * b),
    "mul const": ([(2, 3)], lambda a: 0.5 * a, lambda a: 0.5 * a),
    "neg": ([(3,)], lambda a: -a, lambda a: -a),
    "pow 2": ([(2, 3)], lambda a: a**2, lambda a: a**2),
    "pow 3": ([(4,)], lambda a: a**3, lambda a: a**3),
    "sum": ([(2, 3)], lambda a: a.sum(), lambda a: np.sum(a)),
    "select": ([(2, 3)], lambda a: a[0, 1], lambda a: a[0, 1]),
    "select row": ([(2, 3)], lambda a: a[1], lambda a: a[1]),
    # the ops a transformer block is written with (Chapter 9)
    "div": ([(2, 3), (2, 3)], lambda a, b: a / (b * b + 1.0), lambda a, b: a / (b * b + 1.0)),
    "div broadcast": ([(2, 3), (2, 1)], lambda a, b: a / (b * b + 1.0),
                      lambda a, b: a / (b * b + 1.0)),
    "rdiv const": ([(4,)], lambda a: 2.0 / (a * a + 1.0), lambda a: 2.0 / (a * a + 1.0)),
    "matmul": ([(3, 4), (4, 2)], lambda a, b: a @ b, lambda a, b: a @ b),
    "matmul batched": ([(2, 3, 4), (2, 4, 5)], lambda a, b: a @ b, lambda a, b: a @ b),
    "matmul shared b": ([(2, 2, 3, 4), (4, 5)], lambda a, b: a @ b, lambda a, b: a @ b),
    "matmul broadcast 1": ([(2, 1, 3, 4), (1, 3, 4, 2)], lambda a, b: a @ b, lambda a, b: a @ b),
    "exp": ([(2, 3)], lambda a: a.exp(), np.exp),
    "tanh": ([(2, 3)], lambda a: a.tanh(), np.tanh),
    "sum axis": ([(2, 3, 4)], lambda a: a.sum(1), lambda a: a.sum(1)),
    "sum axes keepdims": ([(2, 3, 4)], lambda a: a.sum((0, -1), keepdims=True),
                          lambda a: a.sum((0, -1), keepdims=True)),
    "mean keepdims": ([(2, 3, 4)], lambda a: a.mean(-1, keepdims=True),
                      lambda a: a.mean(-1, keepdims=True)),
    "mean all": ([(2, 3)], lambda a: a.mean(), np.mean),
    "max axis": ([(3, 5)], lambda a: a.max(1), lambda a: a.max(1)),
    "max keepdims": ([(2, 3, 4)], lambda a: a.max(0, keepdims=True),
                     lambda a: a.max(0, keepdims=True)),
    "reshape": ([(2, 6)], lambda a: a.reshape(3, 2, 2), lambda a: a.reshape(3, 2, 2)),
    "transpose": ([(2, 3, 4, 5)], lambda a: a.transpose(0, 2, 1, 3),
                  lambda a: a.transpose(0, 2, 1, 3)),
    "transpose cycle": ([(2, 3, 4)], lambda a: a.transpose(2, 0, 1), lambda a: a.transpose(2, 0, 1)),
    "swapaxes": ([(2, 3, 4)], lambda a: a.swapaxes(-1, -2), lambda a: np.swapaxes(a, -1, -2)),
    "masked fill": ([(2, 3, 3)], lambda a: a.masked_fill(np.triu(np.ones((3, 3), bool), 1), 0.5),
                    lambda a: np.where(np.triu(np.ones((3, 3), bool), 1), 0.5, a)),
}


@pytest.mark.parametrize("name", OPS)
def test_function_backward_matches_finite_differences(name, rng):
    shapes, op, ref = OPS[name]
    values = [rng.normal(size=s) for s in shapes]
    ts = [Tensor(v, requires_grad=True) for v in values]
    out = op(*ts)
    np.testing.assert_allclose(out.data, ref(*values), rtol=1e-12, atol=1e-14)
    dout = rng.normal(size=out.shape)  # random, non-uniform upstream gradient
    out.backward(dout)
    for i, t in enumerate(ts):
        def f(v, i=i):
            args = list(values)
            args[i] = v
            return float(np.sum(dout * ref(*args)))
        assert_grad_close(f"{name} d/d input {i}", t.grad, central_diff(f, values[i]))


def test_two_layer_net_reproduces_chapter_4_gradients():
    ex = network.example()
    net = TwoLayerNet(**ex["params"])
    a2 = net(Tensor(ex["x"][None, :], name="x"))
    loss = 0.5 * ((a2 - Tensor(ex["y"][None, :])) ** 2).sum()
    loss.backward()
    ref = network.gradients(ex["x"], ex["y"], ex["params"])
    for p in net.parameters():
        np.testing.assert_allclose(p.grad, ref[p.name], rtol=0, atol=1e-15, err_msg=p.name)
    # the seed's numbers (section 3.3/3.4 of the notes)
    assert loss.item() == pytest.approx(0.2344, abs=5e-5)
    assert net.W2.grad[0, 0] == pytest.approx(-0.099969, abs=5e-7)
    np.testing.assert_allclose(net.b1.grad, [-0.029322, 0.036886, 0.011221, -0.035471], atol=5e-7)


def test_two_layer_net_batch_matches_finite_differences(rng):
    W1, b1, W2, b2 = (rng.normal(size=s) for s in [(4, 3), (4,), (2, 4), (2,)])
    x, y = rng.normal(size=(5, 3)), rng.dirichlet([1, 1], size=5)
    net = TwoLayerNet(W1, b1, W2, b2)
    SquaredError.apply(net(Tensor(x)), y).backward()

    def L(**p):
        a1 = 1 / (1 + np.exp(-(x @ p["W1"].T + p["b1"])))
        z2 = a1 @ p["W2"].T + p["b2"]
        a2 = np.exp(z2) / np.exp(z2).sum(1, keepdims=True)
        return 0.5 * np.sum((a2 - y) ** 2)

    point = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    for p in net.parameters():
        num = central_diff(lambda v, n=p.name: L(**{**point, n: v}), point[p.name])
        assert_grad_close(p.name, p.grad, num)


def test_backward_visits_nodes_in_reverse_topological_order():
    ex = network.example()
    net = TwoLayerNet(**ex["params"])
    loss = SquaredError.apply(net(Tensor(ex["x"][None, :])), ex["y"][None, :])
    trace = []
    loss.backward(trace=trace)
    visited = [v.node.name() for v in trace if v.node.name() != "AccumulateGrad"]
    assert visited == ["SquaredErrorBackward", "SoftmaxBackward", "LinearBackward",
                       "SigmoidBackward", "LinearBackward"]
    assert list(reversed(graph_order(loss.grad_fn))) == [v.node for v in trace]


def test_gradients_accumulate_in_leaves_and_zero_grad_resets_them(rng):
    w = Tensor(rng.normal(size=3), requires_grad=True, name="w")
    c = rng.normal(size=3)
    (w * c).sum().backward()
    np.testing.assert_allclose(w.grad, c)
    (w * c).sum().backward()  # a new graph: its gradient is added to the old one
    np.testing.assert_allclose(w.grad, 2 * c)
    w.zero_grad()
    assert w.grad is None
    (w * c).sum().backward()
    np.testing.assert_allclose(w.grad, c)


def test_a_tensor_used_twice_gets_both_contributions():
    x = Tensor([3.0], requires_grad=True)
    (x * x + x).sum().backward()  # d/dx (x^2 + x) = 2x + 1
    np.testing.assert_allclose(x.grad, [7.0])
    assert len([n for n in graph_order(x.node())]) == 1  # one AccumulateGrad per leaf


def test_add_node_hands_the_same_gradient_to_both_branches():
    a2 = Tensor([[0.6, 0.4]], requires_grad=True)
    L1 = 0.5 * (a2[0, 0] - 1.0) ** 2
    L2 = 0.5 * (a2[0, 1] - 0.0) ** 2
    L1.retain_grad()
    L2.retain_grad()
    loss = L1 + L2
    trace = []
    loss.backward(trace=trace)
    node, g, grads = trace[0]
    assert node.name() == "AddBackward" and float(g) == 1.0
    assert [float(x) for x in grads] == [1.0, 1.0]
    assert float(L1.grad) == float(L2.grad) == 1.0
    np.testing.assert_allclose(a2.grad, [[0.6 - 1.0, 0.4]])
    text = format_graph(loss, trace)
    assert text.splitlines()[0] == "AddBackward   receives [1]"
    assert "AccumulateGrad   receives [-0.4, 0.4]" in text


def test_retain_graph_allows_a_second_backward_and_default_frees_it(rng):
    w = Tensor(rng.normal(size=3), requires_grad=True)
    loss = Sigmoid.apply(w).sum()
    loss.backward(retain_graph=True)
    first = w.grad.copy()
    loss.backward()
    np.testing.assert_allclose(w.grad, 2 * first)
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


def test_inputs_without_requires_grad_get_no_gradient_and_no_node(rng):
    x = Tensor(rng.normal(size=(2, 3)))
    W = Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    b = Tensor(np.zeros(4), requires_grad=True)
    z = Linear.apply(x, W, b)
    assert z.grad_fn.next_functions[0] is None and x.grad is None
    z.sum().backward()
    assert x.grad is None and W.grad.shape == (4, 3) and b.grad.shape == (4,)
    out = Linear.apply(x, Tensor(W.data), Tensor(b.data))
    assert out.grad_fn is None and not out.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        out.sum().backward()


def test_non_leaf_grad_is_kept_only_when_retained(rng):
    w = Tensor(rng.normal(size=3), requires_grad=True)
    s = Sigmoid.apply(w)
    t = Sigmoid.apply(w)
    t.retain_grad()
    (s + t).sum().backward()
    assert s.grad is None
    np.testing.assert_allclose(t.grad, np.ones(3))
    assert w.is_leaf and not s.is_leaf


def test_tensor_repr_matches_torch_format():
    t = Tensor([[0.41338, -0.6792]], requires_grad=True)
    assert repr(t) == "tensor([[ 0.4134, -0.6792]], requires_grad=True)"
    assert repr(Sigmoid.apply(t)).endswith("grad_fn=<SigmoidBackward>)")
    assert repr(Tensor([1.0, 2.0])) == "tensor([1.0000, 2.0000])"


def test_format_graph_names_every_node_and_marks_inputs_without_grad():
    ex = network.example()
    net = TwoLayerNet(**ex["params"])
    loss = SquaredError.apply(net(Tensor(ex["x"][None, :], name="x")), Tensor([[1.0, 0.0]], name="y"))
    text = format_graph(loss)
    for part in ["SquaredErrorBackward", "SoftmaxBackward", "SigmoidBackward", "x (no grad)",
                 "y (no grad)", "AccumulateGrad W1", "AccumulateGrad b2"]:
        assert part in text, part
    assert text.count("LinearBackward") == 2


# -- errors a learner can act on ------------------------------------------------------------------
class WrongCount(Function):
    @staticmethod
    def forward(_ctx, a):
        return 2 * a

    @staticmethod
    def backward(_ctx, grad_output):
        return grad_output, grad_output


class WrongShape(Function):
    @staticmethod
    def forward(_ctx, a):
        return a.sum(axis=0)

    @staticmethod
    def backward(_ctx, grad_output):
        return grad_output  # forgot to copy it back to the rows: shape (3,), not (2, 3)


def test_backward_returning_the_wrong_number_of_gradients_is_an_error():
    with pytest.raises(RuntimeError, match="returned 2 gradients, expected 1"):
        WrongCount.apply(Tensor([1.0], requires_grad=True)).sum().backward()


def test_backward_returning_a_wrongly_shaped_gradient_is_an_error():
    with pytest.raises(ValueError, match=r"shape \(3,\) for input 0, expected \(2, 3\)"):
        WrongShape.apply(Tensor(np.ones((2, 3)), requires_grad=True)).sum().backward()


def test_backward_of_a_non_scalar_needs_grad_output_of_its_shape():
    y = Sigmoid.apply(Tensor(np.zeros((2, 2)), requires_grad=True))
    with pytest.raises(RuntimeError, match="one-element"):
        y.backward()
    with pytest.raises(ValueError, match=r"grad_output must have shape \(2, 2\)"):
        y.backward(np.ones(3))


class SeedSigmoidWrong(Function):
    """The sigmoid derivative written as a (1 - z): a plausible slip."""

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return 1 / (1 + np.exp(-z))

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        return grad_output * z * (1 - z)


def test_a_wrong_backward_fails_the_finite_difference_check(rng):
    z = rng.normal(size=5)
    t = Tensor(z, requires_grad=True)
    dout = rng.normal(size=5)
    SeedSigmoidWrong.apply(t).backward(dout)
    num = central_diff(lambda v: float(np.sum(dout / (1 + np.exp(-v)))), z)
    with pytest.raises(AssertionError, match="analytic"):
        assert_grad_close("wrong sigmoid", t.grad, num)


def test_select_with_a_repeated_index_collects_both_shares():
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    Select.apply(a, [0, 0, 2]).backward(np.array([1.0, 2.0, 5.0]))
    np.testing.assert_allclose(a.grad, [3.0, 0.0, 5.0])
    assert Sum.apply(a).item() == 6.0


# -- the ops of Chapter 9: what finite differences cannot show ------------------------------------
def test_max_splits_the_gradient_between_tied_maxima():
    a = Tensor([[1.0, 3.0, 3.0], [2.0, 0.0, -1.0]], requires_grad=True)
    a.max(1).backward(np.array([0.8, -0.5]))
    np.testing.assert_allclose(a.grad, [[0.0, 0.4, 0.4], [-0.5, 0.0, 0.0]])


def test_detach_is_a_constant_and_masked_entries_get_no_gradient(rng):
    z = Tensor(rng.normal(size=(2, 4)), requires_grad=True)
    shift = z.detach().max(-1, keepdims=True)
    assert shift.grad_fn is None and not shift.requires_grad
    assert z.max(-1).detach().grad_fn is None and z.max(-1).grad_fn is not None
    mask = np.array([False, False, True, True])
    e = (z.masked_fill(mask, -np.inf) - shift).exp()  # exp(-inf) = 0: the softmax of section 9
    p = e / e.sum(-1, keepdims=True)
    assert np.all(p.data[:, 2:] == 0.0)
    p.backward(rng.normal(size=(2, 4)))
    assert np.all(z.grad[:, 2:] == 0.0) and np.all(np.isfinite(z.grad))


def test_matmul_shared_weight_collects_every_batch_gradient(rng):
    a, w, dout = rng.normal(size=(3, 2, 4)), rng.normal(size=(4, 5)), rng.normal(size=(3, 2, 5))
    wt = Tensor(w, requires_grad=True)
    (Tensor(a) @ wt).backward(dout)
    np.testing.assert_allclose(wt.grad, sum(a[i].T @ dout[i] for i in range(3)), rtol=1e-13)
    wt.zero_grad()
    (a @ wt).backward(dout)  # a numpy array on the left: Tensor.__rmatmul__
    np.testing.assert_allclose(wt.grad, sum(a[i].T @ dout[i] for i in range(3)), rtol=1e-13)


@pytest.mark.parametrize("call, error, match", [
    (lambda t: t @ Tensor(np.ones((4, 2))), ValueError, r"same k, got \(2, 3\) @ \(4, 2\)"),
    (lambda t: t @ Tensor(np.ones(3)), ValueError, r"\(2, 3\) @ \(3,\)"),
    (lambda t: t.reshape(3, 1, 2) @ Tensor(np.ones((2, 2, 1))), ValueError, "do not broadcast"),
    (lambda t: t.reshape(4, 2), ValueError, r"shape \(2, 3\) \(6 entries\) into shape \(4, 2\)"),
    (lambda t: t.transpose(0, 0), ValueError, "permutation of 0..1"),
    (lambda t: t.sum(2), ValueError, "axis 2 is out of range"),
    (lambda t: t.mean(axis="last"), TypeError, "axis must be an int"),
    (lambda t: t.swapaxes(0, 5), ValueError, "axis 5 is out of range"),
    (lambda t: t.masked_fill(np.ones((2, 3)), 0.0), TypeError, "boolean array"),
    (lambda t: t.masked_fill(np.ones((3, 3), bool), 0.0), ValueError,
     r"mask of shape \(3, 3\) does not broadcast to the tensor's shape \(2, 3\)"),
    (lambda t: t.masked_fill(np.ones(3, bool), "zero"), TypeError, "value must be a real number"),
])
def test_bad_arguments_of_the_block_ops_are_named(call, error, match):
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    with pytest.raises(error, match=match):
        call(t)


def test_graph_saved_bytes_counts_each_saved_activation_once(rng):
    w = Tensor(rng.normal(size=(3, 4)), requires_grad=True)  # a leaf: its data is not counted
    x = Tensor(rng.normal(size=(5, 3)))  # a constant input, saved by the matmul: 5*3*8 bytes
    z = x @ w  # saves x and w
    s = z.tanh()  # saves t (5, 4)
    y = (s * s).sum()  # Mul saves s twice: one buffer; Sum saves nothing
    assert graph_saved_bytes(y) == 8 * (15 + 20)
    assert graph_saved_bytes(w.transpose(1, 0) * w.reshape(4, 3)) == 0  # views of the leaf w
    y.backward()  # frees what the nodes saved
    assert graph_saved_bytes(y) == 0
