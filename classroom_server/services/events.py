"""Appending to the event log: the one way a fact enters the hub.

``record`` runs the caller's action and appends the event that explains it in one
``BEGIN IMMEDIATE`` transaction. The per-origin sequence number is taken from
``origin_counter`` inside that transaction, so it is gapless: a rolled-back action leaves no
hole. An event id seen before returns the first result and changes nothing, which is what
lets a learner's browser resend an answer safely. Every payload is checked against its kind's
schema and stored as canonical JSON with its hash; the stored projections are written in the same
transaction as the event.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from peewee import fn

from classroom_server import clock, event_ids, eventkinds
from classroom_server.db import db
from classroom_server.errors import Invalid
from classroom_server.models import Event, OriginCounter
from classroom_server.services import hub, projections


@dataclass(frozen=True)
class Recorded:
    event: Event
    result: Any
    duplicate: bool


_LAST_LEARNER_ACTION = [float("-inf")]  # time.monotonic() of the last event a learner made here


def seconds_since_learner_action() -> float:
    """How long ago, in this process, a learner last did something that was recorded (an answer,
    a lesson opened, a sign-in): a sync gives way to learners while they work."""
    return time.monotonic() - _LAST_LEARNER_ACTION[0]


class _Duplicate(Exception):
    """The event id is in the log already: undo this transaction, return the first result."""


def _valid_event_id(event_id: str | None) -> str:
    if event_id is None:
        return event_ids.new()
    try:
        return str(uuid.UUID(str(event_id)))
    except ValueError:
        raise Invalid("The event id must be a UUID.", field="event_id") from None


def _hlc_now() -> int:
    """The wall clock as a hybrid logical clock value: milliseconds times 1000."""
    return int(clock.now().timestamp() * 1000) * 1000


# The two statements of every event, written once here rather than built by peewee each time (#21).
_BUMP_SQL = ('UPDATE "origin_counter" SET last_seq = last_seq + 1, hlc = MAX(hlc + 1, ?) '
             "WHERE origin = ? AND retired = 0 RETURNING last_seq, hlc")
_EVENT_COLUMNS = ("event_id", "origin", "seq", "kind", "learner_uid", "actor_uid", "class_uid", "occurred_at",
                  "recorded_at", "payload", "result", "payload_hash", "hlc")
_INSERT_SQL = (f'INSERT INTO "event" ({", ".join(_EVENT_COLUMNS)}) VALUES ({", ".join("?" * len(_EVENT_COLUMNS))}) '
               "ON CONFLICT (event_id) DO NOTHING RETURNING id")


def _next_position(origin: str) -> tuple[str, int, int]:
    """The origin, sequence number and clock value of the next event, taken in the writing
    transaction: one UPDATE bumps both. The clock never goes back on a hub, whatever its wall
    clock does (a Pi has no clock battery). If the origin was retired meanwhile (another process
    began a new epoch), the new origin is read again and used."""
    now = _hlc_now()
    for _ in range(2):
        bumped = db.execute_sql(_BUMP_SQL, (now, origin)).fetchall()  # all: the statement then ends
        if bumped:
            return origin, int(bumped[0][0]), int(bumped[0][1])
        if OriginCounter.get_or_none(OriginCounter.origin == origin) is None:
            newest = OriginCounter.select(fn.MAX(OriginCounter.hlc)).scalar() or 0
            value = max(newest + 1, now)
            OriginCounter.create(origin=origin, last_seq=1, hlc=value)
            return origin, 1, value
        hub.forget_origin()
        origin = hub.origin()
    raise RuntimeError("this hub's origin keeps changing under it")  # pragma: no cover


def _existing(event_id: str, kind: str, learner_uid: str | None) -> Recorded | None:
    existing = Event.get_or_none(Event.event_id == event_id)
    if existing is None:
        return None
    if existing.kind != kind or existing.learner_uid != learner_uid:
        raise Invalid("This event id was already used for something else.", field="event_id")
    return Recorded(existing, json.loads(existing.result) if existing.result else None, True)


def record(
    kind: str,
    payload: dict[str, Any],
    *,
    event_id: str | None = None,
    learner_uid: str | None = None,
    actor_uid: str | None = None,
    class_uid: str | None = None,
    occurred_at: str | None = None,
    action: Callable[[], Any] | None = None,
    result: Any = None,
) -> Recorded:
    """Run ``action`` and append its event atomically; a repeated event id is a no-op.

    The payload must match its kind's schema (classroom_server/eventkinds.py). ``result`` (or
    what ``action`` returns) is stored with the event and returned again for a resend. Every
    stored projection is brought up to the event in the same transaction (services/projections.py).
    An answer is five statements: BEGIN, the sequence number, the event, its mastery rows, COMMIT.
    """
    given_id = event_id is not None
    event_id = _valid_event_id(event_id)
    try:
        body = eventkinds.check(kind, payload, learner_uid)
    except ValueError as exc:
        if "larger than" in str(exc):  # two calls, not one with a conditional: each message is extracted
            raise Invalid("The event is too large.", field="payload") from None
        raise Invalid("This is not a valid %(kind)s event: %(why)s", field="payload", kind=kind, why=str(exc)) from None
    digest = eventkinds.payload_hash(kind, body, learner_uid, actor_uid, class_uid)
    origin = hub.origin()
    projected = False
    try:
        with db.atomic("IMMEDIATE"):
            if action is not None and given_id:
                # An action has effects of its own: never run it for an event already recorded.
                earlier = _existing(event_id, kind, learner_uid)
                if earlier is not None:
                    return earlier
            if action is not None:
                result = action()
            now = clock.iso()
            origin, seq, hlc = _next_position(origin)
            fields = dict(
                event_id=event_id, origin=origin, seq=seq, hlc=hlc, kind=kind, learner_uid=learner_uid,
                actor_uid=actor_uid, class_uid=class_uid, occurred_at=occurred_at or now, recorded_at=now,
                payload=body, result=None if result is None else json.dumps(result, sort_keys=True),
                payload_hash=digest,
            )
            inserted = db.execute_sql(_INSERT_SQL, tuple(fields[c] for c in _EVENT_COLUMNS)).fetchall()
            if not inserted:
                raise _Duplicate
            event = Event(id=inserted[0][0], **fields)
            projected = True
            projections.project(event)
    except _Duplicate:
        earlier = _existing(event_id, kind, learner_uid)
        if earlier is None:  # pragma: no cover - the id was there a moment ago, and events are never deleted
            raise RuntimeError("an event vanished from the append-only log") from None
        return earlier
    except BaseException as exc:
        if projected:
            projections.abandoned()
        # On a full disk SQLite rolls the transaction back itself when COMMIT fails, so the
        # ROLLBACK that follows fails too ("no transaction is active"): the cause is the disk.
        cause: BaseException | None = exc
        while cause is not None and "no transaction is active" in str(cause):
            cause = cause.__context__
        if cause is not None and cause is not exc:
            raise cause from None
        raise
    if learner_uid is not None and actor_uid == learner_uid:
        _LAST_LEARNER_ACTION[0] = time.monotonic()
    return Recorded(event, result, False)


def payload_of(event: Event) -> dict[str, Any]:
    return json.loads(event.payload)
