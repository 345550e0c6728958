"""Placement across a pack on the hub (#19): a learner new to a pack is offered it, answers at
most 15 questions with no right or wrong shown, and is placed: the skills found known become
proficient (a check still comes later), the path starts past them, and it is all in the event
log, so a rebuild gives the same. A teacher can ask a class to take it again."""

from __future__ import annotations

import random
import re
from pathlib import Path

from classroom_server.db import db
from classroom_server.demo_practice import right_form, wrong_form
from classroom_server.models import Event
from classroom_server.services import packs, placement, practice, teaching
from classroom_server.services import projections as hub_projections
from classroom_server.services.learning import qualify
from classroom_server.web.practice import decode_answer
from tests.conftest import TEACHER_PASSWORD, post, sign_in_learner, sign_in_staff, study

LIBRARY = Path(__file__).resolve().parents[1] / "content_packs" / "library"
FRACTIONS = "org.openclassroom.fractions"


def _fractions(app, school, data_dir):
    packs.import_pack(data_dir, LIBRARY / "fractions")
    study(school, FRACTIONS)
    catalogue = app.extensions["catalogue"].get().catalogue
    return [s for _, s in catalogue.topological_order(FRACTIONS)]


def _answer(app, learner, item_id: str, right: bool) -> None:
    catalogue = app.extensions["catalogue"].get().catalogue
    item = catalogue.item(FRACTIONS, item_id)
    form = right_form(item, "en") if right else wrong_form(item, "en", random.Random(3))
    practice.record_attempt(app.extensions["engine"], learner, FRACTIONS, item_id, decode_answer(item, form),
                            event_id=None, mode=placement.MODE)


