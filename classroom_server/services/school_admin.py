"""Running the school on the hub: staff accounts (rename, a new password, archive), classes
(rename, teachers, archive) and moving a learner from one class to another.

Each change is the event that explains it (``person.updated``, ``person.password_changed``,
``person.archived``, ``class.updated``, ``class.teachers_set``, ``class.archived``,
``learner.unenrolled`` + ``learner.enrolled``), recorded with who did it. Nothing is deleted:
an archived account or class keeps its history and comes back with "Restore". What the
district's roster owns (``source = district``) is changed there, never here.
"""

from __future__ import annotations

from classroom_server.db import db
from classroom_server.errors import Forbidden, Invalid, NotFound
from classroom_server.models import Classroom, ClassTeacher, Enrollment, Event, Person
from classroom_server.services import accounts, events, sessions


def _admin_only(actor: Person) -> None:
    if actor.role != "admin":
        raise Forbidden("Only an admin can change staff accounts and classes.")


def get_staff(person_id: int) -> Person:
    person = Person.get_or_none(Person.id == person_id, Person.role.in_(["admin", "teacher"]))
    if person is None:
        raise NotFound("There is no such account.")
    return person


def archived_staff() -> list[Person]:
    return list(Person.select().where(Person.role.in_(["admin", "teacher"]), Person.active == False)  # noqa: E712
                .order_by(Person.display_name))


def rename_staff(actor: Person, person: Person, display_name: str) -> None:
    _admin_only(actor)
    name = accounts.clean_name(display_name)
    if name == person.display_name:
        return
    events.record("person.updated", {"uid": person.uid, "display_name": name}, actor_uid=actor.uid,
                  action=lambda: Person.update(display_name=name).where(Person.id == person.id).execute())


def reset_staff_password(actor: Person, person: Person, new_password: str) -> None:
    """An admin gives a teacher (or another admin) a new password: they are signed out
    everywhere, and sign in with it. Their own password, an admin changes on the account page."""
    _admin_only(actor)
    if person.id == actor.id:
        raise Invalid("Change your own password on your account page.", field="password")
    accounts.set_password(person, new_password, actor=actor)


def set_staff_archived(actor: Person, person: Person, archived: bool) -> None:
    """Archive (or restore) a staff account. An archived person cannot sign in and is no longer
    offered as a class's teacher; their classes and history stay."""
    _admin_only(actor)
    if archived and person.id == actor.id:
        raise Invalid("You cannot archive your own account.", field="archived")
    if archived and person.role == "admin":
        admins = Person.select().where(Person.role == "admin", Person.active == True).count()  # noqa: E712
        if admins <= 1:
            raise Invalid("The hub needs at least one admin.", field="archived")
    if person.active == (not archived):
        return
    events.record("person.archived", {"uid": person.uid, "archived": archived}, actor_uid=actor.uid,
                  action=lambda: Person.update(active=not archived, auth_version=Person.auth_version + 1)
                  .where(Person.id == person.id).execute())
    if archived:
        sessions.end_all(person.id)


def archived_classes() -> list[Classroom]:
    return list(Classroom.select().where(Classroom.archived == True).order_by(Classroom.name))  # noqa: E712


def get_any_class(actor: Person, class_id: int) -> Classroom:
    """A class, archived or not, for the admin's class page."""
    _admin_only(actor)
    classroom = Classroom.get_or_none(Classroom.id == class_id)
    if classroom is None:
        raise NotFound("There is no such class.")
    return classroom


def teachers_of(classroom: Classroom) -> list[Person]:
    return list(Person.select().join(ClassTeacher).where(ClassTeacher.classroom == classroom)
                .order_by(Person.display_name))


def _district_owned(classroom: Classroom) -> None:
    if accounts.from_district(classroom):
        raise Invalid("This class comes from the district: it is renamed, given teachers and archived there.",
                      field="name")


