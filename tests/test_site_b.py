"""Browser tests (tests/site_checks.py) on every page that test_site_a.py does not check."""

from site_checks import *  # noqa: F403  (the marker, fixtures and per-page checks)
from site_checks import PAGES, parametrize_pages
from test_site_a import HALF_A

HALF_B = [p for p in PAGES if p not in HALF_A]  # so that no page is left out


def pytest_generate_tests(metafunc):
    parametrize_pages(metafunc, HALF_B)


def test_the_two_halves_cover_every_page():
    assert sorted(HALF_A + HALF_B) == sorted(PAGES) and set(HALF_A).isdisjoint(HALF_B)
    assert len(HALF_A) >= 3 and len(HALF_B) >= 3
