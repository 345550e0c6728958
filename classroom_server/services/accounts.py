"""People and classes: creating, editing, signing in. Each change is recorded as an event.

Event payloads never contain a password, PIN, picture sequence or hash.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from peewee import fn

from classroom_server import clock
from classroom_server.db import db
from classroom_server.errors import Conflict, Forbidden, Invalid, NotFound
from classroom_server.models import Classroom, ClassTeacher, Enrollment, Event, GuessBudget, LoginThrottle, Person
from classroom_server.services import events, security, sessions, setup_cache

AVATAR_COLOURS = (
    "red", "orange", "yellow", "green", "teal", "blue",
    "purple", "pink", "brown", "grey", "navy", "lime",
)
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
NAME_MAX = 60

log = logging.getLogger("classroom_server.accounts")


def clean_name(value: str, field: str = "display_name") -> str:
    name = " ".join(str(value or "").split())
    if not name:
        raise Invalid("Please enter a name.", field=field)
    if len(name) > NAME_MAX:
        raise Invalid("Names can be at most %(max)s characters.", field=field, max=NAME_MAX)
    return name


def _clean_username(value: str) -> str:
    username = str(value or "").strip().lower()
    if not USERNAME_RE.match(username):
        raise Invalid(
            "A username is 2 to 32 lower-case letters, digits, dots, dashes or underscores.",
            field="username",
        )
    return username


def _actor_uid(actor: Person | None) -> str | None:
    return actor.uid if actor is not None else None


def create_staff(
    role: str, username: str, display_name: str, password: str, actor: Person | None = None
) -> Person:
    if role not in ("admin", "teacher"):
        raise Invalid("Staff are admins or teachers.", field="role")
    if actor is not None and actor.role != "admin":
        raise Forbidden("Only an admin can create staff accounts.")
    username = _clean_username(username)
    display_name = clean_name(display_name)
    password_hash = security.hash_password(password)
    if Person.select().where(fn.lower(Person.username) == username).exists():
        raise Conflict("The username %(username)s is already taken.", field="username", username=username)
    uid = str(uuid.uuid4())

    def action() -> dict[str, int]:
        person = Person.create(
            uid=uid, role=role, username=username, display_name=display_name,
            password_hash=password_hash, created_at=clock.iso(),
        )
        return {"person_id": person.id}

    recorded = events.record(
        "person.created", {"uid": uid, "role": role, "username": username, "display_name": display_name},
        actor_uid=_actor_uid(actor), action=action,
    )
    return Person.get_by_id(recorded.result["person_id"])


def set_password(person: Person, new_password: str, actor: Person | None = None) -> None:
    """Set a staff password and sign the person out everywhere else (auth_version changes)."""
    password_hash = security.hash_password(new_password)

    def action() -> None:
        Person.update(password_hash=password_hash, auth_version=Person.auth_version + 1).where(
            Person.id == person.id
        ).execute()

    events.record("person.password_changed", {"uid": person.uid}, actor_uid=_actor_uid(actor), action=action)
    sessions.end_all(person.id)  # every browser signed in as them is signed out


def change_own_password(person: Person, current: str, new: str) -> Person:
    """Change one's own password; returns the person as now stored (a new ``auth_version``)."""
    if not security.check_password(person.password_hash, current):
        raise Invalid("Your current password is not right.", field="current_password")
    if current == new:
        raise Invalid("Choose a password different from the current one.", field="new_password")
    set_password(person, new, actor=person)
    return Person.get_by_id(person.id)


def create_class(name: str, login_kind: str, teacher_ids: list[int], actor: Person) -> Classroom:
    """A class has a name, a way for learners to sign in and at least one teacher."""
    if actor.role != "admin":
        raise Forbidden("Only an admin can create classes.")
    name = clean_name(name, field="name")
    if login_kind not in ("picture", "pin"):
        raise Invalid("Choose picture password or PIN.", field="login_kind")
    if not teacher_ids:
        raise Invalid("Choose at least one teacher.", field="teachers")
    teachers = list(Person.select().where(Person.id.in_(teacher_ids), Person.role == "teacher"))
    if len(teachers) != len(set(teacher_ids)):
        raise Invalid("Choose teachers from the list.", field="teachers")
    uid = str(uuid.uuid4())

    def action() -> dict[str, int]:
        classroom = Classroom.create(uid=uid, name=name, login_kind=login_kind, created_at=clock.iso())
        for teacher in teachers:
            ClassTeacher.create(classroom=classroom, teacher=teacher)
        return {"classroom_id": classroom.id}

    recorded = events.record(
        "class.created",
        {"uid": uid, "name": name, "login_kind": login_kind, "teachers": [t.uid for t in teachers]},
        class_uid=uid, actor_uid=actor.uid, action=action,
    )
    return Classroom.get_by_id(recorded.result["classroom_id"])


