"""Small Sphinx extensions for the course site.

1. Stale outputs. Sphinx re-reads only pages whose source changed, and myst-nb executes a
   notebook only when it is read, so after an edit to backprop_lib alone an incremental build
   would serve the old outputs even with `execute_notebooks: force`. We hash the library (and
   the numpy/matplotlib versions) into the build environment and, when the hash changes, mark
   every notebook outdated so that it is re-executed. Unchanged builds stay fast.
2. Duplicate scripts. sphinx-thebe 0.3.1 (and sphinx-togglebutton) register their inline
   configuration scripts once per `env-before-read-docs` event, which fires more than once in a
   Jupyter Book build; the page then declares `const THEBE_JS_URL` twice and the browser logs a
   SyntaxError. We drop script tags that repeat an earlier one.
3. Static files. When nothing but a static file changed (site_assets/widgets-setup.js, say),
   Sphinx reports "no targets are out of date" and stops before it copies the static files,
   so the site keeps the old script. A change to the static folders marks the root page
   outdated, which is enough for Sphinx to write and copy them again.
4. The test build. `make test` builds the site with BACKPROP_BOOK_EXECUTE=off: the pages show
   the stored outputs, which nbval (strict, in the same `make test`) has just proved equal to a
   fresh execution of every chapter; executing all of them a second time for the site would
   double the test time. `make book` never sets it, so the published site is always executed.
5. The PDF. When `make pdf` has written _build/pdf/backprop-course.pdf (tools/make_pdf.py), the
   build copies it into the site and the intro page links it; the intro page is re-read when the
   PDF appears, changes or goes, so the link never points at a missing or stale file.
6. Toggle names. myst-nb names its show/hide-code toggles "Toggle hidden content" while they
   show "Show code cell source"; the aria-label is dropped so that the visible text names them.
7. Static widgets (page weight, issue 19). A widget cannot move on a static page, yet drawing its
   default view took the ipywidgets HTML manager (embed-amd.js, 4.4 MB, 1.1 MB gzipped) plus
   require.js and the embedded state of every model. Each widget view is now written as plain
   HTML from its embedded state: the default output (the LiveFigure picture with its alt text),
   and the controls as a disabled row (sliders, menus, checkboxes at their default values, each
   named "label, what it changes"), marked inactive, next to the chapter's live hint. The view's
   script tag stays inside the block (inert: no manager reads it), so the PDF and its test still
   find each view. The state and the widget scripts are not served (_config.yml:
   nb_ipywidgets_js is empty).
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import os
import re
import shutil
import time
from pathlib import Path

PDF_NAME = "backprop-course.pdf"
PDF_PAGE = "intro"  # the page that links the PDF


def _pdf(app) -> Path:
    return Path(app.srcdir) / "_build" / "pdf" / PDF_NAME


def _pdf_stamp(app) -> str:
    pdf = _pdf(app)
    return f"{pdf.stat().st_mtime_ns} {pdf.stat().st_size}" if pdf.exists() else "none"


def _library_fingerprint() -> str:
    import matplotlib
    import numpy

    import backprop_lib

    h = hashlib.sha256(f"numpy {numpy.__version__} matplotlib {matplotlib.__version__}".encode())
    for path in sorted(Path(backprop_lib.__file__).parent.rglob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _outdated(app, env, added, changed, removed):  # noqa: ARG001 (Sphinx's env-get-outdated signature)
    return _outdated_when_library_changed(env, added, changed) + _outdated_when_pdf_changed(
        app, env, added, changed)


def _outdated_when_pdf_changed(app, env, added, changed):
    stamp, previous = _pdf_stamp(app), getattr(env, "backprop_pdf_stamp", None)
    env.backprop_pdf_stamp = stamp
    stale = previous is not None and previous != stamp and PDF_PAGE in env.found_docs
    return [PDF_PAGE] if stale and PDF_PAGE not in added and PDF_PAGE not in changed else []


def _outdated_when_library_changed(env, added, changed):
    fingerprint = _library_fingerprint()
    previous = getattr(env, "backprop_lib_fingerprint", None)
    env.backprop_lib_fingerprint = fingerprint
    if previous is None or previous == fingerprint:
        return []
    notebooks = [d for d in env.found_docs if str(env.doc2path(d)).endswith(".ipynb")]
    return [d for d in notebooks if d not in added and d not in changed]


def _static_fingerprint(app) -> str:
    h = hashlib.sha256()
    for folder in app.config.html_static_path:
        root = Path(app.confdir, folder)
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            stat = path.stat()
            h.update(f"{path.relative_to(root)} {stat.st_size} {stat.st_mtime_ns}".encode())
    return h.hexdigest()


def _outdated_when_static_files_changed(app, env, added, changed, removed):  # noqa: ARG001 (Sphinx's env-get-outdated signature)
    fingerprint = _static_fingerprint(app)
    previous = getattr(env, "backprop_static_fingerprint", None)
    env.backprop_static_fingerprint = fingerprint
    # also when unknown: Sphinx saves the environment (and so the fingerprint) only after it
    # has read a page
    return [] if previous == fingerprint else [app.config.root_doc]


def _dedupe_scripts(app, pagename, templatename, context, doctree):  # noqa: ARG001  (Sphinx's html-page-context signature)
    seen, unique = set(), []
    for js in context.get("script_files", []):
        filename = getattr(js, "filename", None) or ""
        attrs = tuple(sorted(getattr(js, "attributes", {}).items()))
        key = (filename, attrs)
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


def _link_the_pdf(app, pagename, templatename, context, doctree):  # noqa: ARG001 (Sphinx event)
    pdf = _pdf(app)
    if pagename != PDF_PAGE or not pdf.exists() or "body" not in context:
        return
    built = time.strftime("%Y-%m-%d", time.gmtime(pdf.stat().st_mtime))
    link = (f'<p class="pdf-download"><a href="{html.escape(PDF_NAME)}" download>Download the '
            f"whole course as a PDF</a> ({pdf.stat().st_size / 1e6:.1f} MB, built {built}).</p>")
    body = context["body"]
    cut = body.find("</h1>")
    context["body"] = body[:cut + 5] + link + body[cut + 5:] if cut >= 0 else link + body


def _name_the_toggles(app, pagename, templatename, context, doctree):  # noqa: ARG001 (Sphinx event)
    """myst-nb's hide-input/hide-cell toggles say "Show code cell source" but are named "Toggle
    hidden content" (aria-label): a screen reader hears another name than the one on screen
    (axe: label-content-name-mismatch). Without the aria-label the visible text is the name."""
    if "body" in context:
        context["body"] = context["body"].replace('<summary aria-label="Toggle hidden content">',
                                                  "<summary>")


WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
_VIEW = re.compile(r'<script type="application/vnd.jupyter.widget-view\+json">(.*?)</script>', re.S)


def _readout(value, fmt: str) -> str:
    try:
        return format(value, fmt or ".2f")
    except (TypeError, ValueError):
        return str(value)


def _static_control(model: dict) -> str:
    """One control of an interact, drawn disabled at its default value."""
    kind, st = model["model_name"], model["state"]
    label = (st.get("description") or "").strip()
    name = html.escape(f"{label}, {st['tooltip']}" if st.get("tooltip") else label, quote=True)
    text = html.escape(label)
    if kind in ("FloatSliderModel", "IntSliderModel", "FloatLogSliderModel"):
        value = st.get("value", 0)
        pos = math.log(value, st.get("base", 10)) if kind == "FloatLogSliderModel" and value > 0 else value
        return (f'<label class="widget-static-control">{text} <input type="range" disabled '
                f'min="{st.get("min", 0)}" max="{st.get("max", 1)}" step="{st.get("step", 1)}" '
                f'value="{pos}" aria-label="{name}"> '
                f'<span class="widget-static-value">{html.escape(_readout(value, st.get("readout_format")))}'
                f"</span></label>")
    if kind == "DropdownModel":
        labels, index = st.get("_options_labels", []), st.get("index")
        options = "".join(f'<option{" selected" if i == index else ""}>{html.escape(o)}</option>'
                          for i, o in enumerate(labels))
        return (f'<label class="widget-static-control">{text} <select disabled aria-label="{name}">'
                f"{options}</select></label>")
    if kind == "CheckboxModel":
        checked = " checked" if st.get("value") else ""
        return (f'<label class="widget-static-control"><input type="checkbox" disabled{checked} '
                f'aria-label="{name}"> {text}</label>')
    value = st.get("value", "")
    return f'<span class="widget-static-control">{text}: {html.escape(str(value))}</span>'


def _static_output(model: dict) -> str:
    """An Output widget's stored outputs as HTML (the LiveFigure picture carries its alt text)."""
    parts = []
    for out in model["state"].get("outputs", []):
        data = out.get("data", {})
        if "text/html" in data:
            parts.append("".join(data["text/html"]) if isinstance(data["text/html"], list)
                         else data["text/html"])
        elif "image/png" in data:
            alt = html.escape("".join(data.get("text/plain", "")).strip("'\""), quote=True)
            parts.append(f'<img src="data:image/png;base64,{data["image/png"]}" alt="{alt}">')
        elif out.get("output_type") == "stream":
            parts.append(f"<pre>{html.escape(''.join(out.get('text', '')))}</pre>")
        elif "text/plain" in data:
            parts.append(f"<pre>{html.escape(''.join(data['text/plain']))}</pre>")
    return "".join(parts)


