"""One learner on two hubs (the district's roster puts them in a class on each): each hub gets the
other's events about them, folds the learner's whole log in the canonical order, and shows the
numbers the other hub and the district show."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from classroom_server import clock
from classroom_server.app import create_app
from classroom_server.db import DB_FILENAME, configure, database_path, db
from classroom_server.demo_practice import simulate
from classroom_server.models import Event, FollowedLearner, Person, WeeklyGoal
from classroom_server.services import events, hub, packs
from classroom_server.services import projections as hub_projections
from classroom_server.services import sync as hub_sync
from content_packs.testing import make_pack
from sync.district import projections, service
from sync.district.models import Event as DistrictEvent
from sync.transport import AppTransport
from tests.sync.conftest import register
from tests.sync.test_district_projections import hub_mastery

SETTINGS = {"TESTING": True, "log_level": "warning", "insecure_fast_hashes": True}
SCHOOL = "Hillside Primary"
PACK_ID = "org.example.two-hubs"
ROSTER = [
    {"kind": "class", "sourcedId": "c-4a", "status": "active", "title": "Class 4A"},
    {"kind": "class", "sourcedId": "c-club", "status": "active", "title": "Maths club"},
    {"kind": "user", "sourcedId": "s-1", "status": "active", "role": "student", "givenName": "Amara",
     "familyName": "Diallo"},
    {"kind": "user", "sourcedId": "s-2", "status": "active", "role": "student", "givenName": "Bruno",
     "familyName": "Silva"},
    {"kind": "enrollment", "sourcedId": "e-1", "status": "active", "classSourcedId": "c-4a", "userSourcedId": "s-1",
     "role": "student"},
    {"kind": "enrollment", "sourcedId": "e-2", "status": "active", "classSourcedId": "c-4a", "userSourcedId": "s-2",
     "role": "student"},
    {"kind": "enrollment", "sourcedId": "e-3", "status": "active", "classSourcedId": "c-club",
     "userSourcedId": "s-1", "role": "student"},
]


def course(class_uid: str) -> dict[str, object]:
    """The district's word on what a class studies: the test pack (make_pack's id)."""
    return {"kind": "course", "sourcedId": class_uid, "status": "active", "courses": [{"pack": PACK_ID}]}


def use(folder: Path) -> None:
    """Make ``folder``'s hub the one this process works on."""
    configure(database_path(folder))


def practise(app, learners: list[str], moment: dt.datetime, seed: int) -> int:  # type: ignore[no-untyped-def]
    with db.connection_context(), clock.pretend(moment):
        people = list(Person.select().where(Person.uid.in_(learners)).order_by(Person.uid))
        return simulate(app.extensions["engine"], people, days=1, steps_per_day=8, seed=seed)


