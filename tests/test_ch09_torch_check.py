"""Chapter 9 shows PyTorch's agreement as stored numbers (the chapter does not import torch):
tools/ch09_torch_check.py computes them; here they are computed again and compared with the
stored file, so the file cannot go stale or claim an agreement that does not hold."""

import json
import sys

from common import ROOT, require

torch = require("torch", "PyTorch is the test oracle")

sys.path.insert(0, str(ROOT / "tools"))
from ch09_torch_check import STORED, compute  # noqa: E402


def test_the_stored_torch_check_is_what_torch_says_now():
    fresh, stored = compute(), json.loads(STORED.read_text())
    assert stored["setup"] == fresh["setup"]
    assert abs(stored["loss"] - fresh["loss"]) <= 1e-12 * abs(fresh["loss"]), (
        "the stored file describes another block: run tools/ch09_torch_check.py")
    assert set(stored["relative_difference"]) == set(fresh["relative_difference"]) == {
        "X", "ln1_gamma", "ln1_beta", "W_Q", "b_Q", "W_K", "b_K", "W_V", "b_V", "W_O", "b_O",
        "ln2_gamma", "ln2_beta", "W_1", "b_1", "W_2", "b_2"}
    for name, diffs in (("fresh", fresh), ("stored", stored)):
        bad = {k: v for k, v in diffs["relative_difference"].items() if not v < 1e-10}
        assert not bad, f"{name}: gradients that disagree with PyTorch beyond 1e-10: {bad}"
