"""The live class view in a real browser: a teacher keeps it open on a phone while a learner
signs in on a tablet and answers; the page changes by itself, without reloading, asking the
hub with the ETag it holds (304 while nothing changed). And it fits a 360 px phone and a
1280 px screen."""

from pathlib import Path

import pytest

from classroom_server.db import db
from classroom_server.services import packs, practice
from classroom_server.web import live
from classroom_server.web.practice import decode_answer
from tests.browser.conftest import screenshot
from tests.conftest import TEACHER_PASSWORD, study

pytestmark = pytest.mark.browser
LIBRARY = Path(__file__).resolve().parents[2] / "content_packs" / "library"
PACK = "org.openclassroom.fractions"
SKILL = "equal-parts"
PATIENCE_MS = 15_000  # a few polls


@pytest.fixture
def fractions_class(app, school, data_dir, live_hub, monkeypatch):
    """The real Fractions pack, studied by the classes; the page polls every second here."""
    packs.import_pack(data_dir, LIBRARY / "fractions")
    study(school)
    monkeypatch.setattr(live, "POLL_SECONDS", 1)
    return live_hub


def answer(app, learner, *rights: bool) -> None:
    """Answers on Equal parts through the service the answer page uses."""
    catalogue = app.extensions["catalogue"].get().catalogue
    items = [i for i in catalogue.pack(PACK).items if i.skill == SKILL and i.type == "single_choice"]
    with db.connection_context():
        for n, right in enumerate(rights):
            item = items[n % len(items)]
            choice = next(c.id for c in item.choices if c.correct == right)
            practice.record_attempt(app.extensions["engine"], learner, PACK, item.id,
                                    decode_answer(item, {"answer": choice}), event_id=None)


def sign_in_teacher(page, base: str) -> None:
    page.goto(base + "/login/staff")
    page.get_by_label("Username").fill("tess")
    page.get_by_label("Password").fill(TEACHER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/teach/")


def sign_in_learner(page, base: str, school, name: str) -> None:
    page.goto(f"{base}/login/learner/{school.classes['pictures'].id}/{school.learners[name].id}")
    for picture in school.secrets[name]:
        page.locator(f'button[data-picture="{picture}"]').click()
    page.wait_for_url("**/learn/")


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.slow
def test_the_live_view_changes_by_itself_as_learners_work(app, school, fractions_class, browser, phone):
    from playwright.sync_api import expect  # the browser fixture skips when Playwright is missing

    base = fractions_class
    polls: list[int] = []
    phone.on("response", lambda r: polls.append(r.status) if "/live/now" in r.url else None)
    sign_in_teacher(phone, base)
    phone.goto(f"{base}/teach/classes/{school.classes['pictures'].id}/live")
    everyone = phone.locator(".live-all")
    ana = everyone.locator(f'[data-learner="{school.learners["ana"].id}"]')
    expect(ana).to_contain_text("Nothing yet")
    expect(phone.locator(".live-help")).to_contain_text("No one needs help right now.")
    phone.evaluate("window.sameDocument = true")  # gone if the page reloads

    tablet = browser.new_context(viewport={"width": 800, "height": 1280})
    try:
        sign_in_learner(tablet.new_page(), base, school, "ana")
        expect(ana).to_contain_text("Signed in, just now", timeout=PATIENCE_MS)
    finally:
        tablet.close()

    answer(app, school.learners["ana"], False, False, False)
    help_now = phone.locator(".live-help")
    expect(help_now).to_contain_text("Missed 3 answers in a row on Equal parts.", timeout=PATIENCE_MS)
    expect(ana).to_contain_text("Answering Equal parts, just now")

    answer(app, school.learners["ben"], True, True, True, True)
    ready = phone.locator(".live-ready")
    expect(ready).to_contain_text("Ben", timeout=PATIENCE_MS)
    expect(ready).to_contain_text("Now knows Equal parts")
    expect(help_now).not_to_contain_text("Ben")

    assert phone.evaluate("window.sameDocument") is True, "the page changed without reloading"
    # Unchanged polls are answered 304, changes 200. On a busy machine every poll so far may have
    # seen a change; nothing changes now, so the next poll must be a 304.
    if 304 not in polls:
        phone.wait_for_event("response", lambda r: "/live/now" in r.url and r.status == 304, timeout=PATIENCE_MS)
    assert 304 in polls and 200 in polls, polls
    assert fits_the_screen(phone), "one column of cards at 360 px, no sideways scrolling"
    screenshot(phone, "25-teacher-live")


def test_the_live_view_fits_a_wide_screen_and_works_without_javascript(app, school, fractions_class, browser):
    from playwright.sync_api import expect

    answer(app, school.learners["ana"], False, False, False)
    for javascript in (True, False):
        context = browser.new_context(viewport={"width": 1280, "height": 800}, java_script_enabled=javascript)
        try:
            page = context.new_page()
            sign_in_teacher(page, fractions_class)
            page.goto(f"{fractions_class}/teach/classes/{school.classes['pictures'].id}/live")
            expect(page.locator(".live-help")).to_contain_text("Missed 3 answers in a row on Equal parts.")
            expect(page.locator(".live-all")).to_contain_text("Ben")
            assert fits_the_screen(page)
            if not javascript:  # a plain link brings the page up to date
                answer(app, school.learners["ben"], True)
                page.get_by_role("link", name="Refresh").click()
                expect(page.locator(".live-all")).to_contain_text("Answering Equal parts, just now")
            else:
                screenshot(page, "26-teacher-live-wide")
        finally:
            context.close()