def update_class(actor: Person, classroom: Classroom, name: str, teacher_ids: list[int]) -> None:
    """Rename a class and set its teachers (at least one, active teachers only)."""
    _admin_only(actor)
    _district_owned(classroom)
    name = accounts.clean_name(name, field="name")
    if not teacher_ids:
        raise Invalid("Choose at least one teacher.", field="teachers")
    teachers = list(Person.select().where(Person.id.in_(teacher_ids), Person.role == "teacher",
                                          Person.active == True).order_by(Person.uid))  # noqa: E712
    if len(teachers) != len(set(teacher_ids)):
        raise Invalid("Choose teachers from the list.", field="teachers")
    with db.atomic("IMMEDIATE"):
        if name != classroom.name:
            events.record("class.updated", {"uid": classroom.uid, "name": name}, class_uid=classroom.uid,
                          actor_uid=actor.uid,
                          action=lambda: Classroom.update(name=name).where(Classroom.id == classroom.id).execute())
        if {t.id for t in teachers} != {t.id for t in teachers_of(classroom)}:
            def action() -> None:
                ClassTeacher.delete().where(ClassTeacher.classroom == classroom).execute()
                for teacher in teachers:
                    ClassTeacher.create(classroom=classroom, teacher=teacher)

            events.record("class.teachers_set", {"uid": classroom.uid, "teachers": [t.uid for t in teachers]},
                          class_uid=classroom.uid, actor_uid=actor.uid, action=action)


def set_class_archived(actor: Person, classroom: Classroom, archived: bool) -> None:
    """Archive a class (end of the year): it leaves every list, its learners can no longer sign
    in through it, and its history stays. Restore brings it back as it was."""
    _admin_only(actor)
    _district_owned(classroom)
    if classroom.archived == archived:
        return
    events.record("class.archived", {"uid": classroom.uid, "archived": archived}, class_uid=classroom.uid,
                  actor_uid=actor.uid,
                  action=lambda: Classroom.update(archived=archived).where(Classroom.id == classroom.id).execute())


def move_targets(actor: Person, classroom: Classroom) -> list[Classroom]:
    """The classes the actor may move a learner of ``classroom`` into: their own (an admin's:
    every class), not archived, not the district's, not this one."""
    return [c for c in accounts.classes_for(actor) if c.id != classroom.id and not accounts.from_district(c)]


def move_learner(actor: Person, classroom: Classroom, learner: Person, to_class_id: int) -> Classroom:
    """Take a learner off ``classroom`` and put them in another class, in one transaction (two
    events). Their history goes with them: a learner's events are the learner's, not a class's.
    The new class's courses are what they study from then on."""
    target = next((c for c in move_targets(actor, classroom) if c.id == to_class_id), None)
    if target is None:
        raise Invalid("Choose one of the classes in the list.", field="to_class")
    if accounts.from_district(classroom) or accounts.from_district(learner):
        raise Invalid("This learner's class comes from the district: they are moved there.", field="to_class")
    if target.login_kind != learner.secret_kind:
        raise Invalid("%(name)s signs in another way (pictures or a PIN). Choose a class that signs in like "
                      "this one.", field="to_class", name=target.name)
    with db.atomic("IMMEDIATE"):
        accounts.remove_from_class(classroom, learner, actor)
        already = Enrollment.select().where(Enrollment.classroom == target, Enrollment.learner == learner).exists()
        if not already:
            def enrol() -> None:
                Enrollment.create(classroom=target, learner=learner)

            events.record("learner.enrolled", {"uid": learner.uid}, learner_uid=learner.uid, class_uid=target.uid,
                          actor_uid=actor.uid, action=enrol)
    return target


def never_signed_in(learners: list[Person]) -> set[int]:
    """The ids of those learners who have never signed in (their login cards are still to give)."""
    uids = {p.uid: p.id for p in learners}
    seen = {row.learner_uid for row in Event.select(Event.learner_uid).where(
        Event.kind == "learner.signed_in", Event.learner_uid.in_(list(uids))).distinct()}
    return {person_id for uid, person_id in uids.items() if uid not in seen}
