"""The district computes each hub's projections with the hub's own pure code, so its numbers are
the hub's numbers.

For one hub registration the district takes, from its own tables only:

- the events of the hub's origins (``<hub id>.<epoch>``: every epoch the hub wrote under, those
  a rewound log moved to included), and those of the learners it follows from the school's
  other hubs (one learner on two hubs: service.shared), sorted in the canonical order (hlc, origin, seq) in Python
  (``adapter.canonical_key``), never by the database, whose text collation may differ from the
  hub's;
- the engine manifests that the hub's ``pack.installed`` events name (``Manifest``).

It folds them as the hub folds its log: the catalogue from the pack events and those manifests
(``adapter.engine_catalog``), the learning engine over every event (``adapter.fold_mastery``,
which is ``apply_stored`` and ``mastery_row``, the functions the hub's engine calls), and the
simple projections by their rules (``classroom_server.projection_rules``, the hub's too). Each
row is stamped with the origin and seq of the event that last set it, where the hub stamps its
own row id. Nothing here imports the hub's services, models or database.

The simplest correct approach: ``recompute(registration)`` folds the hub's whole log again and
replaces its rows, in one transaction. ``recompute_stale()`` does it for every hub whose held
events moved since its last recomputation (after a sync session's pushes). What it costs is
measured by scripts/bench/district_projections.py (docs/performance.md).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from classroom_server.growth_rules import ChangeLog
from classroom_server.learning import ALGORITHM_VERSION
from classroom_server.learning.adapter import (
    PACK_KINDS,
    canonical_key,
    engine_catalog,
    fold_mastery,
    manifest_key,
    pack_history,
)
from classroom_server.projection_rules import BY_NAME, LATEST, ROSTER_ALGORITHM, fold_roster
from sync.district.growth import GROWTH_ALGORITHM, Summary, catalogue_of, summarise
from sync.district.models import (
    DistrictAccommodations,
    DistrictAssignment,
    DistrictChange,
    DistrictClass,
    DistrictClassGrowth,
    DistrictCourse,
    DistrictEnrollment,
    DistrictGoal,
    DistrictLearner,
    DistrictMastery,
    DistrictModel,
    DistrictPack,
    DistrictSkillGrowth,
    Event,
    Hub,
    HubFollow,
    HubManifest,
    Manifest,
    Origin,
    ProjectionRun,
)
from sync.district.service import _postgres, _transaction, now, others_of

Row = dict[str, Any]
LATEST_TABLES: dict[str, type[DistrictModel]] = {
    "class_assignment": DistrictAssignment, "class_course": DistrictCourse,
    "learner_accommodations": DistrictAccommodations,
    "weekly_goal": DistrictGoal}
# Every projection's algorithm version: a recomputation by other code is stale.
ALGORITHM = ";".join([f"mastery={ALGORITHM_VERSION}"] + [f"{rule.name}={rule.algorithm}" for rule in LATEST]
                     + [f"roster={ROSTER_ALGORITHM}", f"growth={GROWTH_ALGORITHM}"])
FIELDS = ("origin", "seq", "hlc", "kind", "learner_uid", "class_uid", "recorded_at", "payload")
CHUNK = 1000


@dataclass
class Projections:
    """A hub's projections as the hub computes them, from its events and manifests."""

    mastery: dict[tuple[str, str], Row]  # (learner, skill) -> row
    latest: dict[str, dict[str, Row]]  # projection name -> key (class or learner uid) -> row
    events: int
    last: tuple[str, int] | None  # the last event folded, in canonical order
    summary: Summary = field(default_factory=Summary)  # classes, learners, changes, growth by day


@dataclass
class Recomputed:
    """What one recomputation did, and what it cost."""

    hub_id: int
    events: int = 0
    mastery_rows: int = 0
    latest_rows: dict[str, int] = field(default_factory=dict)
    missing: int = 0  # events below the high-water marks the district does not hold
    problem: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # load, fold, write


def compute(events: Sequence[Mapping[str, Any]], manifests: Mapping[str, Mapping[str, Any]]) -> Projections:
    """Fold a hub's stored events (any order) with the manifests they name. Pure.

    Raises ``KeyError`` when a manifest that a pack event names is missing: the fold would
    silently differ without it.
    """
    ordered = sorted(events, key=canonical_key)
    pack_events = [e for e in ordered if e["kind"] in PACK_KINDS]
    catalog = engine_catalog(pack_events, manifests)
    log = ChangeLog()
    _, mastery = fold_mastery(ordered, catalog, log.note)

    def stamp(stored: Mapping[str, Any]) -> Row:
        return {"origin": stored["origin"], "seq": int(stored["seq"])}

    latest = {rule.name: rule.fold(ordered, stamp) for rule in LATEST}
    last = (str(ordered[-1]["origin"]), int(ordered[-1]["seq"])) if ordered else None
    summary = summarise(fold_roster(ordered), latest["class_course"], log, catalogue_of(pack_events, manifests))
    return Projections(mastery, latest, len(ordered), last, summary)


