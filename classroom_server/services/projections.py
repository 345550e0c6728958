"""Every stored projection of the event log, in one registry.

A projection is a table that a function of the events fills. Each one here is kept current in
the transaction that records its event (``project``, called by ``events.record``), so the table
never lags the log: a power cut, a backup or a full disk sees both or neither. Each row is
stamped with its projection's algorithm version and the event that last set it, and
``classroom-server recompute`` rewrites, ``recompute --check`` compares, every projection listed
here (the engine's ``mastery``, then ``SIMPLE``) against a rebuild from the log.

- ``mastery``: the learning engine's projection (services/learning.py), kept in memory too.
- ``class_assignment``: a class's current assignment (latest ``assignment.set`` wins).
- ``class_course``: a class's courses, the packs it studies (latest ``class.courses_set``).
- ``learner_accommodations``: a learner's accommodations (latest ``learner.accommodations_set``).
- ``weekly_goal``: a learner's latest goal (``goal.set``).

"Latest" is the log's canonical order (hlc, origin, seq): on a hub, the order it recorded events
in. How an event becomes a row is pure (classroom_server/projection_rules.py for the simple
ones, learning/adapter.py for mastery), so the district computes the same rows from the same events.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from peewee import EXCLUDED, Model

from classroom_server.db import db
from classroom_server.models import (
    CANONICAL_ORDER,
    ClassAssignment,
    ClassCourse,
    Event,
    HubMeta,
    LearnerAccommodations,
    WeeklyGoal,
)
from classroom_server.projection_rules import LATEST, LatestRule

log = logging.getLogger("classroom_server.projections")
Row = dict[str, Any]


@dataclass(frozen=True)
class Latest:
    """A projection where the latest event of a kind for a key is the whole answer: its rule
    (classroom_server/projection_rules.py, shared with the district) and the table it fills."""

    rule: LatestRule
    model: type[Model]

    @property
    def name(self) -> str:
        return self.rule.name

    @property
    def algorithm(self) -> str:
        return self.rule.algorithm

    @property
    def kind(self) -> str:
        return self.rule.kind

    @property
    def key_column(self) -> str:
        return self.rule.key_column

    def apply(self, event: Any) -> None:
        """In the recording transaction: one upsert."""
        found = self.rule.row(_stored(event))
        if found is None:
            return
        row = {**found[1], "event_id": event.id}
        columns = [c for c in row if c != self.key_column]
        (self.model.insert(**row)
         .on_conflict(conflict_target=[getattr(self.model, self.key_column)],
                      update={getattr(self.model, c): getattr(EXCLUDED, c) for c in columns})
         .execute())

    def rebuild(self) -> dict[str, Row]:
        query = (Event.select(Event.id, Event.kind, Event.payload, Event.learner_uid, Event.class_uid)
                 .where(Event.kind == self.kind).order_by(*CANONICAL_ORDER))
        return self.rule.fold((_stored(event) for event in query.iterator()), lambda e: {"event_id": e["id"]})

    def stored(self) -> dict[str, Row]:
        rows = cast("Iterable[Row]", self.model.select().dicts())  # .dicts() yields dicts; the stubs say models
        return {str(r[self.key_column]): r for r in rows}

    def replace(self, rows: dict[str, Row]) -> None:
        with db.atomic():
            self.model.delete().execute()
            values = list(rows.values())
            for start in range(0, len(values), 200):
                self.model.insert_many(values[start:start + 200]).execute()


def _stored(event: Any) -> dict[str, Any]:
    """An event row as the pure rules read it."""
    return {"id": event.id, "kind": event.kind, "learner_uid": event.learner_uid, "class_uid": event.class_uid,
            "payload": event.payload}


_TABLES: dict[str, type[Model]] = {"class_assignment": ClassAssignment, "class_course": ClassCourse,
                                   "learner_accommodations": LearnerAccommodations, "weekly_goal": WeeklyGoal}
SIMPLE: tuple[Latest, ...] = tuple(Latest(rule, _TABLES[rule.name]) for rule in LATEST)
BY_KIND = {p.kind: p for p in SIMPLE}


def project(event: Any) -> None:
    """Bring every stored projection up to ``event``, inside the transaction that records it."""
    simple = BY_KIND.get(event.kind)
    if simple is not None:
        simple.apply(event)
    from classroom_server.services.learning import project_event

    project_event(event)


def abandoned() -> None:
    """The recording transaction failed after ``project``: forget what memory learned from it."""
    from classroom_server.services.learning import forget_uncommitted

    forget_uncommitted()


def rewrite_all() -> None:
    """Rewrite every stored projection from the log, inside the caller's transaction.

    For events that joined the log before its end (a rewound hub's own events fetched back from
    the district, services/sync.py): they were stored without ``project``, and belong earlier in
    the canonical order than the events already folded.
    """
    from classroom_server.services.learning import rewrite_after_insertion

    rewrite_after_insertion()
    for projection in SIMPLE:
        projection.replace(projection.rebuild())


def _marker(name: str) -> str:
    return f"projection:{name}"


def ensure_current() -> list[str]:
    """At start: rebuild each simple projection written by another algorithm version (or never
    written, on a hub upgraded from before it existed); returns the names rebuilt."""
    rebuilt = []
    for projection in SIMPLE:
        marker = HubMeta.get_or_none(HubMeta.key == _marker(projection.name))
        if marker is not None and marker.value == projection.algorithm:
            continue
        with db.atomic("IMMEDIATE"):
            projection.replace(projection.rebuild())
            HubMeta.insert(key=_marker(projection.name), value=projection.algorithm).on_conflict_replace().execute()
        rebuilt.append(projection.name)
    return rebuilt


def compare(name: str, fresh: dict[Any, Row], stored: dict[Any, Row]) -> list[str]:
    """Differences between a rebuild and the stored rows, in plain words."""
    problems = []
    for key in sorted(set(fresh) | set(stored), key=str):
        a, b = fresh.get(key), stored.get(key)
        label = " ".join(key) if isinstance(key, tuple) else str(key)
        if a is None:
            problems.append(f"{name} {label}: stored but not in the rebuild")
        elif b is None:
            problems.append(f"{name} {label}: in the rebuild but not stored")
        else:
            for column in sorted(a):
                if a[column] != b.get(column):
                    problems.append(f"{name} {label}: {column} stored {b.get(column)!r}, rebuilt {a[column]!r}")
    return problems


@dataclass
class Outcome:
    name: str
    rows: int
    problems: list[str]


def recompute(catalogue_store: Any, check: bool) -> list[Outcome]:
    """Rebuild every projection from the log; with ``check`` compare instead of writing."""
    from classroom_server.services.learning import Engine, compare_with_stored

    outcomes = []
    with db.connection_context():
        engine = Engine(catalogue_store, persist=not check)
        engine.catch_up()
        problems = compare_with_stored(engine.rows) if check else []
        outcomes.append(Outcome("mastery", len(engine.rows), problems))
        for projection in SIMPLE:
            fresh = projection.rebuild()
            if check:
                outcomes.append(Outcome(projection.name, len(fresh), compare(projection.name, fresh,
                                                                             projection.stored())))
            else:
                with db.atomic("IMMEDIATE"):
                    projection.replace(fresh)
                    HubMeta.insert(key=_marker(projection.name),
                                   value=projection.algorithm).on_conflict_replace().execute()
                outcomes.append(Outcome(projection.name, len(fresh), []))
    return outcomes


def describe(outcomes: Iterable[Outcome]) -> str:
    return ", ".join(f"{o.name} {o.rows}" for o in outcomes)
