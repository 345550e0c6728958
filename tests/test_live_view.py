"""The live class view (#18, item 3): what each learner is doing now, who needs help and why,
who is ready to move on, and the cheap conditional endpoint the page polls."""

from __future__ import annotations

import datetime as dt
import html
import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from classroom_server import clock
from classroom_server.db import db
from classroom_server.demo_practice import right_form, wrong_form
from classroom_server.learning.mastery import MasteryConfig
from classroom_server.learning.tracing import update_known
from classroom_server.services import live, packs, practice
from classroom_server.web.practice import decode_answer
from content_packs.testing import edit_json, make_pack
from tests.conftest import TEACHER_PASSWORD, post, sign_in_learner, sign_in_staff, study

PACK = "org.example.live"


@pytest.fixture
def hub(app, school, data_dir, tmp_path):
    """The school's classes study one pack of three skills (each needing the one before)."""
    src = make_pack(tmp_path / "src", skills=3, items_per_skill=6, pack_id=PACK)

    def chain(manifest):
        manifest["skills"][1]["prerequisites"] = [manifest["skills"][0]["id"]]
        manifest["skills"][2]["prerequisites"] = [manifest["skills"][1]["id"]]
    edit_json(src / "pack.json", chain)
    packs.import_pack(data_dir, src)
    study(school)
    return school


@pytest.fixture
def tess(app, client, hub):
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    return client


def skills(app) -> list[str]:
    return [s.id for s in app.extensions["catalogue"].get().catalogue.pack(PACK).skills]


def title(app, skill_id: str) -> str:
    return app.extensions["catalogue"].get().catalogue.skill(PACK, skill_id).title.pick("en")


def answer(app, learner, skill_id: str, *rights: bool, hints: int = 0) -> None:
    """Answers on a skill's items in turn (right or wrong), through the service the answer page uses."""
    catalogue = app.extensions["catalogue"].get().catalogue
    items = [i for i in catalogue.pack(PACK).items if i.skill == skill_id]
    rng = random.Random(1)
    with db.connection_context():
        for n, right in enumerate(rights):
            item = items[n % len(items)]
            form = right_form(item, "en") if right else wrong_form(item, "en", rng)
            practice.record_attempt(app.extensions["engine"], learner, PACK, item.id, decode_answer(item, form),
                                    event_id=None, hints_used=hints)


def live_url(school, klass: str = "pictures") -> str:
    return f"/teach/classes/{school.classes[klass].id}/live"


SECTIONS = {"help": "live-help-title", "ready": "live-ready-title", "all": "live-all-title"}


IDLE = r"(?:Idle since \d\d:\d\d|Last active \d+ minutes ago)"  # the latter just after midnight


def section(page: str, name: str) -> str:
    start = page.index(f'id="{SECTIONS[name]}"')
    end = page.index("</section>", start)
    return page[start:end]


def words(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def card(page: str, name: str, learner) -> str | None:
    """The words of a learner's card in a section of the page, or None."""
    found = re.search(rf'<li[^>]*data-learner="{learner.id}"[^>]*>(.*?)</li>', section(page, name), re.S)
    return words(found.group(1)) if found else None


def at(minutes: float):  # type: ignore[no-untyped-def]
    """Run a block ``minutes`` from now (the hub's clock: recorded events and the view alike)."""
    return clock.pretend(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes))


# --- what each learner is doing ---

def test_the_page_lists_each_learner_with_what_they_are_doing(app, tess, hub):
    first = skills(app)[0]
    answer(app, hub.learners["ana"], first, True)
    page = tess.get(live_url(hub)).get_data(as_text=True)
    assert card(page, "all", hub.learners["ana"]) == f"A Ana Answering {title(app, first)}, just now"
    assert card(page, "all", hub.learners["ben"]) == "B Ben Nothing yet"
    assert "Cleo" not in page  # another class's learner
    assert card(page, "help", hub.learners["ana"]) is None and "No one needs help right now." in page
    assert f'href="{live_url(hub)}"' in page  # Refresh, without JavaScript


def test_a_lesson_and_then_nothing_for_a_while_is_shown_as_idle_since(app, tess, hub):
    first = skills(app)[0]
    with db.connection_context():
        practice.record_learning_step(app.extensions["engine"], hub.learners["ben"], "lesson_viewed",
                                      {"pack": PACK, "resource": "any", "skill": first, "modality": "text"})
    page = tess.get(live_url(hub)).get_data(as_text=True)
    assert card(page, "all", hub.learners["ben"]) == f"B Ben Reading a lesson on {title(app, first)}, just now"
    with at(20):
        page = tess.get(live_url(hub)).get_data(as_text=True)
    ben = card(page, "all", hub.learners["ben"])
    assert re.fullmatch(rf"B Ben {IDLE} · Reading a lesson on {title(app, first)}", ben)


# --- needs help ---

