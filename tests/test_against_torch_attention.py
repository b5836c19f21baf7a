from common import require; torch = require("torch", "PyTorch is the test oracle")  # noqa: E702, I001

# The attention components and the source's three programs, cross-checked with PyTorch autograd
# (float64): the same forward written in torch, gradients from loss.backward().

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from backprop_lib.attention import (  # noqa: E402
    keys_program,
    projection,
    projection_backward,
    query_program,
    scores,
    scores_backward,
    softmax_branches,
    value_layer,
    value_layer_backward,
    values_program,
    weighted_values,
    weighted_values_backward,
)
from backprop_lib.linear import append_ones  # noqa: E402

T = lambda a: torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)  # noqa: E731


@pytest.mark.parametrize("d,n", [(3, 1), (3, 2), (4, 5)])
def test_value_path_against_torch(rng, d, n):
    m = d + 1
    V, b, x, alpha = (rng.normal(size=s) for s in [(d, m), (d,), (m, n), (n,)])
    dvbar = rng.normal(size=d)
    tV, tb, tx, ta = T(V), T(b), T(x), T(alpha)
    vbar = (tV @ tx + tb[:, None]) @ ta
    (vbar * torch.from_numpy(dvbar)).sum().backward()
    v = value_layer(V, b, x)
    np.testing.assert_allclose(weighted_values(v, alpha), vbar.detach().numpy(), rtol=1e-12)
    dv, dalpha = weighted_values_backward(dvbar, v, alpha)
    dV, db, dx = value_layer_backward(dv, V, x)
    for ours, theirs in [(dV, tV), (db, tb), (dx, tx), (dalpha, ta)]:
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("d,n", [(2, 1), (2, 2), (3, 4)])
def test_query_key_softmax_path_against_torch(rng, d, n):
    m = 2
    Q, K = rng.normal(size=(d, m + 1)), rng.normal(size=(d, m + 1))
    x1, x = append_ones(rng.normal(size=m)), append_ones(rng.normal(size=(m, n)))
    dalpha = rng.normal(size=n)
    tQ, tK, tx1, tx = T(Q), T(K), T(x1), T(x)
    alpha = torch.softmax((tQ @ tx1) @ (tK @ tx), dim=0)
    (alpha * torch.from_numpy(dalpha)).sum().backward()
    q, k = projection(Q, x1), projection(K, x)
    top, mid = softmax_branches(scores(q, k))
    ds = (top + mid).T @ dalpha
    dq, dk = scores_backward(ds, q, k)
    dQ, dx1 = projection_backward(dq, Q, x1)
    dK, dx = projection_backward(dk, K, x)
    for ours, theirs in [(dQ, tQ), (dx1, tx1), (dK, tK), (dx, tx)]:
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-9, atol=1e-12)


def _torch_descent(params, loss_fn, eta, steps):
    params = [T(p) for p in params]
    for _ in range(steps):
        for p in params:
            p.grad = None
        loss_fn(*params).backward()
        with torch.no_grad():
            for p in params:
                p -= eta * p.grad
    return [p.detach().numpy() for p in params]


def test_the_three_programs_against_torch_gradient_descent():
    y3 = torch.tensor([-3.14, -6.3, 2.21], dtype=torch.float64)
    xv = torch.tensor([[1, 3], [4, 0.3], [2, 2]], dtype=torch.float64)
    al = torch.tensor([5.0, -2.0], dtype=torch.float64)
    yv = torch.tensor([-1.0, 20, 5], dtype=torch.float64)
    V0 = [[-1, 6, 7], [2, 2, 2], [5, 5, 5]]
    V, b = _torch_descent([V0, [0, 0, 0]],
                          lambda V, b: 0.5 * (((V @ xv + b[:, None]) @ al - yv) ** 2).sum(), 0.002, 10)
    res = values_program(V0, [0, 0, 0], xv.numpy(), yv.numpy(), al.numpy(), eta=0.002, steps=10)
    np.testing.assert_allclose(res.params["Wv"], V, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(res.params["b"], b, rtol=1e-9, atol=1e-11)

    k = torch.tensor([[1, -3, 6], [2, 0, 1], [4, 5, 1]], dtype=torch.float64)
    x1 = torch.tensor([0.5, 0.5, 0.3, 1], dtype=torch.float64)
    Q0 = [[1.0, 5, 0.2, 0], [1, 2, 0.4, 0], [4, 5, 1, 0]]
    (Q,) = _torch_descent([Q0], lambda Q: 0.5 * (((Q @ x1) @ k - y3) ** 2).sum(), 0.02, 100)
    res = query_program(Q0, k.numpy(), x1.numpy(), y3.numpy(), eta=0.02, steps=100)
    np.testing.assert_allclose(res.params["Wq"], Q, rtol=1e-9, atol=1e-11)

    q = torch.tensor([1.0, 5, 0.2], dtype=torch.float64)
    x = torch.tensor([[0.5, 0.2, 0.4], [0.5, 0.2, 0.6], [0.3, 0.25, 0.7], [1, 1, 1]],
                     dtype=torch.float64)
    K0 = [[1, -3, 6.0, 0], [2, 0, 1, 0], [4, 5, 1, 0]]
    (K,) = _torch_descent([K0], lambda K: 0.5 * ((q @ (K @ x) - y3) ** 2).sum(), 0.01, 300)
    res = keys_program(K0, q.numpy(), x.numpy(), y3.numpy(), eta=0.01, steps=300)
    np.testing.assert_allclose(res.params["Wk"], K, rtol=1e-9, atol=1e-11)
