"""The book build that the site tests use: once per test run, started early, shared by workers.

`make test` runs the suite on xdist workers. The book build (about 10 s without execution, see
BACKPROP_BOOK_EXECUTE in _ext/site_fixes.py) starts in the background as soon as pytest is
configured for a full run (conftest.pytest_configure), so no worker waits idle for it. A file
lock taken *before* the build process starts, and a marker naming the run id and the exit
status, make every worker see the same build; if no early build was started (a partial run),
the first worker that needs the book builds it under the same lock.

The test build writes its own folder, TEST_OUT (never the `_build/html` that `make book`
serves), and it is a child of the test run: it runs in a process group of its own, ends when
its parent dies (PR_SET_PDEATHSIG on Linux), and `stop()` (called from pytest_unconfigure,
which runs however the run ends: failure, -x, Ctrl-C) ends the whole group.

    python tests/book_build.py RUN_ID    (started by conftest with the lock already held)
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# jupyter-book --path-output: the site is TEST_OUT/_build/html. BACKPROP_TEST_SITE moves it (the
# test of an interrupted run uses its own, so that it never waits for this run's build).
TEST_OUT = Path(os.environ.get("BACKPROP_TEST_SITE", ROOT / "_build" / "test")).resolve()
HTML = TEST_OUT / "_build" / "html"
LOCK = TEST_OUT / ".build.lock"
MARKER = TEST_OUT / ".built-by-test-run"
LOG = TEST_OUT / "test-build.log"


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent (pytest) dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _end_group(signum, frame):  # noqa: ARG001 (signal handler signature)
    """The build process was told to stop: stop jupyter-book too (same process group)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.killpg(0, signal.SIGTERM)
    sys.exit(128 + signum)


def run_build(run_id: str) -> int:
    """Fetch the assets, build the site (stored outputs, no execution); write LOG and MARKER."""
    env = {**os.environ, "BACKPROP_BOOK_EXECUTE": "off"}
    jb = Path(sys.executable).parent / "jupyter-book"
    with open(LOG, "w") as log:
        rc = subprocess.run([sys.executable, str(ROOT / "tools" / "fetch_assets.py")],
                            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                            preexec_fn=_die_with_parent).returncode
        if rc == 0:
            # Incremental: unchanged pages are not read again; -W -n --keep-going as `make book`
            rc = subprocess.run([str(jb), "build", str(ROOT), "--path-output", str(TEST_OUT),
                                 "-W", "-n", "--keep-going"],
                                stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                env=env, preexec_fn=_die_with_parent).returncode
    MARKER.write_text(f"{run_id} {rc}")
    return rc


def start_early(run_id: str) -> subprocess.Popen:
    """Take the lock here, then hand it to a background build process (pass_fds)."""
    TEST_OUT.mkdir(parents=True, exist_ok=True)
    lock = open(LOCK, "w")
    fcntl.flock(lock, fcntl.LOCK_EX)  # held by the child through the inherited descriptor
    try:
        return subprocess.Popen([sys.executable, __file__, run_id], cwd=ROOT,
                                pass_fds=[lock.fileno()], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True, preexec_fn=_die_with_parent)
    finally:
        lock.close()  # the child's copy keeps the lock until it exits


def stop(proc: subprocess.Popen | None, grace: float = 5.0) -> None:
    """End the build started by start_early and everything it started, if still running."""
    if proc is None or proc.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return
            time.sleep(0.05)


def wait_for_build(run_id: str) -> tuple[int, str]:
    """Block until this run's build is done (building it here if nobody did); (status, log)."""
    TEST_OUT.mkdir(parents=True, exist_ok=True)
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = MARKER.read_text().split() if MARKER.exists() else []
        if len(done) == 2 and done[0] == run_id:
            rc = int(done[1])
        else:
            rc = run_build(run_id)
    return rc, LOG.read_text() if LOG.exists() else ""


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _end_group)
    sys.exit(run_build(sys.argv[1]))
