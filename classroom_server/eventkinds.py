"""Every kind of event the hub records, with its payload schema: checked when an event is
recorded, and again when sync receives one.

Pure (standard library and fastjsonschema, no Flask, no database), so the district and the sync
code check events with exactly the rules the hub recorded them by. A payload is stored as
canonical JSON (sorted keys, no spaces), and each event carries ``payload_hash``: the SHA-256 of
the canonical JSON of what the event says (its kind, who it is about and its payload), not of
where it sits in a log. The same event sent twice has the same hash; a different event reusing
an event id does not, which is how sync tells a resend from a forgery.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_PAYLOAD_BYTES = 64 * 1024

_STR = {"type": "string", "maxLength": 200}
_STR_OR_NULL = {"type": ["string", "null"], "maxLength": 200}
_ID = {"type": "string", "minLength": 1, "maxLength": 200}
_UID = {"type": "string", "minLength": 1, "maxLength": 64}
_COUNT = {"type": "integer", "minimum": 0}
_DIFFICULTIES = {"type": "object", "additionalProperties": {
    "type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}}


def _object(required: Mapping[str, Any], optional: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": {**required, **(optional or {})}, "required": sorted(required),
            "additionalProperties": False}


@dataclass(frozen=True)
class Kind:
    """One kind of event: what its payload must look like and whom it must name."""

    name: str
    schema: dict[str, Any]
    learner: bool = False  # the event is about one learner (``learner_uid`` is required)
    max_bytes: int = MAX_PAYLOAD_BYTES
    _check: list[Callable[[Any], Any]] = field(default_factory=list, compare=False, repr=False)

    def validate(self, payload: Any) -> None:
        """Raise ``ValueError`` naming the first problem."""
        if not self._check:
            import fastjsonschema  # compiled on first use, once per kind

            self._check.append(fastjsonschema.compile(self.schema))
        try:
            self._check[0](payload)
        except Exception as exc:  # fastjsonschema.JsonSchemaException, or a type it cannot handle
            raise ValueError(f"{self.name} payload: {getattr(exc, 'message', exc)}") from None


_ATTEMPT = _object(
    {"pack": _ID, "version": _STR, "item": _ID, "skill": _ID, "response": {}, "correct": {"type": "boolean"},
     "hints_used": _COUNT, "duration_ms": {"type": ["integer", "null"], "minimum": 0}, "mode": _STR, "lang": _STR},
)

KINDS: dict[str, Kind] = {k.name: k for k in (
    # people and classes
    Kind("person.created", _object({"uid": _UID, "role": {"enum": ["admin", "teacher", "learner"]},
                                    "username": _STR_OR_NULL, "display_name": _STR})),
    Kind("person.password_changed", _object({"uid": _UID})),
    Kind("class.created", _object({"uid": _UID, "name": _STR, "login_kind": {"enum": ["picture", "pin"]},
                                   "teachers": {"type": "array", "items": _UID}})),
    Kind("person.updated", _object({"uid": _UID, "display_name": _STR})),
    Kind("person.archived", _object({"uid": _UID, "archived": {"type": "boolean"}})),
    Kind("class.updated", _object({"uid": _UID, "name": _STR})),
    Kind("class.archived", _object({"uid": _UID, "archived": {"type": "boolean"}})),
    Kind("class.teachers_set", _object({"uid": _UID, "teachers": {"type": "array", "items": _UID}})),
    Kind("learner.created", _object({"uid": _UID, "display_name": _STR, "avatar": _STR_OR_NULL})),
    Kind("learner.updated", _object({"uid": _UID, "display_name": _STR, "avatar": _STR_OR_NULL})),
    Kind("learner.secret_reset", _object({"uid": _UID, "kind": {"enum": ["picture", "pin"]}})),
    Kind("learner.enrolled", _object({"uid": _UID}), learner=True),
    Kind("learner.unenrolled", _object({"uid": _UID}), learner=True),
    Kind("learner.signed_in", _object({"method": _STR}), learner=True),
    # packs
    Kind("pack.installed", _object({"pack_id": _ID, "version": _STR, "previous": _STR_OR_NULL,
                                    "skills": _COUNT, "items": _COUNT},
                                   {"manifest": {"type": "string", "pattern": "^[0-9a-f]{64}$"}})),
    Kind("pack.removed", _object({"pack_id": _ID, "version": _STR})),
    # learning
    Kind("attempt", _ATTEMPT, learner=True),
    Kind("lesson_viewed", _object({"pack": _ID, "resource": _ID, "skill": _ID, "modality": _STR}), learner=True),
    Kind("worked_example_viewed", _object({"pack": _ID, "item": {"type": ["string", "null"]}, "skill": _ID}),
         learner=True),
    Kind("test_out_started", _object({"pack": _ID, "skill": _ID}), learner=True),
    # placement across a pack (learning/placement.py): started, then attempts with mode "placement",
    # then finished with the skills found known (the fold makes them proficient)
    Kind("placement.started", _object({"pack": _ID}), learner=True),
    Kind("placement.finished", _object({"pack": _ID, "placed": {"type": "array", "items": _ID, "maxItems": 500},
                                        "asked": _COUNT}), learner=True),
    # a teacher asks a class to take the placement of a pack (class_uid names the class)
    Kind("placement.requested", _object({"pack": _ID})),
    Kind("override", _object({"pack": _STR_OR_NULL, "skill": _STR_OR_NULL,
                              "action": {"enum": ["mark_mastered", "reset", "pause", "resume",
                                                  "undo_mark_mastered"]}}), learner=True),
    Kind("goal.set", _object({"kind": {"enum": ["skills", "minutes"]}, "target": {"type": "integer", "minimum": 1},
                              "week_of": _STR}), learner=True),
    Kind("learner.challenge_set", _object({"challenge": {"enum": ["easier", "normal", "harder"]}}), learner=True),
    # A class's assignments, whole: ``skills`` for the whole class to practise (no due date), and
    # ``given``: each an assignment to some of its learners or with a due date, to practise its
    # skills, read their lessons or take their checks (``kind``; absent, practice: events from
    # before kinds read as they did) (services/teaching.py).
    Kind("assignment.set", _object({"skills": {"type": "array", "items": _ID, "maxItems": 500}}, {
        "given": {"type": "array", "maxItems": 200, "items": _object(
            {"id": _UID, "skills": {"type": "array", "items": _ID, "minItems": 1, "maxItems": 100}},
            {"learners": {"type": "array", "items": _UID, "minItems": 1, "maxItems": 500},
             "due": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
             "kind": {"enum": ["practice", "lesson", "check"]}})}})),
    # A class's courses: the packs it studies, each with an optional grade band [lowest, highest].
    Kind("class.courses_set", _object({"courses": {"type": "array", "maxItems": 100, "items": _object(
        {"pack": _ID}, {"grades": {"type": "array", "minItems": 2, "maxItems": 2,
                                   "items": {"type": "integer", "minimum": 0, "maximum": 13}}})}})),
    Kind("learner.accommodations_set", _object({
        "items_per_session": {"type": ["integer", "null"], "minimum": 1},
        "more_time": {"type": "boolean"}, "read_aloud": {"type": "boolean"}, "larger_text": {"type": "boolean"}}),
        learner=True),
    # the learner model's shared terms (learning/calibration.py)
    Kind("model.calibrated", _object(
        {"items": _DIFFICULTIES, "skills": _DIFFICULTIES,
         "guess_slip": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "number"}}},
         "answers": _COUNT, "through": _object({"origin": _STR, "seq": _COUNT}),
         "source": {"enum": ["hub", "district"]}}), max_bytes=4 * 1024 * 1024),
)}


def kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown event kind {name!r}") from None


# One encoder made once: json.dumps with these options makes a new one at every call, and this
# runs once or twice for every event on the hub and at the district (#16).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), allow_nan=False)


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, no NaN: one text for one value."""
    return _CANONICAL.encode(value)


def check(name: str, payload: Any, learner_uid: str | None) -> str:
    """Validate an event before it is stored; returns its payload as canonical JSON."""
    spec = kind(name)
    spec.validate(payload)
    if spec.learner and not learner_uid:
        raise ValueError(f"{name} event must name its learner")
    body = canonical_json(payload)
    if len(body.encode("utf-8")) > spec.max_bytes:
        raise ValueError(f"{name} payload is larger than {spec.max_bytes} bytes")
    return body


def payload_hash(name: str, body: str, learner_uid: str | None, actor_uid: str | None,
                 class_uid: str | None) -> str:
    """SHA-256 over what the event says (see the module docstring), as hex."""
    # == canonical_json({..., "payload": payload}): "payload" sorts last and body is canonical
    head = canonical_json({"actor": actor_uid, "class": class_uid, "kind": name, "learner": learner_uid})
    content = f'{head[:-1]},"payload":{body}}}'
    return hashlib.sha256(content.encode("utf-8")).hexdigest()
