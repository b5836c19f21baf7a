"""Shared fixtures and helpers for the test suite."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
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


@pytest.fixture
def rng():
    return np.random.default_rng(20261123)


HTML = ROOT / "_build" / "html"


@pytest.fixture(scope="session")
def built_book():
    """Build the book once per test run, even with several xdist workers (a file lock and a
    marker named after the run id), or use BACKPROP_PREBUILT_HTML to iterate on site tests."""
    prebuilt = os.environ.get("BACKPROP_PREBUILT_HTML")
    if prebuilt:
        return Path(prebuilt)
    import fcntl

    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID", f"solo-{os.getpid()}")
    (ROOT / "_build").mkdir(exist_ok=True)
    marker = ROOT / "_build" / ".built-by-test-run"
    with open(ROOT / "_build" / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and marker.read_text() == run_id:
            return HTML
        _build_book()
        marker.write_text(run_id)
    return HTML


def _build_book():
    subprocess.run([sys.executable, str(ROOT / "tools" / "fetch_assets.py")], check=True)
    jb = Path(sys.executable).parent / "jupyter-book"
    # Incremental: unchanged pages are not re-executed, but _ext/site_fixes.py marks every
    # notebook outdated when backprop_lib changed, so outputs are never stale.
    proc = subprocess.run([str(jb), "build", str(ROOT), "-W", "-n", "--keep-going"],
                          capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        reports = "\n".join(p.read_text()[-3000:] for p in (HTML / "reports").glob("**/*.log"))
        pytest.fail(f"jupyter-book build failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n"
                    f"{proc.stderr[-4000:]}\n{reports}", pytrace=False)
