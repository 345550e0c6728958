"""The district's changes on the hub: its roster, class assignments, courses and calibrations, applied.

What a change is, and how it travels, is sync/changes.py. ``apply`` takes one batch of them and
the cursor that follows it, in one transaction: a pull cut anywhere applies a whole batch or
none of it, and asks again from the stored cursor. Each change that alters what the hub holds
is recorded as the event that explains it (``person.created``, ``learner.enrolled``,
``assignment.set``, ``class.courses_set``, ``model.calibrated``, ...; actor ``district``), so the hub's state still
follows from its log and the district sees, in the hub's events, what the hub applied. A change
that alters nothing records nothing: applying a batch twice is applying it once.

A record the district owns carries ``source = 'district'`` on the hub and its ``sourcedId`` as its
uid. The district never overwrites what was made on the hub: a change naming a person or class
made here is passed over, and said (``Applied.passed_over``), as is a change of a kind this hub
does not know yet.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from peewee import fn

from classroom_server import clock
from classroom_server.db import db
from classroom_server.models import ClassAssignment, ClassCourse, Classroom, ClassTeacher, Enrollment, Event, Person
from classroom_server.services import accounts, events, hub
from sync import changes as district_changes

log = logging.getLogger("classroom_server.sync")

ACTOR = "district"
SOURCE = "district"
KEY_CURSOR = "sync.pull_cursor"
KEY_CURSOR_MARK = "sync.pull_mark"

Change = Mapping[str, Any]


@dataclass
class Applied:
    """What applying changes did: how many were read, the events recorded, what was passed over."""

    changes: int = 0
    events: int = 0
    passed_over: list[str] = field(default_factory=list)

    def add(self, other: Applied) -> None:
        self.changes += other.changes
        self.events += other.events
        self.passed_over.extend(other.passed_over)


def cursor() -> int:
    """The number of the last district change this hub applied (0: none yet)."""
    return int(hub.get_meta(KEY_CURSOR) or 0)


def cursor_mark() -> str:
    """The district's mark of the change the cursor stands on (``service.change_mark``)."""
    return hub.get_meta(KEY_CURSOR_MARK) or ""


def reset_cursor() -> None:
    """Apply the district's changes from the start again: its database was restored from a
    backup and numbers its changes anew. Each change applied already changes nothing."""
    with db.atomic("IMMEDIATE"):
        hub.set_meta(KEY_CURSOR, "0")
        hub.set_meta(KEY_CURSOR_MARK, "")


def apply(changes: Sequence[Change], through: int, mark: str = "") -> Applied:
    """Apply a batch of changes (checked by ``sync.changes.check_answer``) and move the cursor to
    ``through``, in one transaction. Changes at or below the stored cursor were applied before
    (a batch whose answer came twice) and are skipped."""
    applied = Applied()
    with db.atomic("IMMEDIATE"):
        start = cursor()
        if through <= start:
            return applied
        for change in changes:
            if change["seq"] <= start:
                continue
            applied.changes += 1
            if change.get("unknown"):
                applied.passed_over.append(f"change {change['seq']}: a kind this hub does not know yet "
                                           f"({change['kind']}); upgrade the hub to apply it")
                continue
            _APPLY[change["kind"]](change, applied)
        hub.set_meta(KEY_CURSOR, str(through))
        hub.set_meta(KEY_CURSOR_MARK, mark)
    for note in applied.passed_over:
        log.warning("district change passed over: %s", note)
    if applied.changes:
        log.info("applied %d district changes through number %d (%d events recorded)", applied.changes, through,
                 applied.events)
    return applied


def _record(applied: Applied, kind: str, payload: dict[str, Any], action: Callable[[], Any] | None = None,
            **where: Any) -> None:
    def run() -> None:  # the event keeps no result: a change is applied once, by its cursor
        if action is not None:
            action()

    events.record(kind, payload, actor_uid=ACTOR, action=run, **where)
    applied.events += 1


