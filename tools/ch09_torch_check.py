"""Chapter 9's PyTorch check, stored: the chapter may not import torch, so this tool runs it.

It builds the test block of chapter 9, section 9.3 (the same seed, sizes and perturbed
parameters as the chapter), computes dL/dX and the 16 parameter gradients of
L = sum(dY * Y) with ``transformer.block_backward`` and with PyTorch's autograd through
F.layer_norm, F.linear, F.scaled_dot_product_attention(is_causal=True) and the tanh F.gelu
(float64; the PyTorch block of tests/test_against_torch_transformer.py), and writes the
largest relative difference of each gradient (max |ours - torch| / max |torch|; the plain
difference for db_K, which is zero) and PyTorch's loss to chapters/data/ch09_torch_grads.json.
The chapter reads the file and checks that its loss is the one of its own block;
tests/test_ch09_torch_check.py runs ``compute()`` again and compares.

    .venv/bin/python tools/ch09_torch_check.py          # rewrite the stored file
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
STORED = ROOT / "chapters" / "data" / "ch09_torch_grads.json"
SETUP = {"seed": 3, "B": 2, "T": 4, "d": 4, "h": 2, "perturbation": 0.3}


def chapter_block():
    """(X, params, dY, h) of chapter 9's section 9.3, drawn exactly as the chapter draws them."""
    from backprop_lib.transformer import block_forward, init_block

    s = SETUP
    rng = np.random.default_rng(s["seed"])
    params = {k: v + s["perturbation"] * rng.normal(size=v.shape)
              for k, v in init_block(s["d"], s["h"], seed=s["seed"]).items()}
    X = rng.normal(size=(s["B"], s["T"], s["d"]))
    Y, _ = block_forward(X, params, h=s["h"])
    dY = rng.normal(size=Y.shape)
    return X, params, dY, s["h"]


def _difference(ours, theirs) -> float:
    scale = float(np.max(np.abs(theirs)))
    return float(np.max(np.abs(ours - theirs))) / (scale if scale > 1e-12 else 1.0)


def compute() -> dict:
    """PyTorch's loss and, per gradient, its largest relative difference from block_backward."""
    import torch

    sys.path.insert(0, str(ROOT / "tests"))
    from test_against_torch_transformer import torch_block

    from backprop_lib.transformer import block_backward, block_forward

    X, params, dY, h = chapter_block()
    dX, grads = block_backward(dY, block_forward(X, params, h=h)[1])
    ours = {"X": dX, **grads}
    leaves = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for k, v in {"X": X, **params}.items()}
    Y = torch_block(leaves["X"], {k: t for k, t in leaves.items() if k != "X"}, h, causal=True)
    loss = (Y * torch.tensor(dY, dtype=torch.float64)).sum()
    loss.backward()
    diffs = {k: float(f"{_difference(ours[k], t.grad.numpy()):.1e}") for k, t in leaves.items()}
    return {"setup": SETUP, "torch": torch.__version__, "loss": float(loss.item()),
            "relative_difference": diffs}


def main() -> int:
    result = compute()
    STORED.parent.mkdir(parents=True, exist_ok=True)
    STORED.write_text(json.dumps(result, indent=1) + "\n")
    worst = max(result["relative_difference"].values())
    print(f"wrote {STORED.relative_to(ROOT)}: largest relative difference {worst:.1e}")
    return 0 if worst < 1e-10 else 1


if __name__ == "__main__":
    sys.exit(main())