def test_one_learner_on_two_hubs_has_one_log_and_the_same_numbers_everywhere(app, district, data_dir, tmp_path,
                                                                              migrated_template):
    database = district.extensions["district_database"]
    with database.connection_context():
        service.publish(service.add_school(SCHOOL), ROSTER[:6] + [course("c-4a")])  # s-1 and s-2 in class 4A
    transport = AppTransport(district)
    pack = make_pack(tmp_path / "pack", skills=3, items_per_skill=10, pack_id=PACK_ID)

    # Hub A (the fixture's) and hub B, each with the same pack, enrolled in the same school.
    folder_a, folder_b = data_dir, tmp_path / "hub-b"
    folder_b.mkdir()
    shutil.copyfile(migrated_template, folder_b / DB_FILENAME)
    app_b = create_app(folder_b, SETTINGS)
    with db.connection_context():
        hub.initialize_identity()
    for folder in (folder_a, folder_b):
        use(folder)
        packs.import_pack(folder, pack)
        with db.connection_context():
            hub_sync.enrol(transport, "http://district.test", register(district, SCHOOL, folder.name), folder.name)
            hub_sync.run(transport)
    with database.connection_context():  # the maths club meets on hub B: s-1 is on both hubs now
        service.publish(service.school_named(SCHOOL), [ROSTER[1], ROSTER[6], course("c-club")])

    day = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
    use(folder_a)
    assert practise(app, ["s-1", "s-2"], day, seed=1) > 0
    use(folder_b)
    with db.connection_context():
        hub_sync.run(transport)  # B gets the club; s-1 was on A first
    assert practise(app_b, ["s-1"], day + dt.timedelta(days=1), seed=2) > 0
    with db.connection_context(), clock.pretend(day + dt.timedelta(days=1, hours=2)):
        events.record("goal.set", {"kind": "skills", "target": 7, "week_of": "2026-11-02"}, learner_uid="s-1",
                      class_uid="c-club")
    use(folder_a)
    assert practise(app, ["s-1"], day + dt.timedelta(days=2), seed=3) > 0

    # Each hub syncs twice: the second time it gets what the other sent after its first.
    outcomes = {}
    for folder in (folder_a, folder_b, folder_a, folder_b):
        use(folder)
        with db.connection_context():
            outcomes[folder] = hub_sync.run(transport)
    use(folder_a)
    with db.connection_context():
        assert {f.uid for f in FollowedLearner.select()} == {"s-1", "s-2"}
        log_a = {e.event_id for e in Event.select().where(Event.learner_uid == "s-1")}
        goal_a = WeeklyGoal.get(WeeklyGoal.learner_uid == "s-1").target
        checked = hub_projections.recompute(app.extensions["catalogue"], check=True)
        assert [o.problems for o in checked] == [[]] * (1 + len(hub_projections.SIMPLE))
    rows_a = hub_mastery()
    use(folder_b)
    with db.connection_context():
        log_b = {e.event_id for e in Event.select().where(Event.learner_uid == "s-1")}
        goal_b = WeeklyGoal.get(WeeklyGoal.learner_uid == "s-1").target
        checked = hub_projections.recompute(app_b.extensions["catalogue"], check=True)
        assert [o.problems for o in checked] == [[]] * (1 + len(hub_projections.SIMPLE))
        assert Event.select().where(Event.learner_uid == "s-2", Event.kind == "attempt").count() > 0  # from A
        # Another hub's events never go up again from here.
        assert hub_sync.status().waiting == 0
    rows_b = hub_mastery()

    with database.connection_context():
        held = {e.event_id for e in DistrictEvent.select().where(DistrictEvent.learner_uid == "s-1")}
        registrations = {h.name: h for h in service.hubs() if h.hub_id}
        district_rows = {}
        for folder in (folder_a, folder_b):
            done = projections.recompute(registrations[folder.name])
            assert done.problem is None and done.missing == 0
            district_rows[folder] = projections.mastery_of(registrations[folder.name])
    # One log of the learner, the union of both hubs', on both hubs and at the district.
    assert log_a == log_b == held and len(held) > 20
    assert goal_a == goal_b == 7
    assert {k[0] for k in rows_a} == {"s-1", "s-2"} and rows_a == rows_b
    assert district_rows[folder_a] == rows_a and district_rows[folder_b] == rows_b


def test_a_malformed_shared_request_is_refused_plainly(district):
    import pytest

    with district.extensions["district_database"].connection_context():
        registration, _ = service.register_hub(service.add_school(SCHOOL), "Room 4")
        for message in ({}, {"scanned": [], "follow": [], "max_bytes": 10},
                        {"scanned": {"o": -1}, "follow": [], "max_bytes": 10},
                        {"scanned": {}, "follow": [7], "max_bytes": 10},
                        {"scanned": {}, "follow": ["x" * 65], "max_bytes": 10},
                        {"scanned": {}, "follow": ["s-1"] * (service.MAX_FOLLOW + 1), "max_bytes": 10},
                        {"scanned": {}, "follow": [], "max_bytes": 0}):
            with pytest.raises(service.Refused, match="names what was scanned") as refused:
                service.shared(registration, message)
            assert refused.value.status == 400
        answer = service.shared(registration, {"scanned": {}, "follow": ["s-1"], "max_bytes": 1000})
        assert answer == {"events": [], "scanned": {}, "followed": ["s-1"], "more": False, "head": 0}
