"""The district computes every hub's projections with the hub's own pure code: after a sync its
numbers equal the hub's stored ones exactly, on SQLite and on PostgreSQL, also for a hub whose
log was rewound and fetched back from the district."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from peewee import fn

from classroom_server import clock, projection_rules
from classroom_server.app import create_app
from classroom_server.db import DB_FILENAME, db
from classroom_server.demo_practice import simulate
from classroom_server.models import (
    ClassAssignment,
    ClassCourse,
    Event,
    LearnerAccommodations,
    MasteryRow,
    Person,
    WeeklyGoal,
)
from classroom_server.services import goals, learning, packs, practice, teaching
from classroom_server.services import projections as hub_projections
from classroom_server.services import sync as hub_sync
from content_packs.build import write_checksums
from content_packs.testing import edit_json, make_pack
from sync.district import projections, service
from sync.district.models import Event as DistrictEvent
from sync.district.models import HubManifest, Manifest, ProjectionRun
from sync.transport import AppTransport
from tests.conftest import study
from tests.sync.conftest import enrolled

PACK = "org.example.district"
HUB_SETTINGS = {"TESTING": True, "log_level": "warning", "insecure_fast_hashes": True}
HUB_TABLES = {"class_assignment": ClassAssignment, "class_course": ClassCourse,
              "learner_accommodations": LearnerAccommodations,
              "weekly_goal": WeeklyGoal}


# --- the hub, and what it stores -------------------------------------------------------------------

def _learners() -> list[Person]:
    return list(Person.select().where(Person.role == "learner").order_by(Person.id))


def _practise(app, moment: dt.datetime, days: int, seed: int) -> int:  # type: ignore[no-untyped-def]
    """Every learner practises on ``days`` school days before ``moment``, through the real
    practice service (path, lessons, graded answers), as the demo school does."""
    with db.connection_context(), clock.pretend(moment):
        return simulate(app.extensions["engine"], _learners(), days=days, steps_per_day=10, seed=seed)


def _positions() -> dict[int, tuple[str, int]]:
    return {row_id: (origin, int(seq)) for row_id, origin, seq in Event.select(Event.id, Event.origin, Event.seq)
            .tuples()}


def hub_mastery() -> dict[tuple[str, str], dict[str, Any]]:
    """The hub's stored mastery rows, each stamped with its event's (origin, seq) for its row id."""
    with db.connection_context():
        where = _positions()
        rows = {}
        for row in MasteryRow.select().dicts():
            origin, seq = where[row.pop("event_id")]
            rows[(row["learner_uid"], row["skill"])] = {**row, "origin": origin, "seq": seq}
        return rows


def hub_latest(name: str) -> dict[str, dict[str, Any]]:
    model = HUB_TABLES[name]
    key = projection_rules.BY_NAME[name].key_column
    with db.connection_context():
        where = _positions()
        rows = {}
        for row in model.select().dicts():
            origin, seq = where[row.pop("event_id")]
            rows[row[key]] = {**row, "origin": origin, "seq": seq}
        return rows


def hub_checks_itself(app) -> None:  # type: ignore[no-untyped-def]
    """The hub's stored projections equal its own rebuild (``recompute --check``)."""
    for outcome in hub_projections.recompute(app.extensions["catalogue"], check=True):
        assert outcome.problems == [], outcome.name


# --- the district ----------------------------------------------------------------------------------

def _district_db(district):  # type: ignore[no-untyped-def]
    return district.extensions["district_database"]


def district_recompute(district) -> projections.Recomputed:  # type: ignore[no-untyped-def]
    with _district_db(district).connection_context():
        (registration,) = [h for h in service.hubs() if h.hub_id]
        return projections.recompute(registration)


