"""Every error status the hub answers with, provoked by a real request, in the one shape.

JSON clients get ``{"error": {"code", "message", "field"}}``; people get the friendly page with
the message on it and never a traceback. One case per status the app can raise (two where two
different roads lead to it), each through the test client against the whole app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import peewee
import pytest
from markupsafe import escape

from classroom_server.errors import NotSignedIn
from classroom_server.services import accounts
from classroom_server.web.access import requires
from tests.conftest import ADMIN_PASSWORD, TEACHER_PASSWORD, post, sign_in_staff

JSON = {"Accept": "application/json"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


# --- how to provoke each status ---

def _form_without_csrf(app, client, headers):  # type: ignore[no-untyped-def]
    return client.post("/login/staff", data={"username": "tess", "password": "x"}, headers=headers)


def _upload_without_a_file(app, client, headers):  # type: ignore[no-untyped-def]
    sign_in_staff(client, "admin", ADMIN_PASSWORD)
    return post(client, "/admin/packs/upload", {}, headers=headers)


def _mount_test_routes(app) -> None:  # type: ignore[no-untyped-def]
    """No shipped route lets a 401 or a 409 reach the error handler today: the role guard raises
    NotSignedIn only under /api/ (which has no routes yet), and the admin form shows a taken
    username inline. These routes run the same guard and the same service through the handler."""
    app.add_url_rule("/api/whoami", "test_whoami", requires("learner")(lambda: {"ok": True}))
    app.add_url_rule("/test/signed-out", "test_signed_out", _raise_not_signed_in)
    app.add_url_rule("/test/staff", "test_staff", _create_a_taken_username, methods=["POST"])


def _raise_not_signed_in():  # type: ignore[no-untyped-def]
    raise NotSignedIn("Please sign in.")


def _create_a_taken_username():  # type: ignore[no-untyped-def]
    accounts.create_staff("teacher", "tess", "Another Tess", "long-enough-1")
    return "created"


def _not_signed_in(app, client, headers):  # type: ignore[no-untyped-def]
    if headers is JSON:
        return client.get("/api/whoami", headers=headers)
    return client.get("/test/signed-out", headers=headers)  # /api/ always answers JSON


def _teacher_on_an_admin_page(app, client, headers):  # type: ignore[no-untyped-def]
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    return client.get("/admin/", headers=headers)


def _missing_pack(app, client, headers):  # type: ignore[no-untyped-def]
    sign_in_staff(client, "admin", ADMIN_PASSWORD)
    return client.get("/admin/packs/org.example.none/remove", headers=headers)


def _no_such_page(app, client, headers):  # type: ignore[no-untyped-def]
    return client.get("/no/such/page", headers=headers)


def _wrong_method(app, client, headers):  # type: ignore[no-untyped-def]
    return client.get("/logout", headers=headers)


def _taken_username(app, client, headers):  # type: ignore[no-untyped-def]
    return post(client, "/test/staff", {}, headers=headers)


def _oversized_body(app, client, headers):  # type: ignore[no-untyped-def]
    body = {"username": "tess", "password": "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)}
    return client.post("/login/staff", data=body, headers=headers)


def _sign_in_throttle(app, client, headers):  # type: ignore[no-untyped-def]
    for _ in range(app.config["SETTINGS"]["login_free_failures"] + 1):
        sign_in_staff(client, "tess", "wrong-password")
    return post(client, "/login/staff", {"username": "tess", "password": TEACHER_PASSWORD}, headers=headers)


def _disk_failing(message: str):  # type: ignore[no-untyped-def]
    """Provoke a storage error from SQLite with ``message`` while the admin saves a class."""
    def provoke(app, client, headers, monkeypatch):  # type: ignore[no-untyped-def]
        def failing(*args: Any, **kwargs: Any) -> None:
            raise peewee.OperationalError(message)

        monkeypatch.setattr(accounts, "create_class", failing)
        sign_in_staff(client, "admin", ADMIN_PASSWORD)
        return post(client, "/admin/classes", {"name": "Acacias", "login_kind": "pin"}, headers=headers)

    provoke.needs_monkeypatch = True  # type: ignore[attr-defined]
    return provoke


_full_disk = _disk_failing("database or disk is full")
_read_only_disk = _disk_failing("attempt to write a readonly database")


@dataclass
class Case:
    status: int
    code: str
    message: str
    provoke: Callable[..., Any]
    field: str | None = None


CASES = {
    "400-csrf": Case(400, "csrf", "This form has expired or did not come from this hub.", _form_without_csrf),
    "400-invalid": Case(400, "invalid", "Choose a pack file (.zip) to upload.", _upload_without_a_file, "pack"),
    "401": Case(401, "not_signed_in", "Please sign in.", _not_signed_in),
    "403": Case(403, "forbidden", "This page is not for your account.", _teacher_on_an_admin_page),
    "404-pack": Case(404, "not_found", "No such pack is installed.", _missing_pack, "pack_id"),
    "404-page": Case(404, "not_found", "There is nothing here.", _no_such_page),
    "405": Case(405, "method_not_allowed", "That action is not allowed here.", _wrong_method),
    "409": Case(409, "conflict", "The username tess is already taken.", _taken_username, "username"),
    "413": Case(413, "request_entity_too_large", "That upload is too large.", _oversized_body),
    "429": Case(429, "throttled", "Too many tries. Wait a moment, then try again.", _sign_in_throttle),
    "503": Case(503, "storage_read_only", "The hub cannot write to its disk right now, so nothing can be saved.",
                _read_only_disk),
    "507": Case(507, "storage_full", "The hub's disk is full, so it cannot save anything right now.", _full_disk),
}


def test_every_status_the_hub_raises_is_covered():
    from classroom_server import errors

    raised = {cls.status for cls in vars(errors).values()
              if isinstance(cls, type) and issubclass(cls, errors.ClassroomError)} - {500}
    assert raised | {405, 413} == {case.status for case in CASES.values()}


def _provoke(name, app, client, headers, monkeypatch):  # type: ignore[no-untyped-def]
    _mount_test_routes(app)
    case = CASES[name]
    if getattr(case.provoke, "needs_monkeypatch", False):
        return case, case.provoke(app, client, headers, monkeypatch)
    return case, case.provoke(app, client, headers)


@pytest.mark.parametrize("name", CASES)
def test_json_clients_get_the_one_error_shape(name, app, client, school, monkeypatch):
    case, response = _provoke(name, app, client, JSON, monkeypatch)
    assert response.status_code == case.status
    assert response.mimetype == "application/json"
    assert response.get_json() == {"error": {"code": case.code, "message": response.get_json()["error"]["message"],
                                             "field": case.field}}
    assert response.get_json()["error"]["message"].startswith(case.message)


@pytest.mark.parametrize("name", CASES)
def test_people_get_a_friendly_page(name, app, client, school, monkeypatch):
    case, response = _provoke(name, app, client, BROWSER, monkeypatch)
    page = response.get_data(as_text=True)
    assert response.status_code == case.status
    assert response.mimetype == "text/html"
    assert '<p class="error" role="alert">' + str(escape(case.message)) in page
    assert "<h1>Sorry</h1>" in page
    assert "Traceback" not in page and "File \"" not in page


def test_a_json_request_body_gets_json_errors(client, school):
    response = client.post("/login/staff", json={"username": "tess", "password": "x"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf"
    assert response.headers["X-Error-Code"] == "csrf"


def test_throttled_and_wrong_method_answers_keep_their_headers(app, client, school):
    allowed = client.get("/logout", headers=JSON).headers["Allow"]
    assert set(allowed.split(", ")) == {"POST", "OPTIONS"}
    throttled = _sign_in_throttle(app, client, JSON)
    assert int(throttled.headers["Retry-After"]) >= 1


def test_the_error_page_is_translated(client, school):
    client.get("/login?lang=es")
    page = client.get("/no/such/page").get_data(as_text=True)
    assert '<html lang="es">' in page
    assert "There is nothing here." not in page and "Sorry" not in page
