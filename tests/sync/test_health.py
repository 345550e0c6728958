"""/healthz reports district sync for IT staff: quickly, from the hub's own database, and never
as a problem of the hub when it is not enrolled or cannot reach its district."""

from __future__ import annotations

import socket

from classroom_server import jobs
from classroom_server.db import db
from classroom_server.services import events, hub
from classroom_server.services import sync as hub_sync
from tests.sync.conftest import enrolled, free_port

FIELDS = {"enrolled", "district", "school", "last_success", "last_attempt", "waiting", "failures", "quarantined",
          "changes_through", "last_error"}


def test_a_hub_that_is_not_enrolled_is_healthy_and_says_so(client):
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["problems"] == []
    assert set(body["sync"]) == FIELDS
    assert body["sync"]["enrolled"] is False and body["sync"]["last_success"] is None
    assert body["sync"]["last_error"] is None and body["sync"]["waiting"] > 0  # the log is not empty


def test_after_a_sync_the_health_check_tells_when_and_how_much_waits(app, client, school, district):
    transport = enrolled(app, district)
    with db.connection_context():
        hub_sync.run(transport)
    sync = client.get("/healthz").get_json()["sync"]
    assert sync["enrolled"] is True and sync["school"] == "Hillside Primary" and sync["district"] == "http://district.test"
    assert sync["last_success"] and sync["waiting"] == 0 and sync["failures"] == 0 and sync["quarantined"] == 0
    with db.connection_context():
        events.record("learner.signed_in", {"method": "pin"}, learner_uid=school.learners["cleo"].uid)
    assert client.get("/healthz").get_json()["sync"]["waiting"] == 1


def test_an_unreachable_district_is_reported_but_the_hub_stays_ok(app, client, district):
    enrolled(app, district)
    with db.connection_context():
        hub.set_meta(hub_sync.KEY_URL, f"http://127.0.0.1:{free_port()}")
    assert jobs.scheduled_sync(app) == "unreachable"
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok"
    assert body["sync"]["last_error"].startswith("The district could not be reached: nothing is listening")


def test_the_health_check_never_calls_the_district(app, client, district, monkeypatch):
    enrolled(app, district)

    def no_network(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the health check opened a connection")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert client.get("/healthz").status_code == 200


def test_waiting_is_counted_from_the_origin_counters_as_from_the_log(app, school, district):
    transport = enrolled(app, district)
    with db.connection_context():
        hub_sync.run(transport)
        for _ in range(3):
            events.record("learner.signed_in", {"method": "pin"}, learner_uid=school.learners["dev"].uid)
        store = hub_sync.Store()
        acked = {row.origin: row.acked for row in hub_sync.SyncAck.select()}
        from_log = sum(last - acked.get(origin, 0) for origin, last in store.positions().items())
        assert hub_sync.waiting() == from_log == 3