# --- what the district holds of a hub --------------------------------------------------------------

def origins_of(registration: Hub) -> dict[str, int]:
    """The hub's origins the district holds events of, with their high-water marks."""
    prefix = f"{registration.hub_id}."
    if not registration.hub_id:
        return {}
    return {row.origin: int(row.hwm) for row in Origin.select(Origin.origin, Origin.hwm)
            .where(Origin.origin.startswith(prefix)) if row.origin.startswith(prefix)}


def events_of(origins: Sequence[str]) -> list[dict[str, Any]]:
    """The stored events of these origins, as the pure fold reads them (in no particular order)."""
    columns = [getattr(Event, name) for name in FIELDS]
    found: list[dict[str, Any]] = []
    for origin in sorted(origins):
        # .dicts() yields dicts; peewee's stubs keep the model type. (Not +=: a query's + is UNION.)
        found.extend(cast("Iterable[dict[str, Any]]", Event.select(*columns).where(Event.origin == origin).dicts()))
    return found


def followed_origins(registration: Hub) -> dict[str, int]:
    """The school's other hubs' origins, with their marks, when this hub follows any learner."""
    if not HubFollow.select().where(HubFollow.hub == registration.id).exists():
        return {}
    return others_of(registration)


def followed_events(registration: Hub, others: Mapping[str, int]) -> list[dict[str, Any]]:
    """The events of the learners this hub follows, from the school's other hubs' origins."""
    if not others:
        return []
    columns = [getattr(Event, name) for name in FIELDS]
    mine = HubFollow.select(HubFollow.learner_uid).where(HubFollow.hub == registration.id)
    return cast("list[dict[str, Any]]", list(Event.select(*columns).where(
        Event.origin.in_(sorted(others)) & Event.learner_uid.in_(mine)).dicts()))


