"""Every stored projection of the event log, in one registry.

A projection is a table that a function of the events fills. Each one here is kept current in
the transaction that records its event (``project``, called by ``events.record``), so the table
never lags the log: a power cut, a backup or a full disk sees both or neither. Each row is
stamped with its projection's algorithm version and the event that last set it, and
``classroom-server recompute`` rewrites, ``recompute --check`` compares, every projection listed
here (the engine's ``mastery``, then ``SIMPLE``) against a rebuild from the log.

- ``mastery``: the learning engine's projection (services/learning.py), kept in memory too.
- ``class_assignment``: a class's current assignment (latest ``assignment.set`` wins).
- ``learner_accommodations``: a learner's accommodations (latest ``learner.accommodations_set``).
- ``weekly_goal``: a learner's latest goal (``goal.set``).

"Latest" is the log's canonical order: the hub's row order.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from peewee import EXCLUDED, Model

from classroom_server.db import db
from classroom_server.models import CANONICAL_ORDER, ClassAssignment, Event, HubMeta, LearnerAccommodations, WeeklyGoal

log = logging.getLogger("classroom_server.projections")
Row = dict[str, Any]


@dataclass(frozen=True)
class Latest:
    """A projection where the latest event of a kind for a key is the whole answer."""

    name: str
    algorithm: str
    kind: str
    model: type[Model]
    key_column: str
    key_of: Callable[[Any], str | None]  # the event -> its key (class or learner uid)
    row_of: Callable[[dict[str, Any]], Row]  # the payload -> the row's other columns

    def _row(self, event: Any) -> tuple[str, Row] | None:
        key = self.key_of(event)
        if key is None:
            return None
        payload = json.loads(event.payload) if isinstance(event.payload, str) else event.payload
        return key, {self.key_column: key, **self.row_of(payload), "algorithm": self.algorithm,
                     "event_id": event.id}

    def apply(self, event: Any) -> None:
        """In the recording transaction: one upsert."""
        found = self._row(event)
        if found is None:
            return
        row = found[1]
        columns = [c for c in row if c != self.key_column]
        (self.model.insert(**row)
         .on_conflict(conflict_target=[getattr(self.model, self.key_column)],
                      update={getattr(self.model, c): getattr(EXCLUDED, c) for c in columns})
         .execute())

    def rebuild(self) -> dict[str, Row]:
        rows: dict[str, Row] = {}
        query = (Event.select(Event.id, Event.kind, Event.payload, Event.learner_uid, Event.class_uid)
                 .where(Event.kind == self.kind).order_by(*CANONICAL_ORDER))
        for event in query.iterator():
            found = self._row(event)
            if found is not None:
                rows[found[0]] = found[1]
        return rows

    def stored(self) -> dict[str, Row]:
        rows = cast("Iterable[Row]", self.model.select().dicts())  # .dicts() yields dicts; the stubs say models
        return {str(r[self.key_column]): r for r in rows}

    def replace(self, rows: dict[str, Row]) -> None:
        with db.atomic():
            self.model.delete().execute()
            values = list(rows.values())
            for start in range(0, len(values), 200):
                self.model.insert_many(values[start:start + 200]).execute()


def _bool_row(payload: dict[str, Any]) -> Row:
    return {"items_per_session": payload.get("items_per_session"), "more_time": bool(payload.get("more_time")),
            "read_aloud": bool(payload.get("read_aloud")), "larger_text": bool(payload.get("larger_text"))}


SIMPLE: tuple[Latest, ...] = (
    Latest("class_assignment", "assignment-1", "assignment.set", ClassAssignment, "class_uid",
           lambda e: e.class_uid, lambda p: {"skills": json.dumps(list(p["skills"]))}),
    Latest("learner_accommodations", "accommodations-1", "learner.accommodations_set", LearnerAccommodations,
           "learner_uid", lambda e: e.learner_uid, _bool_row),
    Latest("weekly_goal", "goal-1", "goal.set", WeeklyGoal, "learner_uid", lambda e: e.learner_uid,
           lambda p: {"kind": p["kind"], "target": int(p["target"]), "week_of": p["week_of"]}),
)
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


def rebuild_after_restore() -> None:
    """Events were put back into the log out of the order they were appended in (a hub's own
    events fetched back from the district): rebuild what folds the log, in its canonical order.
    The mastery engine of this process rebuilds at its next use; one in another process notices
    by itself (services/learning.py, ``Engine._behind_in_order``)."""
    from pathlib import Path

    from classroom_server.services.learning import rewrite_projection

    with db.atomic("IMMEDIATE"):
        for projection in SIMPLE:
            projection.replace(projection.rebuild())
    abandoned()
    rewrite_projection(Path(str(db.database)).parent)


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
