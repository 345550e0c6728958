"""The Content-Security-Policy in a real browser (issue #20, finding 13): learner, teacher and
admin pages load and work in Chromium with the policy enforced, and nothing on them is blocked
(no inline script, handler or style left behind)."""

import json

import pytest

from classroom_server.web.headers import PAGE_POLICY
from tests.browser import test_learner_journeys as journeys
from tests.browser.test_learner_journeys import PACK, attempts, fill_answer, sign_in
from tests.conftest import ADMIN_PASSWORD, TEACHER_PASSWORD

pytestmark = pytest.mark.browser
hub_with_pack = journeys.hub_with_pack  # the fixture: a live hub with a small pack

# Reports each violation to the test, from every page the context opens (before any of its scripts).
WATCH = """
window.cspSeen = [];
document.addEventListener('securitypolicyviolation', function (e) {
  var report = [e.violatedDirective, e.blockedURI, e.sourceFile + ':' + e.lineNumber].join(' ');
  window.cspSeen.push(report);
  window.cspViolation(report);
});
"""


class Watched:
    def __init__(self, browser) -> None:  # type: ignore[no-untyped-def]
        self.violations: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(viewport={"width": 360, "height": 640})
        self.context.expose_function("cspViolation", lambda report: self.violations.append(report))
        self.context.add_init_script(WATCH)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _console(self, message) -> None:  # type: ignore[no-untyped-def]
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.violations.append(message.text)

    def goto(self, url: str):  # type: ignore[no-untyped-def]
        response = self.page.goto(url)
        assert response is not None and response.headers.get("content-security-policy") == PAGE_POLICY, url
        return response

    def assert_clean(self) -> None:
        self.page.wait_for_load_state("load")
        assert self.page.evaluate("window.cspSeen || []") == [], self.page.url
        assert self.violations == [], self.violations
        assert self.errors == [], self.errors


@pytest.fixture
def watched(browser):  # type: ignore[no-untyped-def]
    watcher = Watched(browser)
    yield watcher
    watcher.context.close()


def _sign_in_staff(watched, base, username, password):  # type: ignore[no-untyped-def]
    page = watched.page
    watched.goto(base + "/login/staff")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_the_learner_signs_in_practises_and_answers_under_the_policy(app, hub_with_pack, watched, school):
    base, page = hub_with_pack, watched.page
    watched.goto(base + "/login")
    sign_in(page, base, school)  # the picture password
    watched.assert_clean()
    item = next(i for i in app.extensions["catalogue"].get().catalogue.pack(PACK).items if i.type == "single_choice")
    url = f"{base}/learn/item/{PACK}/{item.id}"
    watched.goto(url)
    # practice.js ran: it noted the learner signed in on this device, and shows a hint in place.
    page.wait_for_function("() => localStorage.getItem('classroom-learner') === document.body.dataset.learner")
    fill_answer(page, item)
    page.get_by_role("link", name="Show a hint").click()
    assert page.get_by_text("Hint 1").is_visible() and page.url == url, "the hint came without leaving the page"
    page.get_by_role("button", name="Check my answer").click()  # sent by the answer queue (XHR)
    page.wait_for_selector(".verdict")
    assert len(attempts()) == 1 and json.loads(attempts()[0].payload)["hints_used"] == 1
    watched.assert_clean()
    for path in ("/learn/offline", "/learn/skills", "/learn/goals", "/learn/"):
        watched.goto(base + path)
        watched.assert_clean()
    page.get_by_role("button", name="Sign out").click()  # practice.js forgets the kept pages first
    page.wait_for_url("**/login**")
    watched.assert_clean()


def test_the_watch_sees_what_the_policy_blocks(app, live_hub, watched):
    """The check above would notice: an inline script and an inline style are refused, reported."""
    watched.goto(live_hub + "/login")
    watched.page.evaluate("""() => {
        const s = document.createElement('script'); s.textContent = 'window.ran = true'; document.body.appendChild(s);
        document.body.setAttribute('style', 'color: red');
    }""")
    watched.page.wait_for_function("() => window.cspSeen.length >= 2")
    assert watched.page.evaluate("window.ran === undefined"), "an inline script ran despite the policy"
    seen = watched.page.evaluate("window.cspSeen")
    assert any(v.startswith("script-src") for v in seen) and any(v.startswith("style-src") for v in seen), seen
    watched.violations.clear()


def test_a_teacher_uses_the_class_pages_under_the_policy(app, hub_with_pack, watched, school):
    base, page = hub_with_pack, watched.page
    _sign_in_staff(watched, base, "tess", TEACHER_PASSWORD)
    page.wait_for_url("**/teach/")
    classroom, ana = school.classes["pictures"].id, school.learners["ana"].id
    watched.goto(f"{base}/teach/classes/{classroom}")
    page.get_by_label("Name").fill("Zola")
    page.get_by_role("button", name="Add learner").click()
    page.wait_for_url(f"**/teach/classes/{classroom}/learners")
    for path in (f"/teach/classes/{classroom}", f"/teach/classes/{classroom}/progress",
                 f"/teach/classes/{classroom}/learners/{ana}", f"/teach/classes/{classroom}/assignment"):
        watched.goto(base + path)
        watched.assert_clean()


def test_the_admin_pages_work_under_the_policy(app, hub_with_pack, watched, school):
    base, page = hub_with_pack, watched.page
    _sign_in_staff(watched, base, "admin", ADMIN_PASSWORD)
    page.wait_for_url("**/admin/")
    watched.assert_clean()
    for path in ("/admin/packs/", "/admin/sync/", f"/admin/packs/{PACK}/remove", "/admin/"):
        watched.goto(base + path)
        watched.assert_clean()
