"""backprop_lib.network: the 3-4-2 network of the notes, number for number, and finite differences.

The expected numbers below are typed from the notes (seed 003, sections 2 to 3.4) at the
precision they are printed there; none of them was produced by our code.
"""

import json

import numpy as np
import pytest
from common import ROOT
from helpers import assert_grad_close, central_diff
from prose_numbers import matches, output_numbers

from backprop_lib import network as nw
from backprop_lib.activations import sigmoid, softmax
from backprop_lib.losses import squared_error

NOTEBOOK = ROOT / "chapters" / "04_network_by_hand.ipynb"


def close(actual, printed, decimals):
    """actual equals the printed number(s) when rounded to the printed decimals."""
    return np.allclose(actual, printed, rtol=0, atol=0.5 * 10.0**-decimals + 1e-12)


@pytest.fixture
def seed():
    ex = nw.example()
    cache = nw.forward(ex["x"], ex["params"])
    return ex, cache, nw.backward(cache, ex["y"])


# ------------------------------------------------------------ the seed's numbers
def test_example_values_are_the_notes():
    ex = nw.example()
    assert ex["x"].tolist() == [1.0, 0.5, -1.0] and ex["y"].tolist() == [1.0, 0.0]
    p = ex["params"]
    assert p["W1"].tolist() == [[0.2, -0.3, 0.5], [0.7, 0.1, -0.2], [-0.5, 0.4, 0.3],
                                [0.1, -0.4, 0.2]]
    assert p["b1"].tolist() == [0.1, -0.2, 0.05, 0.0]
    assert p["W2"].tolist() == [[0.3, -0.6, 0.2, 0.1], [-0.2, 0.1, 0.4, -0.5]]
    assert p["b2"].tolist() == [0.05, -0.1]
    assert sum(p[k].size for k in ("W1", "W2")) == 20 and sum(p[k].size for k in ("b1", "b2")) == 6


def test_forward_numbers_of_section_2(seed):
    _, c, g = seed
    assert close(c["z1"], [-0.35, 0.75, -0.55, -0.30], 2)
    assert close(c["a1"], [0.4134, 0.6792, 0.3659, 0.4256], 4)
    assert close(c["a1"], [0.413382, 0.679179, 0.365864, 0.425557], 6)
    W2 = nw.example()["params"]["W2"]
    assert close(W2[0] * c["a1"], [0.1240, -0.4075, 0.0732, 0.0426], 4)
    assert close((W2[1] * c["a1"])[[0, 1, 3]], [-0.0827, 0.0679, -0.2128], 4)
    assert close(c["z2"], [-0.1178, -0.1812], 4)
    e = np.exp(c["z2"])
    assert close(e, [0.889, 0.834], 3) and close(e.sum(), 1.723, 3)
    assert close(c["a2"], [0.5159, 0.4841], 4) and close(c["a2"].sum(), 1.000, 3)
    assert close(g["loss"], 0.2344, 4)


def test_the_seeds_0_1464_comes_from_the_rounded_activation(seed):
    # 0.4 * a1_3 is 0.146346 -> 0.1463; the notes multiply the rounded a1_3 = 0.3659 -> 0.1464
    _, c, _ = seed
    assert close(0.4 * c["a1"][2], 0.1463, 4)
    assert close(0.4 * 0.3659, 0.1464, 4)


def test_output_layer_numbers_of_section_3_2(seed):
    _, c, g = seed
    assert close(c["a2"], [0.515852, 0.484148], 6)
    assert close(g["dL_da2"], [-0.484148, 0.484148], 6)
    J = np.diag(c["a2"]) - np.outer(c["a2"], c["a2"])
    assert close(J, [[0.249749, -0.249749], [-0.249749, 0.249749]], 6)
    assert close(g["delta2"], [-0.241831, 0.241831], 6)
    assert close(g["dW2"], [[-0.099969, -0.164246, -0.088477, -0.102913],
                            [0.099969, 0.164246, 0.088477, 0.102913]], 6)
    assert close(g["db2"], [-0.241831, 0.241831], 6)


def test_hidden_layer_numbers_of_section_3_3(seed):
    _, _, g = seed
    assert close(g["dL_da1"], [-0.120915, 0.169282, 0.048366, -0.145099], 6)
    assert close(g["dsigma1"][0], 0.242497, 6)
    assert close(g["delta1"], [-0.029322, 0.036886, 0.011221, -0.035471], 6)
    assert close(g["dW1"], [[-0.029322, -0.014661, 0.029322],
                            [0.036886, 0.018443, -0.036886],
                            [0.011221, 0.005611, -0.011221],
                            [-0.035471, -0.017735, 0.035471]], 6)
    assert close(g["db1"], [-0.029322, 0.036886, 0.011221, -0.035471], 6)


