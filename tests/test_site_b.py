"""Browser tests (tests/site_checks.py) on every page that test_site_a.py does not check."""

from site_checks import *  # noqa: F403  (the marker, fixtures and per-page checks)
from site_checks import PAGES, parametrize_pages
from test_site_a import HALF_A

# The complement of HALF_A, so that no page of PAGES (every document of _toc.yml, see
# tests/common.py toc_pages) is left out; tests/test_book.py checks that the documents built are
# exactly those of _toc.yml.
HALF_B = [p for p in PAGES if p not in HALF_A]


def pytest_generate_tests(metafunc):
    parametrize_pages(metafunc, HALF_B)