def district_rows(district) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[str, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    with _district_db(district).connection_context():
        (registration,) = [h for h in service.hubs() if h.hub_id]
        return (projections.mastery_of(registration),
                {name: projections.latest_of(registration, name) for name in projections.LATEST_TABLES})


def assert_district_equals_hub(app, district) -> projections.Recomputed:  # type: ignore[no-untyped-def]
    hub_checks_itself(app)
    done = district_recompute(district)
    assert done.problem is None and done.missing == 0
    mastery, latest = district_rows(district)
    expected = hub_mastery()
    assert expected and mastery.keys() == expected.keys()
    for key, row in expected.items():
        assert mastery[key] == row, key  # every column, the float p_fresh included, exactly
    for name in projections.LATEST_TABLES:
        assert latest[name] == hub_latest(name), name
    return done


# --- a hub with a full school day's worth of everything --------------------------------------------

@pytest.fixture
def base() -> dt.datetime:
    """A fixed school morning ahead of the real clock, so that each event's hybrid clock follows
    the times the test pretends (a hub's clock never goes back)."""
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).replace(hour=7, minute=0, second=0, microsecond=0)


@pytest.fixture
def pack_src(tmp_path: Path) -> Path:
    return make_pack(tmp_path / "src", skills=4, items_per_skill=6, pack_id=PACK)


def _upgrade(src: Path, version: str, drop: tuple[str, ...]) -> None:
    """A new version of the pack without some items (answered ones: they are retired, not forgotten)."""
    edit_json(src / "pack.json", lambda m: m.update(version=version))
    for path in sorted((src / "items").glob("*.json")):
        edit_json(path, lambda items: items.__setitem__(slice(None), [i for i in items if not i["id"].endswith(drop)]))
    assert write_checksums(src).ok


