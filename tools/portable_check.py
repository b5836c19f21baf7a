"""`make test-portable`: the stored outputs again, with numpy on its baseline kernels.

numpy picks the SIMD kernel of `exp`, `log`, `tanh`, ... at run time from the CPU's features,
and two kernels may round the last bit differently. The stored outputs were written on one CPU;
`make test` checks them (nbval, strict) with the best kernels this CPU has. This script runs the
same notebook check a second time with every dispatch level above numpy's compiled baseline
switched off (NPY_DISABLE_CPU_FEATURES) and the BLAS pinned to one thread, so that on one
machine the outputs are proved against two code paths. On x86-64 the baseline is X86_V2 and the
levels switched off are those of X86_V3, X86_V4, AVX512_ICL, ... that the CPU has.

    python tools/portable_check.py [extra pytest arguments]

Prints which levels it compared; exits with pytest's status (0 when every output reproduced).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PINNED_THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

_PROBE = """
import json, numpy as np
try:
    from numpy._core import _multiarray_umath as m
except ImportError:  # numpy 1.x
    from numpy.core import _multiarray_umath as m
print(json.dumps({"baseline": list(m.__cpu_baseline__), "dispatch": list(m.__cpu_dispatch__),
                  "features": {k: bool(v) for k, v in m.__cpu_features__.items()},
                  "exp": np.exp(np.linspace(-20, 20, 10001)).tobytes().hex()[-64:]}))
"""


def best_env() -> dict:
    """This environment with numpy free to use every kernel the CPU supports."""
    return {k: v for k, v in os.environ.items() if k != "NPY_DISABLE_CPU_FEATURES"}


def probe(env: dict | None = None) -> dict:
    """numpy's baseline, its dispatch targets and the CPU features it sees, in a fresh process
    (by default with every kernel allowed)."""
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env or best_env(),
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def levels_above_baseline(info: dict) -> list[str]:
    """The dispatch targets that this CPU supports: what numpy would use beyond its baseline."""
    return [name for name in info["dispatch"] if info["features"].get(name)]


def portable_env(levels: list[str]) -> dict:
    return {**best_env(), **PINNED_THREADS, "NPY_DISABLE_CPU_FEATURES": " ".join(levels)}


def main(argv: list[str]) -> int:
    best = probe()
    levels = levels_above_baseline(best)
    print(f"numpy baseline: {' '.join(best['baseline']) or '(none)'}; "
          f"dispatch levels this CPU has: {' '.join(levels) or '(none)'}")
    if not levels:
        print("This CPU runs numpy's baseline kernels only: `make test` already checked the "
              "outputs on that path; nothing else to compare.")
        return 0
    env = portable_env(levels)
    base = probe(env)
    still_on = [name for name in levels if base["features"].get(name)]
    if still_on:
        print(f"NPY_DISABLE_CPU_FEATURES did not switch off {still_on}", file=sys.stderr)
        return 1
    differs = "differ" if base["exp"] != best["exp"] else "are identical"
    print(f"Second run: NPY_DISABLE_CPU_FEATURES=\"{env['NPY_DISABLE_CPU_FEATURES']}\", "
          f"BLAS on one thread. (np.exp's last bits on a test vector {differs} between the two "
          "kernels here.)", flush=True)
    cmd = [sys.executable, "-m", "pytest", "chapters/", "-q", "-p", "no:cacheprovider", *argv]
    return subprocess.run(cmd, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
