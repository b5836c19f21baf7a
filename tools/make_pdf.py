"""`make pdf`: the whole course as one PDF, printed from the built site by Debian's chromium.

Each page of the site (intro, notation, the chapters, the errata: the order of _toc.yml) is
opened in chromium (Playwright, `executable_path=/usr/bin/chromium`; never `playwright
install`), after MathJax has typeset and every widget view has drawn its default output, and
printed with a print stylesheet (tools/pdf_print.css: no sidebars or buttons, code wrapped so
no line is cut, figures not split). pypdf merges the pages behind a title page, with one
bookmark per page and, nested under it, chromium's bookmarks of the page's sections.
Footers give the page's title and its page number.

    python tools/make_pdf.py [--html _build/html] [--out _build/pdf/backprop-course.pdf]

Jupyter Book's own routes lose the widgets: `--builder pdfhtml` (which also downloads its own
browser) and `--builder pdflatex` (430 MB of TeX). See README, "The PDF".
"""

from __future__ import annotations

import argparse
import functools
import html
import http.server
import re
import shutil
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PDF_NAME = "backprop-course.pdf"
DEFAULT_OUT = ROOT / "_build" / "pdf" / PDF_NAME
PRINT_CSS = ROOT / "tools" / "pdf_print.css"
MARGIN = {"top": "16mm", "bottom": "18mm", "left": "16mm", "right": "16mm"}
TEXT_WIDTH_PX = round((210 - 32) / 25.4 * 96)  # A4 less the margins, in CSS pixels
FOOTER = ('<div style="font-size:8px; width:100%; padding:0 16mm; display:flex; '
          'justify-content:space-between; color:#555;"><span>{title}</span>'
          '<span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>')


def toc_pages(root: Path = ROOT) -> list[str]:
    """The site's pages in reading order: the root page's file, then every `file:` of _toc.yml."""
    toc = (root / "_toc.yml").read_text()
    files = re.findall(r"^\s*root:\s*(\S+)", toc, re.M) + re.findall(r"-\s*file:\s*(\S+)", toc)
    return [f + ".html" for f in files]


def chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        sys.exit("make pdf needs Debian's chromium: sudo apt-get install chromium")
    return path


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(directory: Path):
    """Serve the built site on 127.0.0.1 (a free port); returns (base url, server)."""
    handler = functools.partial(_Quiet, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{httpd.server_address[1]}", httpd


# Done when MathJax has typeset and every widget view has drawn (a widget's default output is
# an image inside its output area; the HTML manager renders it from the embedded state).
_READY = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  const views = () => [...document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"]')];
  const drawn = () => views().every(s => {
    const box = s.parentElement;
    return box && box.querySelector('.widget-output img, .jupyter-widgets-output-area img, img');
  });
  for (let i = 0; i < 200 && !drawn(); i++) await new Promise(r => setTimeout(r, 50));
  await Promise.all([...document.images].map(im => im.complete ? 0 :
      new Promise(r => { im.onload = im.onerror = r; })));
  return {views: views().length, drawn: drawn()};
}"""


def print_page(browser, url: str, out: Path) -> dict:
    """Print one page of the site to `out`; returns its title and what was waited for."""
    ctx = browser.new_context(viewport={"width": TEXT_WIDTH_PX, "height": 1400},
                              color_scheme="light")
    page = ctx.new_page()
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    page.add_style_tag(content=PRINT_CSS.read_text())
    state = page.evaluate(_READY)
    # derivations and proofs sit in closed dropdowns on the site: open them, keep solutions closed
    page.evaluate("""() => document.querySelectorAll('details').forEach(d => {
        const s = d.querySelector('summary');
        if (!s || !/^\\s*Solution/.test(s.textContent)) d.open = true; })""")
    title = page.evaluate("() => (document.querySelector('main h1') || {}).textContent || ''")
    title = title.replace("#", "").strip() or page.title()
    page.emulate_media(media="print")
    # a display equation wider than the text would be cut at the margin: shrink it to fit
    page.evaluate("""() => document.querySelectorAll('mjx-container[display="true"]').forEach(c => {
        if (c.scrollWidth > c.clientWidth)  // 2 % to spare: glyph extents differ by a pixel
            c.style.fontSize = Math.floor(98 * c.clientWidth / c.scrollWidth) + '%'; })""")
    page.pdf(path=str(out), format="A4", margin=MARGIN, print_background=True, outline=True,
             tagged=True, display_header_footer=True, header_template="<span></span>",
             footer_template=FOOTER.format(title=html.escape(title)))
    ctx.close()
    return {"title": title, **state}


def title_page(browser, out: Path, pages: list[dict]) -> None:
    """A title page with the course title and the contents."""
    items = "".join(f"<li>{html.escape(p['title'])}</li>" for p in pages)
    ctx = browser.new_context()
    page = ctx.new_page()
    page.set_content(
        "<html><body style='font-family: sans-serif; margin: 30mm 20mm;'>"
        "<h1 style='font-size: 30pt; line-height: 1.2;'>Backpropagation, taught with "
        "executable chapters</h1><p style='font-size: 13pt;'>From f = (x + y) z to a "
        "self-attention head, deep networks and a transformer block: every derivation implemented, "
        "every number computed, every gradient checked.</p><h2 style='margin-top: 20mm;'>Contents</h2>"
        f"<ol style='font-size: 12pt; line-height: 1.8;'>{items}</ol></body></html>")
    page.pdf(path=str(out), format="A4", print_background=True)
    ctx.close()


def build(html_dir: Path, out: Path) -> list[dict]:
    """Print every page of `html_dir` and merge them into `out`; returns the pages' records."""
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader, PdfWriter

    work = out.parent / "pages"
    work.mkdir(parents=True, exist_ok=True)
    base, httpd = serve(html_dir)
    records = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium(), args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run"])
            for i, name in enumerate(toc_pages()):
                pdf = work / f"{i:02d}.pdf"
                rec = print_page(browser, f"{base}/{name}", pdf)
                if not rec["drawn"]:
                    sys.exit(f"{name}: a widget view did not draw its default output")
                records.append({**rec, "page": name, "pdf": pdf})
            title_page(browser, work / "title.pdf", records)
            browser.close()
    finally:
        httpd.shutdown()
    writer = PdfWriter()
    writer.append(str(work / "title.pdf"), import_outline=False)
    writer.add_outline_item(title="Title and contents", page_number=0)
    for rec in records:
        start = len(writer.pages)
        reader = PdfReader(str(rec["pdf"]))
        parent = writer.add_outline_item(title=rec["title"], page_number=start)
        # chromium's outline of the page (its h1, h2, ...): keep the sections under the page
        writer.append(reader, import_outline=False)
        _nest_outline(writer, reader, reader.outline, parent, start)
        rec["first_page"], rec["pages"] = start, len(reader.pages)
    writer.add_metadata({"/Title": "Backpropagation, taught with executable chapters"})
    writer.page_mode = "/UseOutlines"
    with open(out, "wb") as f:
        writer.write(f)
    shutil.rmtree(work)
    return records


def _nest_outline(writer, reader, items, parent, offset: int) -> None:
    """Copy chromium's outline of one page under `parent`; a page's own h1 (the first entry,
    followed by the list of its sections) is `parent` itself and is not repeated."""
    if len(items) >= 2 and not isinstance(items[0], list) and isinstance(items[1], list):
        items = items[1:]
    elif len(items) == 1 and not isinstance(items[0], list):
        items = []
    last = parent
    for item in items:
        if isinstance(item, list):
            _nest_outline(writer, reader, item, last, offset)
        else:
            page = offset + reader.get_destination_page_number(item)
            last = writer.add_outline_item(title=item.title, page_number=page, parent=parent)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    if not (args.html / "intro.html").exists():
        sys.exit(f"{args.html} holds no built site: run `make book` first")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    records = build(args.html, args.out)
    total = sum(r["pages"] for r in records) + 1
    print(f"wrote {args.out} ({total} pages, {args.out.stat().st_size / 1e6:.1f} MB)")
    for r in records:
        print(f"  p. {r['first_page'] + 1:>3}  {r['title']}  ({r['pages']} pages, "
              f"{r['views']} widget views)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
