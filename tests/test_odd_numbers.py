"""Odd numbers from users (issue #20, finding 6): Unicode digits, 5,000-digit numbers and ids
SQLite cannot bind are a clear 400 naming the field, or a 404 in an address; never a 500."""

import re

import pytest

from content_packs.testing import make_pack

from classroom_server.db import db
from classroom_server.errors import Invalid
from classroom_server.models import Event
from classroom_server.numbers import MAX_ID, optional_int, parse_int
from classroom_server.services import packs
from classroom_server.web.numbers import IdConverter
from tests.conftest import ADMIN_PASSWORD, TEACHER_PASSWORD, csrf_token, post, sign_in_learner, sign_in_staff

PACK = "org.example.numbers"
JSON = {"Accept": "application/json"}
HUGE = "9" * 5000  # over Python's 4300-digit limit for int()
TOO_BIG = str(2**63)  # one more than SQLite can bind
# Each is refused: str.isdigit() is true for most, and int() takes or chokes on them.
ODD = ["²", "①", "٣", "١٢٣", "１２", "𝟗", HUGE, TOO_BIG, "1.5", "1e3", "+5", "0x10", "5 5", "", " ", "12\n3"]


@pytest.mark.parametrize("text", ODD, ids=repr)
def test_a_number_is_ascii_digits_in_range_or_invalid_naming_the_field(text):
    with pytest.raises(Invalid) as refused:
        parse_int(text, "duration_ms")
    assert refused.value.field == "duration_ms"
    assert "duration_ms" in refused.value.message


@pytest.mark.parametrize("value, expected", [("0", 0), ("42", 42), (" 7\t", 7), ("007", 7), (12, 12),
                                             (str(MAX_ID), MAX_ID)])
def test_plain_numbers_are_read(value, expected):
    assert parse_int(value, "n") == expected


def test_ranges_signs_and_types():
    assert parse_int("-5", "n", low=-10) == -5
    for value, low, high in (("-5", 0, 10), ("11", 0, 10), ("0", 1, 10), (True, 0, 10), (1.0, 0, 10),
                             (None, 0, 10), ([1], 0, 10), (2**70, 0, MAX_ID)):
        with pytest.raises(Invalid):
            parse_int(value, "n", low, high)
    assert optional_int("", "n") is None and optional_int(None, "n") is None and optional_int(" 3 ", "n") == 3


# --- through the app ---

@pytest.fixture
def learner(app, client, school, data_dir, tmp_path):
    packs.import_pack(data_dir, make_pack(tmp_path / "src", skills=2, items_per_skill=4, pack_id=PACK))
    sign_in_learner(client, school, "ana")
    return client


def _single_choice(app):
    pack = app.extensions["catalogue"].get().catalogue.pack(PACK)
    return next(i for i in pack.items if i.type == "single_choice")


def _attempts() -> int:
    with db.connection_context():
        return Event.select().where(Event.kind == "attempt").count()


def _answer(client, app, **fields):
    item = _single_choice(app)
    page = client.get(f"/learn/item/{PACK}/{item.id}").get_data(as_text=True)
    event_id = re.search(r'name="event_id" value="([^"]+)"', page).group(1)
    form = {"answer": next(c.id for c in item.choices if c.correct), "event_id": event_id, **fields}
    return post(client, f"/learn/item/{PACK}/{item.id}", form, headers=JSON)


@pytest.mark.parametrize("field", ["duration_ms", "started", "hints_used"])
@pytest.mark.parametrize("text", ["²", "①", "٣٠", HUGE, TOO_BIG + "0"], ids=repr)
def test_an_answer_with_an_odd_number_is_refused_naming_the_field(app, learner, field, text):
    response = _answer(learner, app, **{field: text})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]["field"] == field
    assert _attempts() == 0


def test_answers_with_plain_numbers_are_still_recorded(app, learner):
    assert _answer(learner, app, duration_ms="4200", hints_used="1").status_code == 200
    assert _answer(learner, app, duration_ms="-3").status_code == 200  # a clock set back: unknown
    assert _answer(learner, app, started="1700000000000").status_code == 200
    with db.connection_context():
        durations = [e.payload for e in Event.select().where(Event.kind == "attempt").order_by(Event.id)]
    assert '"duration_ms":4200' in durations[0] and '"duration_ms":null' in durations[1]
    assert '"duration_ms":3600000' in durations[2]  # an old page: capped at an hour