def test_erratum_three_sigmoid_derivatives_in_section_3_3_are_misprinted(seed):
    # The notes print a1(1 - a1) = 0.217877, 0.2326, 0.244596 for neurons 2, 3, 4. Their own
    # products (0.036886, 0.011221, -0.035471) are right, so only these three factors are wrong.
    _, _, g = seed
    a1 = np.array([0.679179, 0.365864, 0.425557])  # the notes' a1_2..a1_4
    assert not close(a1 * (1 - a1), [0.217877, 0.2326, 0.244596], 6)
    assert not close(a1[1] * (1 - a1[1]), 0.2326, 4)
    assert not close(np.array([0.217877, 0.2326, 0.244596]) * g["dL_da1"][1:],
                     [0.036886, 0.011221, -0.035471], 6)
    assert close(g["dsigma1"][1:], [0.217895, 0.232008, 0.244458], 6)  # the correction


def test_update_of_section_3_4(seed):
    ex, _, g = seed
    new = nw.sgd_step(ex["params"], {k: g["d" + k] for k in nw.PARAM_NAMES}, lr=0.1)
    assert close(-0.1 * g["dW2"][0, 0], 0.009997, 6) and close(new["W2"][0, 0], 0.309997, 6)
    assert close(-0.1 * g["db1"][0], 0.002932, 6) and close(new["b1"][0], 0.102932, 6)
    assert ex["params"]["W2"][0, 0] == 0.3  # sgd_step returns new arrays


# ------------------------------------------------------------ finite differences
def _loss_of(x, y):
    def f(**params):
        return nw.loss(nw.forward(x, params), y)
    return f


def _random_problem(rng, D, H, D_out, N):
    params = {"W1": rng.normal(size=(H, D)), "b1": rng.normal(size=H),
              "W2": rng.normal(size=(D_out, H)), "b2": rng.normal(size=D_out)}
    x = rng.normal(size=(D,) if N is None else (D, N))
    y = softmax(rng.normal(size=(D_out,) if N is None else (D_out, N)), axis=0)  # non-uniform targets
    return params, x, y