def staff() -> list[Person]:
    """Admins and teachers whose accounts are not archived, by name."""
    return list(Person.select().where(Person.role.in_(["admin", "teacher"]), Person.active == True)  # noqa: E712
                .order_by(Person.display_name))


def all_classes() -> list[Classroom]:
    """Every class on the hub that is not archived, by name."""
    return list(Classroom.select().where(Classroom.archived == False).order_by(Classroom.name))  # noqa: E712


def get_class(class_id: int) -> Classroom:
    """Any class by id (learners choose theirs to sign in); 404 when there is none."""
    classroom = Classroom.get_or_none(Classroom.id == class_id, Classroom.archived == False)  # noqa: E712
    if classroom is None:
        raise NotFound("There is no such class.")
    return classroom


def teaches(teacher: Person, classroom: Classroom) -> bool:
    return ClassTeacher.select().where(
        ClassTeacher.teacher == teacher, ClassTeacher.classroom == classroom
    ).exists()


def classes_for(person: Person) -> list[Classroom]:
    if person.role == "admin":
        return all_classes()
    if person.role == "teacher":
        return list(Classroom.select().join(ClassTeacher)
                    .where(ClassTeacher.teacher == person, Classroom.archived == False)  # noqa: E712
                    .order_by(Classroom.name))
    # a learner's classes change when a class or an enrolment does: kept between requests (#21)
    return setup_cache.for_learner("classes", person.id, lambda: list(
        Classroom.select().join(Enrollment)
        .where(Enrollment.learner == person, Classroom.archived == False)  # noqa: E712
        .order_by(Classroom.name)), list)


def get_class_for(person: Person, class_id: int) -> Classroom:
    """The class, if this person may manage it; the same 404 either way so ids reveal nothing."""
    classroom = Classroom.get_or_none(Classroom.id == class_id, Classroom.archived == False)  # noqa: E712
    if classroom is None or not (person.role == "admin" or teaches(person, classroom)):
        raise NotFound("There is no such class.")
    return classroom


def learners_in(classroom: Classroom) -> list[Person]:
    return list(
        Person.select().join(Enrollment).where(Enrollment.classroom == classroom, Person.active == True)  # noqa: E712
        .order_by(Person.display_name, Person.id)
    )


def get_learner_in(classroom: Classroom, learner_id: int) -> Person:
    learner = (
        Person.select().join(Enrollment)
        .where(Enrollment.classroom == classroom, Person.id == learner_id, Person.role == "learner")
        .first()
    )
    if learner is None:
        raise NotFound("There is no such learner in this class.")
    return learner


def _check_may_manage(actor: Person, classroom: Classroom) -> None:
    if not (actor.role == "admin" or teaches(actor, classroom)):
        raise Forbidden("You can only manage learners in your own classes.")


DISTRICT = "district"  # the ``source`` of a record the district's roster owns (services/district_changes.py)


def from_district(record: Person | Classroom) -> bool:
    """Whether the district's roster owns this person or class: read-only here, changed there."""
    return record.source == DISTRICT


