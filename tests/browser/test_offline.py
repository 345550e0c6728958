"""Lessons and worked examples without Wi-Fi (#19), in a real browser against a real hub: the path's
worked example and audio lesson are kept on the device with the items around them; offline, the
learner reads and listens, presses Done, and goes on to the next kept activity; when the hub is
back, exactly those events are recorded, once each, in order. (The items' own offline journey is
test_learner_journeys.py's.)"""

import json

import pytest

from classroom_server.db import db
from classroom_server.models import Event
from classroom_server.services import packs, practice
from content_packs.testing import edit_json, make_pack
from tests.browser.test_learner_journeys import (
    CACHED_JS,
    KEPT_AHEAD_JS,
    PATIENCE_MS,
    _wait_for_service_worker,
    current_item,
    fill_answer,
    sign_in,
    wait_until,
)
from tests.conftest import study
from tests.test_lesson_modalities import struggle

pytestmark = pytest.mark.browser
PACK = "org.example.offline"
KINDS = ("attempt", "worked_example_viewed", "lesson_viewed")
PLAYS_JS = """() => new Promise((done, fail) => {
    const audio = document.querySelector('main .listen audio');
    audio.addEventListener('loadedmetadata', () => done(audio.duration), {once: true});
    audio.addEventListener('error', () => fail(new Error('media error ' + (audio.error && audio.error.code))),
                           {once: true});
    audio.preload = 'metadata'; audio.load();
})"""


@pytest.fixture
def hub_with_lessons(app, school, data_dir, tmp_path, live_hub):
    """Three skills open at once, each with a text lesson and an audio lesson (a recording)."""
    src = make_pack(tmp_path / "pack", skills=3, items_per_skill=6, pack_id=PACK, media=("audio",))

    def all_open(manifest):
        for skill in manifest["skills"]:
            skill["prerequisites"] = []
    edit_json(src / "pack.json", all_open)
    packs.import_pack(data_dir, src)
    study(school)
    live_hub.src = src
    return live_hub


def _struggle_until(app, learner, skill, kind):
    return struggle(app, learner, PACK, skill, "en", kind)


def _events_after(marker, learner_uid):
    with db.connection_context():
        return [(e.kind, e.event_id, json.loads(e.payload)) for e in
                Event.select().where(Event.id > marker, Event.kind.in_(KINDS), Event.learner_uid == learner_uid)
                .order_by(Event.id)]


def _last_event_id():
    with db.connection_context():
        last = Event.select().order_by(Event.id.desc()).first()
        return last.id if last else 0


def _queue(page, uid):
    return page.evaluate(f"JSON.parse(localStorage.getItem('classroom-answer-queue-{uid}') || '[]')")


@pytest.mark.slow
def test_a_kept_worked_example_and_audio_lesson_are_done_offline_and_recorded_once_in_order(
        app, hub_with_lessons, browser, school):
    base, ana = hub_with_lessons, school.learners["ana"]
    # The formative loop, online: skill 1 struggled with until its worked example is offered; skill 2
    # read as text, then struggled with until its lesson in another way (the recording) is offered.
    example = _struggle_until(app, ana, "skill-0001", "worked_example")
    with db.connection_context():
        practice.record_learning_step(app.extensions["engine"], ana, "lesson_viewed", {
            "pack": PACK, "resource": "skill-0002-read-en", "skill": "skill-0002", "modality": "text"})
    lesson = _struggle_until(app, ana, "skill-0002", "lesson")
    assert (lesson.resource_id, lesson.reason_code) == ("skill-0002-listen-en", "lesson_other_modality")
    app.config["SETTINGS"]["offline_activities"] = 6
    context = browser.new_context(viewport={"width": 320, "height": 568})
    page = context.new_page()
    sign_in(page, base, school)
    page.reload()
    _wait_for_service_worker(page)
    page.goto(f"{base}/learn/item/{PACK}/skill-0000-000")
    upcoming = json.loads(page.get_attribute("#item-form", "data-upcoming"))
    kinds = [u.split("/")[2] for u in upcoming]
    assert sorted(kinds[3:5]) == ["example", "lesson"] and kinds[:3] + kinds[5:] == ["item"] * 4, \
        "half the list more of this skill, then each other skill's turn: its worked example, its lesson"
    assert f"/learn/example/{PACK}/{example.item_id}?why=worked_example" in upcoming
    assert f"/learn/lesson/{PACK}/skill-0002-listen-en?why=lesson_other_modality" in upcoming
    wait_until(page, KEPT_AHEAD_JS, upcoming)  # the pages and every file they use: the recording too
    marker = _last_event_id()
    base.drop()  # the Wi-Fi drops
    try:
        done = []  # (kind, event id, what) in the order given
        for n, then in enumerate(upcoming + [None]):
            event_id = page.locator("input[name=event_id]").input_value()
            if "/learn/item/" in page.url:
                item = current_item(app, page)
                done.append(("attempt", event_id, item.id))
                fill_answer(page, item)
                page.get_by_role("button", name="Check my answer").click()
                page.wait_for_selector(".offline-answer .verdict")
                page.locator(".offline-answer").get_by_role("link", name="Next").click()
            elif "/learn/example/" in page.url:  # read without Wi-Fi, then "I see. Let me try"
                assert page.locator(".solution").is_visible()
                assert page.inner_text("p.why") == "See how to solve one first", "why, as after Next"
                done.append(("worked_example_viewed", event_id, example.item_id))
                page.get_by_role("button", name="I see. Let me try").click()
            else:  # the audio lesson: its recording plays from the device
                assert "/learn/lesson/" in page.url
                assert page.locator("main .listen button.play").is_visible()
                assert page.evaluate(PLAYS_JS) > 0, "the recording plays without Wi-Fi"
                done.append(("lesson_viewed", event_id, "skill-0002-listen-en"))
                page.get_by_role("button", name="Done").dblclick()  # a double tap is one Done
            if then is None:
                break
            # On to the next kept activity, whatever its kind.
            page.wait_for_url(base + then, timeout=PATIENCE_MS)
            page.wait_for_load_state()
            assert "Saved on this device" in page.inner_text("#queue-status"), f"step {n + 2}"
        page.wait_for_selector("#offline-page", timeout=PATIENCE_MS)  # nothing more kept
        assert page.inner_text("#waiting") == "5", "the answers waiting: a Done is sent with them, not counted"
        queued = _queue(page, ana.uid)
        assert [q["id"] for q in queued] == [d[1] for d in done], "one entry each, in the order given"
        assert len(set(d[1] for d in done)) == len(done), "every page made its own event id"
        assert _events_after(marker, ana.uid) == [], "nothing reached the hub while offline"
    finally:
        base.restore()  # the Wi-Fi is back
    page.wait_for_function(f"() => localStorage.getItem('classroom-answer-queue-{ana.uid}') === '[]'",
                           timeout=PATIENCE_MS)
    page.wait_for_function("() => document.getElementById('waiting').textContent === '0'")
    assert page.inner_text("#offline-page h1") == "The Wi-Fi is back"
    recorded = _events_after(marker, ana.uid)
    what = {"attempt": "item", "worked_example_viewed": "item", "lesson_viewed": "resource"}
    assert [(kind, event_id, payload[what[kind]]) for kind, event_id, payload in recorded] == done, \
        "exactly those events, once each, in the order given"
    heard = next(payload for kind, _, payload in recorded if kind == "lesson_viewed")
    assert (heard["modality"], heard["skill"]) == ("audio", "skill-0002")
    page.goto(base + "/learn/")  # the path goes on from what the hub now knows
    page.wait_for_load_state()
    assert _events_after(marker, ana.uid) == recorded, "nothing sent twice"
    context.close()


