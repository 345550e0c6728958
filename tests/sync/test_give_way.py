"""A sync gives way to learners: while they answer on this hub, it sleeps between batches."""

from __future__ import annotations

import time

from classroom_server.db import db
from classroom_server.services import events
from classroom_server.services import sync as hub_sync
from sync.protocol import BatchSizer
from tests.sync.conftest import enrolled


def test_a_push_pauses_between_batches_with_what_each_cost(app, school, district):
    from tests.sync.test_push_requests import Counting

    transport = Counting(enrolled(app, district))
    learner = school.learners["ana"].uid
    paused: list[float] = []
    with db.connection_context():
        for _ in range(120):
            events.record("learner.signed_in", {"method": "picture"}, learner_uid=learner)
        outcome = hub_sync.run(transport, sizer=BatchSizer(size=700, step=300, minimum=300, maximum=1500),
                               pause=paused.append)
    batches = transport.paths.count("push")
    assert outcome.pushed > 120 and batches > 3
    assert len(paused) == batches - 1  # between batches, never after the last
    assert all(busy > 0 for busy in paused)


def test_give_way_sleeps_only_while_learners_are_at_work(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    monkeypatch.setattr(events, "_LAST_LEARNER_ACTION", [time.monotonic() - hub_sync.ACTIVE_SECONDS - 1])
    hub_sync.give_way(0.2)
    assert slept == []  # nobody answering: full speed
    monkeypatch.setattr(events, "_LAST_LEARNER_ACTION", [time.monotonic() - 1])
    hub_sync.give_way(0.02)
    hub_sync.give_way(5.0)
    assert slept == [0.02 * hub_sync.GIVE_WAY, hub_sync.MAX_PAUSE_SECONDS]


def test_a_learners_own_action_counts_as_work_and_a_teachers_does_not(app, school, monkeypatch):
    monkeypatch.setattr(events, "_LAST_LEARNER_ACTION", [time.monotonic() - 3600])
    with db.connection_context():
        events.record("goal.set", {"kind": "skills", "target": 3, "week_of": "2026-12-07"},
                      learner_uid=school.learners["ben"].uid, actor_uid=school.teachers["tess"].uid)
        assert events.seconds_since_learner_action() > 3000
        events.record("learner.signed_in", {"method": "pin"}, learner_uid=school.learners["cleo"].uid,
                      actor_uid=school.learners["cleo"].uid)
        assert events.seconds_since_learner_action() < 1.0


def test_a_push_waits_between_its_small_steps_while_a_learner_is_being_answered(app, school, district,
                                                                                monkeypatch):
    """While learners are at work, a batch is read and made a few hundred events at a time, and
    each step waits until no request is being handled; the batches are the same bytes."""
    from classroom_server import inflight
    from tests.sync.test_push_requests import Counting

    learner = school.learners["ana"].uid
    with db.connection_context():
        for _ in range(60):
            events.record("learner.signed_in", {"method": "picture"}, learner_uid=learner)
    monkeypatch.setattr(hub_sync, "READ_STEP", 7)
    monkeypatch.setattr("sync.protocol._STEP_EVENTS", 5)
    waits: list[int] = []
    real_wait = inflight.wait_until_quiet

    def wait(most: float) -> float:
        waits.append(inflight.in_flight())
        return real_wait(most)

    monkeypatch.setattr(inflight, "wait_until_quiet", wait)
    monkeypatch.setattr(hub_sync, "QUIET_WAIT_SECONDS", 0.01)
    monkeypatch.setattr(events, "_LAST_LEARNER_ACTION", [time.monotonic()])  # learners at work
    transport = Counting(enrolled(app, district))
    inflight.enter()  # a learner's request is being handled all along
    try:
        with db.connection_context():
            outcome = hub_sync.run(transport, pause=lambda busy: None)
    finally:
        inflight.leave()
    assert outcome.pushed >= 60
    assert len(waits) > 60 // 7 + 60 // 5 and set(waits) == {1}


def test_without_learners_at_work_a_push_does_not_wait_for_requests(monkeypatch):
    from classroom_server import inflight

    called: list[float] = []
    monkeypatch.setattr(inflight, "wait_until_quiet", called.append)
    monkeypatch.setattr(events, "_LAST_LEARNER_ACTION", [time.monotonic() - hub_sync.ACTIVE_SECONDS - 1])
    hub_sync.let_requests_through()
    assert called == []
    monkeypatch.setattr(events, "_LAST_LEARNER_ACTION", [time.monotonic()])
    hub_sync.let_requests_through()
    assert called == [hub_sync.QUIET_WAIT_SECONDS]


def test_the_store_reads_the_same_run_of_events_in_small_steps(app, school, monkeypatch):
    learner = school.learners["ben"].uid
    with db.connection_context():
        for _ in range(23):
            events.record("learner.signed_in", {"method": "pin"}, learner_uid=learner)
        whole = hub_sync.Store()
        steps: list[int] = []
        stepping = hub_sync.Store(breathe=lambda: steps.append(1))
        monkeypatch.setattr(hub_sync, "READ_STEP", 4)
        origin = whole.current_origin()
        last = max(whole.positions().values())
        for after, limit in [(0, 1), (0, 4), (0, 5), (3, 8), (0, 1000), (last - 2, 10), (last, 10)]:
            assert stepping.events_after(origin, after, limit) == whole.events_after(origin, after, limit)
        assert steps
