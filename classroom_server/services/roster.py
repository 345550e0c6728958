"""A school system's roster on the hub: a OneRoster 1.1 or 1.2 CSV export (a folder or a zip)
read by the pure parser (classroom_server/interop/oneroster) and applied as events.

Two ways in. An admin imports the whole roster: its classes, their students and teachers. A
teacher (or an admin, with ``--class``) imports into one existing class: every student of the
export joins it, the export's classes aside.

What the hub takes, keyed by ``sourcedId`` (the person's or class's uid here, ``source =
roster``, so a re-import finds them again):

- classes: created with the export's title, archived when ``tobedeleted``, renamed when their
  title changes. A new class signs in with pictures when every grade it lists is grade 2 or
  below (or it lists none), with a PIN otherwise.
- users whose role is ``student``: learners, each in the classes their enrollments name; a new
  learner gets a random picture password or PIN (their class's kind), returned once in
  ``Outcome.secrets`` for the login cards. ``teacher`` and ``aide``: teachers without a password
  (an admin gives one on the staff page). Other roles (guardians, administrators...) are not
  people on a hub: counted in a note.
- enrollments: a student joins or leaves a class; a class's teachers are the export's teachers
  of it, added to (never taken from) the teachers the hub already gives it.
- ``tobedeleted``: a person or class archived, an enrollment ended. Nothing is ever deleted, and
  what the export leaves out is left as it is (a partial export never empties the hub).

Every change is the event that explains it (``class.created``, ``learner.created``,
``learner.enrolled``, ``person.archived``...), recorded in one transaction: an import applies
whole or not at all. A record equal to what the hub holds records nothing, so importing the
same files twice is importing them once. Records the hub made itself, or that the district's
roster owns, are never overwritten: each is said, by file and id, with what was left alone.
"""

from __future__ import annotations

import hashlib
import re
import secrets as random_secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from peewee import fn

from classroom_server import clock
from classroom_server.db import db
from classroom_server.interop import oneroster
from classroom_server.models import Classroom, ClassTeacher, Enrollment, Person
from classroom_server.services import accounts, events, security, sessions

SOURCE = "roster"
UID_RE = re.compile(r"^[A-Za-z0-9._:@/+-]{1,64}$")
YOUNG_GRADES = {"IT", "PR", "PK", "TK", "KG", "00", "01", "02", "0", "1", "2"}
STAFF_ROLES = ("teacher", "aide")


@dataclass
class Outcome:
    """What an import did, for the page and the command line."""

    problems: list[str] = field(default_factory=list)  # nothing could be read: nothing changed
    imported: int = 0  # people, classes and enrollments created
    updated: int = 0  # renamed, restored
    archived: int = 0  # people and classes archived, enrollments ended
    rejected: list[oneroster.Rejected] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    secrets: dict[int, Any] = field(default_factory=dict)  # new learner's id -> secret, shown once
    classes: list[int] = field(default_factory=list)  # the classes the import touched

    @property
    def readable(self) -> bool:
        return not self.problems

    @property
    def changed(self) -> int:
        return self.imported + self.updated + self.archived


def _avatar(uid: str) -> str:
    """A colour for a learner from a roster, the same at every import (a teacher may change it)."""
    colours = accounts.AVATAR_COLOURS
    return colours[hashlib.sha256(uid.encode()).digest()[0] % len(colours)]


def _name(user: oneroster.User) -> str:
    given = user.preferred_given_name or user.given_name or ""
    family = user.preferred_family_name or user.family_name or ""
    return " ".join(f"{given} {family}".split())[: accounts.NAME_MAX] or user.sourced_id


def login_kind(grades: Iterable[str]) -> str:
    """Pictures for the youngest (every grade listed at most grade 2, or none listed), else a PIN."""
    listed = [g.strip().upper() for g in grades if g.strip()]
    return "picture" if all(g in YOUNG_GRADES for g in listed) else "pin"


def new_secret(kind: str) -> Any:
    rng = random_secrets.SystemRandom()
    if kind == "picture":
        return [rng.choice(security.PICTURES) for _ in range(security.PICTURE_COUNT)]
    return f"{rng.randrange(10000):04d}"


def _rename_class(class_id: int, title: str) -> None:
    Classroom.update(name=title).where(Classroom.id == class_id).execute()


def _unenrol(class_id: int, learner_id: int) -> None:
    Enrollment.delete().where(Enrollment.classroom == class_id, Enrollment.learner == learner_id).execute()


