import math

import numpy as np
import pytest
from helpers import central_diff

from backprop_lib import Node, topological_order
from backprop_lib.scalar_examples import (
    add_mul_graph,
    sigmoid_neuron_collapsed,
    sigmoid_neuron_gates,
)

# Each op as (engine expression, the same expression in plain floats).
UNARY = {
    "exp": (lambda a: a.exp(), math.exp),
    "neg": (lambda a: -a, lambda a: -a),
    "reciprocal": (lambda a: a.reciprocal(), lambda a: 1 / a),
    "sigmoid": (lambda a: a.sigmoid(), lambda a: 1 / (1 + math.exp(-a))),
    "add const": (lambda a: a + 1.5, lambda a: a + 1.5),
    "radd const": (lambda a: 1.5 + a, lambda a: 1.5 + a),
    "mul const": (lambda a: a * -2.5, lambda a: a * -2.5),
    "rsub const": (lambda a: 2.0 - a, lambda a: 2.0 - a),
    "div const": (lambda a: a / 4.0, lambda a: a / 4.0),
}
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "max": (lambda a, b: a.maximum(b), max),
}


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("a", [-1.7, 0.3, 2.2])
def test_unary_op_matches_finite_differences(name, a):
    op, ref = UNARY[name]
    x = Node(a, "a")
    out = op(x)
    out.backward()
    assert out.value == pytest.approx(ref(a), rel=1e-12)
    num = central_diff(lambda v: ref(v[0]), [a])[0]
    assert x.grad == pytest.approx(num, rel=1e-6, abs=1e-9), name


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("a,b", [(-1.7, 0.6), (0.3, -2.5), (2.2, 1.1)])
def test_binary_op_matches_finite_differences(name, a, b):
    op, ref = BINARY[name]
    x, y = Node(a, "a"), Node(b, "b")
    out = op(x, y)
    out.backward()
    assert out.value == pytest.approx(ref(a, b), rel=1e-12)
    num = central_diff(lambda v: ref(v[0], v[1]), [a, b])
    assert [x.grad, y.grad] == pytest.approx(list(num), rel=1e-6, abs=1e-9), name


def test_max_routes_whole_gradient_to_the_larger_input():
    z, w = Node(2.0), Node(-1.0)
    out = z.maximum(w) * 3.0
    out.backward()
    assert (z.grad, w.grad) == (3.0, 0.0)


def test_seed_add_mul_example():
    # seed 001: x=-2, y=5, z=-4 -> q=3, f=-12, df/dx=df/dy=-4, df/dz=3
    g = add_mul_graph(-2.0, 5.0, -4.0)
    g["f"].backward()
    assert (g["q"].value, g["f"].value) == (3.0, -12.0)
    assert (g["x"].grad, g["y"].grad, g["z"].grad, g["q"].grad) == (-4.0, -4.0, 3.0, -4.0)


def test_seed_sigmoid_neuron_numbers_to_two_decimals():
    # seed 001 slides: forward 0.37, 1.37, 0.73; backward -0.53, -0.53, -0.20, 0.20, ...
    n = sigmoid_neuron_gates((2.0, -3.0), -3.0, (-1.0, -2.0))
    n["out"].backward()
    forward = {"w1x1": -2.0, "w2x2": 6.0, "sum12": 4.0, "z": 1.0, "neg": -1.0,
               "exp": 0.37, "plus1": 1.37, "out": 0.73}
    backward = {"out": 1.00, "plus1": -0.53, "exp": -0.53, "neg": -0.20, "z": 0.20,
                "b": 0.20, "w1": -0.20, "x1": 0.39, "w2": -0.39, "x2": -0.59}
    for k, v in forward.items():
        assert round(n[k].value, 2) == pytest.approx(v), k
    for k, v in backward.items():
        assert round(n[k].grad, 2) == pytest.approx(v), k


def test_collapsed_sigmoid_gate_gives_the_same_gradients():
    a = sigmoid_neuron_gates((2.0, -3.0), -3.0, (-1.0, -2.0))
    b = sigmoid_neuron_collapsed((2.0, -3.0), -3.0, (-1.0, -2.0))
    a["out"].backward()
    b["out"].backward()
    sig = b["out"].value
    assert b["z"].grad == pytest.approx((1 - sig) * sig)
    for k in ["w1", "x1", "w2", "x2", "b"]:
        assert a[k].grad == pytest.approx(b[k].grad, rel=1e-12), k


@pytest.mark.parametrize("build,expected", [
    (lambda a: a + a, 2.0),
    (lambda a: a * a, 6.0),  # 2a at a = 3
    (lambda a: a * a * a, 27.0),  # 3a^2
    (lambda a: (a + 1.0) * a, 7.0),  # 2a + 1
])
def test_reused_node_accumulates_every_path(build, expected):
    a = Node(3.0, "a")
    out = build(a)
    out.backward()
    assert a.grad == pytest.approx(expected)


def test_backward_after_zero_grad_is_reproducible_and_without_it_accumulates():
    n = sigmoid_neuron_gates()
    out = n["out"]
    out.backward()
    first = {k: v.grad for k, v in n.items()}
    out.backward()
    assert n["w1"].grad == pytest.approx(2 * first["w1"])
    out.zero_grad()
    assert all(v.grad == 0.0 for v in n.values())
    out.backward()
    assert {k: v.grad for k, v in n.items()} == first


def test_topological_order_puts_parents_first_and_handles_deep_graphs():
    x = Node(0.5, "x")
    y = x
    for _ in range(5000):  # deeper than the recursion limit
        y = y * 1.0
    order = topological_order(y)
    assert order[0] is x and order[-1] is y and len(order) == 5001
    y.backward()
    assert x.grad == 1.0


@pytest.mark.parametrize("bad", ["3", None, [1.0], {}, True, np.array([1.0, 2.0])])
def test_non_numeric_input_raises_type_error_naming_the_problem(bad):
    with pytest.raises(TypeError, match="real number"):
        Node(bad, "x")
    with pytest.raises(TypeError, match="real number"):
        Node(1.0) + bad if not isinstance(bad, np.ndarray) else Node(1.0) * "x"


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_input_raises_value_error(bad):
    with pytest.raises(ValueError, match="finite"):
        Node(bad, "x")


def test_numpy_scalars_are_accepted():
    assert (Node(np.float32(2.0)) * Node(np.int64(3))).value == 6.0


def test_sigmoid_is_stable_for_large_inputs():
    for x in (-1e4, -800.0, 800.0, 1e4):
        a = Node(x)
        s = a.sigmoid()
        s.backward()
        assert 0.0 <= s.value <= 1.0 and math.isfinite(a.grad)


def test_reciprocal_of_zero_is_a_clear_error():
    with pytest.raises(ZeroDivisionError, match="reciprocal"):
        Node(0.0).reciprocal()