def test_a_json_body_with_huge_numbers_is_a_400_not_a_500(app, learner):
    """The answer page reads forms only; a JSON body of the same fields is refused plainly."""
    item = _single_choice(app)
    body = f'{{"duration_ms": {HUGE}, "started": {HUGE}, "answer": "a"}}'
    response = learner.post(f"/learn/item/{PACK}/{item.id}", data=body, content_type="application/json",
                            headers={"X-CSRFToken": csrf_token(learner, "/learn/goals"), **JSON})
    assert response.status_code == 400 and "Please answer the question first." in response.get_data(as_text=True)
    assert _attempts() == 0


@pytest.mark.parametrize("hints", ["²", HUGE, "-1", "٣"], ids=repr)
def test_an_odd_hint_count_in_the_address_shows_the_item_without_hints(app, learner, hints):
    item = _single_choice(app)
    response = learner.get(f"/learn/item/{PACK}/{item.id}?hints={hints}")
    assert response.status_code == 200
    assert 'name="hints_used" value="0"' in response.get_data(as_text=True)


@pytest.mark.parametrize("goal", ["skills:²", "skills:①", "minutes:٣٠", "skills:" + HUGE, "skills:-1", "skills:"],
                         ids=repr)
def test_an_odd_weekly_goal_is_refused(app, learner, goal):
    response = post(learner, "/learn/goals", {"goal": goal}, headers=JSON)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "goal"
    with db.connection_context():
        assert Event.select().where(Event.kind == "goal.set").count() == 0
    assert post(learner, "/learn/goals", {"goal": "skills:3"}).status_code == 302


@pytest.mark.parametrize("text", ["²", "①", "١٠", HUGE, "1" * 30], ids=repr)
def test_odd_items_per_session_are_refused(app, client, school, text):
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    url = f"/teach/classes/{school.classes['pictures'].id}/learners/{school.learners['ana'].id}/accommodations"
    response = post(client, url, {"items_per_session": text}, headers=JSON)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "items_per_session"
    assert post(client, url, {"items_per_session": "10"}).status_code == 302


@pytest.mark.parametrize("teacher", ["²", HUGE, TOO_BIG], ids=repr)
def test_an_odd_teacher_id_for_a_new_class_is_refused_on_the_page(app, client, school, teacher):
    sign_in_staff(client, "admin", ADMIN_PASSWORD)
    response = post(client, "/admin/classes", {"name": "Acacias", "login_kind": "pin", "teachers": teacher})
    assert response.status_code == 400
    assert "Choose teachers from the list." in response.get_data(as_text=True)


@pytest.mark.parametrize("undo", ["²", HUGE, TOO_BIG, "0"], ids=repr)
def test_an_odd_undo_id_on_the_class_page_shows_no_undo(app, client, school, undo):
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    response = client.get(f"/teach/classes/{school.classes['pictures'].id}?undo={undo}")
    assert response.status_code == 200
    assert "/restore" not in response.get_data(as_text=True)


# --- ids in addresses ---

def test_every_int_in_a_route_is_a_row_id(app):
    assert app.url_map.converters["int"] is IdConverter
    checked = 0
    for rule in app.url_map.iter_rules():
        for converter in rule._converters.values():
            assert not type(converter).__name__ == "IntegerConverter", rule.rule
            checked += isinstance(converter, IdConverter)
    assert checked >= 10


@pytest.mark.parametrize("learner_id", ["99999999999999999999", TOO_BIG, HUGE, "²", "٣", "0", "007", "-1"], ids=repr)
def test_an_anonymous_sign_in_address_with_an_odd_id_is_not_found(client, school, learner_id):
    assert client.get(f"/login/learner/1/{learner_id}").status_code == 404
    assert client.get(f"/login/learner/{learner_id}").status_code == 404


@pytest.mark.parametrize("class_id", ["99999999999999999999", TOO_BIG, str(MAX_ID), "²", "0"], ids=repr)
def test_staff_addresses_with_odd_ids_are_not_found(client, school, class_id):
    sign_in_staff(client, "admin", ADMIN_PASSWORD)
    assert client.get(f"/teach/classes/{class_id}").status_code == 404
    assert client.get(f"/teach/classes/{school.classes['pictures'].id}/learners/{class_id}").status_code == 404
    assert post(client, f"/teach/classes/{class_id}/learners/{class_id}/restore").status_code == 404
