"""Browser tests (tests/site_checks.py) on every page that test_site_a.py does not check."""

from site_checks import (  # noqa: F401  (fixtures and checks collected here)
    PAGES,
    browser,
    parametrize_pages,
    pytestmark,
    server,
    test_chapter_has_launch_buttons,
    test_dark_mode_screenshot_and_opaque_figures,
    test_headings_in_order_and_images_described,
    test_page_loads_cleanly_offline,
    test_widgets_have_state_render_and_say_where_they_are_live,
    visit,
)
from test_site_a import HALF_A

HALF_B = [p for p in PAGES if p not in HALF_A]  # so that no page is left out


def pytest_generate_tests(metafunc):
    parametrize_pages(metafunc, HALF_B)


def test_the_two_halves_cover_every_page():
    assert sorted(HALF_A + HALF_B) == sorted(PAGES) and set(HALF_A).isdisjoint(HALF_B)
    assert len(HALF_A) >= 3 and len(HALF_B) >= 3
