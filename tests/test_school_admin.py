"""Running the school from the web (#18): an admin renames a teacher, gives a forgotten password
again, archives and restores accounts and classes (each archive confirmed first); a teacher moves
a learner to another of their classes and can undo it. Each is an event with who did it."""

from __future__ import annotations

import json

import pytest

from classroom_server.db import db
from classroom_server.models import Classroom, Enrollment, Event, Person
from classroom_server.services import accounts, school_admin
from tests.conftest import ADMIN_PASSWORD, TEACHER_PASSWORD, post, sign_in_learner, sign_in_staff


@pytest.fixture
def admin(app, client, school):
    sign_in_staff(client, "admin", ADMIN_PASSWORD)
    return client


def last_event(kind: str) -> Event:
    with db.connection_context():
        return Event.select().where(Event.kind == kind).order_by(Event.id.desc()).get()


def fresh(model, row_id):  # type: ignore[no-untyped-def]
    with db.connection_context():
        return model.get_by_id(row_id)


# --- staff ----------------------------------------------------------------------------------------

def test_an_admin_gives_a_teacher_a_new_password_and_their_sessions_end(app, admin, school):
    tess_browser = app.test_client()
    assert sign_in_staff(tess_browser, "tess", TEACHER_PASSWORD).status_code == 302
    assert tess_browser.get("/teach/").status_code == 200
    url = f"/admin/staff/{school.teachers['tess'].id}"
    response = post(admin, url, {"action": "password", "password": "a-new-one-for-tess"})
    assert response.status_code == 302
    assert "has a new password" in admin.get(url).get_data(as_text=True)
    assert tess_browser.get("/teach/").status_code in (302, 401)  # signed out there
    assert sign_in_staff(app.test_client(), "tess", TEACHER_PASSWORD).status_code == 400
    assert sign_in_staff(app.test_client(), "tess", "a-new-one-for-tess").status_code == 302
    event = last_event("person.password_changed")
    assert event.actor_uid == school.admin.uid and "password" not in json.loads(event.payload)


def test_bad_input_on_a_staff_page_is_shown_with_the_reason(app, admin, school):
    url = f"/admin/staff/{school.teachers['tess'].id}"
    short = post(admin, url, {"action": "password", "password": "short"})
    assert short.status_code == 400 and "at least 8" in short.get_data(as_text=True)
    empty = post(admin, url, {"action": "rename", "display_name": "   "})
    assert empty.status_code == 400 and "enter a name" in empty.get_data(as_text=True)
    assert post(admin, url, {"action": "explode"}).status_code == 400
    own = post(admin, f"/admin/staff/{school.admin.id}", {"action": "archive"})
    assert own.status_code == 400 and "your own account" in own.get_data(as_text=True)
    assert admin.get("/admin/staff/99999").status_code == 404
    assert admin.get(f"/admin/staff/{school.learners['ana'].id}").status_code == 404  # not staff


def test_archiving_a_teacher_is_confirmed_and_undone(app, admin, school):
    tess = school.teachers["tess"]
    url = f"/admin/staff/{tess.id}"
    page = admin.get(url + "?confirm=archive").get_data(as_text=True)
    assert "Archive Tess Teacher" in page and 'value="archive"' in page
    assert "Archive Tess Teacher" not in admin.get(url).get_data(as_text=True)  # asked only after "Archive…"
    post(admin, url, {"action": "archive"})
    assert not fresh(Person, tess.id).active
    assert sign_in_staff(app.test_client(), "tess", TEACHER_PASSWORD).status_code == 400
    home = admin.get("/admin/").get_data(as_text=True)
    assert "1 archived account" in home
    assert f'name="teachers" value="{tess.id}"' not in home  # no longer offered for a new class
    post(admin, url, {"action": "restore"})
    assert fresh(Person, tess.id).active
    assert sign_in_staff(app.test_client(), "tess", TEACHER_PASSWORD).status_code == 302
    assert [json.loads(e.payload)["archived"] for e in
            Event.select().where(Event.kind == "person.archived").order_by(Event.id)] == [True, False]


def test_a_teacher_cannot_use_the_admin_pages(app, client, school):
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    for url in (f"/admin/staff/{school.teachers['tom'].id}", f"/admin/classes/{school.classes['pins'].id}"):
        assert client.get(url).status_code in (403, 404)
        assert post(client, url, {"action": "archive"}).status_code in (403, 404)
    assert fresh(Person, school.teachers["tom"].id).active and not fresh(Classroom, school.classes["pins"].id).archived


# --- classes --------------------------------------------------------------------------------------