def test_three_misses_in_a_row_show_under_needs_help_with_that_reason(app, tess, hub):
    first = skills(app)[0]
    answer(app, hub.learners["ana"], first, False, False, False)
    answer(app, hub.learners["ben"], first, True, False)
    page = tess.get(live_url(hub)).get_data(as_text=True)
    ana = card(page, "help", hub.learners["ana"])
    assert ana is not None and f"Missed 3 answers in a row on {title(app, first)}." in ana
    assert ana.endswith(f"Answering {title(app, first)}, just now")
    assert card(page, "help", hub.learners["ben"]) is None
    assert "No one needs help right now." not in page


def test_a_falling_chance_of_knowing_the_skill_is_shown_with_its_numbers(app, tess, hub):
    first = skills(app)[0]
    answer(app, hub.learners["ana"], first, True, True, False, False)  # P(known) 0.92 after two, then two misses
    page = tess.get(live_url(hub)).get_data(as_text=True)
    assert card(page, "help", hub.learners["ana"]).startswith(
        f"Ana Chance of knowing {title(app, first)} fell from 92% to 26% over the last 2 answers.")


def test_many_hints_are_shown(app, tess, hub):
    first = skills(app)[0]
    answer(app, hub.learners["ana"], first, True, True, True, hints=1)
    page = tess.get(live_url(hub)).get_data(as_text=True)
    assert "Used hints on 3 of the last 3 answers." in card(page, "help", hub.learners["ana"])


def test_signed_in_and_idle_while_the_class_works_needs_help(app, tess, hub):
    first = skills(app)[0]
    ana_tablet = app.test_client()
    sign_in_learner(ana_tablet, hub, "ana")  # and then does nothing
    with at(6):
        answer(app, hub.learners["ben"], first, True)  # the class is working
        page = tess.get(live_url(hub)).get_data(as_text=True)
    ana = card(page, "help", hub.learners["ana"])
    assert ana is not None and "Signed in, but nothing done for 6 minutes." in ana
    assert re.search(rf"{IDLE} · Signed in", card(page, "all", hub.learners["ana"]))
    assert card(page, "help", hub.learners["ben"]) is None
    with at(30):  # nobody has done anything for 24 minutes: the lesson is over
        page = tess.get(live_url(hub)).get_data(as_text=True)
    assert card(page, "help", hub.learners["ana"]) is None
    override = f"/teach/classes/{hub.classes['pictures'].id}/learners/{hub.learners['ana'].id}/override"
    with at(6):  # her practice is paused: nothing to do
        post(tess, override, {"action": "pause"})
        page = tess.get(live_url(hub)).get_data(as_text=True)
        assert card(page, "help", hub.learners["ana"]) is None
        assert "Ana (paused)" in card(page, "all", hub.learners["ana"])
        post(tess, override, {"action": "resume"})
        assert card(tess.get(live_url(hub)).get_data(as_text=True), "help", hub.learners["ana"]) is not None
    with at(6):  # not signed in: not expected to be doing anything
        post(ana_tablet, "/logout")
        page = tess.get(live_url(hub)).get_data(as_text=True)
    assert card(page, "help", hub.learners["ana"]) is None


def test_old_misses_are_not_now(app, tess, hub):
    first = skills(app)[0]
    answer(app, hub.learners["ana"], first, False, False, False)
    with at(61):
        page = tess.get(live_url(hub)).get_data(as_text=True)
    assert card(page, "help", hub.learners["ana"]) is None


# --- ready to move on ---

def test_a_learner_who_just_became_proficient_is_ready_to_move_on(app, tess, hub):
    first = skills(app)[0]
    answer(app, hub.learners["ana"], first, True, True, True)
    with db.connection_context():
        with app.extensions["engine"].reading() as snap:
            assert snap.state.peek(hub.learners["ana"].uid, f"{PACK}:{first}").state == "proficient"
    page = tess.get(live_url(hub)).get_data(as_text=True)
    assert card(page, "ready", hub.learners["ana"]) == f"Ana Now knows {title(app, first)}"
    assert card(page, "ready", hub.learners["ben"]) is None
    with at(90):  # "just" is this lesson, not last week
        page = tess.get(live_url(hub)).get_data(as_text=True)
    assert card(page, "ready", hub.learners["ana"]) is None and "No one has just learned a skill." in page


def test_nothing_left_in_the_class_courses_is_ready_to_move_on(app, tess, hub):
    learner = f"/teach/classes/{hub.classes['pictures'].id}/learners/{hub.learners['ben'].id}/override"
    for skill_id in skills(app):
        post(tess, learner, {"action": "mark_mastered", "skill": f"{PACK}:{skill_id}"})
    page = tess.get(live_url(hub)).get_data(as_text=True)
    ben = card(page, "ready", hub.learners["ben"])
    assert ben is not None and ben.endswith("Nothing left to practise in what the class studies.")
    assert f"Mastered {title(app, skills(app)[0])}" in ben


