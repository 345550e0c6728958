"""The simple stored projections' rules, from stored events to rows: pure, for hub and district.

Each of these projections is "the latest event of one kind for a key is the whole answer": a
class's assignment (``assignment.set``), its courses (``class.courses_set``), a learner's accommodations
(``learner.accommodations_set``) and weekly goal (``goal.set``). "Latest" is the log's canonical
order (hlc, origin, seq). The hub keeps them in its tables (services/projections.py); the district
recomputes them from the events it received (sync/district/projections.py). Both take a row from
an event with these functions, so a row means the same on both sides.

Standard library only, and loaded at the hub's start (unlike the learning engine).

A stored event is a mapping with ``kind``, ``learner_uid``, ``class_uid`` and ``payload`` (a dict
or its JSON text).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]


@dataclass(frozen=True)
class LatestRule:
    """A projection where the latest event of a kind for a key is the whole answer."""

    name: str
    algorithm: str
    kind: str
    key_column: str  # the event's field that is the row's key: class_uid or learner_uid
    row_of: Callable[[dict[str, Any]], Row]  # the payload -> the row's other columns

    def row(self, stored: Mapping[str, Any]) -> tuple[str, Row] | None:
        """The row an event of this kind sets (key column, the payload's columns, algorithm), and
        its key; None when the event names no key. The caller stamps it with the event."""
        if stored["kind"] != self.kind:
            return None
        key = stored.get(self.key_column)
        if key is None:
            return None
        payload = stored["payload"]
        payload = json.loads(payload) if isinstance(payload, (str, bytes)) else dict(payload)
        return key, {self.key_column: key, **self.row_of(payload), "algorithm": self.algorithm}

    def fold(self, stored_events: Iterable[Mapping[str, Any]],
             stamp: Callable[[Mapping[str, Any]], Row]) -> dict[str, Row]:
        """Every key's row from events given in canonical order; ``stamp`` gives the columns that
        place the event in the log (the hub's row id; the district's origin and seq)."""
        rows: dict[str, Row] = {}
        for stored in stored_events:
            found = self.row(stored)
            if found is not None:
                rows[found[0]] = {**found[1], **stamp(stored)}
        return rows


def _accommodations(payload: dict[str, Any]) -> Row:
    return {"items_per_session": payload.get("items_per_session"), "more_time": bool(payload.get("more_time")),
            "read_aloud": bool(payload.get("read_aloud")), "larger_text": bool(payload.get("larger_text"))}


LATEST: tuple[LatestRule, ...] = (
    LatestRule("class_assignment", "assignment-2", "assignment.set", "class_uid",
               lambda p: {"skills": json.dumps(list(p["skills"])),
                          "given": json.dumps(list(p.get("given", [])), sort_keys=True)}),
    LatestRule("class_course", "course-1", "class.courses_set", "class_uid",
               lambda p: {"courses": json.dumps(list(p["courses"]), sort_keys=True)}),
    LatestRule("learner_accommodations", "accommodations-1", "learner.accommodations_set", "learner_uid",
               _accommodations),
    LatestRule("weekly_goal", "goal-1", "goal.set", "learner_uid",
               lambda p: {"kind": p["kind"], "target": int(p["target"]), "week_of": p["week_of"]}),
)
BY_NAME = {rule.name: rule for rule in LATEST}


# --- the roster: classes, learners and who is in which class --------------------------------------

@dataclass
class Roster:
    """Classes, learners and enrolments as the hub's tables hold them, folded from the events that
    changed them (the hub changes its tables with each of these events, services/accounts.py,
    roster.py, school_admin.py and district_changes.py, and tests/test_roster_fold.py checks that
    this fold gives the same rows). Teachers and admins are not folded: the district needs learners."""

    classes: dict[str, Row]  # class uid -> {"name", "archived"}
    learners: dict[str, Row]  # learner uid -> {"display_name", "archived"}
    enrolled: set[tuple[str, str]]  # (class uid, learner uid)

    def learners_in(self, class_uid: str) -> list[str]:
        return sorted(learner for klass, learner in self.enrolled if klass == class_uid)


ROSTER_KINDS = ("class.created", "class.updated", "class.archived", "learner.created", "learner.updated",
                "person.updated", "person.archived", "learner.enrolled", "learner.unenrolled")
ROSTER_ALGORITHM = "roster-1"


def fold_roster(stored_events: Iterable[Mapping[str, Any]]) -> Roster:
    """The roster from stored events given in canonical order (other kinds are skipped)."""
    roster = Roster({}, {}, set())
    for stored in stored_events:
        kind = stored["kind"]
        if kind not in ROSTER_KINDS:
            continue
        payload = stored["payload"]
        payload = json.loads(payload) if isinstance(payload, (str, bytes)) else payload
        uid = payload.get("uid")
        if kind == "class.created":
            roster.classes[uid] = {"name": payload["name"], "archived": False}
        elif kind == "class.updated" and uid in roster.classes:
            roster.classes[uid]["name"] = payload["name"]
        elif kind == "class.archived" and uid in roster.classes:
            roster.classes[uid]["archived"] = bool(payload["archived"])
        elif kind == "learner.created":
            roster.learners[uid] = {"display_name": payload["display_name"], "archived": False}
            if stored.get("class_uid") in roster.classes:
                roster.enrolled.add((stored["class_uid"], uid))
        elif kind in ("learner.updated", "person.updated") and uid in roster.learners:
            roster.learners[uid]["display_name"] = payload["display_name"]
        elif kind == "person.archived" and uid in roster.learners:
            roster.learners[uid]["archived"] = bool(payload["archived"])
        elif kind == "learner.enrolled" and stored.get("class_uid") in roster.classes and uid in roster.learners:
            roster.enrolled.add((stored["class_uid"], uid))
        elif kind == "learner.unenrolled":
            roster.enrolled.discard((stored.get("class_uid"), uid))
    return roster
