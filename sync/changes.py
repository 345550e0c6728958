"""What the district sends down to hubs: its changes since a cursor. Pure.

The district owns rosters (people, classes, who is in which class), class assignments and the
learner model's calibrations; a hub holds a read-only copy. Each change the district publishes
gets the next number of one district-wide sequence and is meant for one school (or, with no
school, for every school). A hub asks for the changes after the last number it applied
(its cursor), applies them, and stores the new cursor in the same transaction
(classroom_server/services/district_changes.py): a pull cut at any byte applies all of a batch or
none of it, and is simply asked for again.

A change is one record, shaped as OneRoster 1.1 shapes its records wherever a roster is
concerned (``sourcedId``, ``status`` ``active`` or ``tobedeleted``, ``dateLastModified``, and the
fields of ``users``, ``classes`` and ``enrollments``), plus its ``kind`` and ``seq``:

    user        role (student, teacher, administrator), givenName, familyName, username?
    class       title, classCode?
    enrollment  classSourcedId, userSourcedId, role (student, teacher)
    assignment  sourcedId is the class's; skills: ["pack/skill", ...] (an empty list clears it)
    course      sourcedId is the class's; courses: [{"pack": id, "grades": [lowest, highest]?}, ...]:
                the packs the class studies (an empty list: none; withdrawn: none)
    calibration items, skills, guess_slip, answers: a fit of the learner model's shared terms
    pack        sourcedId is the pack's id; version, sha256, size, title: a pack file the hub
                fetches from the district a piece at a time, checks and installs

A record marked ``tobedeleted`` is a tombstone: it keeps the record's last fields, so a hub that
never saw the record, or saw an older one, still knows what to undo.

Standard library and fastjsonschema only, like classroom_server/eventkinds.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

KINDS = ("user", "class", "enrollment", "assignment", "course", "calibration", "pack")
STATUSES = ("active", "tobedeleted")
MAX_CHANGE_BYTES = 4 * 1024 * 1024  # a calibration of a large catalogue; a roster record is far smaller

_ID = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"^[A-Za-z0-9._:@/+-]+$"}
_NAME = {"type": "string", "maxLength": 100}
_COMMON = {"sourcedId": _ID, "status": {"enum": list(STATUSES)}}
_DIFFICULTIES = {"type": "object", "additionalProperties": {
    "type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}}


def _object(required: Mapping[str, Any], optional: Mapping[str, Any] | None = None) -> dict[str, Any]:
    properties = {**_COMMON, **required, **(optional or {}), "dateLastModified": {"type": "string", "maxLength": 40}}
    return {"type": "object", "properties": properties, "required": sorted({*_COMMON, *required}),
            "additionalProperties": False}


_SCHEMAS: dict[str, dict[str, Any]] = {
    "user": _object({"role": {"enum": ["student", "teacher", "administrator"]},
                     "givenName": _NAME, "familyName": _NAME},
                    {"username": {"type": ["string", "null"], "maxLength": 100}}),
    "class": _object({"title": {**_NAME, "minLength": 1}},
                     {"classCode": {"type": ["string", "null"], "maxLength": 100}}),
    "enrollment": _object({"classSourcedId": _ID, "userSourcedId": _ID, "role": {"enum": ["student", "teacher"]}}),
    "assignment": _object({"skills": {"type": "array", "maxItems": 500,
                                      "items": {"type": "string", "minLength": 3, "maxLength": 200,
                                                "pattern": "^[^/]+/[^/]+$"}}}),
    "course": _object({"courses": {"type": "array", "maxItems": 100, "items": {
        "type": "object", "required": ["pack"], "additionalProperties": False,
        "properties": {"pack": {"type": "string", "minLength": 1, "maxLength": 200},
                       "grades": {"type": "array", "minItems": 2, "maxItems": 2,
                                  "items": {"type": "integer", "minimum": 0, "maximum": 13}}}}}}),
    "calibration": _object({"items": _DIFFICULTIES, "skills": _DIFFICULTIES,
                            "guess_slip": {"type": "object", "additionalProperties": {
                                "type": "array", "items": {"type": "number"}}},
                            "answers": {"type": "integer", "minimum": 0}}),
    "pack": _object({"version": {"type": "string", "minLength": 1, "maxLength": 40},
                     "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                     "size": {"type": "integer", "minimum": 1}},
                    {"title": {"type": "string", "maxLength": 200}}),
}
_CHECKS: dict[str, Any] = {}


class ChangeError(ValueError):
    """A change that breaks its kind's rules; the message names the first problem."""


def check(kind: str, record: Any) -> dict[str, Any]:
    """A record of ``kind`` as the district stores and sends it; raises ``ChangeError``."""
    if kind not in _SCHEMAS:
        raise ChangeError(f"unknown kind of change {kind!r} (known: {', '.join(KINDS)})")
    if kind not in _CHECKS:
        import fastjsonschema  # compiled on first use, once per kind

        _CHECKS[kind] = fastjsonschema.compile(_SCHEMAS[kind])
    try:
        _CHECKS[kind](record)
    except Exception as exc:  # fastjsonschema.JsonSchemaException, or a type it cannot handle
        raise ChangeError(f"{kind} {_name(record)}: {getattr(exc, 'message', exc)}") from None
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=False)
    if len(text.encode("utf-8")) > MAX_CHANGE_BYTES:
        raise ChangeError(f"{kind} {_name(record)}: larger than {MAX_CHANGE_BYTES} bytes")
    return dict(record)


def _name(record: Any) -> str:
    if isinstance(record, Mapping) and isinstance(record.get("sourcedId"), str):
        return repr(record["sourcedId"][:64])
    return "(no sourcedId)"


def display_name(user: Mapping[str, Any]) -> str:
    """How a hub shows a person from the roster: given name, then family name."""
    return " ".join(f"{user.get('givenName') or ''} {user.get('familyName') or ''}".split()) or str(user["sourcedId"])


def check_answer(answer: Mapping[str, Any], since: int) -> tuple[list[dict[str, Any]], int, bool]:
    """The changes, new cursor and "more to come" of a district's answer to ``changes``; raises
    ``ChangeError`` when the answer breaks the protocol (the hub then applies none of it). A
    change of a kind this hub does not know (a newer district's) comes back marked ``unknown``."""
    through, more, items = answer.get("through"), answer.get("more"), answer.get("changes")
    if not isinstance(through, int) or through < since or not isinstance(more, bool) or not isinstance(items, list):
        raise ChangeError("the district's changes do not say how far they go")
    changes = []
    last = since
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("seq"), int) or not isinstance(item.get("kind"), str):
            raise ChangeError("a change has no number or kind")
        seq = item["seq"]
        if not last < seq <= through:
            raise ChangeError("the changes are out of order")
        last = seq
        record = {k: v for k, v in item.items() if k not in ("seq", "kind")}
        if item["kind"] not in KINDS:  # from a newer district: passed over (and said), never a stuck pull
            changes.append({"seq": seq, "kind": item["kind"], "unknown": True})
            continue
        changes.append({"seq": seq, "kind": item["kind"], **check(item["kind"], record)})
    return changes, through, more
