"""Lessons and worked examples without Wi-Fi (#19): the path's lessons and worked examples are kept
on the device with the items (services/offline.py)."""

import html
import json
import re
from pathlib import Path

import pytest

from classroom_server.db import db
from classroom_server.services import packs, practice
from classroom_server.services.offline import kept_as, path_ahead
from classroom_server.services.practice import Choice
from tests.conftest import sign_in_learner, study
from tests.test_practice import _answer_response

LIBRARY = Path(__file__).resolve().parents[1] / "content_packs" / "library"
FRACTIONS = "org.openclassroom.fractions"


@pytest.fixture
def fractions(app, school, data_dir):
    packs.import_pack(data_dir, LIBRARY / "fractions")
    study(school)
    return app.extensions["catalogue"].get().catalogue


def _ahead(app, school, choices, item_id, count=10):
    with db.connection_context():
        return path_ahead(app.extensions["engine"], school.learners["ana"], choices, FRACTIONS, item_id, count)


def _items(catalogue, skill):
    return [i.id for i in catalogue.items_for(FRACTIONS, skill)]


def _lesson(skill, code="lesson_other_modality", kind="listen"):
    return Choice("lesson", FRACTIONS, skill, None, f"{skill}-{kind}-en", code, {"modality": "audio"})


def _example(skill, item_id):
    return Choice("worked_example", FRACTIONS, skill, item_id, None, "worked_example", {"misses": 3})


def test_the_paths_lessons_and_worked_examples_are_kept_each_first_in_its_skills_turn(app, school, fractions):
    here = _items(fractions, "equal-parts")[0]
    solved = _items(fractions, "fractions-as-copies")[2]
    choices = [Choice("practice", FRACTIONS, "equal-parts", here, None, "continue"),
               _lesson("unit-fractions"), _example("fractions-as-copies", solved)]
    ahead = _ahead(app, school, choices, here, count=12)
    assert len(ahead) == 12 and len({kept_as(c) for c in ahead}) == 12
    assert [c.item_id for c in ahead[:6]] == _items(fractions, "equal-parts")[1:7], \
        "more of the skill practised first, up to half the list, as before"
    assert (ahead[6].kind, ahead[6].resource_id, ahead[6].reason_code) == \
        ("lesson", "unit-fractions-listen-en", "lesson_other_modality"), "then the path's lesson, with its reason"
    assert (ahead[7].kind, ahead[7].item_id) == ("worked_example", solved), "then the path's worked example"
    after_lesson = [c.item_id for c in ahead if c.skill_id == "unit-fractions" and c.kind == "practice"]
    after_example = [c.item_id for c in ahead if c.skill_id == "fractions-as-copies" and c.kind == "practice"]
    assert after_lesson == _items(fractions, "unit-fractions")[:len(after_lesson)] and after_lesson, \
        "the lesson's skill, from its first item"
    copies = _items(fractions, "fractions-as-copies")
    assert after_example == (copies[3:] + copies[:2])[:len(after_example)] and after_example, \
        "the worked example's skill from the item after the one it solves (its solution was just shown)"


def test_a_lesson_or_worked_example_for_the_skill_practised_now_comes_first(app, school, fractions):
    items = _items(fractions, "equal-parts")
    for support in (_example("equal-parts", items[3]), _lesson("equal-parts", "teacher_assigned_lesson", "read")):
        ahead = _ahead(app, school, [Choice("practice", FRACTIONS, "equal-parts", items[0], None, "continue"),
                                     support], items[0], count=10)
        assert ahead[0] == support, "first of all"
        assert [(c.kind, c.item_id) for c in ahead[1:5]] == [("practice", i) for i in items[1:5]], \
            "then the skill's items, in the half kept for it (an item and its worked example are two activities)"


def test_a_lesson_offered_beside_practice_and_one_without_a_page_are_not_kept(app, school, fractions):
    here = _items(fractions, "equal-parts")[0]
    plain = _ahead(app, school, [Choice("practice", FRACTIONS, "equal-parts", here, None, "continue")], here)
    beside = _lesson("equal-parts", "read_lesson", "read")  # My path: "practise, or the lesson first"
    nowhere = Choice("lesson", FRACTIONS, "unit-fractions", None, None, "lesson_other_modality")
    no_item = Choice("worked_example", FRACTIONS, "unit-fractions", None, None, "worked_example")
    assert _ahead(app, school, [Choice("practice", FRACTIONS, "equal-parts", here, None, "continue"),
                                beside, nowhere, no_item], here) == plain
    twice = [_lesson("unit-fractions"), _lesson("unit-fractions", "teacher_assigned_lesson", "read")]
    ahead = _ahead(app, school, twice, here)
    assert [c.resource_id for c in ahead if c.kind == "lesson"] == ["unit-fractions-listen-en"], \
        "one lesson a skill: the first the path gives"


def _upcoming(client, url):
    page = client.get(url).get_data(as_text=True)
    return json.loads(html.unescape(re.search(r'data-upcoming="([^"]*)"', page).group(1)))


def _struggle_until(app, learner, skill, kind):
    """Miss the skill's items (opening each support offered first) until its path gives ``kind``."""
    engine = app.extensions["engine"]
    loaded = app.extensions["catalogue"].get()
    with db.connection_context():
        for _ in range(15):
            choice = practice.next_for_skill(engine, learner, "en", FRACTIONS, skill)
            if choice.kind == kind:
                return choice
            if choice.kind == "worked_example":
                practice.record_learning_step(engine, learner, "worked_example_viewed",
                                              {"pack": FRACTIONS, "item": choice.item_id, "skill": skill})
                continue
            item = loaded.catalogue.item(FRACTIONS, choice.item_id)
            practice.record_attempt(engine, learner, FRACTIONS, item.id, _answer_response(item, "en", right=False),
                                    event_id=None, lang="en")
    raise AssertionError(f"no {kind} offered")


def test_an_item_page_names_the_worked_example_and_the_lesson_the_path_gives(app, client, school, fractions):
    sign_in_learner(client, school, "ana")
    ana = school.learners["ana"]
    example = _struggle_until(app, ana, "equal-parts", "worked_example")
    here = next(i for i in _items(fractions, "equal-parts") if i != example.item_id)
    ahead = _upcoming(client, f"/learn/item/{FRACTIONS}/{here}")
    assert ahead[0] == f"/learn/example/{FRACTIONS}/{example.item_id}?why=worked_example", \
        "the path's worked example first, with its reason"
    assert client.get(ahead[0], headers={"X-Prefetch": "1"}).status_code == 200
    with db.connection_context():
        practice.record_learning_step(app.extensions["engine"], ana, "worked_example_viewed",
                                      {"pack": FRACTIONS, "item": example.item_id, "skill": "equal-parts"})
    lesson = _struggle_until(app, ana, "equal-parts", "lesson")
    ahead = _upcoming(client, f"/learn/item/{FRACTIONS}/{here}")
    assert ahead[0] == f"/learn/lesson/{FRACTIONS}/{lesson.resource_id}?why={lesson.reason_code}"
    assert client.get(ahead[0], headers={"X-Prefetch": "1"}).status_code == 200
