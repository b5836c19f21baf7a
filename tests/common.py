"""Constants and helpers shared by the test modules (import them from here, not from conftest)."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

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
