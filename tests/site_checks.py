"""The website in a real browser: Debian's chromium driven by Playwright, the site served on 127.0.0.1.

The checks live here; tests/test_site_a.py and tests/test_site_b.py each run them on half of
the pages, so that the two xdist workers share the browser work (loading a long page with its
math and screenshots takes 4 to 15 s).

Per page: HTTP 200, no failed or 4xx request, no request to another host, no console error,
math rendered by MathJax, every image loaded, figures opaque (legible in dark mode), launch
buttons on chapter pages, widgets showing their stored default output (a static view: the
picture and disabled controls) with a hint that they are live elsewhere, at most 1.5 MB
transferred on load (gzipped as a web host serves it; the math time is reported,
tools/page_weight.py), and no critical or serious accessibility violation found by axe-core (the engine
accessibility audits use; injected by the test, never served by the site) in light and in
dark mode. Screenshots go to _build/screenshots/ for review (JPEG): the whole page in light
mode (at half scale), and in dark mode the screen around the page's first figure.

Locally the tests skip (with the reason) when chromium or playwright is missing; in CI
(CI=true, see .ci/run) they are mandatory.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import urlparse

import pytest
from common import IN_CI, ROOT, require, toc_pages

sys.path.insert(0, str(ROOT / "tools"))
import page_weight  # noqa: E402  (tools/: shared with make bench)

sync_api = require("playwright.sync_api", "browser tests drive chromium with Playwright")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    if IN_CI:
        pytest.fail("chromium is required in CI (apt-get install -y chromium)", pytrace=False)
    pytest.skip("chromium not installed (apt-get install -y chromium)", allow_module_level=True)

pytestmark = pytest.mark.browser

# What `from site_checks import *` gives a test_site_* module: the marker, the fixtures and the
# per-page checks (each module parametrizes them on its pages with parametrize_pages).
# The order of the checks: a module runs them in this order (each on all its pages, every page
# kept open by `visit`). Each check switches the theme it needs itself, but the two that need
# dark mode come last and in this order: the axe test leaves its page dark, so the dark-mode
# test finds it dark and switches back (a theme switch restyles the whole page: 0.3-0.7 s on a
# long chapter).
__all__ = ["pytestmark", "browser", "server", "visit", "test_page_loads_cleanly_offline",
           "test_page_is_light_and_math_is_quick", "test_chapter_has_launch_buttons",
           "test_widgets_have_state_render_and_say_where_they_are_live",
           "test_headings_in_order_and_images_described",
           "test_axe_finds_no_serious_violation_in_light_or_dark_mode",
           "test_dark_mode_screenshot_and_opaque_figures"]

# axe-core, fetched with the site's assets (tools/fetch_assets.py TEST_PACKAGES) but kept out of
# the site: the test injects it into each page.
AXE = ROOT / ".cache" / "test-js" / "axe.min.js"
AXE_FAILS_ON = ("critical", "serious")  # lower impacts are reported as warnings
# Violations that come from the theme and cannot be fixed from the book:
# (rule id, a regular expression matched against the element's CSS selector) -> the reason.
# Everything axe found in the theme so far could be fixed (_templates/), so the list is empty.
AXE_THEME_EXCEPTIONS: dict[tuple[str, str], str] = {}
# The theme switch changes colours only (CSS variables under data-theme), so in dark mode only
# the rules that read colours can find something new; the light-mode run covers every rule.
# A full run costs 5-8 s on a long chapter, so this keeps the dark run to what it can find.
AXE_COLOUR_RULES = ("color-contrast", "link-in-text-block")

# Harmless noise from the theme, named explicitly: everything else fails the test.
TOLERATED_CONSOLE = [re.compile(r"Got invalid theme mode")]
SHOTS = ROOT / "_build" / "screenshots"


PAGES = toc_pages()
CHAPTER_PAGES = [p for p in PAGES if p.startswith("chapters/")]


def _uses_interact(page: str) -> bool:
    nb = json.loads((ROOT / page.replace(".html", ".ipynb")).read_text())
    return any(c["cell_type"] == "code" and "interact(" in "".join(c["source"])
               for c in nb["cells"])


WIDGET_PAGES = [p for p in CHAPTER_PAGES if _uses_interact(p)]
ONLY_ON = {"test_chapter_has_launch_buttons": CHAPTER_PAGES,
           "test_widgets_have_state_render_and_say_where_they_are_live": WIDGET_PAGES}


def parametrize_pages(metafunc, pages) -> None:
    """pytest_generate_tests of a test_site_* module: run each per-page check on ``pages``
    (chapter checks on chapter pages only, widget checks on the chapters that have widgets)."""
    if "page_path" in metafunc.fixturenames:
        only = ONLY_ON.get(metafunc.function.__name__, pages)
        metafunc.parametrize("page_path", [p for p in pages if p in only])


@pytest.fixture(scope="module")
def server(built_book):
    """The site on 127.0.0.1, text gzipped as a web host serves it (tools/page_weight.py)."""
    with page_weight.Server(built_book) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


class Visit:
    """Load one page and record everything the browser did."""

    def __init__(self, browser, base: str, page_path: str):
        self.base_host = urlparse(base).netloc
        self.external, self.failed, self.bad_status, self.console = [], [], [], []
        self.ctx = browser.new_context(viewport={"width": 1280, "height": 900},
                                       color_scheme="light")
        self.page = self.ctx.new_page()
        pg = self.page
        pg.on("request", self._on_request)
        pg.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        pg.on("response", lambda r: r.status >= 400 and self.bad_status.append(f"{r.status} {r.url}"))
        pg.on("console", self._on_console)
        pg.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        pg.add_init_script(page_weight.INIT_SCRIPT)  # load and MathJax times, for the weight test
        self.response = pg.goto(f"{base}/{page_path}", wait_until="load")
        try:
            pg.wait_for_load_state("networkidle", timeout=15000)
        except sync_api.TimeoutError:
            pass
        self.wait_for_math()
        # what the page transferred to get here, and its math time (before any test acts on it)
        self.weight = page_weight.measure(pg)

    def _on_request(self, req):
        host = urlparse(req.url).netloc
        if urlparse(req.url).scheme in ("http", "https", "ws", "wss") and host != self.base_host:
            self.external.append(req.url)

    def _on_console(self, msg):
        if msg.type == "error" and not any(p.search(msg.text) for p in TOLERATED_CONSOLE):
            self.console.append(msg.text)

    def has_math(self) -> bool:
        return self.page.evaluate(
            "document.querySelectorAll('.math, span.math, div.math').length") > 0

    def wait_for_math(self):
        if self.has_math():
            deadline = time.time() + 20
            while time.time() < deadline:
                done = self.page.evaluate(
                    "window.MathJax && MathJax.startup && MathJax.startup.promise ? 1 : 0")
                if done and self.page.evaluate("document.querySelectorAll('mjx-container').length"):
                    break
                time.sleep(0.2)
            self.page.evaluate("window.MathJax && MathJax.startup.promise")

    def switch_theme(self, theme: str) -> str:
        """Click the theme's own light/dark switch until the page shows ``theme``."""
        for _ in range(3):
            if self.page.evaluate("document.documentElement.dataset.theme") == theme:
                break
            self.page.locator(".theme-switch-button").first.click()
        return self.page.evaluate("document.documentElement.dataset.theme")

    def close(self):
        self.ctx.close()


