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