def create_learner(
    classroom: Classroom, display_name: str, avatar: str, secret: str | list[str], actor: Person
) -> Person:
    _check_may_manage(actor, classroom)
    if from_district(classroom):
        raise Invalid("This class list comes from the district: learners are added there, and arrive with the "
                      "next sync.", field="display_name")
    display_name = clean_name(display_name)
    if avatar not in AVATAR_COLOURS:
        raise Invalid("Choose a colour.", field="avatar")
    secret_hash = security.hash_learner_secret(classroom.login_kind, secret)
    uid = str(uuid.uuid4())

    def action() -> dict[str, int]:
        learner = Person.create(
            uid=uid, role="learner", display_name=display_name, avatar=avatar,
            secret_kind=classroom.login_kind, secret_hash=secret_hash, created_at=clock.iso(),
        )
        Enrollment.create(classroom=classroom, learner=learner)
        return {"person_id": learner.id}

    recorded = events.record(
        "learner.created", {"uid": uid, "display_name": display_name, "avatar": avatar},
        learner_uid=uid, class_uid=classroom.uid, actor_uid=actor.uid, action=action,
    )
    return Person.get_by_id(recorded.result["person_id"])


def update_learner(classroom: Classroom, learner: Person, display_name: str, avatar: str, actor: Person) -> None:
    _check_may_manage(actor, classroom)
    display_name = clean_name(display_name)
    if from_district(learner) and display_name != learner.display_name:
        raise Invalid("This name comes from the district: it is changed there, and arrives with the next sync.",
                      field="display_name")
    if avatar not in AVATAR_COLOURS:
        raise Invalid("Choose a colour.", field="avatar")

    def action() -> None:
        Person.update(display_name=display_name, avatar=avatar).where(Person.id == learner.id).execute()

    events.record(
        "learner.updated", {"uid": learner.uid, "display_name": display_name, "avatar": avatar},
        learner_uid=learner.uid, class_uid=classroom.uid, actor_uid=actor.uid, action=action,
    )


def reset_learner_secret(classroom: Classroom, learner: Person, secret: str | list[str], actor: Person) -> None:
    _check_may_manage(actor, classroom)
    secret_hash = security.hash_learner_secret(classroom.login_kind, secret)

    def action() -> None:
        Person.update(
            secret_kind=classroom.login_kind, secret_hash=secret_hash, auth_version=Person.auth_version + 1
        ).where(Person.id == learner.id).execute()

    events.record(
        "learner.secret_reset", {"uid": learner.uid, "kind": classroom.login_kind},
        learner_uid=learner.uid, class_uid=classroom.uid, actor_uid=actor.uid, action=action,
    )
    _forget_wrong_tries(learner)
    sessions.end_all(learner.id)


def _forget_wrong_tries(learner: Person) -> None:
    with db.atomic("IMMEDIATE"):
        GuessBudget.delete().where(GuessBudget.person_id == learner.id).execute()
        LoginThrottle.delete().where(LoginThrottle.key == f"acct:learner:{learner.id}").execute()


def paused_sign_ins(classroom: Classroom, policy: SignInPolicy) -> dict[int, int]:
    """Learners of the class whose sign-in is paused after too many wrong tries, with how many."""
    return policy.allowance().paused([p.id for p in learners_in(classroom)])


def let_sign_in_again(classroom: Classroom, learner: Person, actor: Person) -> None:
    """The teacher's one step for a learner whose sign-in paused: their wrong tries are forgotten.
    (If someone may have been guessing, a new picture password or PIN is the safer step.)"""
    _check_may_manage(actor, classroom)
    _forget_wrong_tries(learner)
    log.info("%s let learner %s sign in again after too many wrong tries", actor.uid, learner.uid)


def remove_from_class(classroom: Classroom, learner: Person, actor: Person) -> None:
    """Take a learner off the class list. Their history stays; ``restore_to_class`` undoes it."""
    _check_may_manage(actor, classroom)
    if from_district(classroom):
        raise Invalid("This class list comes from the district: learners are taken off it there.", field="learner")

    def action() -> None:
        Enrollment.delete().where(Enrollment.classroom == classroom, Enrollment.learner == learner).execute()

    events.record(
        "learner.unenrolled", {"uid": learner.uid}, learner_uid=learner.uid,
        class_uid=classroom.uid, actor_uid=actor.uid, action=action,
    )


def restore_to_class(classroom: Classroom, learner_id: int, actor: Person) -> Person:
    _check_may_manage(actor, classroom)
    learner = Person.get_or_none(Person.id == learner_id, Person.role == "learner")
    if learner is None or not Event.select().where(
        Event.kind == "learner.unenrolled", Event.class_uid == classroom.uid, Event.learner_uid == learner.uid
    ).exists():
        # Only someone taken off this class can be put back: no enrolling other classes' learners.
        raise NotFound("There is no such learner.")
    if Enrollment.select().where(Enrollment.classroom == classroom, Enrollment.learner == learner).exists():
        return learner

    def action() -> None:
        Enrollment.create(classroom=classroom, learner=learner)

    events.record(
        "learner.enrolled", {"uid": learner.uid}, learner_uid=learner.uid,
        class_uid=classroom.uid, actor_uid=actor.uid, action=action,
    )
    return learner