# --- the conditional endpoint ---

def test_the_cards_answer_304_with_the_same_etag_until_something_happens(app, tess, hub):
    url = live_url(hub) + "/now"
    with at(0):
        first = tess.get(url)
        assert first.status_code == 200 and first.headers["ETag"].startswith('W/"live.')
        assert "<html" not in first.get_data(as_text=True) and 'id="live-all-title"' in first.get_data(as_text=True)
        again = tess.get(url, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.headers["ETag"] == first.headers["ETag"]
        assert again.get_data() == b""
        answer(app, hub.learners["cleo"], skills(app)[0], True)  # another class: nothing changed here
        assert tess.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
        answer(app, hub.learners["ana"], skills(app)[0], True)
        changed = tess.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]
    assert "Answering" in card(changed.get_data(as_text=True), "all", hub.learners["ana"])
    assert changed.headers["Cache-Control"] == "private, no-cache"


def test_the_page_holds_the_etag_of_its_cards(app, tess, hub):
    with at(0):
        page = tess.get(live_url(hub)).get_data(as_text=True)
        held = html.unescape(re.search(r'data-etag="([^"]+)"', page).group(1))
        assert tess.get(live_url(hub) + "/now", headers={"If-None-Match": held}).status_code == 304
    assert 'src="/static/live.js' in page


def test_the_clock_alone_changes_the_etag_once_a_minute(app, tess, hub):
    url = live_url(hub) + "/now"
    start = dt.datetime(2030, 3, 4, 9, 0, 5, tzinfo=dt.UTC)
    with clock.pretend(start):
        tag = tess.get(url).headers["ETag"]
    with clock.pretend(start + dt.timedelta(seconds=50)):
        assert tess.get(url, headers={"If-None-Match": tag}).status_code == 304
    with clock.pretend(start + dt.timedelta(seconds=60)):
        assert tess.get(url, headers={"If-None-Match": tag}).status_code == 200


def test_a_class_change_changes_the_etag(app, tess, hub):
    url = live_url(hub) + "/now"
    with at(0):
        tag = tess.get(url).headers["ETag"]
        post(tess, f"/teach/classes/{hub.classes['pictures'].id}/learners/{hub.learners['ben'].id}/remove")
        assert tess.get(url, headers={"If-None-Match": tag}).status_code == 200


def test_the_304_answer_reads_one_indexed_query_beyond_sign_in_and_access(app, tess, hub):
    url = live_url(hub) + "/now"
    answer(app, hub.learners["ana"], skills(app)[0], True, False)
    statements: list[str] = []
    with at(0):
        tag = tess.get(url).headers["ETag"]
        with db.connection_context():
            db.connection().set_trace_callback(statements.append)
            assert tess.get(url, headers={"If-None-Match": tag}).status_code == 304
            db.connection().set_trace_callback(None)
    on_events = [s for s in statements if "event" in s.lower()]
    assert len(on_events) == 1, statements
    with db.connection_context():
        plan = db.execute_sql("EXPLAIN QUERY PLAN " + live._VERSION_SQL,
                              (1, *live.CLASS_KINDS, "x", *live.HUB_KINDS)).fetchall()
    scans = [row[-1] for row in plan if row[-1].startswith("SCAN") and "event" in row[-1]]
    assert scans == [], plan  # every read of the event table is an index search


# --- who may see it ---

def test_another_teacher_gets_404_on_the_page_and_the_cards(app, client, hub):
    sign_in_staff(client, "tom", TEACHER_PASSWORD)
    assert client.get(live_url(hub)).status_code == 404
    assert client.get(live_url(hub) + "/now").status_code == 404
    assert client.get(live_url(hub, "pins")).status_code == 200  # his own class


def test_a_learner_is_refused(app, client, hub):
    assert client.get(live_url(hub)).status_code == 302  # sign in first
    sign_in_learner(client, hub, "ana")
    assert client.get(live_url(hub)).status_code == 403
    assert client.get(live_url(hub) + "/now").status_code == 403


def test_an_admin_sees_any_class(app, client, hub):
    sign_in_staff(client, "admin", "admin-pass-123")
    assert client.get(live_url(hub, "pins")).status_code == 200


# --- the fall of P(known) is the engine's own step, backwards ---

@given(p=st.floats(0.01, 0.99), correct=st.booleans(), hints=st.sampled_from([0, 1]),
       guess=st.floats(0.05, 0.4), slip=st.floats(0.05, 0.3))
def test_known_before_undoes_the_knowledge_tracing_step(p, correct, hints, guess, slip):
    config = MasteryConfig()
    after = update_known(p, correct, hints, config, guess, slip)
    assert live.known_before(after, correct, hints, config.learn_rate, guess, slip) == pytest.approx(p, abs=1e-9)
