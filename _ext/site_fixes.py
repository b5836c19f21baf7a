"""Small Sphinx fixes for the course site.

sphinx-thebe 0.3.1 (and sphinx-togglebutton) register their inline configuration scripts once
per `env-before-read-docs` event, which fires more than once in a Jupyter Book build; the page
then declares `const THEBE_JS_URL` twice and the browser logs a SyntaxError. We drop script
tags that repeat an earlier one (same file, or same inline body, and same attributes).
"""


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


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