@dataclass
class SignInPolicy:
    free_failures: int
    max_delay: int
    learner_wrong_tries: int = 30
    learner_refill_hours: float = 72.0

    def throttle(self) -> security.Throttle:
        return security.Throttle(self.free_failures, self.max_delay)

    def allowance(self) -> security.GuessAllowance:
        return security.GuessAllowance(self.learner_wrong_tries, self.learner_refill_hours * 3600)


GENERIC_FAILURE = "That did not match. Please try again."


def _keys(
    account: str, client_addr: str, person: Person | None, device: str | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The throttle keys a try counts against, and those a right secret clears.

    On a device where this person has signed in before, a wrong try counts for that device
    alone: a guesser elsewhere can slow the account down for new devices, never for its owner's.
    """
    if person is not None and device and sessions.trusted(device, person.id):
        key = f"dev:{sessions.device_key(device)}:{account}"
        return (key,), (key,)
    return (account, f"addr:{client_addr}"), (account,)


def sign_in_staff(
    username: str, password: str, client_addr: str, policy: SignInPolicy, device: str | None = None
) -> Person:
    """Check a staff sign-in; every failure gives the same message and counts toward delays."""
    username = str(username or "").strip().lower()[:200]
    person = Person.get_or_none(
        fn.lower(Person.username) == username, Person.role.in_(["admin", "teacher"]), Person.active == True  # noqa: E712
    ) if username else None
    keys, clear = _keys(f"acct:staff:{username}", client_addr, person, device)
    ok = security.guarded(
        policy.throttle(), keys, clear,
        lambda: security.check_password(person.password_hash if person else None, password or ""),
    )
    if not ok or person is None:
        raise Invalid(GENERIC_FAILURE, field="password", code="bad_credentials")
    sessions.trust(device, person.id)
    return person


def sign_in_learner(
    classroom: Classroom, learner_id: int, secret: str | list[str], client_addr: str, policy: SignInPolicy,
    device: str | None = None, then: Callable[[Person], object] | None = None,
) -> Person:
    """Check a learner's pictures or PIN. Besides the delays, every wrong try spends one of the
    learner's allowance (across devices); when it is spent, sign-in pauses until the teacher
    lets them in again (``let_sign_in_again``).

    A right secret is taken back from the count, its ``learner.signed_in`` event recorded, the
    device trusted and ``then(learner)`` run (the caller starts the session there) in one
    transaction: a sign-in is two commits, the count before the check and this one (#21)."""
    learner = (
        Person.select().join(Enrollment)
        .where(Enrollment.classroom == classroom, Person.id == learner_id, Person.active == True)  # noqa: E712
        .first()
    )
    keys, clear = _keys(f"acct:learner:{learner_id}", client_addr, learner, device)

    def signed_in() -> None:
        assert learner is not None  # a right secret needs an account (the check of none is always wrong)
        events.record(
            "learner.signed_in", {"method": classroom.login_kind}, learner_uid=learner.uid,
            class_uid=classroom.uid, actor_uid=learner.uid, action=lambda: sessions.trust(device, learner.id),
        )
        if security.learner_hash_outdated(learner.secret_hash):  # a hash from before 4,000 rounds
            learner.secret_hash = security.hash_learner_secret(classroom.login_kind, secret)
            Person.update(secret_hash=learner.secret_hash).where(Person.id == learner.id).execute()
        if then is not None:
            then(learner)

    ok = security.guarded(
        policy.throttle(), keys, clear,
        lambda: security.check_learner_secret(learner.secret_hash if learner else None, classroom.login_kind, secret),
        policy.allowance(), learner.id if learner else None, on_success=signed_in,
    )
    if not ok or learner is None:
        raise Invalid(GENERIC_FAILURE, field="secret", code="bad_credentials")
    return learner
