"""Lessons and worked examples without Wi-Fi (#19): the path's lessons and worked examples are kept
on the device with the items, and their "Done", queued on the device like an answer, is recorded
once, in its turn, when it reaches the hub (static/practice.js, web/practice.py)."""

import html
import json
import re
from pathlib import Path

import pytest

from classroom_server.db import db
from classroom_server.models import Event
from classroom_server.services import packs, practice
from classroom_server.services.offline import kept_as, path_ahead
from classroom_server.services.practice import Choice
from content_packs.testing import edit_json, make_pack
from tests.conftest import post, sign_in_learner, study
from tests.test_lesson_modalities import struggle
from tests.test_practice import _answer_response

LIBRARY = Path(__file__).resolve().parents[1] / "content_packs" / "library"
FRACTIONS = "org.openclassroom.fractions"
JSON = {"Accept": "application/json"}


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
    return struggle(app, learner, FRACTIONS, skill, "en", kind)


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
    page = client.get(ahead[0], headers={"X-Prefetch": "1"}).get_data(as_text=True)
    assert re.search(r'<form method="post" class="row actions" id="done-form" data-next="/learn/next">', page), \
        "its Done, for the device's queue"


def _event_id(page):
    return re.search(r'name="event_id" value="([^"]+)"', page).group(1)


def _views(kind):
    with db.connection_context():
        found = Event.select().where(Event.kind == kind).order_by(Event.id)
        return [(e.event_id, json.loads(e.payload)) for e in found]


@pytest.mark.parametrize("kind", ["lesson", "example"])
def test_a_done_sent_by_the_queue_is_answered_in_json_and_recorded_once(app, client, school, fractions, kind):
    sign_in_learner(client, school, "ana")
    url = (f"/learn/lesson/{FRACTIONS}/equal-parts-listen-en" if kind == "lesson"
           else f"/learn/example/{FRACTIONS}/{_items(fractions, 'equal-parts')[2]}")
    event_id = _event_id(client.get(url + "?why=worked_example").get_data(as_text=True))
    done = post(client, url + "?why=worked_example", {"event_id": event_id}, headers=JSON)
    assert done.status_code == 200 and done.is_json
    assert done.get_json() == {"done": "lesson" if kind == "lesson" else "worked_example", "event_id": event_id}
    again = post(client, url, {"event_id": event_id}, headers=JSON)  # the Wi-Fi cut the first answer short
    assert again.status_code == 200 and again.get_json()["event_id"] == event_id
    recorded = _views("lesson_viewed" if kind == "lesson" else "worked_example_viewed")
    assert [e for e, _ in recorded] == [event_id], "a resend of the same event id is recorded once"
    if kind == "lesson":
        assert recorded[0][1]["modality"] == "audio" and recorded[0][1]["resource"] == "equal-parts-listen-en"
    plain = post(client, url, {"event_id": _event_id(client.get(url).get_data(as_text=True))})
    assert plain.status_code == 302 and plain.headers["Location"].endswith("/learn/next"), \
        "the plain form, without JavaScript, as before"


def test_a_done_whose_event_id_was_an_answer_is_refused_once_and_for_all(app, client, school, fractions):
    sign_in_learner(client, school, "ana")
    item = fractions.item(FRACTIONS, _items(fractions, "equal-parts")[0])
    page = client.get(f"/learn/item/{FRACTIONS}/{item.id}").get_data(as_text=True)
    answer_id = _event_id(page)
    form = {"event_id": answer_id, "answer": _answer_response(item, "en")}
    assert post(client, f"/learn/item/{FRACTIONS}/{item.id}", form, headers=JSON).status_code == 200
    refused = post(client, f"/learn/lesson/{FRACTIONS}/equal-parts-read-en", {"event_id": answer_id}, headers=JSON)
    assert refused.status_code == 400 and refused.get_json()["error"]["field"] == "event_id", \
        "a 400, which the queue takes as settled: never sent again"
    assert _views("lesson_viewed") == []


def test_a_done_for_a_lesson_a_pack_update_removed_is_settled_not_retried(app, client, school, data_dir, tmp_path):
    """Queued offline, sent after the pack lost the lesson (or the item): a 404 with the one error
    shape, which the queue takes as settled (practice.js `settled`), and nothing recorded."""
    pack_id = "org.example.gone"
    src = make_pack(tmp_path / "pack", skills=2, items_per_skill=4, pack_id=pack_id, media=("audio",))
    packs.import_pack(data_dir, src)
    study(school)
    sign_in_learner(client, school, "ana")
    lesson, example = f"/learn/lesson/{pack_id}/skill-0001-listen-en", f"/learn/example/{pack_id}/skill-0001-003"
    queued = {url: _event_id(client.get(url).get_data(as_text=True)) for url in (lesson, example)}

    def drop(manifest):
        manifest["version"] = "1.1.0"
        manifest["resources"] = [r for r in manifest["resources"] if r["id"] != "skill-0001-listen-en"]

    def drop_item(items):
        items[:] = [i for i in items if i["id"] != "skill-0001-003"]
    edit_json(src / "pack.json", drop)
    (src / "resources" / "en" / "skill-0001.opus").unlink()
    edit_json(src / "items" / "skill-0001.json", drop_item)
    packs.import_pack(data_dir, src)
    for url, event_id in queued.items():
        gone = post(client, url, {"event_id": event_id}, headers=JSON)
        assert gone.status_code == 404 and gone.is_json, url
        assert gone.get_json()["error"]["code"] == "not_found", url
    assert _views("lesson_viewed") == [] and _views("worked_example_viewed") == []
