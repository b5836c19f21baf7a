"""The language model against its PyTorch twin (tests/torch_language_model.py) in float64: one
step's loss and every gradient, a few training steps of Adam from the same weights and batches,
and the stored PyTorch loss curve of the chapter (chapters/data/ch09_torch_losses.json)."""

from common import ROOT, require

torch = require("torch", "PyTorch is the test oracle")

import json  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch_language_model as twin  # noqa: E402

from backprop_lib import language_model as lm  # noqa: E402
from backprop_lib.tasks import make_batch  # noqa: E402

CURVE = ROOT / "chapters" / "data" / "ch09_torch_losses.json"


def _relative(ours, theirs) -> float:
    """||ours - theirs|| / ||theirs|| (one number per array: entries near 0 have no relative error)."""
    return float(np.linalg.norm(ours - theirs) / np.linalg.norm(theirs))


def _zero(key: str) -> bool:
    """b_K's gradient is exactly 0: q . b_K adds the same number to every score of a query, which
    the softmax ignores. Computed, it is rounding noise (about 1e-17) in both implementations."""
    return key.endswith(".b_K")


@pytest.mark.parametrize("d,h,n_blocks", [(8, 2, 2), (32, 4, 1)])
def test_one_step_loss_and_every_gradient_agree(rng, d, h, n_blocks):
    params = lm.init_model(9, d, h, n_blocks, 14, seed=5)
    params = {k: v + 0.1 * rng.normal(size=v.shape) for k, v in params.items()}  # gamma != 1, biases != 0
    tokens, targets = make_batch(1, 4, length=6, n_symbols=8)  # T = 12 < T_max = 14
    loss, grads = lm.loss_and_grads(tokens, targets, params, h=h)
    t_loss, t_grads = twin.loss_and_grads(tokens, targets, params, h)
    assert loss == pytest.approx(t_loss, rel=1e-12)
    assert grads.keys() == t_grads.keys()
    scale = max(np.abs(g).max() for g in t_grads.values())
    for k in params:
        if _zero(k):
            assert np.abs(grads[k]).max() < 1e-14 * scale and np.abs(t_grads[k]).max() < 1e-14 * scale
            continue
        assert _relative(grads[k], t_grads[k]) < 1e-10, k
        np.testing.assert_allclose(grads[k], t_grads[k], rtol=1e-8, atol=1e-12 * np.abs(t_grads[k]).max(),
                                   err_msg=k)
    assert not grads["pos_emb"][12:].any() and not t_grads["pos_emb"][12:].any()


def test_a_few_adam_steps_agree_with_torch_from_the_same_weights_and_batches():
    """The losses to 1e-9, and the updates of every parameter but b_K: Adam divides its noise
    gradient by its own root mean square, so b_K moves by about lr per step in a direction set
    by rounding, differently in each implementation (and the loss does not depend on it)."""
    params = lm.init_model(9, 16, 2, 2, 12, seed=7)
    run = lm.train_model(params, h=2, steps=8, lr=1e-2, seed=3, batch=16, length=6)
    t_losses, t_params = twin.train(params, h=2, steps=8, lr=1e-2, seed=3, batch=16, length=6)
    np.testing.assert_allclose(run.losses, t_losses, rtol=1e-9, atol=0)
    for k in params:
        if not _zero(k):
            assert _relative(run.params[k] - params[k], t_params[k] - params[k]) < 1e-9, k


def test_the_stored_curve_is_pytorchs_chapter_run():
    """The file's first 20 losses against a fresh PyTorch run of the chapter's settings (the
    whole run is tests/test_language_model.py's comparison with our curve)."""
    data = json.loads(CURVE.read_text())
    assert data["settings"] == lm.CHAPTER_RUN, "CHAPTER_RUN changed: rerun tools/torch_curve.py"
    np.testing.assert_allclose(data["losses"][:21], twin.chapter_curve(steps=20), rtol=1e-9, atol=0)
