"""A teacher's journey in a real browser on a small phone: who needs help, the mastery grid,
a learner's page, and overrides (mark mastered, pause and undo) that change the learner's path."""

import json
from pathlib import Path

import pytest

from classroom_server.db import db
from classroom_server.models import Event
from classroom_server.services import packs, practice
from classroom_server.services.learning import qualify
from classroom_server.web.practice import decode_answer
from tests.browser.conftest import screenshot
from tests.conftest import TEACHER_PASSWORD

pytestmark = pytest.mark.browser
LIBRARY = Path(__file__).resolve().parents[2] / "content_packs" / "library"
PACK = "org.openclassroom.fractions"
SKILL = "equal-parts"


def answer(app, learner, count: int, right: bool) -> None:
    """Answers on the first skill through the same service the answer page uses."""
    catalogue = app.extensions["catalogue"].get().catalogue
    items = [i for i in catalogue.pack(PACK).items if i.skill == SKILL and i.type == "single_choice"]
    with db.connection_context():
        for n in range(count):
            item = items[n % len(items)]
            choice = next(c.id for c in item.choices if c.correct == right)
            practice.record_attempt(app.extensions["engine"], learner, PACK, item.id,
                                    decode_answer(item, {"answer": choice}), event_id=None)


@pytest.fixture
def busy_class(app, school, data_dir, live_hub):
    """The real Fractions pack; Ana keeps missing the first skill, Ben is getting it."""
    packs.import_pack(data_dir, LIBRARY / "fractions")
    answer(app, school.learners["ana"], 3, right=False)
    answer(app, school.learners["ben"], 4, right=True)
    return live_hub


def overrides() -> list[dict]:
    with db.connection_context():
        return [json.loads(e.payload) for e in Event.select().where(Event.kind == "override").order_by(Event.id)]


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.slow
def test_teacher_sees_who_needs_help_and_acts_on_a_phone(app, school, busy_class, phone):
    from playwright.sync_api import expect  # the browser fixture skips when Playwright is missing

    phone.goto(busy_class + "/login/staff")
    phone.get_by_label("Username").fill("tess")
    phone.get_by_label("Password").fill(TEACHER_PASSWORD)
    phone.get_by_role("button", name="Sign in").click()
    phone.wait_for_url("**/teach/")
    phone.get_by_role("link", name="Sunflowers").click()
    # a new class studies nothing yet: the teacher gives it its course, a band of the pack's grades
    expect(phone.get_by_text("This class studies no pack yet")).to_be_visible()
    phone.get_by_role("link", name="Choose what the class studies").click()
    course = phone.locator("fieldset.course", has_text="Fractions")
    course.get_by_role("checkbox").check()
    course.locator("select[name^=from-]").select_option(label="Grade 3")
    course.locator("select[name^=to-]").select_option(label="Grade 4")
    phone.get_by_role("button", name="Save").click()
    expect(phone.get_by_text("Saved. The class studies these packs.")).to_be_visible()
    expect(phone.locator("fieldset.course.chosen")).to_contain_text("12 skills of 13")
    assert fits_the_screen(phone)
    screenshot(phone, "19-teacher-courses")
    phone.get_by_role("link", name="Sunflowers").click()
    expect(phone.locator(".studies")).to_contain_text("Grade 3 to Grade 4")
    phone.get_by_role("link", name="See progress and who needs help").click()
    phone.wait_for_url("**/progress")

    help_now = phone.locator(".help-now")
    assert "Ana" in help_now.inner_text() and "Missed 3 answers in a row." in help_now.inner_text()
    assert "Ben" not in help_now.inner_text()
    assert fits_the_screen(phone), "the page itself must not scroll sideways at 360 px"
    grid = phone.locator(".grid-box").first
    assert grid.evaluate("box => box.scrollWidth > box.clientWidth"), "the grid scrolls in its own box"
    screenshot(phone, "20-teacher-progress")

    help_now.get_by_role("link", name="Ana").click()
    phone.wait_for_url("**/learners/*")
    stuck = phone.locator(f'[id="skill-{PACK}-{SKILL}"]')
    assert "Needs help" in stuck.inner_text()
    assert fits_the_screen(phone)
    screenshot(phone, "21-teacher-learner")

    stuck.get_by_role("button", name="Mark mastered").click()
    expect(phone.get_by_text("is marked as mastered for Ana")).to_be_visible()
    expect(phone.get_by_role("button", name="Undo the mark")).to_be_visible()
    expect(phone.locator(f'[id="skill-{PACK}-{SKILL}"]')).to_contain_text("Mastered")
    screenshot(phone, "22-teacher-marked-mastered")

    phone.get_by_role("button", name="Pause all practice").click()
    expect(phone.get_by_text("Practice is paused: nothing is offered to this learner.")).to_be_visible()
    screenshot(phone, "23-teacher-paused")
    phone.get_by_role("button", name="Undo: resume").click()
    expect(phone.get_by_text("Practice is back on for Ana.")).to_be_visible()
    expect(phone.get_by_text("Next on their path")).to_be_visible()

    assert overrides() == [
        {"pack": PACK, "skill": SKILL, "action": "mark_mastered"},
        {"pack": None, "skill": None, "action": "pause"},
        {"pack": None, "skill": None, "action": "resume"},
    ]
    with db.connection_context():
        with app.extensions["engine"].reading() as snap:
            assert snap.state.peek(school.learners["ana"].uid, qualify(PACK, SKILL)).state == "mastered"
            assert not snap.state.activity[school.learners["ana"].uid].paused

    phone.goto(busy_class + "/teach/classes/%d/progress" % school.classes["pictures"].id)
    expect(phone.locator(".help-now")).to_contain_text("No one is stuck right now.")


def test_the_admin_pages_fit_a_320_px_phone(app, school, busy_class, browser):
    from tests.conftest import ADMIN_PASSWORD

    context = browser.new_context(viewport={"width": 320, "height": 568})
    page = context.new_page()
    page.goto(busy_class + "/login/staff")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/")
    assert fits_the_screen(page), "the hub facts (version and schema) push the admin page sideways"
    page.get_by_role("link", name="Content packs").click()
    page.wait_for_url("**/admin/packs/")  # the new page, loaded: not the old one going away
    page.wait_for_load_state()
    assert fits_the_screen(page)
    for path in ("/admin/", "/admin/sync/"):
        page.goto(busy_class + path)
        assert fits_the_screen(page), path
        # Each fact gets the width of the screen, not a sliver beside a long label.
        narrowest = page.evaluate("Math.min(...[...document.querySelectorAll('.facts dd')]"
                                  ".map(d => d.getBoundingClientRect().width))")
        assert narrowest > 200, f"{path}: a fact is squeezed to {narrowest} px"
    context.close()
