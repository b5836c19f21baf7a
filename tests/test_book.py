"""The book builds with -W -n --keep-going (any warning or failing cell fails it)."""

import html
import re
from pathlib import Path

import pytest
from common import toc_pages


def page_text(path: Path) -> str:
    text = html.unescape(re.sub(r"<[^>]+>", " ", path.read_text()))
    return text.replace("\u2212", "-")


@pytest.mark.book
def test_book_builds_and_every_toc_page_exists(built_book):
    pages = ["index.html"] + toc_pages()  # index.html: the landing page that opens the root
    missing = [p for p in pages if not (built_book / p).is_file()]
    assert not missing, f"pages of _toc.yml missing from the build: {missing}"
    built = sorted(str(s.relative_to(built_book / "_sources").with_suffix(".html"))
                   for s in (built_book / "_sources").rglob("*") if s.is_file())
    assert built == sorted(toc_pages()), "the documents built are not the documents of _toc.yml"


@pytest.mark.book
def test_chapter_1_page_shows_every_number_of_the_seed_examples(built_book):
    text = page_text(built_book / "chapters" / "01_computational_graphs.html")
    # f = (x+y)z at x=-2, y=5, z=-4; the sigmoid neuron at w=(2,-3,-3), x=(-1,-2)
    for number in ["-12.0", "3.0", "-4.0", "0.37", "1.37", "0.73", "-0.53", "-0.20", "0.20",
                   "0.39", "-0.39", "-0.59", "1.00", "0.731059", "0.196612"]:
        assert re.search(r"(?<![\d.])" + re.escape(number), text), f"{number} not on the page"
