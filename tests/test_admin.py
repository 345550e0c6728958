"""An admin creates teachers and classes; bad input is explained and nothing is half-made."""

from tests.conftest import LATEST_SCHEMA
import pytest

from classroom_server.db import db
from classroom_server.models import Classroom, Person
from tests.conftest import ADMIN_PASSWORD, TEACHER_PASSWORD, post, sign_in_staff


@pytest.fixture
def admin(client, school):
    sign_in_staff(client, "admin", ADMIN_PASSWORD)
    return client


def test_admin_creates_a_teacher_who_can_sign_in(admin, app):
    response = post(admin, "/admin/staff", {"display_name": "Nia", "username": "Nia.K", "password": "long-enough-1", "role": "teacher"})
    assert response.status_code == 302
    assert sign_in_staff(app.test_client(), "nia.k", "long-enough-1").status_code == 302


@pytest.mark.parametrize("form, message", [
    ({"display_name": "Tess 2", "username": "tess", "password": "long-enough-1"}, "already taken"),
    ({"display_name": "Short", "username": "shorty", "password": "short"}, "at least 8"),
    ({"display_name": "Bad", "username": "no spaces!", "password": "long-enough-1"}, "A username is 2 to 32"),
    ({"display_name": "", "username": "blank", "password": "long-enough-1"}, "Please enter a name."),
    ({"display_name": "Role", "username": "rolex", "password": "long-enough-1", "role": "learner"}, "Staff are admins or teachers."),
])
def test_bad_staff_input_is_explained(admin, form, message):
    before = _count_people()
    response = post(admin, "/admin/staff", form)
    assert response.status_code in (400, 409)
    assert message in response.get_data(as_text=True)
    assert _count_people() == before


def _count_people():
    with db.connection_context():
        return Person.select().count()


def test_admin_creates_a_class_for_a_teacher(admin, app, school):
    response = post(admin, "/admin/classes", {"name": "Acacias", "login_kind": "pin", "teachers": [str(school.teachers["tom"].id)]})
    assert response.status_code == 302
    tom = app.test_client()
    sign_in_staff(tom, "tom", TEACHER_PASSWORD)
    assert "Acacias" in tom.get("/teach/").get_data(as_text=True)


@pytest.mark.parametrize("form, message", [
    ({"name": "", "login_kind": "pin"}, "Please enter a name."),
    ({"name": "X", "login_kind": "retina"}, "Choose picture password or PIN."),
    ({"name": "X", "login_kind": "pin", "teachers": ["999"]}, "Choose teachers from the list."),
    ({"name": "X", "login_kind": "pin", "teachers": ["abc"]}, "Choose teachers from the list."),
])
def test_bad_class_input_is_explained(admin, form, message):
    response = post(admin, "/admin/classes", form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with db.connection_context():
        assert Classroom.select().count() == 2


def test_admin_page_shows_hub_health(admin):
    page = admin.get("/admin/").get_data(as_text=True)
    assert LATEST_SCHEMA in page and "never" in page
