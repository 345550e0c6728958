"""An admin creates teachers and classes; bad input is explained and nothing is half-made."""

from tests.conftest import LATEST_SCHEMA
import peewee
import pytest

from classroom_server.db import db
from classroom_server.errors import Invalid
from classroom_server.models import Classroom, Person
from classroom_server.services import accounts
from tests.conftest import ADMIN_PASSWORD, TEACHER_PASSWORD, csrf_token, post, sign_in_staff
from tests.test_cli import tiny_disk  # noqa: F401  (a fixture: a real 2 MB disk)


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


def test_a_class_needs_at_least_one_teacher(admin, school):
    with db.connection_context(), pytest.raises(Invalid) as raised:
        accounts.create_class("Acacias", "pin", [], school.admin)
    assert raised.value.field == "teachers"
    response = post(admin, "/admin/classes", {"name": "Acacias", "login_kind": "pin"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    form = page[page.index('action="/admin/classes"'):]
    # the error sits by the teachers, and what was typed and chosen is still there
    teachers = form[form.index("<legend>Teachers</legend>"):form.index("</fieldset>", form.index("<legend>Teachers</legend>"))]
    assert 'id="class-teachers-error">Choose at least one teacher.</p>' in teachers
    assert 'aria-describedby="class-teachers-error"' in form
    assert 'name="name" value="Acacias"' in form
    assert 'value="pin" checked' in form and 'value="picture" checked' not in form
    with db.connection_context():
        assert Classroom.select().count() == 2


def test_the_class_form_keeps_the_chosen_teachers_after_an_error(admin, school):
    tom = school.teachers["tom"].id
    response = post(admin, "/admin/classes", {"name": "", "login_kind": "picture", "teachers": [str(tom)]})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'name="teachers" value="{tom}" checked' in page
    assert f'name="teachers" value="{school.teachers["tess"].id}" checked' not in page
    assert 'id="class-name-error">Please enter a name.</p>' in page


# --- a full disk during a request: 507 and plain words, nothing half-made ---

def _disk_full(*args, **kwargs):
    raise peewee.OperationalError("database or disk is full")


def test_a_full_disk_while_saving_is_a_clear_507_page(admin, monkeypatch, school):
    monkeypatch.setattr(accounts, "create_class", _disk_full)
    response = post(admin, "/admin/classes", {"name": "Acacias", "login_kind": "pin", "teachers": [str(school.teachers["tom"].id)]})
    assert response.status_code == 507
    assert "The hub&#39;s disk is full" in response.get_data(as_text=True)


def test_a_full_disk_is_a_507_in_json_too(admin, monkeypatch, school):
    monkeypatch.setattr(accounts, "create_class", _disk_full)
    response = post(admin, "/admin/classes", {"name": "Acacias", "login_kind": "pin"},
                    headers={"Accept": "application/json"})
    assert response.status_code == 507
    assert response.get_json()["error"]["code"] == "storage_full"


def test_other_database_errors_in_a_request_stay_errors(admin, monkeypatch):
    def broken(*args, **kwargs):
        raise peewee.OperationalError("no such table: classroom")

    monkeypatch.setattr(accounts, "create_class", broken)
    with pytest.raises(peewee.OperationalError):
        post(admin, "/admin/classes", {"name": "Acacias", "login_kind": "pin"})


def test_a_truly_full_disk_answers_507_and_loses_nothing(tiny_disk):
    """The hub on a real 2 MB disk, filled to the last byte while it runs."""
    from classroom_server.app import create_app
    from classroom_server.services import hub
    from tests.test_cli import _fill

    data = tiny_disk / "hub"
    data.mkdir()
    app = create_app(data, {"TESTING": True, "log_level": "warning"})
    with db.connection_context():
        hub.initialize_identity()
        admin = accounts.create_staff("admin", "admin", "Ada Admin", ADMIN_PASSWORD)
        teacher = accounts.create_staff("teacher", "tess", "Tess", TEACHER_PASSWORD, admin)
    client = app.test_client()
    assert sign_in_staff(client, "admin", ADMIN_PASSWORD).status_code == 302
    token = csrf_token(client, "/admin/")
    _fill(tiny_disk)
    health = client.get("/healthz")
    assert health.status_code == 507 and health.get_json()["error"]["code"] == "storage_full"
    saved = client.post("/admin/classes", data={"csrf_token": token, "name": "Acacias", "login_kind": "pin",
                                                "teachers": [str(teacher.id)]})
    assert saved.status_code == 507 and "disk is full" in saved.get_data(as_text=True)
    (tiny_disk / "filler").unlink()
    assert client.get("/healthz").status_code == 200
    with db.connection_context():
        assert Person.select().count() == 2 and Classroom.select().count() == 0
    again = client.post("/admin/classes", data={"csrf_token": token, "name": "Acacias", "login_kind": "pin",
                                                "teachers": [str(teacher.id)]})
    assert again.status_code == 302
