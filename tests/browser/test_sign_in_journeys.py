"""First real-browser journeys: signing in as a learner and a teacher, and being kept out."""

import pytest

from tests.browser.conftest import screenshot
from tests.conftest import TEACHER_PASSWORD

pytestmark = pytest.mark.browser


def test_learner_signs_in_with_the_picture_password_on_a_phone(live_hub, phone, school):
    phone.goto(live_hub + "/")
    screenshot(phone, "01-who-are-you")
    phone.get_by_role("link", name="I am a learner").click()
    phone.get_by_role("link", name="Sunflowers").click()
    phone.get_by_role("link", name="Ana").click()
    screenshot(phone, "02-picture-password")
    posts: list[str] = []
    phone.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    dots = phone.locator(".dots")
    for n, picture in enumerate(school.secrets["ana"]):
        phone.locator(f'button[data-picture="{picture}"]').click()
        if n < 2:  # the first taps stay on the device: a dot fills and says so
            assert phone.locator(".dot.on").count() == n + 1
            assert dots.get_attribute("aria-label") == f"Pictures chosen: {n + 1} of 3"
    phone.wait_for_url("**/learn/")
    assert len(posts) == 1, posts  # one request to sign in, not one a tap (#21)
    assert phone.get_by_role("heading", name="Hello, Ana!").is_visible()
    screenshot(phone, "03-learner-home")
    # nothing on the page scrolls sideways at 360 px
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_wrong_picture_gets_a_friendly_message(live_hub, phone, school):
    classroom, ana = school.classes["pictures"], school.learners["ana"]
    phone.goto(f"{live_hub}/login/learner/{classroom.id}/{ana.id}")
    wrong = [p for p in ("house", "boat", "apple") if p not in school.secrets["ana"]][0]
    for _ in range(3):
        phone.locator(f'button[data-picture="{wrong}"]').click()
    assert "That did not match" in phone.locator("#login-error").inner_text()


def test_the_picture_password_works_without_javascript(live_hub, browser, school):
    """Each tap posts the pictures chosen so far, and the third signs in."""
    context = browser.new_context(viewport={"width": 360, "height": 640}, java_script_enabled=False)
    page = context.new_page()
    try:
        classroom, ana = school.classes["pictures"], school.learners["ana"]
        page.goto(f"{live_hub}/login/learner/{classroom.id}/{ana.id}")
        posts: list[str] = []
        page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
        for n, picture in enumerate(school.secrets["ana"]):
            page.locator(f'button[data-picture="{picture}"]').click()
            if n < 2:
                page.wait_for_load_state()
                assert page.locator(".dot.on").count() == n + 1
        page.wait_for_url("**/learn/")
        assert len(posts) == 3
    finally:
        context.close()


def test_teacher_signs_in_and_sees_their_class(live_hub, phone):
    phone.goto(live_hub + "/login/staff")
    phone.get_by_label("Username").fill("tess")
    phone.get_by_label("Password").fill(TEACHER_PASSWORD)
    phone.get_by_role("button", name="Sign in").click()
    phone.wait_for_url("**/teach/")
    assert phone.get_by_role("link", name="Sunflowers").is_visible()
    phone.get_by_role("link", name="Sunflowers").click()
    assert phone.get_by_text("2 learners").is_visible()
    screenshot(phone, "04-teacher-class")


def test_a_learner_cannot_open_a_teacher_page(live_hub, phone, school):
    classroom, cleo = school.classes["pins"], school.learners["cleo"]
    phone.goto(f"{live_hub}/login/learner/{classroom.id}/{cleo.id}")
    phone.get_by_label("Your PIN").fill(school.secrets["cleo"])
    phone.get_by_role("button", name="Go").click()
    phone.wait_for_url("**/learn/")
    response = phone.goto(f"{live_hub}/teach/classes/{classroom.id}")
    assert response.status == 403
    assert "This page is not for your account." in phone.content()


def test_a_teacher_cannot_open_another_teachers_class(live_hub, phone, school):
    phone.goto(live_hub + "/login/staff")
    phone.get_by_label("Username").fill("tom")
    phone.get_by_label("Password").fill(TEACHER_PASSWORD)
    phone.get_by_role("button", name="Sign in").click()
    phone.wait_for_url("**/teach/")
    response = phone.goto(f"{live_hub}/teach/classes/{school.classes['pictures'].id}")
    assert response.status == 404
    assert "Sunflowers" not in phone.content()