@pytest.fixture(scope="module")
def visit(browser, server):
    """visit(page) loads a page once per module (light mode, screenshot taken) and keeps it open."""
    cache = {}

    def get(page_path):
        if page_path not in cache:
            v = Visit(browser, server, page_path)
            _shot(v.page, page_path.replace("/", "__").replace(".html", "-light.jpg"))
            cache[page_path] = v
        return cache[page_path]

    yield get
    for v in cache.values():
        v.close()


def _shot(page, name, full_page=True):
    """A JPEG for review. The whole page is captured at half scale through the DevTools
    protocol: rasterizing a 25000-pixel-tall chapter at full scale takes 3-4 s of CPU per page,
    at half scale 1.5 s, and 640 pixels wide still shows layout, figures and colours."""
    SHOTS.mkdir(parents=True, exist_ok=True)  # JPEG: a 20000-pixel-tall PNG takes seconds to encode
    if not full_page:
        page.screenshot(path=str(SHOTS / name), type="jpeg", quality=80)
        return
    w, h = page.evaluate("[document.documentElement.scrollWidth, "
                         "document.documentElement.scrollHeight]")
    cdp = page.context.new_cdp_session(page)
    try:
        shot = cdp.send("Page.captureScreenshot", {
            "format": "jpeg", "quality": 80, "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": w, "height": h, "scale": 0.5}})
    finally:
        cdp.detach()
    (SHOTS / name).write_bytes(base64.b64decode(shot["data"]))