def manifests_named(registration: Hub, events: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The held manifests that these events' ``pack.installed`` events name: by SHA-256, or by
    ``<pack>@<version>`` (older events) as this hub sent it (HubManifest)."""
    named = sorted({manifest_key(json.loads(e["payload"])) for e in events if e["kind"] == "pack.installed"})
    keys = {key: key for key in named}
    for start in range(0, len(named), CHUNK):
        keys.update(cast("Iterable[tuple[str, str]]", HubManifest.select(HubManifest.name, HubManifest.key)
                         .where((HubManifest.hub == registration.id) & HubManifest.name.in_(named[start:start + CHUNK]))
                         .tuples()))
    wanted = sorted(set(keys.values()))
    bodies: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), CHUNK):
        for row in Manifest.select().where(Manifest.key.in_(wanted[start:start + CHUNK])):
            bodies[row.key] = json.loads(row.body)
    return {name: bodies[key] for name, key in keys.items() if key in bodies}


# --- recomputing and storing -------------------------------------------------------------------------

def recompute(registration: Hub) -> Recomputed:
    """Fold the hub's whole log again and replace its stored projections, in one transaction.

    When the fold cannot be made (a manifest not received yet), the rows stay as they were and
    the problem is recorded on the hub's ``ProjectionRun``.
    """
    outcome = Recomputed(int(registration.id))
    started = time.perf_counter()
    with _transaction():
        if _postgres():  # one recomputation of a hub at a time (SQLite's IMMEDIATE is that already)
            Hub.select(Hub.id).where(Hub.id == registration.id).for_update().execute()
        origins = origins_of(registration)
        others = followed_origins(registration)
        # Through the high-water marks just read: a push meanwhile is the next recomputation's.
        events = [e for e in events_of(list(origins)) if int(e["seq"]) <= origins[e["origin"]]]
        held = Counter(e["origin"] for e in events)
        outcome.missing = sum(hwm - held[origin] for origin, hwm in origins.items())
        # A learner who works on two hubs too: their events from the school's other hubs, which
        # the hub holds as well once it has synced (service.shared).
        events += [e for e in followed_events(registration, others) if int(e["seq"]) <= others[e["origin"]]]
        manifests = manifests_named(registration, events)
        outcome.events = len(events)
        loaded = time.perf_counter()
        outcome.seconds["load"] = loaded - started
        named, _ = pack_history(sorted((e for e in events if e["kind"] in PACK_KINDS), key=canonical_key))
        lacking = [key for key in named if key not in manifests]
        if lacking:
            outcome.problem = "pack manifests missing for " + ", ".join(lacking)
            (ProjectionRun.insert(hub=registration.id, algorithm="", through="{}", events=0,
                                  missing=outcome.missing, computed_at=now(), seconds=0.0, problem=outcome.problem)
             .on_conflict(conflict_target=[ProjectionRun.hub],
                          update={ProjectionRun.problem: outcome.problem}).execute())
            return outcome
        projections = compute(events, manifests)
        folded = time.perf_counter()
        outcome.seconds["fold"] = folded - loaded
        _replace(DistrictMastery, registration, projections.mastery.values())
        outcome.mastery_rows = len(projections.mastery)
        for name, rows in projections.latest.items():
            _replace(LATEST_TABLES[name], registration, rows.values())
            outcome.latest_rows[name] = len(rows)
        for model, summary_rows in ((DistrictClass, projections.summary.classes),
                                    (DistrictLearner, projections.summary.learners),
                                    (DistrictEnrollment, projections.summary.enrolled),
                                    (DistrictChange, projections.summary.changes),
                                    (DistrictClassGrowth, projections.summary.days),
                                    (DistrictSkillGrowth, projections.summary.skill_days),
                                    (DistrictPack, projections.summary.packs)):
            _replace(model, registration, summary_rows)
        outcome.seconds["write"] = time.perf_counter() - folded
        run = {"algorithm": ALGORITHM, "through": json.dumps({**others, **origins}, sort_keys=True),
               "last_origin": projections.last[0] if projections.last else None,
               "last_seq": projections.last[1] if projections.last else None,
               "events": projections.events, "missing": outcome.missing, "computed_at": now(),
               "seconds": time.perf_counter() - started, "problem": None}
        (ProjectionRun.insert(hub=registration.id, **run)
         .on_conflict(conflict_target=[ProjectionRun.hub],
                      update={getattr(ProjectionRun, name): value for name, value in run.items()}).execute())
    return outcome


def _replace(model: type[DistrictModel], registration: Hub, rows: Any) -> None:
    model.delete().where(model.hub == registration.id).execute()  # type: ignore[attr-defined]
    values = [{**row, "hub": registration.id} for row in rows]
    for start in range(0, len(values), CHUNK):
        model.insert_many(values[start:start + CHUNK]).execute()


def stale(registration: Hub) -> bool:
    """Whether the district holds other events of the hub than its projections were folded from
    (or they were folded by other code, or not at all)."""
    run = ProjectionRun.get_or_none(ProjectionRun.hub == registration.id)
    if run is None:
        return bool(origins_of(registration))
    return (run.problem is not None or run.algorithm != ALGORITHM
            or json.loads(run.through) != {**followed_origins(registration), **origins_of(registration)})


def recompute_stale() -> list[Recomputed]:
    """Recompute every enrolled hub whose projections are stale: after sync sessions' pushes."""
    return [recompute(registration) for registration in Hub.select().where(Hub.hub_id.is_null(False))
            .order_by(Hub.id) if stale(registration)]


# --- reading them back -------------------------------------------------------------------------------

def mastery_of(registration: Hub) -> dict[tuple[str, str], Row]:
    """The hub's mastery rows as the district stores them, by (learner, skill), without the hub."""
    rows = cast("Iterable[Row]", DistrictMastery.select().where(DistrictMastery.hub == registration.id).dicts())
    return {(r["learner_uid"], r["skill"]): _without_hub(r) for r in rows}


def latest_of(registration: Hub, name: str) -> dict[str, Row]:
    """One simple projection's rows as the district stores them, by class or learner uid."""
    model = LATEST_TABLES[name]
    key = BY_NAME[name].key_column
    rows = cast("Iterable[Row]", model.select().where(model.hub == registration.id).dicts())  # type: ignore[attr-defined]
    return {r[key]: _without_hub(r) for r in rows}


def _without_hub(row: Mapping[str, Any]) -> Row:
    return {k: v for k, v in row.items() if k != "hub"}


def run_of(registration: Hub) -> ProjectionRun | None:
    return ProjectionRun.get_or_none(ProjectionRun.hub == registration.id)
