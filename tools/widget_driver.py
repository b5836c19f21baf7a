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

Optionally it also times ``latency_samples`` programmatic slider changes per widget: the time
from setting ``slider.value`` until the update (the function and the inline figure redraw,
i.e. rendering the PNG) has returned.

Used by tests/test_widgets.py and tools/bench.py. On the command line:

    .venv/bin/python tools/widget_driver.py chapters/04_network_by_hand.ipynb [--latency 50]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
MARK = "@@WIDGET-DRIVER@@"

# Runs inside the chapter's kernel after all its cells. Prints one JSON line after MARK.
PROBE = r'''
def __widget_probe(latency_samples):
    import json, re, sys, time, traceback, warnings
    import ipywidgets
    from ipywidgets import interactive
    from ipywidgets.widgets import widget as _wmod
    from IPython import get_ipython

    live = getattr(_wmod, "_instances", None)
    if live is None:  # older ipywidgets
        live = ipywidgets.Widget.widgets
    found = [w for w in list(live.values()) if isinstance(w, interactive)]
    ip = get_ipython()
    report = []

    def extremes(c):
        from ipywidgets import Checkbox, Dropdown, FloatLogSlider, ToggleButtons, RadioButtons
        if isinstance(c, FloatLogSlider):
            return [c.base ** c.min, c.base ** c.max]
        if isinstance(c, (Dropdown, ToggleButtons, RadioButtons)):
            return [v for _, v in c._options_full] if hasattr(c, "_options_full") else list(c.options)
        if isinstance(c, Checkbox):
            return [True, False]
        if hasattr(c, "min") and hasattr(c, "max"):
            return [c.min, c.max]
        return []

    for idx, w in enumerate(found):
        name = getattr(w.f, "__name__", repr(w.f))
        controls = [c for c in w.kwargs_widgets if hasattr(c, "value")]
        defaults = {c._kwarg: c.value for c in controls}
        errors, warns, checks = [], [], 0
        state = {}
        orig = ip.showtraceback

        def record(*a, **k):
            etype, value, _ = sys.exc_info()
            errors.append({"values": dict(state), "error": f"{etype.__name__}: {value}"})

        def run(setter):
            nonlocal checks
            shown.clear()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                setter()
                w.update()  # explicit: setting an unchanged value fires no observer
            for m in caught:
                warns.append({"values": dict(state), "warning": f"{m.category.__name__}: {m.message}"})
            for data in shown:
                page = data.get("text/html", "")
                if "image/png" in data or ("<img" in page and not re.search(r'alt="[^"]+"', page)):
                    errors.append({"values": dict(state), "error": "a picture without alt text"})
            checks += 1

        def set_all(vals):
            for c in controls:  # set quietly; run() then calls one update with all values
                c.unobserve(w.update, names="value")
                try:
                    if c._kwarg in vals:
                        c.value = vals[c._kwarg]
                finally:
                    c.observe(w.update, names="value")
            state.clear()
            state.update({c._kwarg: c.value for c in controls})

        shown = []  # the mime bundles each update displays (the front end routes them)
        publish = ip.display_pub.publish

        def spy(data, *args, **kwargs):
            shown.append(data)
            return publish(data, *args, **kwargs)

        ip.showtraceback = record
        ip.display_pub.publish = spy
        try:
            import matplotlib.pyplot as plt
            for c in controls:
                for v in extremes(c):
                    run(lambda c=c, v=v: set_all({**defaults, c._kwarg: v}))
                    plt.close("all")
            for end in (0, -1):  # every control at its low end, then at its high end
                vals = {c._kwarg: (extremes(c) or [c.value])[end] for c in controls}
                run(lambda vals=vals: set_all(vals))
                plt.close("all")
            set_all(defaults)
            latency = []
            slider = next((c for c in controls if hasattr(c, "min") and hasattr(c, "max")
                           and not isinstance(c.value, bool)), None)
            if latency_samples and slider is not None:
                lo, hi = slider.min, slider.max
                log = hasattr(slider, "base")
                for i in range(latency_samples):
                    t = (i % 10 + 1) / 11  # ten values strictly inside the range, cycled
                    v = lo + t * (hi - lo)
                    if isinstance(slider.value, int):
                        v = int(round(v))
                        if v == slider.value:
                            v = lo if v != lo else hi
                    v = slider.base ** v if log else v
                    t0 = time.perf_counter()
                    slider.value = v  # the observer runs the update synchronously
                    latency.append(time.perf_counter() - t0)
                    plt.close("all")
                set_all(defaults)
                w.update()
        finally:
            ip.showtraceback = orig
            ip.display_pub.publish = publish
        report.append({"index": idx, "function": name, "controls": sorted(defaults),
                       "updates": checks, "errors": errors, "warnings": warns,
                       "latency_control": getattr(slider, "_kwarg", None) if latency_samples else None,
                       "latency_s": latency})
    print("@@WIDGET-DRIVER@@" + json.dumps(report))
'''


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
        text = _run(kc, PROBE + f"\n__widget_probe({int(latency_samples)})\n",
                    f"{path.name} widget probe", timeout)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    for line in text.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    raise RuntimeError(f"widget probe printed no report for {path.name}: {text[-2000:]}")


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


def chapters_with_widgets() -> list[Path]:
    out = []
    for p in sorted((ROOT / "chapters").glob("*.ipynb")):
        nb = nbformat.read(p, as_version=4)
        if any(c.cell_type == "code" and "interact(" in c.source for c in nb.cells):
            out.append(p)
    return out


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
