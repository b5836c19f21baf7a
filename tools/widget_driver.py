"""Drive every ipywidgets ``interact`` of a chapter programmatically, as a reader would.

The chapter is executed in a real kernel (jupyter_client, working directory chapters/, as the
book build does). Then, in the same kernel, every live ``ipywidgets.interactive`` is found, each of
its controls is set to the ends of its range (sliders: min and max; dropdowns: every option;
checkboxes: both values), one at a time and then all at once, and every update is checked:

* an exception raised by the interact function (ipywidgets catches it and calls
  ``showtraceback``, which the driver intercepts) is recorded with the control values;
* a warning (numpy overflow, invalid value, ...) raised during the update is recorded too;
* a picture shown without alt text (an image/png output, or an <img> without alt) is recorded
  as an error: a screen reader would meet an unlabelled image.

In `make test` the chapter is not executed a second time: nbval has just run it in a kernel for
its stored outputs, and tests/widget_probe.py runs ``probe`` (below) in that kernel.

Optionally it also times ``latency_samples`` programmatic slider changes per widget: the time
from setting ``slider.value`` until the update (the function and the inline figure redraw,
i.e. rendering the PNG) has returned.

Used by tests/widget_probe.py (in nbval's kernel, after a chapter's last cell), by
tests/test_widgets.py and by tools/bench.py. On the command line:

    .venv/bin/python tools/widget_driver.py chapters/04_network_by_hand.ipynb [--latency 50]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import nbformat
from widget_kernel_program import MARK

ROOT = Path(__file__).resolve().parents[1]

# Runs inside the chapter's kernel after all its cells (a module, so that ruff checks it).
PROGRAM = Path(__file__).with_name("widget_kernel_program.py")


def drive(path, latency_samples: int = 0, timeout: int = 300) -> list[dict]:
    """Execute the notebook at ``path``, then probe its widgets; one dict per interact.

    The kernel is driven with jupyter_client's blocking client (as nbval does), not nbclient:
    nbclient's asyncio client sometimes misses the wake-up for a reply that has arrived and
    sits until its cell timeout (jupyter/nbclient#312); with the fast widget updates of
    backprop_lib.live this happened about once in five runs of the probe.
    """
    from jupyter_client.manager import start_new_kernel

    path = Path(path).resolve()
    nb = nbformat.read(path, as_version=4)
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(path.parent))
    try:
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                _run(kc, cell.source, f"{path.name} cell {i}", timeout)
        return probe(kc, path.name, latency_samples, timeout)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def probe(kc, where: str, latency_samples: int = 0, timeout: float = 300) -> list[dict]:
    """Probe the widgets of a kernel that has run all the cells of a chapter (drive()'s own
    kernel, or nbval's in `make test`: tests/widget_probe.py); one dict per interact."""
    text = _run(kc, PROGRAM.read_text() + f"\nwidget_probe({int(latency_samples)})\n",
                f"{where} widget probe", timeout)
    for line in text.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    raise RuntimeError(f"widget probe printed no report for {where}: {text[-2000:]}")


def failures(report: list[dict], where: str) -> list[str]:
    """What a probe's report shows wrong: no live widget, a control moved fewer than twice, an
    exception, a numpy warning or a picture without alt text in an update (empty: all good)."""
    if not report:
        return [f"{where} calls interact(...) but the driver found no live widget"]
    out = []
    for w in report:
        if w["updates"] < 2 * len(w["controls"]):  # each control moved at least twice
            out.append(f"{w['function']}: {w['updates']} updates for {len(w['controls'])} controls")
        out += [f"{w['function']} {e}" for e in w["errors"] + w["warnings"]]
    return out


def _run(kc, code: str, where: str, timeout: float) -> str:
    """Execute ``code``; return its stdout; raise with the traceback if it fails."""
    out = []

    def hook(msg):
        if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
            out.append(msg["content"]["text"])

    reply = kc.execute_interactive(code, timeout=timeout, output_hook=hook, allow_stdin=False,
                                   store_history=False)
    content = reply["content"]
    if content["status"] != "ok":
        tb = "\n".join(content.get("traceback", [])) or content.get("evalue", "")
        raise RuntimeError(f"{where} failed: {content.get('ename')}: {tb[-3000:]}")
    return "".join(out)


def uses_widgets(nb) -> bool:
    """Whether a notebook (nbformat) has a code cell that calls interact(...)."""
    return any(c.cell_type == "code" and "interact(" in c.source for c in nb.cells)


def chapters_with_widgets() -> list[Path]:
    return [p for p in sorted((ROOT / "chapters").glob("*.ipynb"))
            if uses_widgets(nbformat.read(p, as_version=4))]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", help="default: every chapter with a widget")
    ap.add_argument("--latency", type=int, default=0, help="programmatic slider changes to time")
    args = ap.parse_args(argv)
    paths = [Path(p) for p in args.notebooks] or chapters_with_widgets()
    bad = 0
    for p in paths:
        t0 = time.perf_counter()
        for w in drive(p, args.latency):
            lat = ""
            if w["latency_s"]:
                s = sorted(w["latency_s"])
                lat = f", median update {1e3 * s[len(s) // 2]:.1f} ms over {len(s)}"
            print(f"{p.name} widget {w['index']} {w['function']}({', '.join(w['controls'])}): "
                  f"{w['updates']} updates, {len(w['errors'])} errors, "
                  f"{len(w['warnings'])} warnings{lat}")
            for e in w["errors"] + w["warnings"]:
                print("   ", e)
            bad += len(w["errors"]) + len(w["warnings"])
        print(f"  ({time.perf_counter() - t0:.1f} s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
