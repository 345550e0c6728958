"""Reports in a real browser (#18, item 7): the family report prints on one A4 page, and the
reports fit a 360 px phone (tables slide sideways in their box; the charts shrink to the screen).
The family report's picture for the guide is taken here."""

import datetime as dt
import re
from pathlib import Path

import pytest

from classroom_server import clock
from classroom_server.db import db
from classroom_server.services import packs, teaching
from classroom_server.services.learning import qualify
from tests.browser.conftest import screenshot
from tests.conftest import TEACHER_PASSWORD, study
from tests.test_reports import answer, items_of

pytestmark = pytest.mark.browser
LIBRARY = Path(__file__).resolve().parents[2] / "content_packs" / "library"
NUMBERS, FRACTIONS = "org.openclassroom.numbers", "org.openclassroom.fractions"


@pytest.fixture
def reports_hub(app, school, data_dir, live_hub):
    """Ana studies both bundled packs (23 skills): 11 she can do (12 marked mastered, one of them
    missed since), 5 she is working on (that one to review, 4 in progress); Ben has answered
    nothing."""
    start = dt.datetime.now().astimezone() - dt.timedelta(days=20)
    with clock.pretend(start):
        for name in ("numbers", "fractions"):
            packs.import_pack(data_dir, LIBRARY / name)
        study(school, NUMBERS, FRACTIONS)
    catalogue = app.extensions["catalogue"].get().catalogue
    numbers = [s.id for s in catalogue.pack(NUMBERS).skills]
    fractions = [s.id for s in catalogue.pack(FRACTIONS).skills]
    ana, tess, classroom = school.learners["ana"], school.teachers["tess"], school.classes["pictures"]
    marks = [(NUMBERS, s) for s in numbers[:8]] + [(FRACTIONS, s) for s in fractions[:4]]
    with db.connection_context():
        for n, (pack_id, skill_id) in enumerate(marks):
            with clock.pretend(start + dt.timedelta(days=n)):
                teaching.override(app.extensions["engine"], tess, classroom, ana, "mark_mastered",
                                  qualify(pack_id, skill_id))
    moment = start + dt.timedelta(days=14)
    answer(app, ana, items_of(app, numbers[7], NUMBERS)[0], moment, right=False, pack_id=NUMBERS)  # to review
    for n, skill_id in enumerate(fractions[4:8]):
        answer(app, ana, items_of(app, skill_id, FRACTIONS)[0], moment + dt.timedelta(minutes=n + 1), right=False,
               pack_id=FRACTIONS)
    return live_hub


def sign_in(page, hub) -> None:  # type: ignore[no-untyped-def]
    page.goto(hub + "/login/staff")
    page.get_by_label("Username").fill("tess")
    page.get_by_label("Password").fill(TEACHER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/teach/")


def test_the_family_report_prints_on_one_a4_page(browser, reports_hub, school):
    context = browser.new_context(viewport={"width": 360, "height": 640}, device_scale_factor=1, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, reports_hub)
        base = f"{reports_hub}/teach/classes/{school.classes['pictures'].id}/reports"
        page.goto(f"{base}/learners/{school.learners['ana'].id}/family?language=fr")
        report = page.locator("article.family-report")
        assert report.get_attribute("lang") == "fr"
        assert report.locator(".family-skills li").count() == 16  # 11 she can do, 5 she works on
        assert report.locator(".family-help li").count() == 4  # at most four suggestions: one page
        assert page.get_by_role("button", name="Print").is_visible()  # print.js shows it
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, "25-family-report")
        pdf = page.pdf(format="A4", prefer_css_page_size=True, print_background=True)
        pages = re.findall(rb"/Type\s*/Page\b", pdf)
        sizes = [(float(w), float(h)) for w, h in re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)]
        assert len(pages) == 1, f"{len(pages)} pages"
        assert sizes and all(abs(w - 595.3) < 1.5 and abs(h - 841.9) < 1.5 for w, h in sizes), sizes  # A4, points
        page.emulate_media(media="print")
        assert page.locator("header.top").is_hidden() and page.get_by_role("button", name="Print").is_hidden()
        assert report.is_visible()
    finally:
        context.close()


def test_the_reports_fit_a_360_px_phone(browser, reports_hub, school):
    context = browser.new_context(viewport={"width": 360, "height": 640}, device_scale_factor=1, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, reports_hub)
        base = f"{reports_hub}/teach/classes/{school.classes['pictures'].id}/reports"
        for path in ("", f"/learners/{school.learners['ana'].id}", "?period=year"):
            page.goto(base + path)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
            for chart in page.locator("svg.chart").all():
                box = chart.bounding_box()
                assert box is not None and box["width"] <= 360 and box["height"] > 50, (path, box)
            assert page.locator("table.report-table").count() >= 1
        page.goto(base)
        assert page.locator("#growth-table tbody tr").count() == 2
        assert page.locator("svg.chart").count() == 2  # one per pack
    finally:
        context.close()
