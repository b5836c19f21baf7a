"""The program tools/widget_driver.py runs inside a chapter's kernel, after all its cells.

widget_driver.py sends this file's text to the kernel and calls ``widget_probe(n)``, which
moves every live ``ipywidgets.interactive`` to the ends of its controls (and optionally times
``n`` slider changes) and prints one JSON line after ``MARK``. It is a module, not a string, so
that ruff checks it; it imports inside the functions, as it runs in the reader's namespace.
"""

MARK = "@@WIDGET-DRIVER@@"


def widget_probe(latency_samples):
    """Drive every live interact; print the report (one dict per interact) after MARK."""
    import json

    import ipywidgets
    from IPython import get_ipython
    from ipywidgets import interactive
    from ipywidgets.widgets import widget as _wmod

    live = getattr(_wmod, "_instances", None)
    if live is None:  # older ipywidgets
        live = ipywidgets.Widget.widgets
    found = [w for w in list(live.values()) if isinstance(w, interactive)]
    ip = get_ipython()
    report = [_probe_one(ip, idx, w, latency_samples) for idx, w in enumerate(found)]
    print(MARK + json.dumps(report))


def _extremes(c):
    from ipywidgets import Checkbox, Dropdown, FloatLogSlider, RadioButtons, ToggleButtons

    if isinstance(c, FloatLogSlider):
        return [c.base ** c.min, c.base ** c.max]
    if isinstance(c, (Dropdown, ToggleButtons, RadioButtons)):
        return [v for _, v in c._options_full] if hasattr(c, "_options_full") else list(c.options)
    if isinstance(c, Checkbox):
        return [True, False]
    if hasattr(c, "min") and hasattr(c, "max"):
        return [c.min, c.max]
    return []


def _probe_one(ip, idx, w, latency_samples):
    """Every control of interact ``w`` at its ends, one at a time and all at once; then timing."""
    import re
    import sys
    import time
    import warnings

    import matplotlib.pyplot as plt

    name = getattr(w.f, "__name__", repr(w.f))
    controls = [c for c in w.kwargs_widgets if hasattr(c, "value")]
    defaults = {c._kwarg: c.value for c in controls}
    errors, warns, checks = [], [], 0
    state = {}
    orig = ip.showtraceback

    def record(*_args, **_kwargs):  # stands in for ip.showtraceback
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
        for data in shown:  # a picture without alt text: a screen reader meets an unlabelled image
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
        for c in controls:
            for v in _extremes(c):
                run(lambda c=c, v=v: set_all({**defaults, c._kwarg: v}))
                plt.close("all")
        for end in (0, -1):  # every control at its low end, then at its high end
            vals = {c._kwarg: (_extremes(c) or [c.value])[end] for c in controls}
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
    return {"index": idx, "function": name, "controls": sorted(defaults),
            "updates": checks, "errors": errors, "warnings": warns,
            "latency_control": getattr(slider, "_kwarg", None) if latency_samples else None,
            "latency_s": latency}
