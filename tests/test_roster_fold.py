"""The roster fold (projection_rules.fold_roster) gives the hub's own tables: classes, learners
and who is in which class, from the events alone. The district reads its hubs' rosters with it."""

import shutil

from classroom_server.db import db
from classroom_server.models import CANONICAL_ORDER, Classroom, Enrollment, Event, Person
from classroom_server.projection_rules import ROSTER_KINDS, fold_roster
from classroom_server.services import accounts, roster, school_admin
from tests.test_roster_import import CLEAN, edit


def _tables() -> tuple[dict, dict, set]:
    classes = {c.uid: {"name": c.name, "archived": bool(c.archived)} for c in Classroom.select()}
    learners = {p.uid: {"display_name": p.display_name, "archived": not p.active}
                for p in Person.select().where(Person.role == "learner")}
    enrolled = {(e.classroom.uid, e.learner.uid) for e in Enrollment.select(Enrollment, Classroom, Person)
                .join(Classroom).switch(Enrollment).join(Person)}
    return classes, learners, enrolled


def _folded() -> tuple[dict, dict, set]:
    rows = Event.select().where(Event.kind.in_(ROSTER_KINDS)).order_by(*CANONICAL_ORDER).dicts()
    found = fold_roster(rows)
    return found.classes, found.learners, found.enrolled


def test_the_roster_folded_from_events_is_the_hubs_roster(app, school, tmp_path):
    folder = tmp_path / "roster"
    shutil.copytree(CLEAN, folder)
    with db.connection_context():
        admin, tess = school.admin, school.teachers["tess"]
        acacias = accounts.create_class("Acacias", "picture", [tess.id], admin)
        accounts.update_learner(school.classes["pictures"], school.learners["ana"], "Ana María", "red", tess)
        school_admin.move_learner(admin, school.classes["pictures"], school.learners["ben"], acacias.id)
        accounts.remove_from_class(school.classes["pins"], school.learners["dev"], admin)
        accounts.remove_from_class(school.classes["pins"], school.learners["cleo"], admin)
        accounts.restore_to_class(school.classes["pins"], school.learners["cleo"].id, admin)
        school_admin.update_class(admin, school.classes["pins"], "Baobab trees", [school.teachers["tom"].id])
        school_admin.set_class_archived(admin, school.classes["pins"], True)
        school_admin.set_class_archived(admin, school.classes["pins"], False)
        school_admin.set_class_archived(admin, acacias, True)
        roster.import_roster(folder, admin)
        edit(folder, "users.csv", "stu-2,,,true", "stu-2,tobedeleted,,true")
        edit(folder, "users.csv", "Carlos,Mendes", "Carla,Mendes")
        edit(folder, "enrollments.csv", "enr-7,,,", "enr-7,tobedeleted,,")
        edit(folder, "classes.csv", "cls-4a-home,,,", "cls-4a-home,tobedeleted,,")
        roster.import_roster(folder, admin)
        classes, learners, enrolled = _tables()
        assert "Baobab trees" == classes[school.classes["pins"].uid]["name"]
        assert classes[acacias.uid]["archived"] and any(v["archived"] for v in learners.values())
        assert (acacias.uid, school.learners["ben"].uid) in enrolled
        assert (school.classes["pins"].uid, school.learners["dev"].uid) not in enrolled
        assert _folded() == (classes, learners, enrolled)


def test_a_roster_event_about_a_class_or_learner_the_fold_never_saw_changes_nothing():
    events = [
        {"kind": "class.updated", "class_uid": "c1", "payload": '{"uid": "c1", "name": "X"}'},
        {"kind": "learner.enrolled", "class_uid": "c1", "learner_uid": "l1", "payload": '{"uid": "l1"}'},
        {"kind": "person.archived", "learner_uid": "l1", "payload": {"uid": "l1", "archived": True}},
        {"kind": "attempt", "learner_uid": "l1", "payload": "{}"},
    ]
    found = fold_roster(events)
    assert (found.classes, found.learners, found.enrolled) == ({}, {}, set())
