"""Browser tests (tests/site_checks.py) on the first half of the pages, plus search and keyboard."""

from site_checks import (  # noqa: F401  (fixtures and checks collected here)
    PAGES,
    browser,
    parametrize_pages,
    pytestmark,
    server,
    test_chapter_has_launch_buttons,
    test_dark_mode_screenshot_and_opaque_figures,
    test_headings_in_order_and_images_described,
    test_keyboard_can_reach_the_main_links,
    test_page_loads_cleanly_offline,
    test_search_finds_a_term,
    test_widgets_have_state_render_and_say_where_they_are_live,
    visit,
)

# Split by measured cost (load + two screenshots): chapters 2-4 are about half of it.
HALF_A = [p for p in PAGES if p in ("intro.html", "notation.html")
          or p.startswith(("chapters/02_", "chapters/03_", "chapters/04_"))]


def pytest_generate_tests(metafunc):
    parametrize_pages(metafunc, HALF_A)