class _Apply:
    """One import, inside one transaction."""

    def __init__(self, roster: oneroster.Roster, actor: Person | None, into: Classroom | None,
                 outcome: Outcome) -> None:
        self.roster, self.actor, self.into, self.out = roster, actor, into, outcome
        self.actor_uid = actor.uid if actor is not None else None
        self.classes: dict[str, Classroom] = {}

    def note(self, text: str) -> None:
        self.out.notes.append(text)

    def _ours(self, record: Person | Classroom, file: str, sourced_id: str) -> bool:
        if record.source == SOURCE:
            return True
        where = "the district's roster" if record.source == accounts.DISTRICT else "this hub"
        what = "class" if isinstance(record, Classroom) else "person"
        self.note(f"{file}: {sourced_id!r} is already the id of a {what} made by {where}; it was left as it is")
        return False

    # --- classes ---------------------------------------------------------------------------------

    def apply_classes(self) -> None:
        for klass in self.roster.classes:
            if not UID_RE.match(klass.sourced_id):
                self.note(f"classes.csv: the class id {klass.sourced_id!r} is too long or has characters a hub "
                          "does not take in ids; the class was not imported")
                continue
            found = Classroom.get_or_none(Classroom.uid == klass.sourced_id)
            if found is not None and not self._ours(found, "classes.csv", klass.sourced_id):
                continue
            if klass.status == "tobedeleted":
                if found is not None and not found.archived:
                    self._class_archived(found, True)
                continue
            title = " ".join(klass.title.split())[: accounts.NAME_MAX]
            if found is None:
                found = self._create_class(klass.sourced_id, title, login_kind(klass.grades))
            else:
                if found.archived:
                    self._class_archived(found, False)
                    self.out.updated += 1
                if found.name != title:
                    events.record("class.updated", {"uid": found.uid, "name": title}, class_uid=found.uid,
                                  actor_uid=self.actor_uid,
                                  action=partial(_rename_class, found.id, title))
                    self.out.updated += 1
                found = Classroom.get_by_id(found.id)
            self.classes[klass.sourced_id] = found

    def _create_class(self, uid: str, title: str, kind: str) -> Classroom:
        now = clock.iso()

        def action() -> dict[str, int]:
            return {"id": Classroom.create(uid=uid, name=title, login_kind=kind, created_at=now, source=SOURCE).id}

        recorded = events.record("class.created", {"uid": uid, "name": title, "login_kind": kind, "teachers": []},
                                 class_uid=uid, actor_uid=self.actor_uid, action=action)
        self.out.imported += 1
        return Classroom.get_by_id(recorded.result["id"])

    def _class_archived(self, classroom: Classroom, archived: bool) -> None:
        events.record("class.archived", {"uid": classroom.uid, "archived": archived}, class_uid=classroom.uid,
                      actor_uid=self.actor_uid,
                      action=lambda: Classroom.update(archived=archived).where(Classroom.id == classroom.id)
                      .execute())
        if archived:
            self.out.archived += 1

    # --- people ----------------------------------------------------------------------------------

    def apply_people(self) -> None:
        """Learners and teachers; a new learner is created with their first class (their secret
        is of its kind), so first the classes each student's enrollments name."""
        first_class: dict[str, Classroom] = {}
        if self.into is not None:
            first_class = {u.sourced_id: self.into for u in self.roster.users if u.role == "student"}
        else:
            for enrollment in self.roster.enrollments:
                target = self.classes.get(enrollment.class_id)
                if enrollment.status == "active" and enrollment.role == "student" and target is not None:
                    first_class.setdefault(enrollment.user_id, target)
        others: dict[str, int] = {}
        for user in self.roster.users:
            if user.role == "student":
                self._learner(user, first_class.get(user.sourced_id))
            elif user.role in STAFF_ROLES and self.into is None:
                self._teacher(user)
            else:
                others[user.role] = others.get(user.role, 0) + 1
        for role, count in sorted(others.items()):
            self.note(f"users.csv: {count} {role} record(s) not imported (a hub holds learners and teachers"
                      f"{'; importing into one class takes its students only' if self.into else ''})")

    def _learner(self, user: oneroster.User, classroom: Classroom | None) -> None:
        uid = user.sourced_id
        if not UID_RE.match(uid):
            self.note(f"users.csv: the user id {uid!r} is too long or has characters a hub does not take in ids; "
                      "the learner was not imported")
            return
        person = Person.get_or_none(Person.uid == uid)
        if person is not None and not self._ours(person, "users.csv", uid):
            return
        if person is not None and person.role != "learner":
            self.note(f"users.csv: {uid!r} is a {person.role} on this hub, not a learner; left as it is")
            return
        active = user.status == "active" and user.enabled is not False
        if person is None:
            if not active:
                return
            if classroom is None:
                self.note(f"users.csv: {uid!r} ({_name(user)}) is in no class of this import; not imported")
                return
            self._create_learner(uid, _name(user), classroom)
            return
        if not active:
            if person.active:
                events.record("person.archived", {"uid": uid, "archived": True}, learner_uid=uid,
                              actor_uid=self.actor_uid,
                              action=lambda: Person.update(active=False, auth_version=Person.auth_version + 1)
                              .where(Person.id == person.id).execute())
                sessions.end_all(person.id)
                self.out.archived += 1
            return
        if not person.active:
            events.record("person.archived", {"uid": uid, "archived": False}, learner_uid=uid,
                          actor_uid=self.actor_uid,
                          action=lambda: Person.update(active=True).where(Person.id == person.id).execute())
            self.out.updated += 1
        name = _name(user)
        if person.display_name != name:
            events.record("learner.updated", {"uid": uid, "display_name": name, "avatar": person.avatar},
                          learner_uid=uid, actor_uid=self.actor_uid,
                          action=lambda: Person.update(display_name=name).where(Person.id == person.id)
                          .execute())
            self.out.updated += 1

    def _create_learner(self, uid: str, name: str, classroom: Classroom) -> None:
        secret = new_secret(classroom.login_kind)
        secret_hash = security.hash_learner_secret(classroom.login_kind, secret)
        avatar, now = _avatar(uid), clock.iso()

        def action() -> dict[str, int]:
            learner = Person.create(uid=uid, role="learner", display_name=name, avatar=avatar,
                                    secret_kind=classroom.login_kind, secret_hash=secret_hash, created_at=now,
                                    source=SOURCE)
            Enrollment.create(classroom=classroom, learner=learner)
            return {"id": learner.id}

        recorded = events.record("learner.created", {"uid": uid, "display_name": name, "avatar": avatar},
                                 learner_uid=uid, class_uid=classroom.uid, actor_uid=self.actor_uid, action=action)
        self.out.secrets[recorded.result["id"]] = secret
        self.out.imported += 1

    def _teacher(self, user: oneroster.User) -> None:
        uid = user.sourced_id
        if not UID_RE.match(uid):
            self.note(f"users.csv: the user id {uid!r} is too long or has characters a hub does not take in ids; "
                      "the teacher was not imported")
            return
        person = Person.get_or_none(Person.uid == uid)
        if person is not None and not self._ours(person, "users.csv", uid):
            return
        if person is not None and person.role != "teacher":
            self.note(f"users.csv: {uid!r} is a {person.role} on this hub, not a teacher; left as it is")
            return
        active = user.status == "active" and user.enabled is not False
        if person is None:
            if active:
                self._create_teacher(uid, _name(user), user.username)
            return
        if not active and person.active:
            events.record("person.archived", {"uid": uid, "archived": True}, actor_uid=self.actor_uid,
                          action=lambda: Person.update(active=False, auth_version=Person.auth_version + 1)
                          .where(Person.id == person.id).execute())
            sessions.end_all(person.id)
            self.out.archived += 1
        elif active and person.display_name != _name(user):
            name = _name(user)
            events.record("person.updated", {"uid": uid, "display_name": name}, actor_uid=self.actor_uid,
                          action=lambda: Person.update(display_name=name).where(Person.id == person.id)
                          .execute())
            self.out.updated += 1

    def _create_teacher(self, uid: str, name: str, wanted: str | None) -> None:
        username = (wanted or "").strip().lower()
        if not accounts.USERNAME_RE.match(username) or \
                Person.select().where(fn.lower(Person.username) == username).exists():
            if wanted:
                self.note(f"users.csv: the username {wanted!r} of {name} is not valid or is taken on this hub; "
                          "an admin gives them one")
            username = ""
        now = clock.iso()

        def action() -> None:
            Person.create(uid=uid, role="teacher", username=username or None, display_name=name, created_at=now,
                          source=SOURCE)

        events.record("person.created", {"uid": uid, "role": "teacher", "username": username or None,
                                         "display_name": name}, actor_uid=self.actor_uid, action=action)
        self.out.imported += 1

    # --- enrollments -----------------------------------------------------------------------------

    def apply_enrollments(self) -> None:
        wanted_teachers: dict[int, set[int]] = {}
        if self.into is not None:
            pairs = [(u.sourced_id, self.into, u.status == "active") for u in self.roster.users
                     if u.role == "student"]
        else:
            pairs = []
            for enrollment in self.roster.enrollments:
                classroom = self.classes.get(enrollment.class_id)
                if classroom is None:
                    continue
                if enrollment.role in STAFF_ROLES:
                    teacher = Person.get_or_none(Person.uid == enrollment.user_id, Person.role == "teacher")
                    if teacher is not None and enrollment.status == "active":
                        wanted_teachers.setdefault(classroom.id, set()).add(teacher.id)
                elif enrollment.role == "student":
                    pairs.append((enrollment.user_id, classroom, enrollment.status == "active"))
        for user_id, classroom, active in pairs:
            learner = Person.get_or_none(Person.uid == user_id, Person.role == "learner", Person.source == SOURCE)
            if learner is None:
                continue
            enrolled = Enrollment.select().where(Enrollment.classroom == classroom,
                                                 Enrollment.learner == learner).exists()
            if active and not enrolled:
                if learner.secret_kind != classroom.login_kind:
                    self.note(f"enrollments.csv: {learner.display_name} signs in with "
                              f"{'pictures' if learner.secret_kind == 'picture' else 'a PIN'}, and {classroom.name} "
                              "the other way; they were not added to it")
                    continue
                def enrol(c: Classroom = classroom, p: Person = learner) -> None:
                    Enrollment.create(classroom=c, learner=p)

                events.record("learner.enrolled", {"uid": learner.uid}, learner_uid=learner.uid,
                              class_uid=classroom.uid, actor_uid=self.actor_uid, action=enrol)
                self.out.imported += 1
            elif not active and enrolled:
                events.record("learner.unenrolled", {"uid": learner.uid}, learner_uid=learner.uid,
                              class_uid=classroom.uid, actor_uid=self.actor_uid,
                              action=partial(_unenrol, classroom.id, learner.id))
                self.out.archived += 1
        for class_id, teacher_ids in wanted_teachers.items():
            classroom = Classroom.get_by_id(class_id)
            held = {p.id for p in Person.select(Person.id).join(ClassTeacher)
                    .where(ClassTeacher.classroom == classroom)}
            if teacher_ids <= held:
                continue
            everyone = sorted(held | teacher_ids)
            teachers = list(Person.select().where(Person.id.in_(everyone)).order_by(Person.uid))

            def action(c: Classroom = classroom, add: set[int] = teacher_ids - held) -> None:
                for teacher_id in sorted(add):
                    ClassTeacher.create(classroom=c, teacher=teacher_id)

            events.record("class.teachers_set", {"uid": classroom.uid, "teachers": [t.uid for t in teachers]},
                          class_uid=classroom.uid, actor_uid=self.actor_uid, action=action)
            self.out.imported += len(teacher_ids - held)


