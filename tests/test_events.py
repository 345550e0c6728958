"""The event log: gapless per-origin sequence, idempotent by event id, append-only."""

import threading
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from peewee import IntegrityError

from classroom_server.db import db
from classroom_server.errors import Invalid
from classroom_server.models import Event
from classroom_server.services import events, hub


SIGN_IN = {"method": "pin"}  # a small real event: learner.signed_in for learner "a"


def _note(**kwargs):
    return events.record("learner.signed_in", SIGN_IN, learner_uid="a", **kwargs)


def _attempt(n=0, correct=True):
    return {"pack": "p", "version": "1.0.0", "item": f"i{n}", "skill": "s", "response": n, "correct": correct,
            "hints_used": 0, "duration_ms": None, "mode": "practice", "lang": "en"}


def _seqs():
    return [e.seq for e in Event.select().where(Event.origin == hub.origin()).order_by(Event.seq)]


def test_sequence_is_gapless_and_starts_after_setup_events(app):
    with db.connection_context():
        before = len(_seqs())
        for i in range(5):
            _note()
        seqs = _seqs()
    assert seqs == list(range(1, before + 6))


def test_same_event_id_is_stored_once_and_returns_the_first_result(app):
    event_id = str(uuid.uuid4())
    with db.connection_context():
        first = events.record("attempt", _attempt(1), event_id=event_id, learner_uid="a", result={"correct": True})
        again = events.record("attempt", _attempt(2, False), event_id=event_id, learner_uid="a",
                              result={"correct": False})
        count = Event.select().where(Event.event_id == event_id).count()
    assert not first.duplicate and again.duplicate
    assert again.result == {"correct": True}
    assert again.event.seq == first.event.seq
    assert count == 1


def test_a_failed_action_leaves_no_event_and_no_gap(app):
    with db.connection_context():
        _note()
        with pytest.raises(RuntimeError):
            _note(action=lambda: (_ for _ in ()).throw(RuntimeError("boom")))
        _note()
        seqs = _seqs()
    assert seqs == list(range(1, len(seqs) + 1))


def test_events_cannot_be_changed_or_deleted(app):
    with db.connection_context():
        recorded = _note()
        with pytest.raises(IntegrityError, match="append-only"):
            Event.update(kind="other").where(Event.id == recorded.event.id).execute()
        with pytest.raises(IntegrityError, match="append-only"):
            Event.delete().where(Event.id == recorded.event.id).execute()


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "1234", ""])
def test_a_malformed_event_id_is_refused(app, bad_id):
    with db.connection_context(), pytest.raises(Invalid) as caught:
        _note(event_id=bad_id)
    assert caught.value.field == "event_id"


def test_reusing_an_event_id_for_another_kind_is_refused(app):
    event_id = str(uuid.uuid4())
    with db.connection_context():
        events.record("attempt", _attempt(), event_id=event_id, learner_uid="a")
        with pytest.raises(Invalid, match="already used"):
            events.record("test_out_started", {"pack": "p", "skill": "s"}, event_id=event_id, learner_uid="a")


def test_an_oversized_payload_is_refused(app):
    with db.connection_context(), pytest.raises(Invalid, match="too large"):
        events.record("assignment.set", {"skills": ["x" * 190] * 400})


@pytest.mark.parametrize("kind, payload, learner, why", [
    ("note", {}, None, "unknown event kind"),
    ("attempt", {"answer": 1}, "a", "must contain"),
    ("attempt", {**_attempt(), "extra": 1}, "a", "must not contain"),
    ("learner.signed_in", {"method": "pin"}, None, "must name its learner"),
    ("override", {"pack": "p", "skill": "s", "action": "delete_everything"}, "a", "must be one of"),
    ("goal.set", {"kind": "skills", "target": "5", "week_of": "2026-01-05"}, "a", "must be integer"),
])
def test_a_payload_that_does_not_match_its_kind_is_refused_and_nothing_is_stored(app, kind, payload, learner, why):
    with db.connection_context():
        before = Event.select().count()
        with pytest.raises(Invalid, match=why) as caught:
            events.record(kind, payload, learner_uid=learner)
        assert Event.select().count() == before
    assert caught.value.field == "payload"


def test_each_event_stores_the_hash_of_what_it_says(app):
    from classroom_server import eventkinds

    with db.connection_context():
        one = events.record("attempt", _attempt(1), learner_uid="a").event
        two = events.record("attempt", _attempt(1), learner_uid="a").event
        other = events.record("attempt", _attempt(1), learner_uid="b").event
        stored = Event.get_by_id(one.id)
    assert stored.payload_hash == one.payload_hash == two.payload_hash  # same content, different ids
    assert other.payload_hash != one.payload_hash  # about someone else
    expected = eventkinds.payload_hash("attempt", eventkinds.canonical_json(_attempt(1)), "a", None, None)
    assert stored.payload_hash == expected and len(expected) == 64


def test_concurrent_writers_get_a_gapless_sequence(app):
    errors = []

    def writer():
        try:
            with db.connection_context():
                for _ in range(20):
                    _note()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.connection_context():
        seqs = _seqs()
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) >= 80


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=25))
def test_any_mix_of_new_and_resent_events_stores_each_id_once(app, picks):
    ids = [str(uuid.uuid4()) for _ in range(7)]  # fresh ids: examples share one database
    with db.connection_context():
        before = len(_seqs())
        first_seq = {}
        for pick in picks:
            recorded = events.record("attempt", _attempt(pick), event_id=ids[pick], learner_uid="a")
            first_seq.setdefault(pick, recorded.event.seq)
            assert recorded.event.seq == first_seq[pick]
        stored = Event.select().where(Event.event_id.in_(ids)).count()
        seqs = _seqs()
    assert stored == len(set(picks))
    assert seqs == list(range(1, before + stored + 1))