def _owned(thing: Any, what: str, change: Change, applied: Applied) -> bool:
    """Whether ``thing`` is the district's to change; says so when it is not."""
    if thing.source == SOURCE:
        return True
    applied.passed_over.append(f"change {change['seq']}: a {what} made on this hub has the id {change['sourcedId']!r}")
    return False


# --- people ---------------------------------------------------------------------------------------

def _avatar(uid: str) -> str:
    """A colour for a learner from the roster, the same on every hub (a teacher may change it)."""
    colours = accounts.AVATAR_COLOURS
    return colours[hashlib.sha256(uid.encode()).digest()[0] % len(colours)]


def _free_username(wanted: Any) -> str | None:
    """The roster's username, if it is a valid one and free on this hub."""
    if not isinstance(wanted, str) or not accounts.USERNAME_RE.match(wanted.strip().lower()):
        return None
    username = wanted.strip().lower()
    taken = Person.select().where(fn.lower(Person.username) == username).exists()
    return None if taken else username


def _name(user: Change) -> str:
    return district_changes.display_name(user)[: accounts.NAME_MAX]


def _user(change: Change, applied: Applied) -> None:
    uid = change["sourcedId"]
    role = "learner" if change["role"] == "student" else "teacher"
    person = Person.get_or_none(Person.uid == uid)
    if change["status"] == "tobedeleted":
        if person is not None and person.source == SOURCE and person.active:
            _archive_person(person, applied)
        return
    name = _name(change)
    if person is None:
        _create_person(uid, role, name, change, applied)
        return
    if not _owned(person, "person", change, applied):
        return
    if person.role != role:
        applied.passed_over.append(f"change {change['seq']}: {uid!r} is a {person.role} on this hub; the district "
                                   f"now says {change['role']} (a role is not changed by sync)")
        return
    if not person.active:
        _record(applied, "person.archived", {"uid": uid, "archived": False},
                lambda: Person.update(active=True).where(Person.id == person.id).execute(),
                learner_uid=uid if role == "learner" else None)
    if person.display_name != name:
        if role == "learner":
            _record(applied, "learner.updated", {"uid": uid, "display_name": name, "avatar": person.avatar},
                    lambda: Person.update(display_name=name).where(Person.id == person.id).execute(),
                    learner_uid=uid)
        else:
            _record(applied, "person.updated", {"uid": uid, "display_name": name},
                    lambda: Person.update(display_name=name).where(Person.id == person.id).execute())


def _create_person(uid: str, role: str, name: str, change: Change, applied: Applied) -> None:
    now = clock.iso()
    if role == "learner":
        avatar = _avatar(uid)
        _record(applied, "learner.created", {"uid": uid, "display_name": name, "avatar": avatar},
                lambda: Person.create(uid=uid, role="learner", display_name=name, avatar=avatar, created_at=now,
                                      source=SOURCE),
                learner_uid=uid)
        return
    username = _free_username(change.get("username"))
    if change.get("username") and username is None:
        applied.passed_over.append(f"change {change['seq']}: the username {change['username']!r} is not valid or "
                                   f"is taken on this hub; {name} has none until an admin gives one")
    _record(applied, "person.created", {"uid": uid, "role": role, "username": username, "display_name": name},
            lambda: Person.create(uid=uid, role=role, username=username, display_name=name, created_at=now,
                                  source=SOURCE))


def _archive_person(person: Person, applied: Applied) -> None:
    """A person the district withdrew: signed out everywhere, no longer listed or able to sign
    in, kept with their history. Their class links stay as the district's enrollments say (a
    person the district brings back is where its roster puts them)."""
    _record(applied, "person.archived", {"uid": person.uid, "archived": True},
            lambda: Person.update(active=False, auth_version=Person.auth_version + 1)
            .where(Person.id == person.id).execute(),
            learner_uid=person.uid if person.role == "learner" else None)


# --- classes --------------------------------------------------------------------------------------