def test_all_26_parameter_gradients_of_the_seed_match_finite_differences(seed):
    ex, _, g = seed
    f = _loss_of(ex["x"], ex["y"])
    for k in nw.PARAM_NAMES:
        numeric = central_diff(lambda v, k=k: f(**{**ex["params"], k: v}), ex["params"][k])
        assert_grad_close(f"seed d{k}", g["d" + k], numeric, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("D,H,D_out,N", [(3, 4, 2, None), (3, 4, 2, 1), (3, 4, 2, 5),
                                     (5, 2, 3, None), (2, 6, 4, 3), (1, 1, 2, 2)])
def test_parameter_gradients_match_finite_differences(rng, D, H, D_out, N):
    params, x, y = _random_problem(rng, D, H, D_out, N)
    g = nw.gradients(x, y, params)
    f = _loss_of(x, y)
    for k in nw.PARAM_NAMES:
        assert g[k].shape == params[k].shape
        numeric = central_diff(lambda v, k=k: f(**{**params, k: v}), params[k])
        assert_grad_close(f"d{k} ({D}-{H}-{D_out}, N={N})", g[k], numeric)


@pytest.mark.parametrize("N", [None, 4])
def test_every_delta_matches_finite_differences(rng, N):
    params, x, y = _random_problem(rng, 3, 4, 2, N)
    cache = nw.forward(x, params)
    g = nw.backward(cache, y)
    n = 1 if N is None else N
    b2 = params["b2"] if N is None else params["b2"][:, None]
    b1 = params["b1"] if N is None else params["b1"][:, None]

    def from_z2(z2):
        return squared_error(softmax(z2, axis=0), y) / n

    def from_z1(z1):
        return from_z2(params["W2"] @ sigmoid(z1) + b2)

    assert_grad_close("delta2", g["delta2"], central_diff(from_z2, cache["z2"]))
    assert_grad_close("dL_da2", g["dL_da2"],
                      central_diff(lambda a: squared_error(a, y) / n, cache["a2"]))
    assert_grad_close("dL_da1", g["dL_da1"],
                      central_diff(lambda a: from_z2(params["W2"] @ a + b2), cache["a1"]))
    assert_grad_close("delta1", g["delta1"], central_diff(from_z1, cache["z1"]))
    assert_grad_close("dL_da0", g["dL_da0"],
                      central_diff(lambda a: from_z1(params["W1"] @ a + b1), cache["a0"]))


def test_batch_gradient_is_the_mean_of_the_per_example_gradients(rng):
    params, x, y = _random_problem(rng, 3, 4, 2, 6)
    batch = nw.gradients(x, y, params)
    single = [nw.gradients(x[:, i], y[:, i], params) for i in range(6)]
    for k in nw.PARAM_NAMES:
        assert np.allclose(batch[k], np.mean([s[k] for s in single], axis=0))


def test_a_diagonal_only_softmax_derivative_fails_the_check(seed):
    # Forgetting the off-diagonal terms a_m (0 - a_j): delta2 = a2 (1 - a2) dL/da2.
    # For two outputs this is exactly half the true delta2, and finite differences catch it.
    ex, c, g = seed
    wrong_delta2 = c["a2"] * (1 - c["a2"]) * g["dL_da2"]
    assert np.allclose(wrong_delta2, g["delta2"] / 2)
    f = _loss_of(ex["x"], ex["y"])
    numeric = central_diff(lambda v: f(**{**ex["params"], "W2": v}), ex["params"]["W2"])
    with pytest.raises(AssertionError, match="diagonal-only dW2"):
        assert_grad_close("diagonal-only dW2", np.outer(wrong_delta2, c["a1"]), numeric)


# ------------------------------------------------------------ API behaviour
def test_shapes_are_validated_with_the_argument_name():
    ex = nw.example()
    p = ex["params"]
    with pytest.raises(ValueError, match=r"x must have shape \(3,\), got \(4,\)"):
        nw.forward(np.ones(4), p)
    with pytest.raises(ValueError, match=r"W2 must have shape \(any, 4\), got \(4, 2\)"):
        nw.forward(ex["x"], {**p, "W2": p["W2"].T})
    with pytest.raises(ValueError, match=r"b1 must have shape \(4,\)"):
        nw.forward(ex["x"], {**p, "b1": np.zeros(3)})
    with pytest.raises(ValueError, match=r"y must have shape \(2,\), got \(3,\)"):
        nw.backward(nw.forward(ex["x"], p), np.zeros(3))
    with pytest.raises(ValueError, match="params must be a dict"):
        nw.forward(ex["x"], {"W1": p["W1"]})


def test_training_lowers_the_loss_and_reports_it_per_step():
    ex = nw.example()
    params, losses = nw.train(ex["x"], ex["y"], ex["params"], lr=0.1, steps=50)
    assert losses.shape == (51,) and close(losses[0], 0.2344, 4)
    assert np.all(np.diff(losses) < 0)
    assert losses[-1] == pytest.approx(nw.loss(nw.forward(ex["x"], params), ex["y"]))


def test_training_with_a_huge_step_stays_finite():
    ex = nw.example()
    _, losses = nw.train(ex["x"], ex["y"], ex["params"], lr=1e4, steps=200)
    assert np.all(np.isfinite(losses))


# ------------------------------------------------------------ the chapter shows them all
# Every number printed in sections 2 to 3.4 of the notes, as printed (inputs included, and the
# three misprinted sigmoid derivatives, which the chapter reproduces in its erratum).
SEED_NUMBERS = """
1.0 0.5 -1.0 0.2 -0.3 0.5 0.7 0.1 -0.2 -0.5 0.4 0.3 -0.4 0.05 0.0 -0.6 -0.1
-0.15 -0.35 0.75 -0.55 -0.30 0.4134 0.6792 0.3659 0.4256
0.1240 -0.4075 0.0732 0.0426 -0.1178 -0.0827 0.0679 0.1464 -0.2128 -0.1812
0.889 0.834 1.723 0.5159 0.4841 1.000 -0.4841 0.2344
0.515852 -0.484148 0.484148 0.249749 -0.249749 -0.515852 -0.241831 0.241831
-0.099969 -0.164246 -0.088477 -0.102913 0.099969 0.164246 0.088477 0.102913
0.413382 0.679179 0.365864 0.425557
-0.120915 0.169282 0.048366 -0.145099 0.242497 0.217877 0.2326 0.244596
-0.029322 0.036886 0.011221 -0.035471
-0.014661 0.029322 0.018443 -0.036886 0.005611 -0.011221 -0.017735 0.035471
0.009997 0.309997 0.002932 0.102932
""".split()


def test_every_number_of_the_notes_appears_in_the_chapters_stored_outputs():
    computed = output_numbers(json.loads(NOTEBOOK.read_text()))
    missing = [s for s in SEED_NUMBERS
               if not matches(float(s), len(s.split(".")[1]), computed)]
    assert not missing, f"{NOTEBOOK.name} never prints these numbers of the notes: {missing}"


def test_sgd_step_checks_gradient_shapes():
    p = nw.example()["params"]
    grads = {k: np.zeros_like(v) for k, v in p.items()}
    with pytest.raises(ValueError, match=r"grads\['W2'\] must have shape \(2, 4\), got \(4, 2\)"):
        nw.sgd_step(p, {**grads, "W2": grads["W2"].T}, 0.1)