def import_roster(path: str | Path, actor: Person | None, into: Classroom | None = None) -> Outcome:
    """Read a OneRoster export and apply it (see the module's docstring). ``actor``: who imports
    (None from the command line); ``into``: one class to put every student in. Nothing changes
    when the export cannot be read (``Outcome.problems``)."""
    if into is not None and accounts.from_district(into):
        return Outcome(problems=["This class list comes from the district: learners are added there."])
    roster = oneroster.read(path)
    outcome = Outcome(problems=list(roster.problems), rejected=list(roster.rejected), notes=list(roster.notes))
    if roster.problems:
        return outcome
    with db.atomic("IMMEDIATE"):
        work = _Apply(roster, actor, into, outcome)
        if into is None:
            work.apply_classes()
        work.apply_people()
        work.apply_enrollments()
    outcome.classes = sorted({c.id for c in work.classes.values()} | ({into.id} if into is not None else set()))
    return outcome


def secret_owners(outcome: Outcome) -> list[tuple[Person, Classroom, Any]]:
    """The new learners with their secret and class, by class and name: for the login cards."""
    found = []
    for person_id, secret in outcome.secrets.items():
        person = Person.get_by_id(person_id)
        classroom = accounts.classes_for(person)[0]
        found.append((person, classroom, secret))
    return sorted(found, key=lambda t: (t[1].name, t[0].display_name))
