"""The hub's JSON endpoints, probed by schemathesis from the hub's own OpenAPI description
(`GET /api/openapi.json`), signed out and signed in (a learner for the answer queue, the admin
for sync progress): whatever is sent, no server error, and every answer's status, content type
and body are as described."""

from __future__ import annotations

import pytest
import schemathesis
from content_packs.testing import make_pack
from schemathesis.checks import positive_data_acceptance

from classroom_server.services import packs
from tests.conftest import ADMIN_PASSWORD, CSRF_RE, sign_in_learner, sign_in_staff
from tests.sync.test_openapi_district import probe

PACK = "org.example.api"


@pytest.fixture
def hub_api(app, school, data_dir, tmp_path):  # type: ignore[no-untyped-def]
    packs.import_pack(data_dir, make_pack(tmp_path / "src", skills=1, items_per_skill=3, pack_id=PACK))
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


def _signed_in(app, school, role):  # type: ignore[no-untyped-def]
    """The cookie and CSRF token of a browser signed in as ``role`` (none for "anonymous")."""
    client = app.test_client()
    if role == "learner":
        sign_in_learner(client, school, "ana")
    elif role == "admin":
        sign_in_staff(client, "admin", ADMIN_PASSWORD)
    token = CSRF_RE.search(client.get("/login/staff").get_data(as_text=True)).group(1)
    cookie = client.get_cookie("classroom_session")
    return ({"Cookie": f"classroom_session={cookie.value}"} if cookie else {}), token


@pytest.mark.slow
@pytest.mark.parametrize("role", ["anonymous", "learner", "admin"])
def test_the_hub_answers_every_request_as_described(app, school, hub_api, role):  # type: ignore[no-untyped-def]
    headers, token = _signed_in(app, school, role)
    items = [i.id for i in app.extensions["catalogue"].get().catalogue.pack(PACK).items]
    statuses: list[int] = []

    def call(case):  # type: ignore[no-untyped-def]
        if isinstance(case.body, dict) and "csrf_token" in case.body:
            case.body["csrf_token"] = token  # the page's own token, as the answer queue sends it
        if case.path_parameters and len(statuses) % 2 == 0:  # half the answers go to a real item
            case.path_parameters = {"pack_id": PACK, "item_id": items[len(statuses) % len(items)]}
        # What an item accepts as an answer depends on the item, which the description cannot say
        # per item: a well-formed answer an item cannot read is a 400 by design, not a rejection.
        response = case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
        statuses.append(response.status_code)

    assert probe(hub_api, 60, call) >= 60
    if role == "learner":
        assert 200 in statuses  # answers reached the grading, and their verdicts matched the description


def test_the_description_is_served_to_anyone(client):  # type: ignore[no-untyped-def]
    described = client.get("/api/openapi.json").get_json()
    assert described["openapi"].startswith("3.")
    assert "/learn/item/{pack_id}/{item_id}" in described["paths"]


def test_an_unreadable_answer_from_the_queue_is_a_json_400(app, school, client, data_dir, tmp_path):  # type: ignore[no-untyped-def]
    packs.import_pack(data_dir, make_pack(tmp_path / "src", skills=1, items_per_skill=3, pack_id=PACK))
    item = app.extensions["catalogue"].get().catalogue.pack(PACK).items[0]
    sign_in_learner(client, school, "ana")
    token = CSRF_RE.search(client.get(f"/learn/item/{PACK}/{item.id}").get_data(as_text=True)).group(1)
    response = client.post(f"/learn/item/{PACK}/{item.id}", data={"csrf_token": token, "event_id": "x"},
                           headers={"Accept": "application/json"})
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "answer"


def test_a_signed_out_answer_queue_gets_a_401_not_the_sign_in_page(client, school):  # type: ignore[no-untyped-def]
    response = client.post("/learn/item/p/i", data={}, headers={"Accept": "application/json"})
    assert response.status_code in (400, 401)  # without a session there is no CSRF token either
    assert response.mimetype == "application/json"
