"""The mastery grid is the page's, not a box's (#18): at 1280 px a class of 16 learners by the 13
skills of the fractions pack is read whole, with the skill names kept in view while the page
scrolls, and printed on A4 landscape every column fits the paper and the header repeats.

Before: the grid sat in a fixed box (75% of the screen's height, scrolling both ways) showing
about 9 of 13 skills and 8 to 11 of 16 learners, and printing cut columns and rows."""

import re
from pathlib import Path

import pytest

from classroom_server.db import db
from classroom_server.services import accounts, packs
from tests.browser.conftest import screenshot
from tests.conftest import TEACHER_PASSWORD, study

pytestmark = pytest.mark.browser
LIBRARY = Path(__file__).resolve().parents[2] / "content_packs" / "library"
A4_LANDSCAPE_CSS_PX = round((297 - 2 * 10) / 25.4 * 96)  # the page's width less its margins


@pytest.fixture
def big_class(app, school, data_dir, live_hub):
    packs.import_pack(data_dir, LIBRARY / "fractions")
    study(school, "org.openclassroom.fractions", classes=("pictures",))
    with db.connection_context():
        for n in range(14):  # 16 learners with Ana and Ben
            accounts.create_learner(school.classes["pictures"], f"Learner {n + 1:02d}", "green",
                                    ["sun", "moon", "star"], school.teachers["tess"])
    return live_hub


def open_grid(browser, hub, school, **context):  # type: ignore[no-untyped-def]
    page = browser.new_context(**context).new_page()
    page.goto(hub + "/login/staff")
    page.get_by_label("Username").fill("tess")
    page.get_by_label("Password").fill(TEACHER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/teach/")
    page.goto(f"{hub}/teach/classes/{school.classes['pictures'].id}/progress")
    return page


def test_the_whole_grid_is_read_at_1280_px_with_its_header_in_view(browser, big_class, school):
    page = open_grid(browser, big_class, school, viewport={"width": 1280, "height": 800})
    table = page.locator("table.grid")
    assert table.locator("tbody tr").count() == 16 and table.locator("thead th").count() == 14
    box = page.locator(".grid-box")
    assert box.evaluate("b => b.scrollWidth <= b.clientWidth && b.scrollHeight <= b.clientHeight + 1"), \
        "no scrolling inside a box"
    right = table.evaluate("t => t.getBoundingClientRect().right")
    assert right <= 1280 and page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "24-teacher-grid-wide")
    # the last learner's row scrolled into view: the skill names are still on the screen
    table.locator("tbody tr").last.scroll_into_view_if_needed()
    head = table.locator("thead th").nth(1).bounding_box()
    assert head is not None and 0 <= head["y"] < 800
    page.context.close()


def test_the_grid_prints_on_a4_landscape_with_every_column(browser, big_class, school):
    page = open_grid(browser, big_class, school, viewport={"width": A4_LANDSCAPE_CSS_PX, "height": 700})
    page.emulate_media(media="print")
    table = page.locator("table.grid")
    assert table.evaluate("t => t.getBoundingClientRect().right") <= A4_LANDSCAPE_CSS_PX
    assert page.locator(".help-section").is_hidden() and page.locator("header.top").is_hidden()
    assert table.evaluate("t => getComputedStyle(t.tHead).display") == "table-header-group"  # repeats on each page
    pdf = page.pdf(prefer_css_page_size=True)
    sizes = {(round(float(w)), round(float(h))) for w, h in re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)}
    assert sizes == {(842, 595)}, sizes  # A4 landscape, in points, on every page
    page.context.close()
