"""#19: the feedback page shows the question it is about (its picture too), the learner's answer
and the right one, and it stays compact on a 360 px phone."""

import pytest

from classroom_server.services import packs
from tests.browser.conftest import screenshot
from tests.browser.test_learner_journeys import LIBRARY, sign_in
from tests.conftest import study

pytestmark = pytest.mark.browser
FRACTIONS = "org.openclassroom.fractions"


@pytest.fixture
def fractions(app, school, data_dir, live_hub):
    """The hub with the real Fractions pack: its questions have pictures, in stems and choices."""
    packs.import_pack(data_dir, LIBRARY / "fractions")
    study(school)
    return live_hub


def answer_wrong(page, base, item_id, fill):
    page.goto(f"{base}/learn/item/{FRACTIONS}/{item_id}")
    fill(page)
    page.get_by_role("button", name="Check my answer").click()
    page.wait_for_selector(".verdict")
    page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")


def in_view(page, selector):
    """Is the whole of the element inside the phone's screen, without scrolling?"""
    return page.evaluate("""(s) => { const r = document.querySelector(s).getBoundingClientRect();
        return r.top >= 0 && r.bottom <= window.innerHeight && r.left >= 0 && r.right <= window.innerWidth; }""",
                         selector)


def test_the_lines_a_feedback_speaks_of_are_on_the_feedback_page(app, fractions, phone, school):
    """nl-011 asks which number line shows 1/3; its choices are pictures of lines, and the worked
    solution says "Only the first line does that"."""
    base = fractions
    sign_in(phone, base, school)
    answer_wrong(phone, base, "nl-011", lambda p: p.locator('input[name=answer][value="c"]').check())
    asked = phone.locator("section.asked")
    assert "Which number line shows a dot at 1/3?" in asked.locator(".stem").inner_text()
    lines = asked.locator(".asked-choices li")
    assert lines.count() == 3, "every line of the question, in the order it was shown"
    first = lines.nth(0).locator("img").get_attribute("alt")
    assert first.startswith("Number line 0 to 1 in 3 equal parts, dot on the first")
    assert "Right answer" in lines.nth(0).inner_text() and "Your answer" in lines.nth(2).inner_text()
    assert "Your answer" not in lines.nth(0).inner_text() and "Right answer" not in lines.nth(2).inner_text()
    screenshot(phone, "13b-feedback-number-lines")
    overflow = phone.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the feedback page scrolls sideways by {overflow}px"
    height = phone.evaluate("document.documentElement.scrollHeight")
    assert in_view(phone, ".verdict") and in_view(phone, ".feedback"), "the top of the page is in view"
    assert phone.evaluate("document.activeElement.textContent") == "Next", "Enter goes on"
    assert height <= 2 * 640, f"the feedback page is {height}px tall: over two screens"


def test_the_picture_of_the_question_and_both_answers_on_a_phone(app, fractions, phone, school):
    """ep-002 asks how many equal parts a pictured bar has: a number typed."""
    base = fractions
    sign_in(phone, base, school)
    answer_wrong(phone, base, "ep-002", lambda p: p.locator("input[name=answer]").fill("5"))
    stem = phone.locator("section.asked .stem")
    assert "How many equal parts does this bar have?" in stem.inner_text()
    picture = stem.locator("img")
    assert picture.get_attribute("alt") == "A bar cut into equal parts" and picture.is_visible()
    answers = phone.locator("section.asked dl.answers")
    assert [t.strip() for t in answers.locator("dt").all_inner_texts()] == ["Your answer", "✓ Right answer"]
    assert [t.strip() for t in answers.locator("dd").all_inner_texts()] == ["5", "6"]
    screenshot(phone, "13c-feedback-number-typed")
    height = phone.evaluate("document.documentElement.scrollHeight")
    assert height <= 2 * 640, f"the feedback page is {height}px tall: over two screens"
