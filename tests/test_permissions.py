"""Roles are checked on every route: each protected route, each role."""

import pytest

from classroom_server.web.access import requires  # noqa: F401  (the decorator under test)
from tests.conftest import ADMIN_PASSWORD, TEACHER_PASSWORD, sign_in_learner, sign_in_staff

TEACHER_ROUTES = ["/teach/", "/teach/classes/{pictures}", "/teach/classes/{pictures}/learners/{ana}"]
ADMIN_ROUTES = ["/admin/", "/admin/sync/", "/admin/sync/progress"]
LEARNER_ROUTES = ["/learn/"]


def _fill(path, school):
    return path.format(pictures=school.classes["pictures"].id, ana=school.learners["ana"].id)


@pytest.mark.parametrize("path", TEACHER_ROUTES + ADMIN_ROUTES + LEARNER_ROUTES + ["/account/password"])
def test_anonymous_visitors_are_sent_to_sign_in(client, school, path):
    response = client.get(_fill(path, school))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("path", TEACHER_ROUTES + ADMIN_ROUTES + ["/account/password"])
def test_a_learner_cannot_open_staff_pages(client, school, path):
    sign_in_learner(client, school, "ana")
    assert client.get(_fill(path, school)).status_code == 403


@pytest.mark.parametrize("path", ADMIN_ROUTES + LEARNER_ROUTES)
def test_a_teacher_cannot_open_admin_or_learner_pages(client, school, path):
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    assert client.get(_fill(path, school)).status_code == 403


@pytest.mark.parametrize("path", [
    "/teach/classes/{pictures}", "/teach/classes/{pictures}/learners/{ana}",
    "/teach/classes/{pictures}/learners/{ana}/remove",
])
def test_a_teacher_cannot_open_another_teachers_class(client, school, path):
    sign_in_staff(client, "tom", TEACHER_PASSWORD)
    assert client.get(_fill(path, school)).status_code == 404


def test_a_teacher_cannot_change_another_teachers_learner(client, school):
    from tests.conftest import post

    sign_in_staff(client, "tom", TEACHER_PASSWORD)
    url = _fill("/teach/classes/{pictures}/learners/{ana}", school)
    assert post(client, url, {"display_name": "Hacked", "avatar": "red"}).status_code == 404
    assert post(client, url + "/secret").status_code == 404


def test_an_admin_can_open_every_staff_page(client, school):
    sign_in_staff(client, "admin", ADMIN_PASSWORD)
    for path in TEACHER_ROUTES + ADMIN_ROUTES:
        assert client.get(_fill(path, school)).status_code == 200, path


def test_every_view_outside_sign_in_and_health_declares_its_roles(app):
    open_views = {"static", "index", "health.healthz", "health.favicon", "openapi.served", "auth.choose", "auth.staff", "auth.learner_classes",
                  "auth.learner_names", "auth.learner_secret", "auth.logout"}
    for name, view in app.view_functions.items():
        if name not in open_views:
            assert getattr(view, "required_roles", None), f"{name} has no @requires"
