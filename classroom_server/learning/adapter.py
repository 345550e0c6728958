"""From the stored event log and pack manifests to the engine's input, and from the engine's
state to the rows a hub stores: pure, for hub and district.

The hub's rebuild, its live projection and the district's recomputation all go through these
functions, so they cannot disagree about what an event or a pack means to the engine, nor about
which rows an event sets. Plain data in, plain data out: no database, no Flask, no files (the
caller reads rows and manifests).

A stored event is a mapping with ``kind``, ``learner_uid``, ``recorded_at`` and ``payload`` (a
dict or its JSON text); ``origin`` and ``seq`` place it in the log.

Canonical order: by hybrid logical clock, then origin, then seq (``canonical_key``). On one hub
that is the order it recorded its events in; it also places a hub's own events fetched back from
the district (a rewound log) where they belong, and it is the order the district folds in.

An engine manifest is what the engine needs of one pack version, canonical JSON named by its
SHA-256 (``pack.installed`` events carry it as ``manifest``):

    {"pack": id, "version": v,
     "skills": [{"id", "prerequisites": [...]}, ...],
     "items": [{"id", "skill", "type", "check", "difficulty"}, ...]}

The engine's catalogue is built from the manifests that ``pack.installed`` events name: the
active version of each pack is offered; items of superseded versions and of removed packs are
known to the engine (their priors count) but never offered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import ALGORITHM_VERSION
from .projection import ENGINE_KINDS, EngineState, apply_event, new_state
from .skill_graph import SkillGraph

SEP = ":"
PACK_KINDS = ("pack.installed", "pack.removed")
# The columns of a stored mastery row, besides what places it in the log (the hub's row id of
# the event that last set it; at the district, that event's origin and seq).
MASTERY_COLUMNS = ("learner_uid", "skill", "state", "p_fresh", "attempts", "needs_help", "algorithm")
P_FRESH_DIGITS = 4


def canonical_key(stored: Mapping[str, Any]) -> tuple[int, str, int]:
    """Where a stored event sits in the canonical order: (hlc, origin, seq).

    Sorting by this in Python, not by a database's ORDER BY, keeps the order independent of the
    database's text collation (PostgreSQL may sort text by locale; SQLite and Python by code point).
    """
    return int(stored["hlc"]), str(stored["origin"]), int(stored["seq"])


def qualify(pack_id: str, local_id: str) -> str:
    """Engine ids are unique across packs: ``<pack id>:<skill or item id>``."""
    return f"{pack_id}{SEP}{local_id}"


def split(engine_id: str) -> tuple[str, str]:
    pack_id, _, local_id = engine_id.partition(SEP)
    return pack_id, local_id


def canonical_json(value: Any) -> str:
    """One text for one value: sorted keys, no spaces, no NaN. Hashes are taken over it."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def payload_of(stored: Mapping[str, Any]) -> dict[str, Any]:
    payload = stored["payload"]
    return json.loads(payload) if isinstance(payload, (str, bytes)) else dict(payload)


def engine_event(stored: Mapping[str, Any]) -> dict[str, Any]:
    """A stored event as the engine reads it. Time is the hub's record time, the same everywhere."""
    payload = payload_of(stored)
    kind = stored["kind"]
    if kind == "model.calibrated":
        return {"kind": kind, "items": payload["items"], "skills": payload["skills"],
                "guess_slip": payload.get("guess_slip", {})}
    event: dict[str, Any] = {"kind": kind, "learner_id": stored["learner_uid"], "at": stored["recorded_at"]}
    pack_id: Any = payload.get("pack")  # a pack id whenever the event names a skill or an item
    if kind == "placement.finished":
        event["skills"] = [qualify(pack_id, s) for s in payload["placed"]]
        return event
    if payload.get("skill") is not None:
        event["skill_id"] = qualify(pack_id, payload["skill"])
    elif kind == "override":
        event["skill_id"] = None
    if "item" in payload and payload["item"] is not None:
        event["item_id"] = qualify(pack_id, payload["item"])
    for key in ("correct", "hints_used", "duration_ms", "action", "modality", "mode"):
        if key in payload:
            event[key] = payload[key]
    return event


# --- the engine's state as stored rows -------------------------------------------------------------

def mastery_row(state: EngineState, learner_uid: str, skill_id: str) -> dict[str, Any]:
    """One learner's standing on one skill (MASTERY_COLUMNS), as of now in the fold.

    A row is taken at the event that last touched it (``apply_stored``), so ``p_fresh`` is the
    estimate at that event: a rebuild that replays the log gives exactly the stored value,
    whatever other learners did since. Rounded, so the stored number is one a database of either
    kind keeps exactly (as a double).
    """
    record = state.mastery[learner_uid][skill_id]
    return {
        "learner_uid": learner_uid, "skill": skill_id, "state": record.state,
        "p_fresh": round(state.p_fresh(learner_uid, skill_id), P_FRESH_DIGITS),
        "attempts": record.attempts, "needs_help": bool(record.needs_help), "algorithm": ALGORITHM_VERSION,
    }


def apply_stored(state: EngineState, stored: Mapping[str, Any]) -> tuple[list[str], list[tuple[str, str]]]:
    """Apply one stored event to the fold; returns its transition codes and the (learner, skill)
    rows it sets, which the caller takes with ``mastery_row`` now and stamps with the event.

    An event about one skill sets that skill's row; a whole-learner override (pause, resume) sets
    every row of the learner; a calibration sets none (each row keeps the estimate of its own last
    event). Kinds the engine ignores set nothing.
    """
    if stored["kind"] not in ENGINE_KINDS:
        return [], []
    event = engine_event(stored)
    codes = apply_event(state, event)
    learner = stored.get("learner_uid")
    records = state.mastery.get(learner, {}) if learner else {}
    if not learner:
        keys: list[tuple[str, str]] = []
    elif event.get("skill_id"):
        keys = [(learner, event["skill_id"])] if event["skill_id"] in records else []
    else:
        keys = [(learner, skill_id) for skill_id in records]
    return codes, keys


