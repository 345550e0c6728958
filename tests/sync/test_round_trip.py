"""A hub enrols, learners practise, the hub syncs: the district holds every event once."""

from __future__ import annotations

import pytest

from classroom_server.db import db
from classroom_server.services import events
from classroom_server.services import sync as hub_sync
from sync.district import service
from sync.district.models import Event as DistrictEvent
from tests.sync.conftest import enrolled, register


def _hub_events() -> dict[str, str]:
    with db.connection_context():
        return {row["event_id"]: row["kind"] for row in hub_sync.canonical_events()}


def _district_events(district) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with district.extensions["district_database"].connection_context():
        return dict(DistrictEvent.select(DistrictEvent.event_id, DistrictEvent.kind).tuples())


def test_a_hub_pushes_every_event_once_and_an_empty_sync_is_one_small_request(app, school, district):
    transport = enrolled(app, district)
    with db.connection_context():
        first = hub_sync.run(transport)
    assert first.pushed == len(_hub_events()) > 0
    assert _district_events(district) == _hub_events()
    with db.connection_context():
        again = hub_sync.run(transport)
        state = hub_sync.status()
    assert (again.requests, again.pushed) == (1, 0)
    assert again.bytes_sent + again.bytes_received < 1024
    assert state.waiting == 0 and state.last_error is None and state.last_success
    with db.connection_context():
        events.record("learner.signed_in", {"method": "pin"}, learner_uid=school.learners["cleo"].uid)
        assert hub_sync.status().waiting == 1
        third = hub_sync.run(transport)
    assert third.pushed == 1
    assert _district_events(district) == _hub_events()


def test_a_code_is_spent_by_the_first_signed_request_and_bad_codes_are_refused(app, district):
    from sync.transport import AppTransport

    transport = AppTransport(district)
    code = register(district)
    with db.connection_context():
        with pytest.raises(hub_sync.client.SyncError, match="not an enrolment code"):
            hub_sync.enrol(transport, "http://district.test", "nope", "Room 4")
        with pytest.raises(hub_sync.client.SyncError, match="not known"):
            hub_sync.enrol(transport, "http://district.test", "ABCD-EFGH-JKMN", "Room 4")
        assert hub_sync.enrol(transport, "http://district.test", code, "Room 4") == "Hillside Primary"
        # The answer may have been lost: the same hub may present the same code again ...
        assert hub_sync.enrol(transport, "http://district.test", code.lower(), "Room 4") == "Hillside Primary"
        hub_sync.run(transport)
        # ... until its first signed request; then the code is spent.
        with pytest.raises(hub_sync.client.SyncError, match="not known, or was used already"):
            hub_sync.enrol(transport, "http://district.test", code, "Room 4")
        with pytest.raises(hub_sync.client.SyncError, match="enrolled already"):
            hub_sync.enrol(transport, "http://district.test", register(district, hub_name="Room 5"), "Room 4")


def test_a_revoked_hub_is_told_so_and_stops(app, district):
    transport = enrolled(app, district)
    with district.extensions["district_database"].connection_context():
        service.revoke(service.hubs()[0])
    with db.connection_context():
        with pytest.raises(hub_sync.client.SyncError, match="revoked") as caught:
            hub_sync.run(transport)
        assert caught.value.retry is False
        assert "revoked" in (hub_sync.status().last_error or "")


def test_a_revoked_hub_enrolled_again_with_a_new_code_goes_on_from_what_the_district_holds(app, school, district):
    transport = enrolled(app, district)
    with db.connection_context():
        first = hub_sync.run(transport)
    with district.extensions["district_database"].connection_context():
        service.revoke(service.hubs()[0])
    with db.connection_context():
        assert hub_sync.enrol(transport, "http://district.test", register(district, hub_name="Room 4b"),
                              "Room 4") == "Hillside Primary"
        events.record("learner.signed_in", {"method": "pin"}, learner_uid=school.learners["cleo"].uid)
        again = hub_sync.run(transport)
    assert first.pushed > 0 and again.pushed == 1 and again.waiting == 0
    assert _district_events(district) == _hub_events()


def test_the_sync_apis_answers_carry_no_page_headers(app, district):
    """A page's security headers and ``Vary: Cookie`` are a third of an empty sync on the wire
    (about 350 of 1,000 bytes): the sync API's answers go without them; the pages keep them."""
    transport = enrolled(app, district)
    seen: list[dict[str, str]] = []
    post = transport.post

    def watching(path, body, headers, timeout):  # type: ignore[no-untyped-def]
        answer = post(path, body, headers, timeout)
        seen.append({k.lower(): v for k, v in answer.headers.items()})
        return answer

    transport.post = watching  # type: ignore[method-assign]
    with db.connection_context():
        hub_sync.run(transport)
    assert seen and not any({"content-security-policy", "vary", "set-cookie"} & set(h) for h in seen)
    page = district.test_client().get("/dashboard/sign-in")
    assert page.status_code == 200
    assert "Content-Security-Policy" in page.headers and page.headers["X-Frame-Options"] == "DENY"