def test_page_loads_cleanly_offline(visit, page_path):
    v = visit(page_path)
    assert v.response is not None and v.response.status == 200
    assert not v.external, f"requests to other hosts: {v.external}"
    assert not v.failed, f"failed requests: {v.failed}"
    assert not v.bad_status, f"4xx/5xx responses: {v.bad_status}"
    assert not v.console, f"console errors: {v.console}"
    if v.has_math():
        n = v.page.evaluate("document.querySelectorAll('mjx-container').length")
        err = v.page.evaluate("document.querySelectorAll('mjx-merror').length")
        assert n > 0, "page has math but MathJax rendered none"
        assert err == 0, f"{err} MathJax errors"
        # a dollar sign left in the prose is math that MathJax never saw (a markdown parse slip)
        stray = v.page.evaluate("""() => {
            const a = document.querySelector('article').cloneNode(true);
            a.querySelectorAll('pre, code, mjx-container, script, .highlight, .cell_output')
             .forEach(e => e.remove());
            return (a.textContent.match(/.{0,40}\\$.{0,40}/g) || []); }""")
        assert not stray, f"unrendered math (literal $) in the prose: {stray}"
    images = v.page.evaluate(
        "[...document.images].map(i => ({src: i.src, ok: i.complete && i.naturalWidth > 0}))")
    broken = [i["src"] for i in images if not i["ok"]]
    assert not broken, f"images that did not load: {broken}"


def test_page_is_light_and_math_is_quick(visit, page_path):
    """At most 1.5 MB transferred (after gzip), all requests of the page counted; the math time
    (page `load` to MathJax's startup promise) is measured and reported here, and held to its
    target of 1 s by `make bench` (bench/results.md): timings are never asserted in tests."""
    v = visit(page_path)
    m = v.weight
    assert m["bytes"] <= page_weight.MAX_BYTES, (
        f"{page_path} transfers {m['bytes'] / 1e6:.2f} MB (target "
        f"{page_weight.MAX_BYTES / 1e6:.1f} MB); biggest: "
        + ", ".join(f"{u.rsplit('/', 1)[-1]} {b / 1e3:.0f} kB" for u, b in m["biggest"][:5]))
    if v.has_math():
        assert m["math_s"] is not None, "the page has math but MathJax's startup promise never resolved"
        if m["math_s"] > page_weight.MAX_MATH_S:
            warnings.warn(f"{page_path}: math rendered {m['math_s']:.2f} s after load "
                          f"(target {page_weight.MAX_MATH_S:.0f} s; see make bench)", stacklevel=1)


def test_dark_mode_screenshot_and_opaque_figures(visit, page_path):
    v = visit(page_path)
    mode = v.switch_theme("dark")  # no click when the axe test, just before, left the page dark
    assert mode == "dark", f"the theme switch did not reach dark mode (data-theme={mode!r})"
    # a figure with a transparent background shows black text on the dark page: illegible
    transparent = v.page.evaluate("""() => {
        const out = [];
        for (const img of document.querySelectorAll('.cell_output img, .output img')) {
            if (!img.src.endsWith('.png') || !img.naturalWidth) continue;
            const c = document.createElement('canvas');
            c.width = img.naturalWidth; c.height = img.naturalHeight;
            const g = c.getContext('2d'); g.drawImage(img, 0, 0);
            const a = g.getImageData(1, 1, 1, 1).data[3];
            if (a < 255) out.push(img.src);
        }
        return out; }""")
    # Dark mode: one screen, at the first figure (a full-page capture of a long chapter costs
    # 2-4 s of CPU per page; the light-mode one is full-page, and the check above is programmatic)
    v.page.evaluate("document.querySelector('.cell_output img, article img')?.scrollIntoView()")
    _shot(v.page, page_path.replace("/", "__").replace(".html", "-dark.jpg"), full_page=False)
    assert v.switch_theme("light") == "light"
    assert not transparent, f"figures with a transparent background: {transparent}"


