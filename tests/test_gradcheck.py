import numpy as np
import pytest

from backprop_lib import check_gradient, numerical_gradient, relative_error


def quad(W, x):
    q = W @ x
    return float(q @ q)  # ||Wx||^2: dW = 2 q x^T, dx = 2 W^T q


def quad_grads(W, x):
    q = W @ x
    return {"W": 2 * np.outer(q, x), "x": 2 * W.T @ q}


def test_numerical_gradient_agrees_with_the_closed_form(rng):
    """The course's one central-difference helper (tests/helpers.central_diff is this function),
    against the gradient derived by hand, and exact on a quadratic up to round-off."""
    W, x = rng.normal(size=(3, 4)), rng.normal(size=4)
    np.testing.assert_allclose(numerical_gradient(lambda v: quad(v, x), W), quad_grads(W, x)["W"],
                               rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(numerical_gradient(lambda v: float(v @ v), x), 2 * x, rtol=1e-8)


def test_numerical_gradient_does_not_modify_its_input(rng):
    W = rng.normal(size=(2, 3))
    before = W.copy()
    numerical_gradient(lambda v: float(np.sum(v**3)), W)
    np.testing.assert_array_equal(W, before)


def test_correct_gradient_passes(rng):
    W, x = rng.normal(size=(3, 3)), rng.normal(size=3)
    report = check_gradient(quad, {"W": W, "x": x}, quad_grads(W, x))
    assert report.ok and report.max_rel_error < 1e-7, str(report)


def test_wrong_gradient_fails_and_names_the_worst_entry(rng):
    W, x = rng.normal(size=(3, 3)), rng.normal(size=3)
    grads = quad_grads(W, x)
    grads["W"][1, 2] += 0.5  # one wrong entry
    report = check_gradient(quad, {"W": W, "x": x}, grads)
    assert not report.ok
    bad = [e for e in report.entries if not e.ok]
    assert [e.name for e in bad] == ["W"] and bad[0].worst_index == (1, 2)
    assert "FAIL d/dW" in str(report) and "(1, 2)" in str(report)
    with pytest.raises(AssertionError, match="gradient check failed"):
        report.raise_if_failed()


def test_transposed_gradient_of_a_square_matrix_fails(rng):
    # the shape is right, so only the values can catch it
    W, x = rng.normal(size=(3, 3)), rng.normal(size=3)
    grads = quad_grads(W, x)
    grads["W"] = grads["W"].T
    assert not check_gradient(quad, {"W": W, "x": x}, grads).ok


def test_transposed_gradient_of_a_non_square_matrix_is_a_shape_error(rng):
    W, x = rng.normal(size=(2, 3)), rng.normal(size=3)
    grads = quad_grads(W, x)
    grads["W"] = grads["W"].T
    with pytest.raises(ValueError, match=r"shape \(3, 2\) but W has shape \(2, 3\).*transposed"):
        check_gradient(quad, {"W": W, "x": x}, grads)


def test_sign_error_fails(rng):
    W, x = rng.normal(size=(2, 3)), rng.normal(size=3)
    grads = quad_grads(W, x)
    grads["x"] = -grads["x"]
    report = check_gradient(quad, {"W": W, "x": x}, grads)
    assert not report.ok and report.max_rel_error > 1.0


def test_zero_true_gradient_is_not_a_false_alarm():
    # f does not depend on b at all: analytic 0, numerical round-off noise
    report = check_gradient(lambda a, b: float(np.sum(np.sin(a) * 1e3)),  # noqa: ARG005  (f(**inputs) names b)
                            {"a": np.linspace(-1, 1, 5), "b": np.ones(3)},
                            {"a": 1e3 * np.cos(np.linspace(-1, 1, 5)), "b": np.zeros(3)})
    assert report.ok, str(report)


def test_relative_error_definition():
    assert relative_error(1.0, 1.1) == pytest.approx(0.1 / 1.1)
    assert relative_error(0.0, 1e-9) == pytest.approx(1e-5)  # floor 1e-4


def test_unknown_argument_is_a_clear_error():
    with pytest.raises(ValueError, match="'z', which is not one of inputs"):
        check_gradient(lambda x: 0.0,  # noqa: ARG005  (f(**inputs) names x)
                       {"x": [1.0]}, {"z": [0.0]})