def test_online_a_done_goes_on_as_before(app, hub_with_lessons, browser, school):
    """With the Wi-Fi, the queue sends the Done at once and opens the path's next activity, as
    the plain form's redirect did."""
    base = hub_with_lessons
    context = browser.new_context(viewport={"width": 360, "height": 640})
    page = context.new_page()
    sign_in(page, base, school)
    marker = _last_event_id()
    page.goto(f"{base}/learn/lesson/{PACK}/skill-0001-read-en")
    event_id = page.locator("input[name=event_id]").input_value()
    page.get_by_role("button", name="Done").click()
    page.wait_for_url(lambda url: "/learn/lesson/" not in url, timeout=PATIENCE_MS)
    assert "/learn/item/" in page.url
    assert [(k, e) for k, e, _ in _events_after(marker, school.learners["ana"].uid)] == [("lesson_viewed", event_id)]
    assert _queue(page, school.learners["ana"].uid) == []
    context.close()


def test_a_done_for_a_lesson_a_pack_update_removed_is_settled_and_the_queue_goes_on(
        app, hub_with_lessons, browser, school, data_dir):
    base, ana = hub_with_lessons, school.learners["ana"]
    context = browser.new_context(viewport={"width": 360, "height": 640})
    page = context.new_page()
    sign_in(page, base, school)
    page.reload()
    _wait_for_service_worker(page)
    example = f"{base}/learn/example/{PACK}/skill-0000-002"
    lesson = f"{base}/learn/lesson/{PACK}/skill-0001-listen-en"
    for url in (example, lesson):  # opened with the Wi-Fi: kept
        page.goto(url)
        wait_until(page, CACHED_JS, url)
    marker = _last_event_id()
    base.drop()
    try:
        gone_id = page.locator("input[name=event_id]").input_value()
        page.get_by_role("button", name="Done").click()
        page.wait_for_selector("#offline-page", timeout=PATIENCE_MS)
        page.goto(example)  # kept: read without Wi-Fi
        example_id = page.locator("input[name=event_id]").input_value()
        page.get_by_role("button", name="I see. Let me try").click()
        page.wait_for_selector("#offline-page", timeout=PATIENCE_MS)
        assert [q["id"] for q in _queue(page, ana.uid)] == [gone_id, example_id]

        def drop_lesson(manifest):  # meanwhile, the admin installs a pack update without that lesson
            manifest["version"] = "1.1.0"
            manifest["resources"] = [r for r in manifest["resources"] if r["id"] != "skill-0001-listen-en"]
        edit_json(base.src / "pack.json", drop_lesson)
        (base.src / "resources" / "en" / "skill-0001.opus").unlink()
        packs.import_pack(data_dir, base.src)
    finally:
        base.restore()
    page.wait_for_function(f"() => localStorage.getItem('classroom-answer-queue-{ana.uid}') === '[]'",
                           timeout=PATIENCE_MS)
    assert [(k, e) for k, e, _ in _events_after(marker, ana.uid)] == [("worked_example_viewed", example_id)], \
        "the removed lesson's Done settled (a 404), not sent again; the one after it recorded"
    context.close()
