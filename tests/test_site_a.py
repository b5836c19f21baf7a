"""Browser tests (tests/site_checks.py) on the first half of the pages, plus search and keyboard."""

from site_checks import *  # noqa: F403  (the marker, fixtures and per-page checks)
from site_checks import (  # noqa: F401  (page-independent checks, collected here once)
    PAGES,
    parametrize_pages,
    test_keyboard_can_reach_the_main_links,
    test_search_finds_a_term,
)

# Split by measured cost per page (load, screenshots, axe; seconds of one worker, make test at
# 00:20 on 2026-12-02): intro 5, notation 13, ch2 16, ch3 17, ch4 36, ch8 20 here (107);
# ch1 22, ch5 13, ch6 22, ch7 13, ch9 25, errata 13 in test_site_b.py (108).
HALF_A = [p for p in PAGES if p in ("intro.html", "notation.html")
          or p.startswith(("chapters/02_", "chapters/03_", "chapters/04_", "chapters/08_"))]


def pytest_generate_tests(metafunc):
    parametrize_pages(metafunc, HALF_A)
