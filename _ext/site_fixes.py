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
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def _library_fingerprint() -> str:
    import matplotlib
    import numpy

    import backprop_lib

    h = hashlib.sha256(f"numpy {numpy.__version__} matplotlib {matplotlib.__version__}".encode())
    for path in sorted(Path(backprop_lib.__file__).parent.rglob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _outdated_when_library_changed(app, env, added, changed, removed):
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


def _outdated_when_static_files_changed(app, env, added, changed, removed):
    fingerprint = _static_fingerprint(app)
    previous = getattr(env, "backprop_static_fingerprint", None)
    env.backprop_static_fingerprint = fingerprint
    # also when unknown: Sphinx saves the environment (and so the fingerprint) only after it
    # has read a page
    return [] if previous == fingerprint else [app.config.root_doc]


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for js in context.get("script_files", []):
        filename = getattr(js, "filename", None) or ""
        attrs = tuple(sorted(getattr(js, "attributes", {}).items()))
        key = (filename, attrs)
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


def _execution_mode_from_environment(app, config):
    mode = os.environ.get("BACKPROP_BOOK_EXECUTE")
    if mode:
        config.nb_execution_mode = mode


def setup(app):
    app.connect("config-inited", _execution_mode_from_environment)
    app.connect("env-get-outdated", _outdated_when_library_changed)
    app.connect("env-get-outdated", _outdated_when_static_files_changed)
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