def _teach(app, school, moment: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    """A teacher's day: an override per kind that sets rows differently, an assignment, an
    accommodation, a goal, and the nightly calibration."""
    engine = app.extensions["engine"]
    tess, tom = school.teachers["tess"], school.teachers["tom"]
    pictures, pins = school.classes["pictures"], school.classes["pins"]
    with db.connection_context(), clock.pretend(moment):
        teaching.override(engine, tess, pictures, school.learners["ana"], "mark_mastered", f"{PACK}:skill-0001")
        teaching.override(engine, tess, pictures, school.learners["ben"], "reset", f"{PACK}:skill-0000")
        teaching.override(engine, tom, pins, school.learners["cleo"], "pause", None)  # every row of cleo's
        teaching.set_assignment(engine, tess, pictures, [f"{PACK}:skill-0002", f"{PACK}:skill-0001"])
        teaching.set_accommodations(tom, pins, school.learners["dev"], {"items_per_session": "6", "more_time": "on"})
        goals.set_goal(school.learners["ana"], "skills", 2)
        practice.record_learning_step(engine, school.learners["ben"], "lesson_viewed", {
            "pack": PACK, "resource": "skill-0001", "skill": "skill-0001", "modality": "text"})
        practice.record_learning_step(engine, school.learners["dev"], "test_out_started",
                                      {"pack": PACK, "skill": "skill-0003"})
    with db.connection_context(), clock.pretend(moment + dt.timedelta(hours=10)):
        assert learning.calibrate(engine) is not None


@pytest.fixture
def practised(app, data_dir, school, pack_src, base):  # type: ignore[no-untyped-def]
    """Two days of practice, a pack upgrade, a teacher's day and a calibration, then more practice
    that the calibration moves."""
    packs.import_pack(data_dir, pack_src)
    study(school)
    assert _practise(app, base, days=2, seed=1) > 0
    _upgrade(pack_src, "1.1.0", drop=("-005",))
    packs.import_pack(data_dir, pack_src)
    study(school)
    _teach(app, school, base + dt.timedelta(hours=2))
    with db.connection_context(), clock.pretend(base + dt.timedelta(days=1, hours=1)):
        teaching.override(app.extensions["engine"], school.teachers["tom"], school.classes["pins"],
                          school.learners["cleo"], "resume", None)
    assert _practise(app, base + dt.timedelta(days=2), days=1, seed=2) > 0
    return app


def test_the_districts_numbers_equal_the_hubs_after_a_sync(practised, district):
    with db.connection_context():
        kinds = {row.kind for row in Event.select(Event.kind).distinct()}
    assert {"attempt", "lesson_viewed", "test_out_started", "override", "model.calibrated", "assignment.set",
            "learner.accommodations_set", "goal.set", "pack.installed"} <= kinds

    transport = enrolled(practised, district)
    with db.connection_context():
        first = hub_sync.run(transport)
    assert first.pushed > 0
    with _district_db(district).connection_context():
        # Both pack versions travelled in the first sync (asked for by the pushes' answers).
        assert Manifest.select().count() == 2
        (registration,) = service.hubs()
        assert projections.stale(registration)
    done = assert_district_equals_hub(practised, district)
    assert done.events == len(hub_sync_events()) and done.mastery_rows == len(hub_mastery())
    with _district_db(district).connection_context():
        assert not projections.stale(registration)
        run = ProjectionRun.get_by_id(registration.id)
        assert (run.algorithm, run.missing, run.problem) == (projections.ALGORITHM, 0, None)
        last = hub_sync_events()[-1]
        assert (run.last_origin, run.last_seq) == (last["origin"], last["seq"])
        assert projections.recompute_stale() == []  # nothing moved since

    # More practice and a sync: the district is stale until recomputed, then equal again.
    assert _practise(practised, dt.datetime.now(dt.UTC) + dt.timedelta(days=40), days=1, seed=3) > 0
    with db.connection_context():
        assert hub_sync.run(transport).pushed > 0
    with _district_db(district).connection_context():
        assert [r.hub_id for r in projections.recompute_stale()] == [registration.id]
    assert_district_equals_hub(practised, district)


def hub_sync_events() -> list[dict[str, Any]]:
    with db.connection_context():
        return hub_sync.canonical_events()


def test_a_missing_manifest_is_a_problem_said_plainly_and_the_rows_are_kept(practised, district):
    transport = enrolled(practised, district)
    with db.connection_context():
        hub_sync.run(transport)
    assert_district_equals_hub(practised, district)
    before = district_rows(district)
    with _district_db(district).connection_context():
        Manifest.delete().execute()
        (registration,) = service.hubs()
        done = projections.recompute(registration)
        assert done.problem and "pack manifests missing" in done.problem
        assert ProjectionRun.get_by_id(registration.id).problem == done.problem
        assert projections.stale(registration)
    assert district_rows(district) == before


def _copy_database(data_dir: Path, target: Path) -> None:
    with db.connection_context():
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    source, copy = sqlite3.connect(data_dir / DB_FILENAME), sqlite3.connect(target)
    source.backup(copy)
    source.close()
    copy.close()


def test_a_hub_rewound_and_fetched_back_still_equals_the_district(practised, district, data_dir, school, base,
                                                                   tmp_path):
    transport = enrolled(practised, district)
    with db.connection_context():
        hub_sync.run(transport)
    old_copy = tmp_path / "old.sqlite3"
    _copy_database(data_dir, old_copy)  # the SD card image someone will put back

    # Another day the district receives, then lost from the hub: the old image is put back.
    later = base + dt.timedelta(days=5)
    assert _practise(practised, later, days=1, seed=4) > 0
    with db.connection_context(), clock.pretend(later):
        teaching.set_accommodations(school.teachers["tess"], school.classes["pictures"], school.learners["ana"],
                                    {"read_aloud": "on"})
    with db.connection_context():
        assert hub_sync.run(transport).pushed > 0
    db.close_all()
    for suffix in ("-wal", "-shm"):
        (data_dir / f"{DB_FILENAME}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(old_copy, data_dir / DB_FILENAME)
    rewound = create_app(data_dir, HUB_SETTINGS)

    # The rewound hub works on (its clock is right: a day after the lost one), then syncs: it
    # begins a new epoch, moves what it wrote since to it, and fetches its lost day back.
    assert _practise(rewound, later + dt.timedelta(days=1), days=1, seed=5) > 0
    with db.connection_context(), clock.pretend(later + dt.timedelta(days=1)):
        goals.set_goal(school.learners["ben"], "minutes", 60)
    with db.connection_context():
        outcome = hub_sync.run(transport)
    assert outcome.new_epoch and outcome.fetched_back > 0 and outcome.pushed > 0
    with db.connection_context():
        # The fetched-back day sits before the new one in the canonical order, though it was
        # stored after it: the stored projections were rewritten in that order.
        fetched = Event.select().where(Event.origin != outcome.new_epoch).order_by(Event.id.desc()).first()
        newer = Event.select().where(Event.origin == outcome.new_epoch).order_by(Event.id).first()
        assert fetched.id > newer.id and fetched.hlc < newer.hlc
    assert_district_equals_hub(rewound, district)
    assert hub_latest("learner_accommodations")[school.learners["ana"].uid]["read_aloud"] is True


def test_an_engine_in_another_process_rebuilds_when_events_join_the_log_before_its_end(practised, district, data_dir,
                                                                                         base, tmp_path):
    """The hub that fetched events back rewrote its projections; an engine of another process
    (here: one the rewrite does not know of) notices events placed before its end and rebuilds."""
    transport = enrolled(practised, district)
    with db.connection_context():
        hub_sync.run(transport)
    old_copy = tmp_path / "old.sqlite3"
    _copy_database(data_dir, old_copy)
    assert _practise(practised, base + dt.timedelta(days=5), days=1, seed=6) > 0
    with db.connection_context():
        hub_sync.run(transport)
    db.close_all()
    for suffix in ("-wal", "-shm"):
        (data_dir / f"{DB_FILENAME}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(old_copy, data_dir / DB_FILENAME)
    other = create_app(data_dir, HUB_SETTINGS)  # "another process": its engine reads the log first
    other_engine = other.extensions["engine"]
    with db.connection_context():
        other_engine.catch_up()
    assert _practise(other, base + dt.timedelta(days=6), days=1, seed=7) > 0
    syncing = create_app(data_dir, HUB_SETTINGS)  # the process that syncs: the rewrite invalidates its engine
    with db.connection_context():
        assert hub_sync.run(AppTransport(district)).fetched_back > 0
    assert other_engine.state is not None  # not told
    with db.connection_context():
        other_engine.catch_up()
        rebuilt = dict(other_engine.rows)
        assert learning.compare_with_stored(rebuilt) == []
    assert syncing.extensions["engine"].state is None  # told: it rebuilds at its next read
    assert_district_equals_hub(other, district)


def test_a_hub_installed_before_manifests_were_kept_sends_its_own_and_is_equal(app, data_dir, school, pack_src,
                                                                                district):
    """Older ``pack.installed`` events name a version by ``<pack>@<version>`` (here: a pack since
    removed, whose answers still count with its items' priors). That is not a content name (each
    hub made its own manifest for it, services/packs.backfill_manifests): the district asks for
    it by that name and keeps the hub's manifest as that hub's."""
    from classroom_server.learning.adapter import manifest_text
    from classroom_server.models import PackManifest
    from classroom_server.services import events

    old = "org.example.old"
    manifest = {"pack": old, "version": "0.9.0", "skills": [{"id": "count", "prerequisites": []}],
                "items": [{"id": f"count-{k}", "skill": "count", "type": "numeric", "check": k == 2,
                           "difficulty": 0.25 * k} for k in range(3)]}
    packs.import_pack(data_dir, pack_src)
    study(school)
    ana = school.learners["ana"]
    with db.connection_context():
        with db.atomic():
            events.record("pack.installed", {"pack_id": old, "version": "0.9.0", "previous": None, "skills": 1,
                                             "items": 3})
            PackManifest.insert(key=f"{old}@0.9.0", pack_id=old, version="0.9.0",
                                body=manifest_text(manifest)).execute()
        for k in (0, 1, 2, 1):
            events.record("attempt", {"pack": old, "version": "0.9.0", "item": f"count-{k}", "skill": "count",
                                      "response": "3", "correct": k != 1, "hints_used": 0, "duration_ms": 9000,
                                      "mode": "practice", "lang": "en"}, learner_uid=ana.uid, actor_uid=ana.uid)
        events.record("pack.removed", {"pack_id": old, "version": "0.9.0"})  # its items: known, not offered
        with db.atomic():
            hub_projections.rewrite_all()  # the engine learns of the old pack (the hub does it at start)
    _practise(app, dt.datetime.now(dt.UTC) + dt.timedelta(days=30), days=1, seed=8)

    transport = enrolled(app, district)
    with db.connection_context():
        hub_sync.run(transport)
    assert (ana.uid, f"{old}:count") in hub_mastery()
    assert_district_equals_hub(app, district)
    with _district_db(district).connection_context():
        (registration,) = service.hubs()
        assert [(m.name, m.key) for m in HubManifest.select()] == [
            (f"{old}@0.9.0", hashlib.sha256(manifest_text(manifest).encode()).hexdigest())]
        # A body that is not the named version's manifest is refused.
        with pytest.raises(service.Refused, match="not that pack version"):
            service.manifests(registration, {"manifests": {f"{old}@1.0.0": manifest_text(manifest)}})


def test_events_the_district_does_not_hold_are_counted_missing(practised, district):
    """An event below a high-water mark that the district does not hold (one it quarantined, or
    held once under another hub's origin) makes the projection differ from the hub's: counted."""
    transport = enrolled(practised, district)
    with db.connection_context():
        hub_sync.run(transport)
    with _district_db(district).connection_context():
        DistrictEvent.delete().where(DistrictEvent.id == DistrictEvent.select(fn.MAX(DistrictEvent.id))
                                     .where(DistrictEvent.kind == "attempt").scalar()).execute()
        (registration,) = service.hubs()
        assert projections.recompute(registration).missing == 1
        assert ProjectionRun.get_by_id(registration.id).missing == 1


def test_the_fold_does_not_depend_on_the_order_events_are_read_in(practised, district):
    """The district sorts by (hlc, origin, seq) in Python, by code point, as the hub's SQLite does:
    never by the database, whose text collation may be a locale's."""
    transport = enrolled(practised, district)
    with db.connection_context():
        hub_sync.run(transport)
    with _district_db(district).connection_context():
        (registration,) = service.hubs()
        held = projections.events_of(list(projections.origins_of(registration)))
        manifests = projections.manifests_named(registration, held)
    forward = projections.compute(held, manifests)
    backward = projections.compute(list(reversed(held)), manifests)
    assert forward == backward and forward.mastery


def test_the_district_recomputes_by_itself_after_a_hub_pushes(practised, district):
    """`district serve` recomputes the hubs that sent events, in the background, at its interval."""
    import time

    from sync.district.app import describe, start_recomputing

    transport = enrolled(practised, district)
    with db.connection_context():
        hub_sync.run(transport)
    scheduler = start_recomputing(district, every_seconds=0.2)
    try:
        deadline = time.monotonic() + 60
        while True:
            with _district_db(district).connection_context():
                (registration,) = service.hubs()
                if not projections.stale(registration):
                    break
            assert time.monotonic() < deadline, "the district never recomputed the hub"
            time.sleep(0.05)
    finally:
        scheduler.shutdown(wait=True)
    assert_district_equals_hub(practised, district)
    with _district_db(district).connection_context():
        (registration,) = service.hubs()
        done = projections.recompute(registration)
    assert describe(done).startswith(f"hub registration {registration.id}: ") and "mastery rows" in describe(done)


def test_district_recompute_on_the_command_line(practised, district, district_url):
    from click.testing import CliRunner

    from classroom_server.cli import main

    transport = enrolled(practised, district)
    with db.connection_context():
        hub_sync.run(transport)
    runner = CliRunner()
    first = runner.invoke(main, ["district", "recompute", "--database-url", district_url])
    assert first.exit_code == 0 and "events folded" in first.output, first.output
    again = runner.invoke(main, ["district", "recompute", "--database-url", district_url])
    assert again.exit_code == 0 and "current" in again.output, again.output