def fold_mastery(stored_events: Iterable[Mapping[str, Any]], catalog: SkillGraph | None,
                 observe: Callable[[EngineState, Mapping[str, Any], list[tuple[str, str]]], None] | None = None,
                 ) -> tuple[EngineState, dict[tuple[str, str], dict[str, Any]]]:
    """Fold stored events, given in canonical order, into the engine's state and the mastery rows.

    Each row is ``mastery_row`` plus ``origin`` and ``seq``: the event that last set it.
    ``observe(state, stored, keys)`` is called after each event (growth_rules.ChangeLog.note).
    """
    state = new_state(catalog=catalog)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for stored in stored_events:
        _, keys = apply_stored(state, stored)
        if observe is not None:
            observe(state, stored, keys)
        for key in keys:
            rows[key] = {**mastery_row(state, *key), "origin": stored["origin"], "seq": int(stored["seq"])}
    return state, rows


# --- pack manifests ------------------------------------------------------------------------------

def engine_manifest(pack: Any) -> dict[str, Any]:
    """What the engine needs of one pack version (a ``content_packs`` Pack, or anything shaped so),
    and what the district needs to read its numbers as the hub does: the pack's and skills'
    titles and grades (the expected pace, growth_rules.py). The engine reads ids, prerequisites
    and items only."""
    found: dict[str, Any] = {
        "pack": pack.id,
        "version": pack.version,
        "title": _words(pack.title),
        "skills": [_manifest_skill(s) for s in pack.skills],
        "items": [{"id": i.id, "skill": i.skill, "type": i.type, "check": bool(i.check),
                   "difficulty": None if i.difficulty is None else float(i.difficulty)}
                  for i in pack.items],
    }
    if getattr(pack, "grades", None):
        found["grades"] = list(pack.grades)
    return found


def _manifest_skill(skill: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"id": skill.id, "prerequisites": list(skill.prerequisites), "title": _words(skill.title)}
    if getattr(skill, "grades", None):
        found["grades"] = list(skill.grades)
    return found


def _words(value: Any) -> dict[str, str]:
    """A pack's localized text as {language: text} (a plain string: under "en")."""
    if isinstance(value, str):
        return {"en": value}
    return {str(lang): str(value[lang]) for lang in value}


def manifest_text(manifest: Mapping[str, Any]) -> str:
    return canonical_json(manifest)


def manifest_sha256(manifest: Mapping[str, Any]) -> str:
    return hashlib.sha256(manifest_text(manifest).encode("utf-8")).hexdigest()


def manifest_key(payload: Mapping[str, Any]) -> str:
    """How a ``pack.installed`` payload names its manifest: by hash, or (events recorded before
    manifests were kept) by ``<pack>@<version>``."""
    return str(payload.get("manifest") or f"{payload['pack_id']}@{payload['version']}")


def pack_history(pack_events: Iterable[Mapping[str, Any]]) -> tuple[list[str], dict[str, str]]:
    """(manifest keys in the order they were installed, pack id -> key of its active version).

    ``pack_events`` are the stored ``pack.installed`` and ``pack.removed`` events, in log order.
    """
    named: list[str] = []
    active: dict[str, str] = {}
    for stored in pack_events:
        payload = payload_of(stored)
        if stored["kind"] == "pack.installed":
            key = manifest_key(payload)
            if key not in named:
                named.append(key)
            active[str(payload["pack_id"])] = key
        elif stored["kind"] == "pack.removed":
            active.pop(str(payload["pack_id"]), None)
    return named, active


def engine_catalog(pack_events: Iterable[Mapping[str, Any]], manifests: Mapping[str, Mapping[str, Any]]) -> SkillGraph:
    """The engine's catalogue from the pack events and the manifests they name.

    A named manifest that is missing is an error: the fold would silently differ without it.
    """
    named, active = pack_history(pack_events)
    missing = [key for key in named if key not in manifests]
    if missing:
        raise KeyError("pack manifests missing for " + ", ".join(missing))
    skills: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for pack_id in sorted(active):
        manifest = manifests[active[pack_id]]
        skills += [{"id": qualify(pack_id, s["id"]), "prerequisites": [qualify(pack_id, p) for p in s["prerequisites"]]}
                   for s in manifest["skills"]]
        items += [_engine_item(pack_id, i) for i in manifest["items"]]
    offered = {i["id"] for i in items}
    retired: dict[str, dict[str, Any]] = {}
    for key in named:  # older versions first: an item's newest metadata wins
        manifest = manifests[key]
        if active.get(manifest["pack"]) == key:
            continue
        for item in manifest["items"]:
            entry = _engine_item(manifest["pack"], item)
            if entry["id"] not in offered:
                retired[entry["id"]] = entry
    return SkillGraph.from_dict({"skills": skills, "items": items,
                              "retired": [retired[k] for k in sorted(retired)]})


def _engine_item(pack_id: str, item: Mapping[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": qualify(pack_id, item["id"]), "skill_id": qualify(pack_id, item["skill"]),
                             "type": item.get("type", "practice"), "check": bool(item.get("check"))}
    if item.get("difficulty") is not None:
        entry["difficulty"] = float(item["difficulty"])
    return entry