def test_a_learner_who_knows_the_first_half_is_placed_past_it_in_at_most_15_questions(app, school, data_dir):
    order = _fractions(app, school, data_dir)
    knows = set(order[:len(order) // 2])
    ana = school.learners["ana"]
    engine = app.extensions["engine"]
    catalogue = app.extensions["catalogue"].get().catalogue
    with db.connection_context():
        assert placement.offered(engine, ana) == [FRACTIONS]  # new to the pack
        placement.start(engine, ana, FRACTIONS)
        asked = 0
        while True:
            step = placement.step(engine, ana, FRACTIONS)
            if step.item_id is None:
                break
            skill = catalogue.item(FRACTIONS, step.item_id).skill
            _answer(app, ana, step.item_id, right=skill in knows)
            asked += 1
            assert placement.progress(engine, ana, FRACTIONS) == (asked, min(15, len(order)))
        assert asked <= 15 and step.asked == asked
        assert set(step.placed) == knows
        finished = Event.get(Event.kind == "placement.finished")
        assert set(placement.result(ana, FRACTIONS)["placed"]) == knows and finished.learner_uid == ana.uid
        with engine.reading() as snap:
            states = {s: snap.state.peek(ana.uid, qualify(FRACTIONS, s)).state for s in order}
        assert {s for s, state in states.items() if state == "proficient"} == knows
        path = practice.path_for(engine, ana, "en", assignments=teaching.assignments_for(ana))
        assert path[0].skill_id not in knows  # the path starts past what the placement found known
        assert placement.offered(engine, ana) == []  # placed: no longer offered
        # Everything came from events: the stored projection equals its rebuild.
        for outcome in hub_projections.recompute(app.extensions["catalogue"], check=True):
            assert outcome.problems == [], outcome.name


def test_a_placement_left_half_way_goes_on_where_it_stopped(app, school, data_dir):
    _fractions(app, school, data_dir)
    ben = school.learners["ben"]
    engine = app.extensions["engine"]
    with db.connection_context():
        placement.start(engine, ben, FRACTIONS)
        first = placement.step(engine, ben, FRACTIONS)
        _answer(app, ben, first.item_id, right=True)
        placement.start(engine, ben, FRACTIONS)  # "Start" again: the same placement goes on
        assert Event.select().where(Event.kind == "placement.started").count() == 1
        assert placement.step(engine, ben, FRACTIONS).asked == 1
        assert placement.offered(engine, ben) == [FRACTIONS]  # in progress: still offered


def _learner_client(app, school, name: str):
    client = app.test_client()
    sign_in_learner(client, school, name)
    return client


def test_on_the_pages_no_right_or_wrong_is_shown_and_the_result_says_what_is_known(app, school, data_dir):
    order = _fractions(app, school, data_dir)
    client = _learner_client(app, school, "ana")
    home = client.get("/learn/").get_data(as_text=True)
    assert "a few questions to find where you start" in home
    intro = client.get(f"/learn/placement/{FRACTIONS}")
    assert intro.status_code == 200 and "Start" in intro.get_data(as_text=True)
    answer = post(client, f"/learn/placement/{FRACTIONS}", {})
    catalogue = app.extensions["catalogue"].get().catalogue
    for _ in range(16):
        location = answer.headers["Location"]
        if "/placement/" in location:
            break
        assert "mode=placement" in location
        page = client.get(location)
        text = page.get_data(as_text=True)
        assert "Finding where you start" in text and 'id="hint-link"' not in text
        item_id = re.search(r"/learn/item/[^/]+/([^?\"]+)", location).group(1)
        item = catalogue.item(FRACTIONS, item_id)
        form = {**right_form(item, "en"), "mode": "placement",
                "event_id": re.search(r'name="event_id" value="([^"]+)"', text).group(1)}
        answer = post(client, f"/learn/item/{FRACTIONS}/{item_id}", form)
        assert answer.status_code == 302  # straight to the next question: no feedback page
    result = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert f"You already know {len(order)} skills of this pack" in result
    assert "a few questions to find where you start" not in client.get("/learn/").get_data(as_text=True)


def test_a_teacher_asks_the_class_again_and_only_for_a_pack_it_studies(app, school, data_dir):
    _fractions(app, school, data_dir)
    engine = app.extensions["engine"]
    ana = school.learners["ana"]
    with db.connection_context():
        placement.start(engine, ana, FRACTIONS)
        while placement.step(engine, ana, FRACTIONS).item_id is not None:
            _answer(app, ana, placement.step(engine, ana, FRACTIONS).item_id, right=False)
        assert placement.offered(engine, ana) == []
    teacher = app.test_client()
    sign_in_staff(teacher, "tess", TEACHER_PASSWORD)
    klass = school.classes["pictures"].id
    asked = post(teacher, f"/teach/classes/{klass}/placement", {"pack": FRACTIONS}, follow_redirects=True)
    assert "finds their starting point" in asked.get_data(as_text=True)
    with db.connection_context():
        assert placement.offered(engine, ana) == [FRACTIONS]
        assert placement.offered(engine, school.learners["cleo"]) == [FRACTIONS]  # new to it anyway
    refused = post(teacher, f"/teach/classes/{klass}/placement", {"pack": "org.example.none"})
    assert refused.status_code == 400
    other = post(teacher, f"/teach/classes/{school.classes['pins'].id}/placement", {"pack": FRACTIONS})
    assert other.status_code == 404  # not Tess's class: as if it were not there


def test_a_placement_of_a_pack_not_studied_or_not_there_is_refused_plainly(app, school, data_dir):
    _fractions(app, school, data_dir)
    packs.import_pack(data_dir, LIBRARY / "numbers")  # installed, but no class of Ana's studies it
    client = _learner_client(app, school, "ana")
    refused = post(client, "/learn/placement/org.openclassroom.numbers", {})
    assert refused.status_code == 400 and "Your class does not study this pack." in refused.get_data(as_text=True)
    assert client.get("/learn/placement/org.example.nowhere").status_code == 404
    assert post(client, "/learn/placement/org.example.nowhere", {}).status_code == 404
    with db.connection_context():
        assert Event.select().where(Event.kind == "placement.started").count() == 0  # nothing recorded
