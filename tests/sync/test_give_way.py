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