def _static_view(models: dict, view_tag: str, view_json: str) -> str:
    model_id = json.loads(view_json)["model_id"]
    box = models.get(model_id)
    if box is None:  # no state: leave the tag as it was (the site tests report it)
        return view_tag
    children = [models[c.replace("IPY_MODEL_", "")] for c in box["state"].get("children", [])
                if c.replace("IPY_MODEL_", "") in models]
    controls = "".join(_static_control(m) for m in children if m["model_name"] != "OutputModel")
    output = "".join(_static_output(m) for m in children if m["model_name"] == "OutputModel")
    if not children:  # a single widget, not an interact
        controls = _static_control(box)
    row = (f'<div class="widget-static-controls" role="group" aria-label="Controls of this figure, '
           f'inactive on this page">{controls}<span class="widget-static-note">Inactive here: run '
           f"the chapter on Binder, Colab or with Live Code to move them.</span></div>") if controls else ""
    return (f'<div class="widget-static-view"><div class="widget-static widget-interact" '
            f'data-model-id="{html.escape(model_id)}">{row}<div class="widget-output">{output}</div>'
            f"</div>{view_tag}</div>")


def _static_widgets(app, pagename, templatename, context, doctree):  # noqa: ARG001 (Sphinx event)
    scripts = context.get("script_files", [])
    state = [js for js in scripts if (getattr(js, "attributes", None) or {}).get("type") == WIDGET_STATE]
    if not state or "body" not in context:
        return
    models = json.loads(state[0].attributes["body"]).get("state", {})
    context["body"] = _VIEW.sub(lambda m: _static_view(models, m.group(0), m.group(1)), context["body"])
    context["script_files"] = [js for js in scripts if all(js is not st for st in state)]


def _copy_the_pdf(app, exception):
    pdf = _pdf(app)
    if exception is None and app.builder.format == "html" and pdf.exists():
        shutil.copy2(pdf, Path(app.outdir) / PDF_NAME)


def _execution_mode_from_environment(app, config):  # noqa: ARG001 (Sphinx's config-inited signature)
    mode = os.environ.get("BACKPROP_BOOK_EXECUTE")
    if mode:
        config.nb_execution_mode = mode


def setup(app):
    app.connect("config-inited", _execution_mode_from_environment)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-get-outdated", _outdated_when_static_files_changed)
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    app.connect("html-page-context", _link_the_pdf)
    app.connect("html-page-context", _name_the_toggles)
    app.connect("html-page-context", _static_widgets)
    app.connect("build-finished", _copy_the_pdf)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
