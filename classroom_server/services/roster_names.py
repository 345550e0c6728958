"""A list of names (#18): learners the hub makes itself, added to one class at once.

The teacher uploads a CSV file of names or pastes them (classroom_server/interop/names_csv.py
reads either); the preview (``plan_names``) changes nothing; ``add_names`` records each learner as
a ``learner.created`` event, all in one transaction, and skips a name already in the class, so
the same list added twice adds nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from classroom_server import clock
from classroom_server.db import db
from classroom_server.errors import Forbidden, Invalid
from classroom_server.interop import names_csv
from classroom_server.models import Classroom, Enrollment, Person
from classroom_server.services import accounts, events, security
from classroom_server.services.roster import new_secret


@dataclass
class NamesOutcome:
    """What a list of names adds to a class: ``add`` the learners a preview would add (after
    adding: those added, with ``people`` and their ``secrets``), ``skipped`` the names that are
    already active learners of the class (so adding the same list twice adds them once),
    ``rejected`` the rows that cannot be learners, with line and reason."""

    names: names_csv.Names
    add: list[names_csv.Learner] = field(default_factory=list)
    skipped: list[names_csv.Learner] = field(default_factory=list)
    rejected: list[names_csv.Rejected] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    secrets: dict[int, Any] = field(default_factory=dict)  # new learner's id -> secret, shown once

    @property
    def counts(self) -> dict[str, int]:
        return {"added": len(self.people), "skipped": len(self.skipped), "rejected": len(self.rejected)}


def read_names(classroom: Classroom, data: bytes | str, pasted: bool = False) -> names_csv.Names:
    """A list of names read for this class: a row asking for the other way to sign in is rejected."""
    return names_csv.read_names(data, pasted=pasted, class_kind=classroom.login_kind, name_max=accounts.NAME_MAX)


def plan_names(classroom: Classroom, names: names_csv.Names) -> NamesOutcome:
    """What adding ``names`` would do now; changes nothing (the preview)."""
    if accounts.from_district(classroom):
        raise Invalid("This class list comes from the district: learners are added there, and arrive with the "
                      "next sync.", field="names")
    outcome = NamesOutcome(names=names, rejected=list(names.rejected))
    if not names.readable:
        return outcome
    present = {names_csv.name_key(p.display_name) for p in accounts.learners_in(classroom)}
    other = names_csv.CLASS_USES_PICTURES if classroom.login_kind == "picture" else names_csv.CLASS_USES_PIN
    for row in names.learners:
        if row.sign_in not in (None, classroom.login_kind):
            outcome.rejected.append(names_csv.Rejected(row.line, row.name, other))
        elif names_csv.name_key(row.name) in present:
            outcome.skipped.append(row)
        else:
            outcome.add.append(row)
    outcome.rejected.sort(key=lambda r: r.line)
    return outcome


def _new_listed_learner(classroom: Classroom, name: str, avatar: str, secret_hash: str, actor: Person) -> Person:
    """``learner.created`` for a learner the hub makes itself (no id from a school system)."""
    uid = str(uuid.uuid4())

    def action() -> dict[str, int]:
        learner = Person.create(uid=uid, role="learner", display_name=name, avatar=avatar,
                                secret_kind=classroom.login_kind, secret_hash=secret_hash, created_at=clock.iso())
        Enrollment.create(classroom=classroom, learner=learner)
        return {"id": learner.id}

    recorded = events.record("learner.created", {"uid": uid, "display_name": name, "avatar": avatar},
                             learner_uid=uid, class_uid=classroom.uid, actor_uid=actor.uid, action=action)
    return Person.get_by_id(recorded.result["id"])


def add_names(classroom: Classroom, names: names_csv.Names, actor: Person) -> NamesOutcome:
    """Add the learners of a list to the class in one transaction: all of them or none. Each
    gets a random picture password or PIN (the class's kind), returned once for the login cards.
    A name already an active learner of the class is skipped, so the same list twice adds nothing."""
    if not (actor.role == "admin" or accounts.teaches(actor, classroom)):
        raise Forbidden("You can only manage learners in your own classes.")
    kind = classroom.login_kind
    # Hashing a secret takes a Pi a tenth of a second: done before the write lock, not under it.
    prepared: dict[int, tuple[Any, str]] = {}
    for row in plan_names(classroom, names).add:
        secret = new_secret(kind)
        prepared[row.line] = (secret, security.hash_learner_secret(kind, secret))
    with db.atomic("IMMEDIATE"):
        outcome = plan_names(classroom, names)  # again, in the transaction: the class may have changed since
        colours, offset = accounts.AVATAR_COLOURS, len(accounts.learners_in(classroom))
        for index, row in enumerate(outcome.add):
            if row.line not in prepared:  # a learner of that name left the class meanwhile
                secret = new_secret(kind)
                prepared[row.line] = (secret, security.hash_learner_secret(kind, secret))
            secret, secret_hash = prepared[row.line]
            person = _new_listed_learner(classroom, row.name, colours[(offset + index) % len(colours)], secret_hash,
                                         actor)
            outcome.people.append(person)
            outcome.secrets[person.id] = secret
    return outcome
