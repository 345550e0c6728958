"""A learner moved to another school by the district: archived at the school they left, on the
roster of the school they joined, whose hub gets their whole history from the other school's
hub, so their progress goes on where it was; what the old school's hub recorded before it heard
of the move is kept, never quarantined."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from click.testing import CliRunner

from classroom_server.app import create_app
from classroom_server.cli import main as cli
from classroom_server.db import DB_FILENAME, db
from classroom_server.models import Event, Person
from classroom_server.services import hub, packs
from classroom_server.services import sync as hub_sync
from content_packs.testing import make_pack
from sync import changes as change_rules
from sync.district import projections, service
from sync.district.models import Event as DistrictEvent
from sync.district.models import Learner, LearnerMove, Quarantine
from sync.transport import AppTransport
from tests.sync.conftest import register
from tests.sync.test_district_projections import hub_mastery
from tests.sync.test_two_hubs import PACK_ID, ROSTER, SCHOOL, SETTINGS, course, practise, use

OTHER = "Riverside School"
RIVERSIDE = [{"kind": "class", "sourcedId": "c-5b", "status": "active", "title": "Class 5B"}, course("c-5b")]


def _log(uid: str, origin: str | None = None) -> list[str]:
    """The event ids about a learner on the hub in use (of one origin's, or all)."""
    with db.connection_context():
        query = Event.select().where(Event.learner_uid == uid)
        if origin is not None:
            query = query.where(Event.origin.startswith(origin))
        return sorted(e.event_id for e in query)


def _mastery_of(uid: str) -> dict[tuple[str, str], dict[str, object]]:
    return {k: v for k, v in hub_mastery().items() if k[0] == uid}


@pytest.fixture
def two_schools(app, district, data_dir, tmp_path, migrated_template):  # type: ignore[no-untyped-def]
    """Hub A at Hillside (s-1 and s-2 in class 4A), hub B at Riverside (class 5B), one pack."""
    database = district.extensions["district_database"]
    with database.connection_context():
        service.publish(service.add_school(SCHOOL), ROSTER[:6] + [course("c-4a")])
        service.publish(service.add_school(OTHER), RIVERSIDE)
    transport = AppTransport(district)
    pack = make_pack(tmp_path / "pack", skills=3, items_per_skill=10, pack_id=PACK_ID)
    folder_b = tmp_path / "hub-b"
    folder_b.mkdir()
    shutil.copyfile(migrated_template, folder_b / DB_FILENAME)
    app_b = create_app(folder_b, SETTINGS)
    with db.connection_context():
        hub.initialize_identity()
    for folder, school in ((data_dir, SCHOOL), (folder_b, OTHER)):
        use(folder)
        packs.import_pack(folder, pack)
        with db.connection_context():
            hub_sync.enrol(transport, "http://district.test", register(district, school, folder.name), folder.name)
            hub_sync.run(transport)
    use(data_dir)
    yield app, app_b, data_dir, folder_b, transport
    use(data_dir)


def test_a_learner_moved_to_another_school_takes_their_progress_along(two_schools, district):
    app, app_b, folder_a, folder_b, transport = two_schools
    database = district.extensions["district_database"]
    day = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
    use(folder_a)
    assert practise(app, ["s-1", "s-2"], day, seed=1) > 0
    with db.connection_context():
        hub_sync.run(transport)

    with database.connection_context():
        moved = service.move_learner("s-1", service.school_named(OTHER), class_id="c-5b", by="test")
    assert (moved.from_school, moved.to_school, moved.made_on_hub) == (SCHOOL, OTHER, False)
    assert moved.withdrawn == 2 and moved.published == 2  # the user and enrollment e-1; the user and 5B

    # Hub A had not heard yet: the learner practised there once more; that work is theirs.
    assert practise(app, ["s-1"], day + dt.timedelta(days=1), seed=2) > 0
    with db.connection_context():
        outcome = hub_sync.run(transport)
        assert outcome.waiting == 0 and outcome.quarantined == 0
        amara = Person.get(Person.uid == "s-1")
        assert not amara.active, "the school left archives the learner"
        assert Person.get(Person.uid == "s-2").active
    log_a, mastery_a = _log("s-1"), _mastery_of("s-1")

    use(folder_b)
    for _ in range(2):  # the roster, then the learner's history from the school they left
        with db.connection_context():
            hub_sync.run(transport)
    with db.connection_context():
        joined = Person.get(Person.uid == "s-1")
        assert joined.active and joined.display_name.startswith("Amara")
    with db.connection_context():
        own = hub.get_meta("hub_id")
    # Every event about them from the school they left; besides, this hub's own record of their joining.
    assert set(_log("s-1")) - set(log_a) == set(_log("s-1", own)) and len(log_a) > 10
    assert _mastery_of("s-1") == mastery_a, "their progress goes on where it was"
    assert practise(app_b, ["s-1"], day + dt.timedelta(days=2), seed=3) > 0
    with db.connection_context():
        assert hub_sync.run(transport).quarantined == 0
    log_b = _log("s-1")

    with database.connection_context():
        held = sorted(e.event_id for e in DistrictEvent.select().where(DistrictEvent.learner_uid == "s-1"))
        assert Quarantine.select().count() == 0
        registration = next(h for h in service.hubs() if h.name == folder_b.name)
        done = projections.recompute(registration)
        assert done.problem is None and done.missing == 0
        at_district = {k: v for k, v in projections.mastery_of(registration).items() if k[0] == "s-1"}
        assert int(Learner.get_by_id("s-1").school) == int(service.school_named(OTHER).id)
    assert held == log_b and set(log_a) < set(log_b)
    assert at_district == _mastery_of("s-1")


def test_a_move_that_cannot_be_made_changes_nothing(two_schools, district):
    app, _, folder_a, _, transport = two_schools
    database = district.extensions["district_database"]
    with db.connection_context():
        hub_sync.run(transport)
    with database.connection_context():
        riverside, hillside = service.school_named(OTHER), service.school_named(SCHOOL)
        service.publish(hillside, [{"kind": "user", "sourcedId": "t-1", "status": "active", "role": "teacher",
                                    "givenName": "Tess", "familyName": "Obi"}])
        with pytest.raises(change_rules.ChangeError, match="knows no learner"):
            service.move_learner("nobody", riverside)
        with pytest.raises(change_rules.ChangeError, match="at Hillside Primary already"):
            service.move_learner("s-1", hillside)
        with pytest.raises(change_rules.ChangeError, match="no class 'c-9'"):
            service.move_learner("s-1", riverside, class_id="c-9")
        # Nothing of the refused move stayed: the learner is Hillside's, on its roster.
        assert int(Learner.get_by_id("s-1").school) == int(hillside.id)
        assert LearnerMove.select().count() == 0
        assert service.current(hillside, "user", "s-1")["status"] == "active"
        assert service.current(riverside, "user", "s-1") is None
        Learner.insert(uid="t-1", school=hillside.id).execute()  # as if a hub had sent events about them
        with pytest.raises(change_rules.ChangeError, match="only a student"):
            service.move_learner("t-1", riverside)


def test_a_learner_made_on_a_hub_moves_with_the_name_the_hub_gave(two_schools, district, school):
    _, _, folder_a, _, transport = two_schools
    database = district.extensions["district_database"]
    ana = school.learners["ana"]
    with db.connection_context():
        hub_sync.run(transport)
    with database.connection_context():
        moved = service.move_learner(ana.uid, service.school_named(OTHER))
        record = service.current(service.school_named(OTHER), "user", ana.uid)
    assert moved.made_on_hub and moved.withdrawn == 0 and moved.published == 1
    assert record["givenName"] == ana.display_name and record["role"] == "student"


def test_the_command_moves_a_learner_and_says_what_it_did(two_schools, district_url):
    runner = CliRunner()
    done = runner.invoke(cli, ["district", "move-learner", "s-1", "--to", OTHER, "--class", "c-5b",
                               "--database-url", district_url])
    assert done.exit_code == 0, done.output
    assert "Moved s-1 from Hillside Primary to Riverside School" in done.output
    again = runner.invoke(cli, ["district", "move-learner", "s-1", "--to", OTHER, "--database-url", district_url])
    assert again.exit_code == 1 and "at Riverside School already" in again.output
    nowhere = runner.invoke(cli, ["district", "move-learner", "s-1", "--to", "Atlantis", "--database-url",
                                  district_url])
    assert nowhere.exit_code == 1 and "no school called 'Atlantis'" in nowhere.output
