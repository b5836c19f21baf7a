"""Write PyTorch's loss curve of Chapter 9's training run to chapters/data/ch09_torch_losses.json.

The run is backprop_lib.language_model.CHAPTER_RUN (sizes, seeds, steps, lr), trained by the
PyTorch twin tests/torch_language_model.py (torch.optim.Adam, float64) from our initial weights
on our batches. The chapter plots our curve, computed live, against this stored one, so a reader
needs no PyTorch; tests/test_language_model.py checks our curve against the file and
tests/test_against_torch_language_model.py re-runs PyTorch's first steps against it.

    .venv/bin/python tools/torch_curve.py        (about 2 s; rerun when CHAPTER_RUN changes)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "chapters" / "data" / "ch09_torch_losses.json"


def main() -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    sys.path.insert(0, str(ROOT))
    import torch
    import torch_language_model as twin

    from backprop_lib.language_model import CHAPTER_RUN

    losses = twin.chapter_curve()
    data = {"about": "PyTorch's loss curve of Chapter 9's training run (tools/torch_curve.py): "
                     "losses[t] = the loss of batch t before update t, float64, 15 significant digits",
            "torch": torch.__version__.split("+")[0],
            "settings": CHAPTER_RUN,
            "losses": [float(f"{x:.15g}") for x in losses]}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(losses)} losses, {losses[0]:.4f} -> {losses[-1]:.6f}")


if __name__ == "__main__":
    main()
