"""Browser tests (tests/site_checks.py) on the first half of the pages, plus search and keyboard."""

from site_checks import *  # noqa: F403  (the marker, fixtures and per-page checks)
from site_checks import (  # noqa: F401  (page-independent checks, collected here once)
    PAGES,
    parametrize_pages,
    test_keyboard_can_reach_the_main_links,
    test_search_finds_a_term,
)

# Split by measured cost (load + screenshots): chapters 2-4 are about half of it.
HALF_A = [p for p in PAGES if p in ("intro.html", "notation.html")
          or p.startswith(("chapters/02_", "chapters/03_", "chapters/04_"))]


def pytest_generate_tests(metafunc):
    parametrize_pages(metafunc, HALF_A)
