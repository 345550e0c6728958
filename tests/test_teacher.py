"""A teacher manages learners in their own classes: add, edit, new secret, remove with undo."""

import re

import pytest

from classroom_server.db import db
from classroom_server.models import Enrollment, Event, Person
from tests.conftest import TEACHER_PASSWORD, post, sign_in_learner, sign_in_staff


@pytest.fixture
def tess(client, school):
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    return client


def test_class_page_lists_learners(tess, school):
    page = tess.get(f"/teach/classes/{school.classes['pictures'].id}").get_data(as_text=True)
    assert "Ana" in page and "Ben" in page and "2 learners" in page
    assert "Cleo" not in page


def test_adding_a_learner_shows_their_pictures_once_and_they_can_sign_in(tess, app, school):
    classroom = school.classes["pictures"]
    response = post(tess, f"/teach/classes/{classroom.id}/learners", {"display_name": "  Zoe   Ng ", "avatar": "teal"})
    assert response.status_code == 201
    secret = re.search(r'data-secret="([^"]+)"', response.get_data(as_text=True)).group(1).split(",")
    with db.connection_context():
        zoe = Person.get(Person.display_name == "Zoe Ng")
        assert Event.select().where(Event.kind == "learner.created", Event.learner_uid == zoe.uid).exists()
        payloads = [e.payload for e in Event.select()]
    assert not any(",".join(secret) in p for p in payloads), "a secret leaked into the event log"
    school.learners["zoe"], school.secrets["zoe"] = zoe, secret
    assert sign_in_learner(app.test_client(), school, "zoe").status_code == 302


@pytest.mark.parametrize("form, message", [
    ({"display_name": "", "avatar": "teal"}, "Please enter a name."),
    ({"display_name": "x" * 61, "avatar": "teal"}, "at most 60"),
    ({"display_name": "Zoe", "avatar": "chartreuse"}, "Choose a colour."),
])
def test_adding_a_learner_with_bad_input_explains_and_keeps_the_form(tess, school, form, message):
    response = post(tess, f"/teach/classes/{school.classes['pictures'].id}/learners", form)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert message in body
    with db.connection_context():
        assert Person.select().where(Person.role == "learner").count() == 4


def test_editing_a_learner(tess, school):
    url = f"/teach/classes/{school.classes['pictures'].id}/learners/{school.learners['ana'].id}"
    assert post(tess, url, {"display_name": "Anabel", "avatar": "red"}).status_code == 302
    with db.connection_context():
        assert Person.get_by_id(school.learners["ana"].id).display_name == "Anabel"


def test_a_new_secret_replaces_the_old_one(tess, app, school):
    url = f"/teach/classes/{school.classes['pictures'].id}/learners/{school.learners['ana'].id}/secret"
    response = post(tess, url)
    new_secret = re.search(r'data-secret="([^"]+)"', response.get_data(as_text=True)).group(1).split(",")
    old_secret = school.secrets["ana"]
    if new_secret != old_secret:
        assert sign_in_learner(app.test_client(), school, "ana").status_code == 400
    school.secrets["ana"] = new_secret
    assert sign_in_learner(app.test_client(), school, "ana").status_code == 302


def test_removing_asks_first_and_can_be_undone(tess, app, school):
    classroom, ana = school.classes["pictures"], school.learners["ana"]
    url = f"/teach/classes/{classroom.id}/learners/{ana.id}/remove"
    confirm = tess.get(url).get_data(as_text=True)
    assert "Remove Ana from Sunflowers?" in confirm and "Cancel" in confirm
    response = post(tess, url)
    assert response.headers["Location"].endswith(f"undo={ana.id}")
    page = tess.get(response.headers["Location"]).get_data(as_text=True)
    assert "Undo" in page and "Their work is kept" in page
    assert sign_in_learner(app.test_client(), school, "ana").status_code == 404
    post(tess, f"/teach/classes/{classroom.id}/learners/{ana.id}/restore")
    with db.connection_context():
        assert Enrollment.select().where(Enrollment.learner == ana.id).exists()
    assert sign_in_learner(app.test_client(), school, "ana").status_code == 302


def test_undo_cannot_pull_in_a_learner_from_another_class(tess, school):
    cleo = school.learners["cleo"]
    response = post(tess, f"/teach/classes/{school.classes['pictures'].id}/learners/{cleo.id}/restore")
    assert response.status_code == 404
    with db.connection_context():
        assert Enrollment.select().where(Enrollment.learner == cleo.id).count() == 1