def test_chapter_has_launch_buttons(visit, page_path):
    v = visit(page_path)
    hrefs = v.page.evaluate("[...document.querySelectorAll('a')].map(a => a.href)")
    assert any("mybinder.org" in h for h in hrefs), "no Binder launch link"
    assert any("colab.research.google.com" in h for h in hrefs), "no Colab launch link"
    assert v.page.evaluate("document.querySelectorAll('.thebe-launch-button, "
                           "button[onclick*=\"initThebe\"]').length") > 0, "no Live Code button"


def _notebook_widgets(page_path: str):
    """The widget views a chapter's stored outputs hold, and each one's default output as stored
    in the notebook's widget state: {model_id: (number of controls, [image src, ...])}."""
    nb = json.loads((ROOT / page_path.replace(".html", ".ipynb")).read_text())
    ids = [o["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
           for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
           if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    models = (nb["metadata"].get("widgets", {})
              .get("application/vnd.jupyter.widget-state+json", {}).get("state", {}))
    expected = {}
    for i in ids:
        if i not in models:
            continue
        children = [models.get(c.replace("IPY_MODEL_", ""), {})
                    for c in models[i]["state"].get("children", [])]
        outputs = [o for c in children if c.get("model_name") == "OutputModel"
                   for o in c["state"].get("outputs", [])]
        srcs = []
        for o in outputs:
            data = o.get("data", {})
            htm = data.get("text/html", "")
            srcs += re.findall(r'<img[^>]*src="([^"]+)"', "".join(htm) if isinstance(htm, list) else htm)
            if "image/png" in data:
                srcs.append("data:image/png;base64," + data["image/png"])
        controls = sum(c.get("model_name") not in ("OutputModel", None) for c in children)
        expected[i] = (controls, srcs)
    return ids, expected


def test_widgets_have_state_render_and_say_where_they_are_live(visit, page_path):
    """Each widget view of the chapter's stored outputs is on the page as its static view
    (_ext/site_fixes.py): the default output stored in the notebook's widget state (the same
    image, loaded, with alt text) and its controls, disabled, with the live hint."""
    ids, expected = _notebook_widgets(page_path)
    assert ids, "the chapter calls interact(...) but its stored outputs have no widget view"
    missing = [i for i in ids if i not in expected]
    assert not missing, f"widget views without embedded state in the notebook: {missing}"
    assert all(srcs for _, srcs in expected.values()), "a widget's stored state has no default picture"
    v = visit(page_path)
    shown = v.page.evaluate("""() => Object.fromEntries([...document.querySelectorAll(
        '.widget-static[data-model-id]')].map(w => [w.dataset.modelId, {
          imgs: [...w.querySelectorAll('.widget-output img')].map(i => ({
              src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0,
              alt: (i.getAttribute('alt') || '').trim()})),
          controls: w.querySelectorAll('.widget-static-controls :is(input, select)').length,
          enabled: w.querySelectorAll('.widget-static-controls :is(input, select):not([disabled])').length,
          named: [...w.querySelectorAll('.widget-static-controls :is(input, select)')]
                 .every(c => (c.getAttribute('aria-label') || '').includes(','))}]))""")
    for i, (controls, srcs) in expected.items():
        assert i in shown, f"widget {i} is not on the page (no static view with its default output)"
        w = shown[i]
        assert [im["src"] for im in w["imgs"]] == srcs, f"widget {i} does not show its stored default output"
        assert all(im["ok"] for im in w["imgs"]), f"widget {i}'s default picture did not load"
        assert all(im["alt"] for im in w["imgs"]), f"widget {i}'s picture has no alt text"
        assert w["controls"] == controls, (
            f"widget {i}: {w['controls']} controls drawn, {controls} in its state")
        assert w["enabled"] == 0, f"widget {i}: a control looks live on the static page"
        assert w["named"], f"widget {i}: a control is not named 'label, what it changes'"
    hint = v.page.inner_text(".widget-hint") if v.page.query_selector(".widget-hint") else ""
    assert re.search(r"Binder|Colab|Live Code", hint), (
        "no visible hint (an admonition with class widget-hint) that the widgets are live on "
        "Binder, Colab or with Live Code")
    assert not v.console, f"console errors: {v.console}"


def test_search_finds_a_term(browser, server):
    v = Visit(browser, server, "search.html?q=sigmoid")
    try:
        v.page.wait_for_selector("#search-results li, ul.search li", timeout=20000)
        hits = v.page.evaluate("document.querySelectorAll('ul.search li').length")
        assert hits >= 1, "search for 'sigmoid' found nothing"
    finally:
        v.close()


def test_keyboard_can_reach_the_main_links(browser, server):
    v = Visit(browser, server, "intro.html")
    try:
        focused = set()
        for _ in range(40):
            v.page.keyboard.press("Tab")
            tag = v.page.evaluate("document.activeElement && document.activeElement.tagName")
            focused.add(tag)
        assert "A" in focused, f"Tab never reached a link (focused: {focused})"
    finally:
        v.close()


def test_headings_in_order_and_images_described(built_book, page_path):
    page_html = (built_book / page_path).read_text()
    main = page_html[page_html.find('<article'):page_html.find('</article>')]
    levels = [int(h) for h in re.findall(r"<h([1-6])[\s>]", main)]
    assert levels and levels[0] == 1, f"first heading is not h1: {levels[:3]}"
    for a, b in zip(levels, levels[1:], strict=False):
        assert b <= a + 1, f"heading level jumps from h{a} to h{b}"
    for img in re.findall(r"<img[^>]*>", main):
        alt = re.search(r'alt="([^"]*)"', img)
        text = alt.group(1) if alt else ""
        assert text and not re.search(r"\.(png|jpg|svg)$", text), f"image without alt text: {img[:120]}"


def _run_axe(page, rules: tuple[str, ...] = ()) -> list[dict]:
    """axe-core's violations on the page as it is now: [{rule, impact, help, target, html}];
    every rule, or only ``rules``."""
    options = {"resultTypes": ["violations"]}
    if rules:
        options["runOnly"] = {"type": "rule", "values": list(rules)}
    return page.evaluate("""async (options) => {
        // a theme switch fades colours for a moment: measure contrast after the fade
        await Promise.all(document.getAnimations().filter(a => a instanceof CSSTransition)
                          .map(a => a.finished.catch(() => null)));
        const r = await axe.run(document, options);
        return r.violations.flatMap(v => v.nodes.map(n => ({
            rule: v.id, impact: n.impact || v.impact, help: v.help,
            target: n.target.join(' '), html: n.html.slice(0, 160)}))); }""", options)


def test_axe_finds_no_serious_violation_in_light_or_dark_mode(visit, page_path):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run tools/fetch_assets.py (make test does)", pytrace=False)
    v = visit(page_path)
    assert not v.page.evaluate("'axe' in window"), "the site itself loads axe-core"
    # every widget's static view shows its default picture (the audit covers it and its controls)
    v.page.wait_for_function("""[...document.querySelectorAll('.widget-static')].every(w =>
        [...w.querySelectorAll('.widget-output img')].every(i => i.complete))""", timeout=15000)
    v.page.add_script_tag(content=AXE.read_text())
    serious, minor = [], []
    for mode in ("light", "dark"):
        assert v.switch_theme(mode) == mode
        # the click leaves the theme button's hover tooltip on the page: move away from it
        v.page.mouse.move(0, 0)
        v.page.evaluate("document.activeElement && document.activeElement.blur()")
        v.page.wait_for_selector(".tooltip", state="detached", timeout=5000)
        for f in _run_axe(v.page, () if mode == "light" else AXE_COLOUR_RULES):
            if any(rule == f["rule"] and re.search(where, f["target"])
                   for rule, where in AXE_THEME_EXCEPTIONS):
                continue
            line = (f"{page_path} ({mode}): {f['rule']} [{f['impact']}] {f['help']}\n"
                    f"    at {f['target']}: {f['html']}")
            (serious if f["impact"] in AXE_FAILS_ON else minor).append(line)
    # left dark: test_dark_mode_screenshot_and_opaque_figures, next, checks the way back to light
    for line in minor:
        warnings.warn(f"axe: {line}", stacklevel=1)
    assert not serious, "axe-core found accessibility violations:\n" + "\n".join(serious)
