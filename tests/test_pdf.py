"""The PDF of the course (tools/make_pdf.py), printed from the test site and read back.

Run by `make test-pdf` (and .ci/run), not by `make test`: printing every page takes about a
minute. It needs chromium and playwright like the browser tests, and pypdf and pdfminer.six
(requirements-ci.txt); locally it skips with the reason when one is missing, in CI it fails.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest
from common import CHAPTERS, IN_CI, ROOT, require

require("playwright.sync_api", "the PDF is printed by chromium through Playwright")
pypdf = require("pypdf", "merges the printed pages")
layout = require("pdfminer.layout", "measures where each text line ends")
from pdfminer.high_level import extract_pages  # noqa: E402

sys.path.insert(0, str(ROOT / "tools"))
import make_pdf  # noqa: E402

if not Path(shutil.which("chromium") or "/usr/bin/chromium").exists():
    if IN_CI:
        pytest.fail("chromium is required in CI (apt-get install -y chromium)", pytrace=False)
    pytest.skip("chromium not installed (apt-get install -y chromium)", allow_module_level=True)

pytestmark = pytest.mark.browser
MM = 72 / 25.4  # PDF points per millimetre


@pytest.fixture(scope="module")
def pdf(built_book, tmp_path_factory):
    out = tmp_path_factory.mktemp("pdf") / make_pdf.PDF_NAME
    records = make_pdf.build(built_book, out)
    return out, pypdf.PdfReader(str(out)), records


def chapter_titles() -> list[str]:
    titles = []
    for path in CHAPTERS:
        first = json.loads(path.read_text())["cells"]
        head = next(c for c in first if c["cell_type"] == "markdown")
        titles.append(re.match(r"#\s+(.+)", "".join(head["source"])).group(1).strip())
    return titles


def first_printed_number(path: Path) -> str:
    """The first number with three or more decimals that the chapter's code prints (its worked
    example comes first), read from the notebook, not from the PDF code."""
    for cell in json.loads(path.read_text())["cells"]:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                m = re.search(r"(?<![\w.])-?\d+\.\d{3,}", "".join(out["text"]))
                if m:
                    return m.group(0)
    raise AssertionError(f"{path.name} prints no number")


def page_range(records, title) -> range:
    rec = next(r for r in records if r["title"] == title)
    return range(rec["first_page"], rec["first_page"] + rec["pages"])


def test_one_bookmark_per_page_of_the_site_in_toc_order(pdf):
    _, reader, records = pdf
    top = [item.title for item in reader.outline if not isinstance(item, list)]
    assert top[0] == "Title and contents"
    assert top[1:] == [r["title"] for r in records]
    assert len(records) == len(make_pdf.toc_pages()), "a page of _toc.yml is missing"
    for title in chapter_titles():
        assert title in top, f"no bookmark for chapter {title!r}"
    nested = [item for item in reader.outline if isinstance(item, list)]
    assert len(nested) >= len(CHAPTERS), "the chapters' sections have no bookmarks"


def test_every_chapter_title_and_a_number_of_its_worked_example_are_in_the_text(pdf):
    _, reader, records = pdf
    for path, title in zip(CHAPTERS, chapter_titles(), strict=True):
        pages = page_range(records, title)
        text = "\n".join(reader.pages[i].extract_text() for i in pages).replace("\u2212", "-")
        assert title.split(" ", 1)[1][:30] in re.sub(r"\s+", " ", text), f"{title} not in its pages"
        number = first_printed_number(path)
        assert number in text, f"{path.name}: {number} (printed by the notebook) not in the PDF"


def test_every_widget_view_and_figure_is_an_image_on_its_pages(pdf, built_book):
    _, reader, records = pdf
    for rec in records:
        page_html = (built_book / rec["page"]).read_text()
        figures = len(re.findall(r'<img [^>]*src="[^"]*_images/', page_html))
        views = page_html.count('type="application/vnd.jupyter.widget-view+json"')
        images = sum(len(reader.pages[i].images) for i in page_range(records, rec["title"]))
        assert images >= figures + views, (
            f"{rec['page']}: {images} images in the PDF, expected {figures} figures and "
            f"{views} widget views")


def test_no_text_line_runs_past_the_margins(pdf):
    out, _, _ = pdf
    left, right = 16 * MM, 16 * MM
    past = []
    for number, page in enumerate(extract_pages(str(out)), start=1):
        for line in _lines(page):
            # the ink: spaces at the end of a wrapped code line hang past the box in CSS's
            # pre-wrap, invisibly, and would count otherwise
            ink = [c for c in line if isinstance(c, layout.LTChar) and c.get_text().strip()]
            if not ink:
                continue
            x0, x1 = min(c.x0 for c in ink), max(c.x1 for c in ink)
            if x1 > page.width - right + 1 or x0 < left - 1:
                past.append(f"p. {number}: x = {x0:.0f}..{x1:.0f} of {page.width:.0f}: "
                            f"{line.get_text().strip()[:60]!r}")
    assert not past, "text beyond the margins:\n" + "\n".join(past[:20])


def _lines(obj):
    if isinstance(obj, layout.LTTextLine):
        yield obj
        return
    for child in getattr(obj, "_objs", None) or []:
        yield from _lines(child)
