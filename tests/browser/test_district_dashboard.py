"""District staff in a real Chromium against the district on a real PostgreSQL under waitress:
sign in, read the schools and their hubs, register a hub (its code and QR code shown once),
read a bundle carried in on a stick and download its answer, revoke a hub; and a school's staff
who see only their school. Screenshots for the district guide are taken here."""

from __future__ import annotations

import re

import pytest

from classroom_server import clock
from classroom_server.db import db
from classroom_server.services import bundles, events
from classroom_server.services import sync as hub_sync
from sync.district import service, staff
from sync.district.app import create_district_app
from tests.browser.conftest import screenshot
from tests.conftest import start_waitress, stop_waitress
from tests.sync.conftest import enrolled, postgres_url  # noqa: F401 - the fixture, for this module
from tests.test_reports import FIRST, TODAY, at, history, hub, pack_dir  # noqa: F401 (fixtures)

PASSWORD = "district-staff-pw"


@pytest.fixture
def live_district(postgres_url):  # type: ignore[no-untyped-def]  # noqa: F811
    application = create_district_app(postgres_url)
    server, thread = start_waitress(application)
    application.base_url = f"http://127.0.0.1:{server.effective_port}"
    yield application
    stop_waitress(server, thread)
    database = application.extensions["district_database"]
    if not database.is_closed():
        database.close()


def _sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/dashboard/")
    assert "/dashboard/sign-in" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/dashboard/")


def test_district_staff_read_the_schools_register_read_a_stick_and_revoke(browser, app, school, live_district,
                                                                          tmp_path):
    enrolled(app, live_district)
    database = live_district.extensions["district_database"]
    with database.connection_context():
        service.add_school("Riverside School")
        staff.add("dana", "Dana Mwangi", PASSWORD, None)
        staff.add("sam", "Sam Osei", PASSWORD, service.school_named("Riverside School"))
    with db.connection_context():
        events.record("learner.signed_in", {"method": "pin"}, learner_uid=school.learners["cleo"].uid)
        [bundle] = bundles.export(tmp_path).paths
    base = live_district.base_url
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    try:
        _sign_in(page, base, "dana")
        assert page.locator("h2", has_text="Hillside Primary").is_visible()
        assert page.locator("td", has_text="Room 4").is_visible()

        page.select_option("select[name=school]", label="Riverside School")
        page.fill("input[name=name]", "Room 9")
        page.click("text=Register the hub")
        code = page.locator("#enrolment-code").inner_text()
        assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code)
        assert page.locator("svg.qr").is_visible()
        screenshot(page, "district-hub-code")

        page.goto(base + "/dashboard/bundles")
        page.set_input_files("input[name=bundles]", str(bundle))
        page.click("text=Read the bundles")
        assert page.locator("#results li", has_text="events taken").first.is_visible()
        with page.expect_download() as caught:
            page.click("text=Download the answer bundle for the stick")
        answer = tmp_path / "answer" / caught.value.suggested_filename
        answer.parent.mkdir()
        caught.value.save_as(answer)
        with db.connection_context():
            bundles.read_back(answer)
            assert hub_sync.status().waiting == 0
        screenshot(page, "district-bundles")

        page.goto(base + "/dashboard/")
        assert page.locator("td", has_text="by USB stick").is_visible()
        screenshot(page, "district-overview")
        page.locator("tr", has_text="Room 9").locator("text=Revoke…").click()
        page.click("button:has-text('Revoke the hub')")
        assert page.locator(".flash", has_text="Room 9").is_visible()
        assert page.locator("tr.hub-revoked", has_text="Room 9").is_visible()

        # A school's staff: their school only, on a phone, nothing to act on for the district.
        phone = browser.new_context(viewport={"width": 320, "height": 640}, is_mobile=True).new_page()
        _sign_in(phone, base, "sam")
        assert phone.locator("h2", has_text="Riverside School").is_visible()
        assert phone.locator("h2", has_text="Hillside Primary").count() == 0
        assert phone.locator("text=Register the hub").count() == 0
        wide = phone.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= 320, f"the overview is {wide} px wide on a 320 px screen"
        phone.context.close()
    finally:
        context.close()


def test_district_staff_follow_growth_from_every_school_down_to_a_learner(browser, app, history, live_district):  # noqa: F811 (a fixture)
    """The history of tests/test_reports.py (Ana and Ben, a term of mastery and resets), synced:
    the growth pages from the district down to one learner, who is moved to another school, on a
    wide screen and on a phone."""
    from sync.district import projections

    transport = enrolled(app, live_district)
    with db.connection_context(), clock.pretend(at(TODAY, 16)):
        assert hub_sync.run(transport).pushed > 0
    database = live_district.extensions["district_database"]
    with database.connection_context():
        assert [r.problem for r in projections.recompute_stale()] == [None]
        staff.add("dana", "Dana Mwangi", PASSWORD, None)
        service.publish(service.add_school("Riverside School"),
                        [{"kind": "class", "sourcedId": "c-5b", "status": "active", "title": "Class 5B"}])
    base = live_district.base_url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        _sign_in(page, base, "dana")
        page.click("nav.dashboard-nav >> text=Growth")
        page.check("input[name=period][value=since]")
        page.fill("input[name=since]", FIRST.isoformat())
        page.click("button:has-text('Show')")
        page.wait_for_url(re.compile(r".*since=" + FIRST.isoformat()))
        assert page.locator("svg.chart").is_visible()
        assert page.locator("#growth-table th", has_text="Hillside Primary").is_visible()
        page.click("#growth-table >> text=Hillside Primary")
        assert page.locator("h1", has_text="Hillside Primary").is_visible()
        screenshot(page, "district-growth-school")
        page.click("#growth-table >> text=Sunflowers")
        assert page.locator("h1", has_text="Sunflowers").is_visible()
        assert page.locator("#mastery-grid td.c-mastered").count() >= 1
        assert page.locator(".big-figure").is_visible()
        screenshot(page, "district-growth-class")
        page.click("#growth-table >> text=Ana")
        assert page.locator("h1", has_text="Ana").is_visible()
        assert page.locator("#competencies tbody tr").count() == 3
        page.emulate_media(media="print")
        assert not page.locator("nav.dashboard-nav").is_visible()  # printed: the numbers, not the menus
        class_page = page.url
        page.emulate_media(media="screen")

        # Ana changes schools: the page says what will happen, then it is done.
        page.select_option("select[name=to]", label="Riverside School — Class 5B")
        page.click("button:has-text('Move…')")
        assert page.locator("h1", has_text="Move Ana to Riverside School?").is_visible()
        screenshot(page, "district-move-learner")
        page.click("button:has-text('Move Ana')")
        assert page.locator(".flash", has_text="Moved Ana to Riverside School, in Class 5B.").is_visible()
        assert page.locator("#move", has_text="Ana is at Riverside School.").is_visible()

        phone = browser.new_context(viewport={"width": 320, "height": 640}, is_mobile=True).new_page()
        _sign_in(phone, base, "dana")
        phone.goto(class_page)
        wide = phone.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= 320, f"a learner's growth page is {wide} px wide on a 320 px screen"
        phone.select_option("select[name=to]", label="Hillside Primary")  # moving back: the same way
        phone.click("button:has-text('Move…')")
        assert phone.locator("button:has-text('Move Ana')").is_visible()
        assert phone.evaluate("() => document.documentElement.scrollWidth") <= 320
        phone.goto(base + "/dashboard/growth")
        assert phone.evaluate("() => document.documentElement.scrollWidth") <= 320
        phone.context.close()
    finally:
        context.close()
