"""A hub whose log was rewound (an old SD card image, a database file copied back by hand, with
no epoch change) and then written on: it begins a new epoch, keeps what only it holds, fetches
its own events back, and the district and the hub end with the same events, none lost."""

from __future__ import annotations

import os
import shutil

from classroom_server.db import DB_FILENAME, db
from classroom_server.models import Event
from classroom_server.services import events, hub, projections
from classroom_server.services import sync as hub_sync
from sync.district.models import Event as DistrictEvent
from sync.district.models import Quarantine
from tests.sync.conftest import enrolled


def _sign_ins(learner_uid: str, count: int) -> list[str]:
    return [events.record("learner.signed_in", {"method": "pin"}, learner_uid=learner_uid).event.event_id
            for _ in range(count)]


def _swap_in(data_dir, image) -> None:  # type: ignore[no-untyped-def]
    """Put an old copy of the database file in place, as a new file (like an SD card image)."""
    db.close_all()  # pooled: every connection, not only this thread's
    live = data_dir / DB_FILENAME
    for suffix in ("-wal", "-shm"):
        (data_dir / (DB_FILENAME + suffix)).unlink(missing_ok=True)
    staged = data_dir / "staged.sqlite3"
    shutil.copyfile(image, staged)
    os.replace(staged, live)


def test_a_rewound_hub_begins_a_new_epoch_and_nothing_is_lost(app, school, district, data_dir, tmp_path):
    transport = enrolled(app, district)
    learner = school.learners["cleo"].uid
    with db.connection_context():
        hub_sync.run(transport)
        old_origin = hub.origin()
    image = tmp_path / "sd-card-image.sqlite3"
    with db.connection_context():
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(data_dir / DB_FILENAME, image)

    with db.connection_context():
        after_image = _sign_ins(learner, 7)
        goal = events.record("goal.set", {"kind": "skills", "target": 5, "week_of": "2026-12-07"},
                             learner_uid=learner).event.event_id
        hub_sync.run(transport)  # the district now holds 8 events the image lacks

    _swap_in(data_dir, image)
    with db.connection_context():
        assert hub.origin() == old_origin
        written_on = _sign_ins(learner, 3)  # at the numbers the district holds other events
        outcome = hub_sync.run(transport)
        assert outcome.new_epoch and outcome.new_epoch != old_origin
        assert hub.origin() == outcome.new_epoch
        assert outcome.fetched_back == 8
        held = {row.event_id: (row.origin, row.seq, row.payload_hash) for row in Event.select()}
        assert set(after_image) | {goal} | set(written_on) <= set(held)
        assert all(held[e][0] == outcome.new_epoch for e in written_on)
        problems = [p for o in projections.recompute(app.extensions["catalogue"], check=True) for p in o.problems]
        assert problems == []
        assert hub_sync.status().waiting == 0
        # The hub goes on under its new origin.
        later = _sign_ins(learner, 1)[0]
        hub_sync.run(transport)
        assert Event.get(Event.event_id == later).origin == outcome.new_epoch
        held = {row.event_id: (row.origin, row.seq, row.payload_hash) for row in Event.select()}
    with district.extensions["district_database"].connection_context():
        at_district = {row.event_id: (row.origin, row.seq, row.payload_hash) for row in DistrictEvent.select()}
        assert Quarantine.select().count() == 0
    assert at_district == held


def test_finding_where_a_rewound_log_parts_takes_a_few_requests_not_one_per_event(app, school, district, data_dir,
                                                                                   tmp_path):
    from tests.sync.test_push_requests import Counting

    transport = Counting(enrolled(app, district))
    learner = school.learners["dev"].uid
    with db.connection_context():
        _sign_ins(learner, 50)
        hub_sync.run(transport)
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    image = tmp_path / "image.sqlite3"
    shutil.copyfile(data_dir / DB_FILENAME, image)
    with db.connection_context():
        _sign_ins(learner, 300)  # the district holds these; the image will not
        hub_sync.run(transport)
    _swap_in(data_dir, image)
    with db.connection_context():
        _sign_ins(learner, 400)  # written on far past the district's mark, under the old numbers
        transport.paths.clear()
        outcome = hub_sync.run(transport)
    assert outcome.new_epoch
    # The hub and the district part after the image's last event, ~300 events below where both
    # hold something: a binary search, about log2(350) requests, plus the fetch back.
    assert transport.paths.count("fetch") <= 14, transport.paths
    assert outcome.fetched_back == 300


def test_a_rewound_hub_gets_back_events_the_district_refused_too(app, school, district, data_dir, tmp_path):
    """An event the district quarantined leaves a hole in what it holds of the origin; a hub that
    must fetch its own log back gets the refused event from quarantine, and its log is whole."""
    transport = enrolled(app, district)
    learner = school.learners["cleo"].uid
    with db.connection_context():
        hub_sync.run(transport)
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    image = tmp_path / "image.sqlite3"
    shutil.copyfile(data_dir / DB_FILENAME, image)
    # Riverside's roster claims a learner this hub then writes about: those events are refused.
    with district.extensions["district_database"].connection_context():
        from sync.district import service

        service.publish(service.add_school("Riverside"), [{
            "kind": "user", "sourcedId": "shared-learner", "status": "active", "role": "student",
            "givenName": "Sam", "familyName": "Shared"}])
    with db.connection_context():
        before = _sign_ins(learner, 2)
        refused = _sign_ins("shared-learner", 2)
        after = _sign_ins(learner, 2)
        outcome = hub_sync.run(transport)
        assert outcome.quarantined == 2
        wanted = {row.event_id: (row.seq, row.payload_hash) for row in Event.select()}
    _swap_in(data_dir, image)
    with db.connection_context():
        recovered = hub_sync.run(transport)
        assert recovered.new_epoch and recovered.fetched_back == 6
        held = {row.event_id: (row.seq, row.payload_hash) for row in Event.select()}
        assert {e: held[e] for e in before + refused + after} == {e: wanted[e] for e in before + refused + after}
        problems = [p for o in projections.recompute(app.extensions["catalogue"], check=True) for p in o.problems]
        assert problems == []