def _class(change: Change, applied: Applied) -> None:
    uid = change["sourcedId"]
    classroom = Classroom.get_or_none(Classroom.uid == uid)
    if change["status"] == "tobedeleted":
        if classroom is not None and classroom.source == SOURCE and not classroom.archived:
            _record(applied, "class.archived", {"uid": uid, "archived": True},
                    lambda: Classroom.update(archived=True).where(Classroom.id == classroom.id).execute(),
                    class_uid=uid)
        return
    title = " ".join(change["title"].split())[: accounts.NAME_MAX] or uid
    if classroom is None:
        now = clock.iso()
        _record(applied, "class.created", {"uid": uid, "name": title, "login_kind": "picture", "teachers": []},
                lambda: Classroom.create(uid=uid, name=title, login_kind="picture", created_at=now, source=SOURCE),
                class_uid=uid)
        return
    if not _owned(classroom, "class", change, applied):
        return
    if classroom.archived:
        _record(applied, "class.archived", {"uid": uid, "archived": False},
                lambda: Classroom.update(archived=False).where(Classroom.id == classroom.id).execute(),
                class_uid=uid)
    if classroom.name != title:
        _record(applied, "class.updated", {"uid": uid, "name": title},
                lambda: Classroom.update(name=title).where(Classroom.id == classroom.id).execute(),
                class_uid=uid)


def _teachers(classroom: Classroom) -> list[Person]:
    return list(Person.select().join(ClassTeacher).where(ClassTeacher.classroom == classroom).order_by(Person.uid))


def _set_teachers(classroom: Classroom, teachers: list[Person], applied: Applied) -> None:
    def action() -> None:
        ClassTeacher.delete().where(ClassTeacher.classroom == classroom).execute()
        for teacher in teachers:
            ClassTeacher.create(classroom=classroom, teacher=teacher)

    _record(applied, "class.teachers_set", {"uid": classroom.uid, "teachers": sorted(t.uid for t in teachers)},
            action, class_uid=classroom.uid)


def _unenrol(classroom: Classroom, learner: Person, applied: Applied) -> None:
    _record(applied, "learner.unenrolled", {"uid": learner.uid},
            lambda: Enrollment.delete().where(Enrollment.classroom == classroom, Enrollment.learner == learner)
            .execute(),
            learner_uid=learner.uid, class_uid=classroom.uid)


def _enrollment(change: Change, applied: Applied) -> None:
    classroom = Classroom.get_or_none(Classroom.uid == change["classSourcedId"])
    person = Person.get_or_none(Person.uid == change["userSourcedId"])
    active = change["status"] == "active"
    if classroom is None or person is None:
        if active:
            applied.passed_over.append(f"change {change['seq']}: the enrollment {change['sourcedId']!r} names a "
                                       "class or person this hub does not hold")
        return
    if not (_owned(classroom, "class", change, applied) and _owned(person, "person", change, applied)):
        return
    if (change["role"] == "student") != (person.role == "learner"):
        applied.passed_over.append(f"change {change['seq']}: the enrollment {change['sourcedId']!r} enrols a "
                                   f"{person.role} as a {change['role']}")
        return
    if change["role"] == "teacher":
        teachers = _teachers(classroom)
        present = any(t.id == person.id for t in teachers)
        if active and not present:
            _set_teachers(classroom, [*teachers, person], applied)
        elif not active and present:
            _set_teachers(classroom, [t for t in teachers if t.id != person.id], applied)
        return
    enrolled = Enrollment.select().where(Enrollment.classroom == classroom, Enrollment.learner == person).exists()
    if active and not enrolled:
        _record(applied, "learner.enrolled", {"uid": person.uid},
                lambda: Enrollment.create(classroom=classroom, learner=person),
                learner_uid=person.uid, class_uid=classroom.uid)
    elif not active and enrolled:
        _unenrol(classroom, person, applied)


# --- assignments and calibrations ---------------------------------------------------------------

