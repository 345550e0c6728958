"""The district's changes come down: rosters (OneRoster-shaped, with tombstones), assignments and
calibrations, applied on the hub with their cursor in one transaction, each explained by an event."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classroom_server.db import db
from classroom_server.models import ClassAssignment, Classroom, ClassTeacher, Enrollment, Event, HubMeta, Person
from classroom_server.services import accounts, district_changes, events, projections
from classroom_server.services import sync as hub_sync
from sync import changes
from sync.district import service
from sync.district.models import Change, Quarantine
from sync.district.models import Event as DistrictEvent
from tests.sync.conftest import enrolled
from tests.sync.test_push_requests import Counting

LIBRARY = Path(__file__).resolve().parents[2] / "content_packs" / "library"

SCHOOL = "Hillside Primary"


def user(uid: str, given: str, family: str = "", role: str = "student", **more):  # type: ignore[no-untyped-def]
    return {"kind": "user", "sourcedId": uid, "status": "active", "role": role, "givenName": given,
            "familyName": family, **more}


def klass(uid: str, title: str):  # type: ignore[no-untyped-def]
    return {"kind": "class", "sourcedId": uid, "status": "active", "title": title}


def enrol(uid: str, class_uid: str, user_uid: str, role: str = "student"):  # type: ignore[no-untyped-def]
    return {"kind": "enrollment", "sourcedId": uid, "status": "active", "classSourcedId": class_uid,
            "userSourcedId": user_uid, "role": role}


ROSTER = [
    user("t-100", "Grace", "Okafor", role="teacher", username="gokafor"),
    klass("c-4a", "Class 4A"),
    user("s-1", "Amara", "Diallo"),
    user("s-2", "Bruno", "Silva"),
    enrol("e-1", "c-4a", "s-1"),
    enrol("e-2", "c-4a", "s-2"),
    enrol("e-3", "c-4a", "t-100", role="teacher"),
]


def publish(district, records, school: str | None = SCHOOL):  # type: ignore[no-untyped-def]
    with district.extensions["district_database"].connection_context():
        return service.publish(service.school_named(school) if school else None, records)


def withdraw(district, kind: str, key: str) -> None:  # type: ignore[no-untyped-def]
    with district.extensions["district_database"].connection_context():
        service.withdraw(service.school_named(SCHOOL), kind, key)


def _same_events_both_sides(district) -> None:  # type: ignore[no-untyped-def]
    with db.connection_context():
        held = {row["event_id"]: row["seq"] for row in hub_sync.canonical_events()}
    with district.extensions["district_database"].connection_context():
        there = dict(DistrictEvent.select(DistrictEvent.event_id, DistrictEvent.seq).tuples())
        assert Quarantine.select().count() == 0
    assert there == held


def _roster_on_hub() -> dict[str, object]:
    return {
        "people": {p.uid: (p.role, p.display_name, p.active)
                   for p in Person.select().where(Person.source == "district")},
        "classes": {c.uid: (c.name, c.archived) for c in Classroom.select().where(Classroom.source == "district")},
        "learners": sorted((e.classroom.uid, e.learner.uid) for e in Enrollment.select().join(Classroom)
                           .where(Classroom.source == "district")),
        "teachers": sorted((t.classroom.uid, t.teacher.uid) for t in ClassTeacher.select().join(Classroom)
                           .where(Classroom.source == "district")),
    }


def test_a_published_roster_reaches_the_hub_explained_by_events_and_goes_back_up(app, school, district):
    transport = Counting(enrolled(app, district))
    assert publish(district, ROSTER).published == len(ROSTER)
    assert publish(district, [{**ROSTER[2], "dateLastModified": "2026-12-01"}, *ROSTER]).unchanged == len(ROSTER) + 1
    with db.connection_context():
        outcome = hub_sync.run(transport)
        assert outcome.pulled == len(ROSTER) and outcome.notes == []
        assert _roster_on_hub() == {
            "people": {"t-100": ("teacher", "Grace Okafor", True), "s-1": ("learner", "Amara Diallo", True),
                       "s-2": ("learner", "Bruno Silva", True)},
            "classes": {"c-4a": ("Class 4A", False)},
            "learners": [("c-4a", "s-1"), ("c-4a", "s-2")],
            "teachers": [("c-4a", "t-100")],
        }
        grace = Person.get(Person.uid == "t-100")
        assert grace.username == "gokafor" and grace.password_hash is None  # an admin gives a password
        made = [(e.kind, e.actor_uid) for e in Event.select().where(Event.actor_uid == "district").order_by(Event.id)]
        assert made == [("person.created", "district"), ("class.created", "district"),
                        ("learner.created", "district"), ("learner.created", "district"),
                        ("learner.enrolled", "district"), ("learner.enrolled", "district"),
                        ("class.teachers_set", "district")]
        # A roster learner is listed to sign in, but has no picture password until a teacher gives one.
        classroom = Classroom.get(Classroom.uid == "c-4a")
        assert classroom in accounts.all_classes()
        assert [p.uid for p in accounts.learners_in(classroom)] == ["s-1", "s-2"]
        assert accounts.classes_for(grace) == [classroom]
    # The events that applied the roster went up in the same sync.
    _same_events_both_sides(district)
    with db.connection_context():
        transport.paths.clear()
        again = hub_sync.run(transport)
        assert transport.paths == ["hello"] and again.pulled == 0
        assert again.bytes_sent + again.bytes_received < 1024 - 300  # and HTTP's headers: under 1 KB


def test_withdrawn_records_are_archived_on_the_hub_and_their_history_stays(app, school, district):
    transport = enrolled(app, district)
    publish(district, ROSTER)
    with db.connection_context():
        hub_sync.run(transport)
        events.record("learner.signed_in", {"method": "picture"}, learner_uid="s-2", class_uid="c-4a")
    withdraw(district, "user", "s-2")
    withdraw(district, "enrollment", "e-3")
    publish(district, [klass("c-4a", "Class 4A (mornings)"), user("s-1", "Amara", "Diallo-Ba")])
    with db.connection_context():
        outcome = hub_sync.run(transport)
        assert outcome.pulled == 4
        roster = _roster_on_hub()
        assert roster["people"]["s-2"] == ("learner", "Bruno Silva", False)
        assert roster["people"]["s-1"] == ("learner", "Amara Diallo-Ba", True)
        assert roster["classes"] == {"c-4a": ("Class 4A (mornings)", False)}
        assert roster["teachers"] == []
        assert [p.uid for p in accounts.learners_in(Classroom.get(Classroom.uid == "c-4a"))] == ["s-1"]
        assert Event.select().where(Event.learner_uid == "s-2", Event.kind == "learner.signed_in").count() == 1
        assert not Person.get(Person.uid == "s-2").active  # signed out, everywhere (sessions need an active person)
    withdraw(district, "class", "c-4a")
    publish(district, [user("s-2", "Bruno", "Silva")])  # back again, in the class its enrollment names
    with db.connection_context():
        hub_sync.run(transport)
        roster = _roster_on_hub()
        assert roster["classes"] == {"c-4a": ("Class 4A (mornings)", True)}
        assert roster["people"]["s-2"] == ("learner", "Bruno Silva", True)
        classroom = Classroom.get(Classroom.uid == "c-4a")
        assert classroom not in accounts.all_classes()
        assert [p.uid for p in accounts.learners_in(classroom)] == ["s-1", "s-2"]
    _same_events_both_sides(district)


def test_a_learner_moved_to_another_class_while_the_hub_was_offline(app, school, district):
    """The move applies at the next pull; what the learner did meanwhile keeps the class it was
    done in, reaches the district once, and counts for the learner: nothing is dropped."""
    transport = enrolled(app, district)
    publish(district, [klass("c-4a", "Class 4A"), klass("c-4b", "Class 4B"), user("s-1", "Amara", "Diallo"),
                       enrol("e-1", "c-4a", "s-1")])
    with db.connection_context():
        hub_sync.run(transport)
        offline = [events.record("learner.signed_in", {"method": "picture"}, learner_uid="s-1",
                                 class_uid="c-4a").event.event_id for _ in range(3)]
        goal = events.record("goal.set", {"kind": "skills", "target": 4, "week_of": "2026-12-07"},
                             learner_uid="s-1", class_uid="c-4a").event.event_id
    withdraw(district, "enrollment", "e-1")
    publish(district, [enrol("e-9", "c-4b", "s-1")])
    with db.connection_context():
        outcome = hub_sync.run(transport)
        assert outcome.pulled == 2 and outcome.quarantined == 0
        assert _roster_on_hub()["learners"] == [("c-4b", "s-1")]
        kept = {e.event_id: e.class_uid for e in Event.select().where(Event.event_id.in_([*offline, goal]))}
        assert set(kept.values()) == {"c-4a"} and len(kept) == 4
        problems = [p for o in projections.recompute(app.extensions["catalogue"], check=True) for p in o.problems]
        assert problems == []
    _same_events_both_sides(district)


def test_assignments_and_calibrations_come_down_as_the_events_the_hub_folds(app, school, district):
    transport = enrolled(app, district)
    calibration = {"kind": "calibration", "sourcedId": "fit-2026-12", "status": "active",
                   "items": {"numbers-1/add-1": [0.25, 40]}, "skills": {"numbers-1/add": [0.1, 40]},
                   "guess_slip": {}, "answers": 4000}
    publish(district, [klass("c-4a", "Class 4A"), {"kind": "assignment", "sourcedId": "c-4a", "status": "active",
                                                    "skills": ["numbers-1/add", "numbers-1/count"]}])
    publish(district, [calibration], school=None)
    with db.connection_context():
        hub_sync.run(transport)
        row = ClassAssignment.get(ClassAssignment.class_uid == "c-4a")
        assert json.loads(row.skills) == ["numbers-1:add", "numbers-1:count"]  # in the engine's words
        fitted = Event.get(Event.kind == "model.calibrated")
        payload = json.loads(fitted.payload)
        assert payload["source"] == "district" and payload["items"] == {"numbers-1/add-1": [0.25, 40]}
        # The hub's nightly fit leaves the district's in force.
        from classroom_server.services import learning

        assert learning.calibrate(app.extensions["engine"], min_new_answers=0) is None
    withdraw(district, "assignment", "c-4a")
    with db.connection_context():
        hub_sync.run(transport)
        assert json.loads(ClassAssignment.get(ClassAssignment.class_uid == "c-4a").skills) == []
        assert Event.select().where(Event.kind == "model.calibrated").count() == 1
    _same_events_both_sides(district)


def test_a_class_courses_come_down_and_its_learners_study_them(app, school, district, data_dir):
    from classroom_server.services import courses, packs, practice

    packs.import_pack(data_dir, LIBRARY / "fractions")
    fractions = "org.openclassroom.fractions"
    transport = enrolled(app, district)
    publish(district, [user("s-1", "Amara", "Diallo"), klass("c-4a", "Class 4A"), enrol("e-1", "c-4a", "s-1"),
                       {"kind": "course", "sourcedId": "c-4a", "status": "active",
                        "courses": [{"pack": fractions, "grades": [3, 3]}, {"pack": "org.example.not-here-yet"}]}])
    with pytest.raises(Exception, match="no class 'c-9'"):
        publish(district, [{"kind": "course", "sourcedId": "c-9", "status": "active", "courses": []}])
    with db.connection_context():
        hub_sync.run(transport)
        amara = Person.get(Person.uid == "s-1")
        classroom = Classroom.get(Classroom.uid == "c-4a")
        assert courses.courses_of(classroom) == [courses.Course(fractions, (3, 3)),
                                                 courses.Course("org.example.not-here-yet")]
        assert Event.get(Event.kind == "class.courses_set").actor_uid == "district"
        offered = practice.path_for(app.extensions["engine"], amara, "en")
        assert offered and {c.pack_id for c in offered} == {fractions}
        hub_sync.run(transport)  # nothing new: nothing recorded
        assert Event.select().where(Event.kind == "class.courses_set").count() == 1
    withdraw(district, "course", "c-4a")
    with db.connection_context():
        hub_sync.run(transport)
        assert courses.courses_of(Classroom.get(Classroom.uid == "c-4a")) == []
        assert practice.path_for(app.extensions["engine"], Person.get(Person.uid == "s-1"), "en") == []
    _same_events_both_sides(district)


def test_a_district_assignment_comes_first_on_its_learners_paths(app, school, district, data_dir):
    """The district names a skill "<pack>/<skill>"; the hub records it as its engine names it, so
    the path offers it first (it was once recorded as sent, and no path ever saw it)."""
    from classroom_server.services import packs, practice, teaching

    packs.import_pack(data_dir, LIBRARY / "fractions")
    fractions = "org.openclassroom.fractions"
    transport = enrolled(app, district)
    with db.connection_context():
        catalogue = app.extensions["catalogue"].get().catalogue
        last = catalogue.topological_order(fractions)[-1][1]  # the furthest skill: never first by itself
    publish(district, [user("s-1", "Amara", "Diallo"), klass("c-4a", "Class 4A"), enrol("e-1", "c-4a", "s-1"),
                       {"kind": "course", "sourcedId": "c-4a", "status": "active", "courses": [{"pack": fractions}]},
                       {"kind": "assignment", "sourcedId": "c-4a", "status": "active",
                        "skills": [f"{fractions}/{last}"]}])
    with db.connection_context():
        hub_sync.run(transport)
        amara = Person.get(Person.uid == "s-1")
        assigned = teaching.assignments_for(amara)
        assert assigned == (f"{fractions}:{last}",)
        first = practice.path_for(app.extensions["engine"], amara, "en", assignments=assigned)[0]
        assert (first.pack_id, first.skill_id) == (fractions, last)


def test_what_was_made_on_the_hub_is_never_overwritten_and_unknown_kinds_are_passed_over(app, school, district):
    transport = enrolled(app, district)
    ana = school.learners["ana"]
    publish(district, [user(ana.uid, "Someone", "Else"), user("t-2", "Tess", "Two", role="teacher", username="tess")])
    with db.connection_context():
        outcome = hub_sync.run(transport)
        assert Person.get_by_id(ana.id).display_name == "Ana" and Person.get_by_id(ana.id).source is None
        assert any("made on this hub" in note for note in outcome.notes)
        assert Person.get(Person.uid == "t-2").username is None  # "tess" is taken here
        assert any("'tess' is not valid or is taken" in note for note in outcome.notes)
        # A newer district's kind: said, passed over, and the cursor goes on.
        before = district_changes.cursor()
        applied = district_changes.apply([{"seq": before + 1, "kind": "badge", "unknown": True}], before + 1)
        assert applied.changes == 1 and "does not know yet" in applied.passed_over[0]
        assert district_changes.cursor() == before + 1


def test_a_batch_is_applied_with_its_cursor_whole_or_not_at_all(app, school, monkeypatch):
    numbered = [{"seq": 3 + i, **record} for i, record in enumerate(ROSTER)]
    batch, through, more = changes.check_answer({"changes": numbered, "through": 20, "more": False}, 0)
    assert (through, more, len(batch)) == (20, False, len(ROSTER))
    calls = {"n": 0}
    real = events.record

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError("disk I/O error")
        return real(*args, **kwargs)

    with db.connection_context():
        monkeypatch.setattr(events, "record", failing)
        with pytest.raises(OSError):
            district_changes.apply(batch, through)
        assert district_changes.cursor() == 0 and _roster_on_hub()["people"] == {}
        monkeypatch.setattr(events, "record", real)
        first = district_changes.apply(batch, through)
        assert first.events == len(ROSTER) and district_changes.cursor() == 20
        count = Event.select().count()
        assert district_changes.apply(batch, through).changes == 0  # the same answer, twice: once
        assert Event.select().count() == count
        assert HubMeta.get(HubMeta.key == district_changes.KEY_CURSOR).value == "20"


def test_bad_records_are_refused_whole_naming_the_first_problem(district):
    with district.extensions["district_database"].connection_context():
        hillside = service.add_school(SCHOOL)
        other = service.add_school("Riverside")
        cases = [
            ([{**ROSTER[2], "role": "pupil"}], "role"),
            ([{**ROSTER[2], "sourcedId": "has spaces"}], "sourcedId"),
            ([{"kind": "badge", "sourcedId": "x", "status": "active"}], "unknown kind"),
            ([klass("c-1", "One"), enrol("e-1", "c-1", "nobody")], "no user 'nobody'"),
            ([user("s-1", "A"), user("t-1", "T", role="teacher"), klass("c-1", "One"), enrol("e-1", "c-1", "t-1")],
             "not a student"),
            ([{"kind": "assignment", "sourcedId": "c-404", "status": "active", "skills": []}], "no class"),
            ([{"kind": "assignment", "sourcedId": "c-1", "status": "active", "skills": ["no-slash"]}], "skills"),
            ("not a list of objects", "not an object"),
        ]
        for records, problem in cases:
            with pytest.raises(changes.ChangeError, match=problem):
                service.publish(hillside, records)
        with pytest.raises(changes.ChangeError, match="for one school"):
            service.publish(None, [ROSTER[1]])
        service.publish(hillside, [user("s-1", "Amara")])
        with pytest.raises(changes.ChangeError, match="belongs to Hillside Primary"):
            service.publish(other, [user("s-1", "Amara")])
        with pytest.raises(changes.ChangeError, match="never published"):
            service.withdraw(hillside, "user", "s-404")
        assert Change.select().count() == 1  # only the one good publication


def test_the_cursor_never_skips_changes_of_other_schools_or_goes_back(app, school, district):
    transport = enrolled(app, district)
    with district.extensions["district_database"].connection_context():
        service.add_school("Riverside")
    publish(district, [klass("r-1", "River 1")], school="Riverside")
    publish(district, [klass("c-1", "Class 1")])
    publish(district, [klass("r-2", "River 2")], school="Riverside")
    with db.connection_context():
        hub_sync.run(transport)
        assert set(_roster_on_hub()["classes"]) == {"c-1"}
        assert district_changes.cursor() == 3  # past Riverside's changes too: never asked about again
    with district.extensions["district_database"].connection_context():
        registration = service.hubs()[0]
        answer = service.changes_since(registration, {"since": 0, "max_bytes": 1})
        assert [c["sourcedId"] for c in answer["changes"]] == ["c-1"] and answer["more"] is False
        assert answer["through"] == 3
        for bad in ({"since": -1, "max_bytes": 10}, {"since": "0", "max_bytes": 10}, {"since": 0}):
            with pytest.raises(service.Refused, match="cursor"):
                service.changes_since(registration, bad)
    with pytest.raises(changes.ChangeError, match="how far"):
        changes.check_answer({"changes": [], "through": 2, "more": False}, 3)
    with pytest.raises(changes.ChangeError, match="out of order"):
        changes.check_answer({"changes": [{"seq": 5, **ROSTER[1]}, {"seq": 4, **ROSTER[1]}], "through": 9,
                              "more": False}, 0)


def test_a_class_from_the_district_is_read_only_where_the_district_owns_it(app, school, district, client):
    """Names and class lists are the district's; colours and sign-in pictures stay the hub's."""
    from tests.conftest import ADMIN_PASSWORD, post, sign_in_staff

    transport = enrolled(app, district)
    publish(district, ROSTER)
    with db.connection_context():
        hub_sync.run(transport)
        class_id = Classroom.get(Classroom.uid == "c-4a").id
        amara = Person.get(Person.uid == "s-1")
    sign_in_staff(client, "admin", ADMIN_PASSWORD)
    page = client.get(f"/teach/classes/{class_id}").get_data(as_text=True)
    assert "This class list comes from the district" in page and "Add learner" not in page
    added = post(client, f"/teach/classes/{class_id}/learners", {"display_name": "Visitor", "avatar": "red"})
    assert added.status_code == 400 and "learners are added there" in added.get_data(as_text=True)
    learner_page = f"/teach/classes/{class_id}/learners/{amara.id}"
    shown = client.get(learner_page).get_data(as_text=True)
    assert "readonly" in shown and "Remove from class" not in shown
    renamed = post(client, learner_page, {"display_name": "Someone Else", "avatar": amara.avatar})
    assert renamed.status_code == 400 and "This name comes from the district" in renamed.get_data(as_text=True)
    recoloured = post(client, learner_page, {"display_name": "Amara Diallo", "avatar": "navy"})
    assert recoloured.status_code == 302
    removed = post(client, f"/teach/classes/{class_id}/learners/{amara.id}/remove")
    assert removed.status_code == 400
    with db.connection_context():
        amara = Person.get(Person.uid == "s-1")
        assert (amara.display_name, amara.avatar) == ("Amara Diallo", "navy")
        assert [p.uid for p in accounts.learners_in(Classroom.get_by_id(class_id))] == ["s-1", "s-2"]


def test_a_district_restored_from_a_backup_numbers_its_changes_anew_and_hubs_take_them_all_again(
        app, school, district):
    transport = enrolled(app, district)
    calibration = {"kind": "calibration", "sourcedId": "fit-1", "status": "active", "items": {"p/i": [0.5, 9]},
                   "skills": {"p/s": [0.1, 9]}, "guess_slip": {}, "answers": 90}
    publish(district, ROSTER)
    publish(district, [calibration], school=None)
    with db.connection_context():
        hub_sync.run(transport)
        assert district_changes.cursor() == len(ROSTER) + 1
        count = Event.select().count()
    # The district's database comes back from a backup taken after the roster's first four records.
    database = district.extensions["district_database"]
    with database.connection_context():
        Change.delete().where(Change.seq > 4).execute()
        if service._postgres():
            database.execute_sql("SELECT setval(pg_get_serial_sequence('change', 'seq'), 4)")
    publish(district, [*ROSTER[4:], user("s-3", "Chidi", "Eze"), enrol("e-4", "c-4a", "s-3")])
    publish(district, [calibration], school=None)
    with db.connection_context():
        outcome = hub_sync.run(transport)
        assert any("numbered anew" in note for note in outcome.notes)
        assert district_changes.cursor() == len(ROSTER) + 3
        assert [p.uid for p in accounts.learners_in(Classroom.get(Classroom.uid == "c-4a"))] == ["s-1", "s-2", "s-3"]
        # Only s-3 and its enrollment are new here: what was applied already changed nothing.
        assert Event.select().where(Event.id > count, Event.actor_uid == "district").count() == 2
        assert Event.select().where(Event.kind == "model.calibrated").count() == 1
