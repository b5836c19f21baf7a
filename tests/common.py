"""Constants and helpers shared by the test modules (import them from here, not from conftest)."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(module: str, why: str):
    """Import an optional oracle; skip with a visible reason locally, fail in CI."""
    try:
        return importlib.import_module(module)
    except ImportError:
        msg = f"{module} is not installed ({why})"
        if IN_CI:
            pytest.fail(f"{msg}; CI must install it (see .ci/run)", pytrace=False)
        pytest.skip(msg, allow_module_level=True)


def toc_pages() -> list[str]:
    """The HTML page of every document in _toc.yml (root first), e.g. "chapters/01_x.html"."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key))

    walk([{key: toc[key]} for key in ("parts", "chapters", "sections") if key in toc])
    return [str(Path(f).with_suffix("")) + ".html" for f in files]



def block_param_shapes(d: int, d_ff: int) -> dict:
    """{key: shape} of the 16 parameters of one transformer block (keys as transformer.init_block)."""
    return {"ln1_gamma": (d,), "ln1_beta": (d,), "W_Q": (d, d), "b_Q": (d,), "W_K": (d, d),
            "b_K": (d,), "W_V": (d, d), "b_V": (d,), "W_O": (d, d), "b_O": (d,),
            "ln2_gamma": (d,), "ln2_beta": (d,), "W_1": (d_ff, d), "b_1": (d_ff,),
            "W_2": (d, d_ff), "b_2": (d,)}


def random_block_params(rng, d: int, d_ff: int) -> dict:
    """The 16 arrays of one transformer block, every entry random and non-trivial: gamma away
    from 1, biases non-zero, weights of scale 1/sqrt(fan-in), so that no term vanishes."""
    return {k: (1.0 if "gamma" in k else 0.0) + rng.normal(size=s) / np.sqrt(s[-1] if k[0] == "W" else 4)
            for k, s in block_param_shapes(d, d_ff).items()}
