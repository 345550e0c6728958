"""The district acts only on its own hubs' signed, fresh requests, and only on their own events."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from typing import Any

import pytest

from classroom_server import clock
from classroom_server.db import db
from classroom_server.services import events, hub
from classroom_server.services import sync as hub_sync
from sync import protocol
from sync.district.models import Event as DistrictEvent
from sync.district.models import Quarantine
from tests.sync.conftest import enrolled, register


def _credentials() -> tuple[str, str, int]:
    with db.connection_context():
        store = hub_sync.Store()
        return store.hub_id, store.secret(), store.next_counter()


def _post(district, message: str, body: bytes, hub_id: str, secret: str, counter: int, **override):  # type: ignore[no-untyped-def]
    path = protocol.PREFIX + message
    headers = protocol.sign_request(secret, "POST", path, body, hub_id, counter)
    headers.update(override)
    return district.test_client().post(path, data=body, headers=headers)


def _rows(origin: str, first: int, count: int, learner: str = "learner-x") -> list[dict[str, Any]]:
    return [{"origin": origin, "seq": first + i, "event_id": f"00000000-0000-4000-8000-{first + i:012d}",
             "kind": "learner.signed_in", "learner_uid": learner, "actor_uid": None, "class_uid": None,
             "hlc": 1_000_000 + i, "occurred_at": "2026-12-06T10:00:00.000+00:00",
             "recorded_at": "2026-12-06T10:00:00.000+00:00", "payload": '{"method":"pin"}'} for i in range(count)]


def _batch(origin: str, first: int, count: int, learner: str = "learner-x") -> bytes:
    return protocol.encode_batch(origin, _rows(origin, first, count, learner))


def test_forged_replayed_and_unknown_requests_change_nothing(app, district):
    enrolled(app, district)
    hub_id, secret, counter = _credentials()
    hello = protocol.encode_json({"origins": {}})
    assert _post(district, "hello", hello, hub_id, "a-guessed-secret", counter).status_code == 401
    forged = _post(district, "hello", hello, hub_id, secret, counter, **{"X-Sync-Signature": "hmac-sha256=00"})
    assert forged.status_code == 401 and forged.json["error"] == "bad_signature"
    assert _post(district, "hello", hello, "someone-else", secret, counter).json["error"] == "unknown_hub"
    answer = _post(district, "hello", hello, hub_id, secret, counter)
    assert answer.status_code == 200
    assert protocol.response_signed_by(secret, counter, 200, answer.get_data(), answer.headers["X-Sync-Signature"])
    replay = _post(district, "hello", hello, hub_id, secret, counter)
    assert replay.status_code == 401 and replay.json["error"] == "stale_counter"
    assert replay.json["last_counter"] == counter
    # A signed body that was changed on the way is refused as a bad signature.
    push = _batch(f"{hub_id}.feedbeef0001", 1, 3)
    headers = protocol.sign_request(secret, "POST", "/sync/v1/push", push, hub_id, counter + 1)
    tampered = district.test_client().post("/sync/v1/push", data=push[:-1] + b"x", headers=headers)
    assert tampered.status_code == 401
    with district.extensions["district_database"].connection_context():
        assert DistrictEvent.select().count() == 0


def test_a_hub_may_send_only_its_own_origins_and_its_own_schools_learners(app, school, district):
    enrolled(app, district, school="Hillside Primary")
    hub_id, secret, counter = _credentials()
    other = _post(district, "push", _batch("another-hub.epoch", 1, 2), hub_id, secret, counter)
    assert other.status_code == 403 and other.json["error"] == "not_yours"
    # A learner first seen from another school's hub is not this hub's to write about.
    database = district.extensions["district_database"]
    with database.connection_context():
        from sync.district import service
        from sync.district.models import Learner

        Learner.create(uid="learner-of-riverside", school=service.add_school("Riverside").id)
    mine = f"{hub_id}.feedbeef0001"
    answer = _post(district, "push", _batch(mine, 1, 2, learner="learner-of-riverside"), hub_id, secret, counter + 1)
    assert answer.status_code == 409
    assert [q["reason"] for q in answer.json["quarantined"]] == ["the learner belongs to another school"] * 2
    assert answer.json["acked_through"] == 2  # quarantined, never retried
    with database.connection_context():
        assert DistrictEvent.select().count() == 0 and Quarantine.select().count() == 2


def test_the_same_place_with_other_content_is_quarantined_and_answered_the_same_again(app, district):
    enrolled(app, district)
    hub_id, secret, counter = _credentials()
    origin = f"{hub_id}.feedbeef0001"
    assert _post(district, "push", _batch(origin, 1, 3), hub_id, secret, counter).json == {"acked_through": 3,
                                                                                             "v": protocol.VERSION}
    rows = _rows(origin, 1, 3)
    rows[1]["payload"] = '{"method":"pictures"}'  # event 2, same id, other content
    changed = protocol.encode_batch(origin, rows)
    first = _post(district, "push", changed, hub_id, secret, counter + 1)
    again = _post(district, "push", changed, hub_id, secret, counter + 2)
    assert first.status_code == again.status_code == 409
    assert first.json == again.json
    assert [q["seq"] for q in first.json["quarantined"]] == [2]


def test_bad_batches_get_a_clear_refusal(app, district):
    enrolled(app, district)
    hub_id, secret, counter = _credentials()
    bomb = gzip.compress(b"{" + b" " * (protocol.MAX_INFLATED_BYTES + 10))
    answer = _post(district, "push", bomb, hub_id, secret, counter)
    assert answer.status_code == 400 and "inflates" in answer.json["message"]
    not_gzip = _post(district, "push", b"hello", hub_id, secret, counter + 1)
    assert not_gzip.status_code == 400 and "gzip" in not_gzip.json["message"]
    bad_kind = json.loads(gzip.decompress(_batch(f"{hub_id}.e1", 1, 1)))
    bad_kind["kind"] = ["learner.flew_away"]
    answer = _post(district, "push", gzip.compress(json.dumps(bad_kind).encode()), hub_id, secret, counter + 2)
    assert answer.status_code == 400 and "unknown event kind" in answer.json["message"]
    too_big = _post(district, "push", b"x" * (protocol.MAX_BODY_BYTES + 1), hub_id, secret, counter + 3)
    assert too_big.status_code == 413


def test_a_hub_of_a_newer_protocol_is_told_plainly_who_must_upgrade(app, district):
    enrolled(app, district)
    hub_id, secret, counter = _credentials()
    answer = _post(district, "hello", protocol.encode_json({"origins": {}}), hub_id, secret, counter,
                   **{"X-Sync-Version": "0"})
    assert answer.status_code == 426 and "upgrade the other side" in answer.json["message"]
    newer = protocol.VERSION + 1
    assert protocol.version_problem(newer, newer) == (f"This side speaks sync protocol {protocol.VERSION}, but the "
                                                      f"other needs {newer} or later: upgrade this side.")


@pytest.mark.parametrize("years", [-30, 12])
def test_a_wrong_clock_changes_nothing_the_district_holds(app, school, district, years):
    transport = enrolled(app, district)
    learner = school.learners["ana"].uid
    with db.connection_context():
        events.record("learner.signed_in", {"method": "pin"}, learner_uid=learner)
        hub_sync.run(transport)
        with clock.pretend(clock.now() + dt.timedelta(days=365 * years)):
            skewed = [events.record("learner.signed_in", {"method": "pin"}, learner_uid=learner).event
                      for _ in range(3)]
            hub_sync.run(transport)
        assert [e.seq for e in skewed] == sorted(e.seq for e in skewed)
        assert skewed[0].hlc < skewed[1].hlc < skewed[2].hlc  # the clock never goes back
        after = events.record("learner.signed_in", {"method": "pin"}, learner_uid=learner).event
        assert after.hlc > skewed[2].hlc
        hub_sync.run(transport)
        origin = hub.origin()
    with district.extensions["district_database"].connection_context():
        assert DistrictEvent.get(DistrictEvent.event_id == after.event_id).seq == after.seq
        assert DistrictEvent.select().where(DistrictEvent.origin == origin).count() == after.seq


def test_a_registration_can_be_made_for_a_second_school(district):
    assert register(district, school="Riverside", hub_name="Library")


def test_an_event_id_is_held_once_across_schools_and_never_for_another_event(district):
    """A push looks every event id up in every school's events (on PostgreSQL the unique index
    holds only within a school): the same event pushed by another school's hub is held once, and
    an id used there for other content is quarantined, in a batch whose other events are stored."""
    from sync.district import service

    def row(origin: str, seq: int, event_id: str, name: str) -> dict[str, Any]:
        return {"origin": origin, "seq": seq, "event_id": event_id, "kind": "class.updated", "learner_uid": None,
                "actor_uid": "teacher-t", "class_uid": None, "hlc": 1_000_000 + seq,
                "occurred_at": "2026-12-06T10:00:00.000+00:00", "recorded_at": "2026-12-06T10:00:00.000+00:00",
                "payload": json.dumps({"name": name, "uid": "class-c"}, separators=(",", ":"))}

    ids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(1, 5)]
    with district.extensions["district_database"].connection_context():
        hubs = []
        for n, name in enumerate(("Hillside", "Riverside")):
            registration, code = service.register_hub(service.add_school(name), "Room 4")
            service.enrol(code, f"hub-of-school-{n}", "Room 4")
            hubs.append(service.hub_by_reference(str(registration.id)))
        first, second = (f"{registration.hub_id}.epoch0001" for registration in hubs)
        mine = [row(first, 1, ids[0], "4A"), row(first, 2, ids[1], "4B")]
        assert service.push(hubs[0], protocol.encode_batch(first, mine)).reply() == {"acked_through": 2}
        theirs = [row(second, 1, ids[0], "4A"), row(second, 2, ids[1], "Forged"), row(second, 3, ids[2], "5A"),
                  row(second, 4, ids[3], "5B")]
        result = service.push(hubs[1], protocol.encode_batch(second, theirs))
        assert result.acked_through == 4
        assert [(q["seq"], q["reason"]) for q in result.quarantined] == [
            (2, "conflict: this event id was used for another event")]
        held = sorted((e.event_id, e.origin, e.seq, e.payload_hash) for e in DistrictEvent.select())
        assert [(event_id, origin, seq) for event_id, origin, seq, _ in held] == [
            (ids[0], first, 1), (ids[1], first, 2), (ids[2], second, 3), (ids[3], second, 4)]
        assert [digest for *_, digest in held] == [protocol.WireEvent(**r).payload_hash
                                                  for r in (mine[0], mine[1], theirs[2], theirs[3])]
        # sent again: nothing changes, the same answer
        again = service.push(hubs[1], protocol.encode_batch(second, theirs))
        assert again.reply() == result.reply() and DistrictEvent.select().count() == 4
