"""The book build that the site tests use: once per test run, started early, shared by workers.

`make test` runs the suite on two xdist workers. The book build (about 10 s without execution,
see BACKPROP_BOOK_EXECUTE in _ext/site_fixes.py) starts in the background as soon as pytest is
configured for a full run (conftest.pytest_configure), so no worker waits idle for it. A file
lock taken *before* the build process starts, and a marker naming the run id and the exit
status, make every worker see the same build; if no early build was started (a partial run),
the first worker that needs the book builds it under the same lock.

    python tests/book_build.py RUN_ID    (started by conftest with the lock already held)
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
HTML = BUILD / "html"
LOCK = BUILD / ".build.lock"
MARKER = BUILD / ".built-by-test-run"
LOG = BUILD / "test-build.log"


def run_build(run_id: str) -> int:
    """Fetch the assets, build the site (stored outputs, no execution); write LOG and MARKER."""
    env = {**os.environ, "BACKPROP_BOOK_EXECUTE": "off"}
    jb = Path(sys.executable).parent / "jupyter-book"
    with open(LOG, "w") as log:
        rc = subprocess.run([sys.executable, str(ROOT / "tools" / "fetch_assets.py")],
                            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT).returncode
        if rc == 0:
            # Incremental: unchanged pages are not read again; -W -n --keep-going as `make book`
            rc = subprocess.run([str(jb), "build", str(ROOT), "-W", "-n", "--keep-going"],
                                stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                env=env).returncode
    MARKER.write_text(f"{run_id} {rc}")
    return rc


def start_early(run_id: str) -> subprocess.Popen:
    """Take the lock here, then hand it to a background build process (pass_fds)."""
    BUILD.mkdir(exist_ok=True)
    lock = open(LOCK, "w")
    fcntl.flock(lock, fcntl.LOCK_EX)  # held by the child through the inherited descriptor
    try:
        return subprocess.Popen([sys.executable, __file__, run_id], cwd=ROOT,
                                pass_fds=[lock.fileno()], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        lock.close()  # the child's copy keeps the lock until it exits


def wait_for_build(run_id: str) -> tuple[int, str]:
    """Block until this run's build is done (building it here if nobody did); (status, log)."""
    BUILD.mkdir(exist_ok=True)
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = MARKER.read_text().split() if MARKER.exists() else []
        if len(done) == 2 and done[0] == run_id:
            rc = int(done[1])
        else:
            rc = run_build(run_id)
    return rc, LOG.read_text() if LOG.exists() else ""


if __name__ == "__main__":
    sys.exit(run_build(sys.argv[1]))