def _assignment(change: Change, applied: Applied) -> None:
    classroom = Classroom.get_or_none(Classroom.uid == change["sourcedId"])
    if classroom is None:
        applied.passed_over.append(f"change {change['seq']}: an assignment for the class {change['sourcedId']!r}, "
                                   "which this hub does not hold")
        return
    # The district names a skill "<pack>/<skill>" (sync/changes.py); the hub's engine and paths
    # "<pack>:<skill>" (learning/adapter.qualify): recorded in the hub's words, or no path sees it.
    skills = [engine_skill(s) for s in change["skills"]] if change["status"] == "active" else []
    row = ClassAssignment.get_or_none(ClassAssignment.class_uid == classroom.uid)
    if (json.loads(row.skills) if row else []) == skills:
        return
    payload: dict[str, Any] = {"skills": skills}
    given = json.loads(row.given) if row else []
    if given:  # the teacher's assignments to groups stay: the district sets the whole class's
        payload["given"] = given
    _record(applied, "assignment.set", payload, class_uid=classroom.uid)


def engine_skill(district_skill: str) -> str:
    """``<pack>/<skill>`` as the engine names it, ``<pack>:<skill>``."""
    from classroom_server.services.learning import qualify

    pack_id, _, skill_id = district_skill.partition("/")
    return qualify(pack_id, skill_id)


def _course(change: Change, applied: Applied) -> None:
    """The packs a district class studies (services/courses.py): a pack the hub does not hold
    yet is kept in the course and studied once it is installed."""
    classroom = Classroom.get_or_none(Classroom.uid == change["sourcedId"])
    if classroom is None:
        applied.passed_over.append(f"change {change['seq']}: courses for the class {change['sourcedId']!r}, "
                                   "which this hub does not hold")
        return
    studied = [dict(c) for c in change["courses"]] if change["status"] == "active" else []
    row = ClassCourse.get_or_none(ClassCourse.class_uid == classroom.uid)
    if (json.loads(row.courses) if row else []) == studied:
        return
    _record(applied, "class.courses_set", {"courses": studied}, class_uid=classroom.uid)


def _calibration(change: Change, applied: Applied) -> None:
    if change["status"] != "active":
        return  # a fit stays in force until a newer one: there is nothing to undo
    # Where the fit stands in the district's changes: its record, and that record's number.
    through = {"origin": f"{ACTOR}:{change['sourcedId']}", "seq": int(change["seq"])}
    held = (json.loads(row.payload) for row in Event.select(Event.payload).where(Event.kind == "model.calibrated"))
    if any(p.get("source") == "district" and p.get("through", {}).get("origin") == through["origin"]
           and p.get("items") == change["items"] and p.get("skills") == change["skills"] for p in held):
        return  # this fit is in the log already (the district's changes taken again)
    payload = {"items": change["items"], "skills": change["skills"], "guess_slip": change["guess_slip"],
               "answers": int(change["answers"]), "through": through, "source": "district"}
    _record(applied, "model.calibrated", payload)


def _pack(change: Change, applied: Applied) -> None:
    """A pack version offered: noted here, fetched a piece at a time after the pull, then checked
    and installed (services/pack_fetch.py). A withdrawn offer stops the fetching; an installed
    pack stays (learners' history names it)."""
    from classroom_server.models import InstalledPack, PackOffer
    from classroom_server.services.packs import semver_key

    pack_id = change["sourcedId"]
    offer = {"version": change["version"], "sha256": change["sha256"], "size": int(change["size"]),
             "title": change.get("title"), "problem": None, "updated_at": clock.iso()}
    if change["status"] != "active":
        PackOffer.update(state="withdrawn", updated_at=offer["updated_at"]).where(
            (PackOffer.pack_id == pack_id) & (PackOffer.state == "waiting")).execute()
        return
    active = InstalledPack.get_or_none(InstalledPack.pack_id == pack_id, InstalledPack.status == "active")
    if active is None or semver_key(active.version) < semver_key(change["version"]):
        state = "waiting"
    else:
        state = "installed" if active.version == change["version"] else "newer"
    (PackOffer.insert(pack_id=pack_id, state=state, **offer)
     .on_conflict(conflict_target=[PackOffer.pack_id], update={**offer, "state": state}).execute())


_APPLY: dict[str, Callable[[Change, Applied], None]] = {
    "user": _user, "class": _class, "enrollment": _enrollment, "assignment": _assignment,
    "course": _course, "calibration": _calibration, "pack": _pack,
}
assert set(_APPLY) == set(district_changes.KINDS)

