"""Appending to the event log: the one way a fact enters the hub.

``record`` runs the caller's action and appends the event that explains it in one
``BEGIN IMMEDIATE`` transaction. The per-origin sequence number is taken from
``origin_counter`` inside that transaction, so it is gapless: a rolled-back action leaves no
hole. An event id seen before returns the first result and changes nothing, which is what
lets a learner's browser resend an answer safely.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from classroom_server import clock
from classroom_server.db import db
from classroom_server.errors import Invalid
from classroom_server.models import Event, OriginCounter
from classroom_server.services import hub

MAX_PAYLOAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class Recorded:
    event: Event
    result: Any
    duplicate: bool


def _valid_event_id(event_id: str | None) -> str:
    if event_id is None:
        return str(uuid.uuid4())
    try:
        return str(uuid.UUID(str(event_id)))
    except ValueError:
        raise Invalid("The event id must be a UUID.", field="event_id") from None


def _next_seq(origin: str) -> int:
    updated = (
        OriginCounter.update(last_seq=OriginCounter.last_seq + 1)
        .where(OriginCounter.origin == origin)
        .execute()
    )
    if not updated:
        OriginCounter.create(origin=origin, last_seq=1)
        return 1
    return OriginCounter.get_by_id(origin).last_seq


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
) -> Recorded:
    """Run ``action`` and append its event atomically; a repeated event id is a no-op."""
    event_id = _valid_event_id(event_id)
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    if len(body.encode()) > MAX_PAYLOAD_BYTES:
        raise Invalid("The event is too large.", field="payload")

    with db.atomic("IMMEDIATE"):
        existing = Event.get_or_none(Event.event_id == event_id)
        if existing is not None:
            if existing.kind != kind or existing.learner_uid != learner_uid:
                raise Invalid("This event id was already used for something else.", field="event_id")
            return Recorded(existing, json.loads(existing.result) if existing.result else None, True)
        result = action() if action is not None else None
        origin = hub.origin()
        now = clock.iso()
        event = Event.create(
            event_id=event_id,
            origin=origin,
            seq=_next_seq(origin),
            kind=kind,
            learner_uid=learner_uid,
            actor_uid=actor_uid,
            class_uid=class_uid,
            occurred_at=occurred_at or now,
            recorded_at=now,
            payload=body,
            result=None if result is None else json.dumps(result, sort_keys=True),
        )
    return Recorded(event, result, False)


def payload_of(event: Event) -> dict[str, Any]:
    return json.loads(event.payload)