def test_an_admin_renames_a_class_and_changes_its_teachers(app, admin, school):
    pins = school.classes["pins"]
    url = f"/admin/classes/{pins.id}"
    response = post(admin, url, {"action": "save", "name": "Baobabs 2027",
                                 "teachers": [str(school.teachers["tom"].id), str(school.teachers["tess"].id)]})
    assert response.status_code == 302
    assert fresh(Classroom, pins.id).name == "Baobabs 2027"
    with db.connection_context():
        assert {t.username for t in school_admin.teachers_of(pins)} == {"tom", "tess"}
    tess = app.test_client()
    sign_in_staff(tess, "tess", TEACHER_PASSWORD)
    assert tess.get(f"/teach/classes/{pins.id}").status_code == 200  # Tess teaches it now
    bad = post(admin, url, {"action": "save", "name": "Kept", "teachers": []})
    assert bad.status_code == 400 and "at least one teacher" in bad.get_data(as_text=True)
    assert 'value="Kept"' in bad.get_data(as_text=True)  # what was typed comes back
    assert fresh(Classroom, pins.id).name == "Baobabs 2027"


def test_archiving_a_class_is_confirmed_keeps_its_learners_and_is_undone(app, admin, school):
    pins = school.classes["pins"]
    url = f"/admin/classes/{pins.id}"
    assert "Archive Baobabs?" in admin.get(url + "?confirm=archive").get_data(as_text=True)
    post(admin, url, {"action": "archive"})
    assert fresh(Classroom, pins.id).archived
    assert "Baobabs" not in app.test_client().get("/login/learner").get_data(as_text=True)
    with db.connection_context():
        assert Enrollment.select().where(Enrollment.classroom == pins).count() == 2  # kept
    post(admin, url, {"action": "restore"})
    assert not fresh(Classroom, pins.id).archived
    assert sign_in_learner(app.test_client(), school, "cleo").status_code == 302


def test_a_district_class_is_changed_at_the_district(app, admin, school):
    with db.connection_context():
        Classroom.update(source="district").where(Classroom.id == school.classes["pins"].id).execute()
    url = f"/admin/classes/{school.classes['pins'].id}"
    assert "comes from the district" in admin.get(url).get_data(as_text=True)
    refused = post(admin, url, {"action": "archive"})
    assert refused.status_code == 400 and not fresh(Classroom, school.classes["pins"].id).archived


# --- moving a learner -----------------------------------------------------------------------------

def test_a_teacher_moves_a_learner_and_can_undo_it(app, client, school):
    with db.connection_context():
        sunflowers_2 = accounts.create_class("Sunflowers 2", "picture", [school.teachers["tess"].id], school.admin)
    ana = school.learners["ana"]
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    page = client.get(f"/teach/classes/{school.classes['pictures'].id}/learners/{ana.id}").get_data(as_text=True)
    assert "Move to another class" in page and "Sunflowers 2" in page and "Baobabs" not in page  # not hers
    response = post(client, f"/teach/classes/{school.classes['pictures'].id}/learners/{ana.id}/move",
                    {"to_class": str(sunflowers_2.id)})
    assert response.status_code == 302
    with db.connection_context():
        assert [c.name for c in accounts.classes_for(Person.get_by_id(ana.id))] == ["Sunflowers 2"]
    landed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ana is now in Sunflowers 2" in landed and "Undo: back to Sunflowers" in landed
    kinds = [e.kind for e in Event.select().where(Event.learner_uid == ana.uid).order_by(Event.id)][-2:]
    assert kinds == ["learner.unenrolled", "learner.enrolled"]
    post(client, f"/teach/classes/{sunflowers_2.id}/learners/{ana.id}/move",
         {"to_class": str(school.classes["pictures"].id)})
    with db.connection_context():
        assert [c.name for c in accounts.classes_for(Person.get_by_id(ana.id))] == ["Sunflowers"]
    assert sign_in_learner(app.test_client(), school, "ana").status_code == 302


def test_a_move_to_a_class_not_in_the_list_is_refused(app, client, school):
    ana = school.learners["ana"]
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    url = f"/teach/classes/{school.classes['pictures'].id}/learners/{ana.id}/move"
    for value in (str(school.classes["pins"].id), str(school.classes["pictures"].id), "x", "99999"):
        response = post(client, url, {"to_class": value})
        assert response.status_code == 400, value
    with db.connection_context():
        assert [c.name for c in accounts.classes_for(Person.get_by_id(ana.id))] == ["Sunflowers"]
    # an admin may move between any classes, but not into a class that signs in another way
    admin = app.test_client()
    sign_in_staff(admin, "admin", ADMIN_PASSWORD)
    other_kind = post(admin, url, {"to_class": str(school.classes["pins"].id)})
    assert other_kind.status_code == 400 and "signs in another way" in other_kind.get_data(as_text=True)
