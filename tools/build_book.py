"""`make book`: build the website into _build/html, one build at a time.

Two builds writing the same _build/html corrupt each other's environment pickle and pages, and a
second one started by mistake mostly waits for the first. So this takes a lock on
_build/.book.lock (an advisory fcntl lock, released when the process ends, however it ends) and
stops with a clear message if another `make book` holds it. `make test` builds its own copy of
the site in _build/test, so it never races with `make book`.

    python tools/build_book.py [jupyter-book build options]
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "_build" / ".book.lock"


def main(argv: list[str]) -> int:
    LOCK.parent.mkdir(exist_ok=True)
    lock = open(LOCK, "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or "unknown"
        print(f"make book: another book build is writing _build/html (process {holder}). "
              "Wait for it to finish (or stop it), then run `make book` again.", file=sys.stderr)
        return 1
    lock.seek(0)
    lock.truncate()
    lock.write(str(os.getpid()))
    lock.flush()
    jb = Path(sys.executable).parent / "jupyter-book"
    return subprocess.run([str(jb), "build", str(ROOT), *argv], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
