"""The learning engine on the hub: the event log folded into learner model and mastery.

One ``Engine`` per hub process holds the projection in memory. It is rebuilt from the whole
event log when it starts or when the installed packs change, and kept current by applying, in
log order, every learning event it has not yet seen (``catch_up``). Applying in log order (not in
the order threads happen to finish) is what makes the live projection identical to a rebuild.

The projection is also written to the ``mastery`` table (stamped with the algorithm version and
the last event applied) so that reports can query it and ``classroom-server recompute --check``
can prove it equals a fresh rebuild. A rebuild rewrites every row, and importing or removing a
pack rewrites them at once (``rewrite_projection``), so the table never keeps rows computed for
packs that are no longer installed.

Items retired by an upgrade, and the items of a removed pack, stay known to the engine (skill,
difficulty prior, check flag) but are never offered: the answers learners gave them keep the
prior they were given and they still count among their skill's items, so retiring an item or
removing a pack does not move anyone's estimates.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from peewee import EXCLUDED

from classroom_server.db import db
from classroom_server.models import Event, MasteryRow

if TYPE_CHECKING:  # the engine itself is imported on first use, not at start
    from classroom_server.learning import Catalog, EngineState

ENGINE_KINDS = ("attempt", "override", "test_out_started", "lesson_viewed", "worked_example_viewed")
SEP = ":"
RECENT_TRANSITIONS = 2000


def qualify(pack_id: str, local_id: str) -> str:
    """Engine ids are unique across packs: ``<pack id>:<skill or item id>``."""
    return f"{pack_id}{SEP}{local_id}"


def split(qualified: str) -> tuple[str, str]:
    pack_id, _, local_id = qualified.partition(SEP)
    return pack_id, local_id


def engine_catalog(content_catalogue: Any,
                   retired: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None) -> Catalog:
    """The engine's view of the installed packs: skill graph and items, with qualified ids.

    ``retired`` (pack id -> item id -> {"skill", "type", "difficulty", "check"}) lists items of
    earlier versions and of removed packs; those the installed packs no longer have are known to
    the engine but never offered (``Catalog.retired_by_skill``).
    """
    skills, items = [], []
    for pack in content_catalogue.packs:
        for skill in pack.skills:
            skills.append({"id": qualify(pack.id, skill.id),
                           "prerequisites": [qualify(pack.id, p) for p in skill.prerequisites]})
        for item in pack.items:
            entry: dict[str, Any] = {"id": qualify(pack.id, item.id), "skill_id": qualify(pack.id, item.skill),
                                     "type": item.type, "check": bool(item.check)}
            if item.difficulty is not None:
                entry["difficulty"] = float(item.difficulty)
            items.append(entry)
    old = [{"id": qualify(pack_id, item_id), "skill_id": qualify(pack_id, str(meta["skill"])),
            "type": str(meta.get("type", "practice")), "difficulty": meta.get("difficulty"),
            "check": bool(meta.get("check"))}
           for pack_id, pack_items in sorted((retired or {}).items())
           for item_id, meta in sorted(pack_items.items())]
    from classroom_server.learning import Catalog

    return Catalog.from_dict({"skills": skills, "items": items, "retired": old})


def engine_event(row: Event) -> dict[str, Any]:
    """An event row as the engine reads it. Time is the hub's record time, the same everywhere."""
    payload = json.loads(row.payload)
    event: dict[str, Any] = {"kind": row.kind, "learner_id": row.learner_uid, "at": row.recorded_at}
    pack_id = payload.get("pack")
    if "skill" in payload and payload["skill"] is not None:
        event["skill_id"] = qualify(pack_id, payload["skill"])
    elif row.kind == "override":
        event["skill_id"] = None
    if "item" in payload:
        event["item_id"] = qualify(pack_id, payload["item"])
    for key in ("correct", "hints_used", "duration_ms", "action", "modality"):
        if key in payload:
            event[key] = payload[key]
    return event


@dataclass(frozen=True)
class Snapshot:
    """What a caller needs to read the projection safely: use it inside ``engine.reading()``."""

    state: EngineState
    catalog: Catalog


_LIVE: weakref.WeakSet[Engine] = weakref.WeakSet()  # engines that write the table, for rewrite_projection
_LIVE_LOCK = threading.Lock()


class Engine:
    def __init__(self, catalogue_store: Any, persist: bool = True) -> None:
        self.catalogue_store = catalogue_store
        self.persist = persist
        self.lock = threading.RLock()
        self._write_lock = threading.Lock()  # taken after `lock`, never before it
        self._epoch = 0  # one more at each rebuild
        self._loaded: Any = None
        self.catalog: Catalog | None = None
        self.state: EngineState | None = None  # built by the first catch_up
        self.last_event_id = 0
        self._recent: OrderedDict[int, list[str]] = OrderedDict()
        self.rows: dict[tuple[str, str], dict[str, Any]] = {}
        if persist:
            with _LIVE_LOCK:
                _LIVE.add(self)

    def transitions_for(self, event_row_id: int) -> list[str]:
        """What an event changed (e.g. ``["proficient"]``), for events applied recently."""
        with self.lock:
            return list(self._recent.get(event_row_id, []))

    def _rebuild_if_packs_changed(self) -> bool:
        loaded = self.catalogue_store.get()
        if loaded is self._loaded:
            return False
        from classroom_server.learning import new_state

        self._loaded = loaded
        self.catalog = engine_catalog(loaded.catalogue, getattr(loaded, "retired", None))
        self.state = new_state(catalog=self.catalog)
        self.last_event_id = 0
        self.rows = {}
        self._epoch += 1
        return True

    def _unseen(self) -> Iterable[Event]:
        return (
            Event.select()
            .where(Event.id > self.last_event_id, Event.kind.in_(ENGINE_KINDS))
            .order_by(Event.id)
            .iterator()
        )

    def _apply(self, rows: Iterable[Event]) -> tuple[dict[int, list[str]], set[tuple[str, str]]]:
        from classroom_server.learning import apply_event

        transitions: dict[int, list[str]] = {}
        touched: set[tuple[str, str]] = set()
        for row in rows:
            event = engine_event(row)
            transitions[row.id] = apply_event(self.state, event)
            self._recent[row.id] = transitions[row.id]
            if len(self._recent) > RECENT_TRANSITIONS:
                self._recent.popitem(last=False)
            self.last_event_id = row.id
            if event.get("skill_id"):
                now_touched = {(row.learner_uid, event["skill_id"])}
            elif row.learner_uid:
                now_touched = {(row.learner_uid, s) for s in self.state.mastery.get(row.learner_uid, {})}
            else:
                now_touched = set()
            for learner_uid, skill_id in now_touched:
                if skill_id in self.state.mastery.get(learner_uid, {}):
                    self.rows[(learner_uid, skill_id)] = projection_row(self.state, learner_uid, skill_id, row.id)
            touched |= now_touched
        return transitions, touched

    def catch_up(self) -> dict[int, list[str]]:
        """Apply every learning event not yet applied; returns transition codes by event row id.

        Events are applied in log order under the lock (that is what keeps the live projection
        equal to a rebuild); the rows they changed are written after the lock is released, with
        an upsert that never lets an older row overwrite a newer one, so a page that only reads
        never waits for another learner's write.

        After a rebuild (the packs changed) every stored row is replaced, still under the lock,
        so no row computed before the rebuild can land after it; a write that was computed
        before a rebuild and arrives after it is dropped (the rebuild already wrote its rows).
        """
        with self.lock:
            rebuilt = self._rebuild_if_packs_changed()
            transitions, touched = self._apply(self._unseen())
            epoch = self._epoch
            if rebuilt:
                if self.persist:
                    with self._write_lock:
                        write_projection(list(self.rows.values()), replace=True)
                return transitions
            rows = [dict(self.rows[key]) for key in touched if key in self.rows]
        if self.persist and rows:
            with self._write_lock:
                if epoch == self._epoch:
                    write_projection(rows)
        return transitions

    def reading(self) -> "_Reading":
        """``with engine.reading() as snap:`` gives a consistent, current view of the projection."""
        return _Reading(self)


class _Reading:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __enter__(self) -> Snapshot:
        self.engine.catch_up()
        self.engine.lock.acquire()
        return Snapshot(self.engine.state, self.engine.catalog)

    def __exit__(self, *exc: object) -> None:
        self.engine.lock.release()


def rewrite_projection(data_dir: Path) -> None:
    """Rebuild the projection for the packs installed now and rewrite every stored row.

    Called when a pack is imported or removed, so the stored projection equals a fresh rebuild
    at once, not only after the hub's next request. When this process has an engine for the
    data directory (the hub, on an admin page) that engine rebuilds, as it would have to anyway
    on its next request; otherwise (the command line) a short-lived one.
    """
    from classroom_server.services.catalogue import CatalogueStore

    wanted = Path(data_dir).resolve()
    with _LIVE_LOCK:
        engines = list(_LIVE)
    engine = next((e for e in engines if Path(getattr(e.catalogue_store, "data_dir", "")).resolve() == wanted), None)
    if engine is None:
        engine = Engine(CatalogueStore(data_dir))
    with db.connection_context():
        engine.catch_up()


def projection_row(state: EngineState, learner_uid: str, skill_id: str, event_id: int) -> dict[str, Any]:
    """One learner's standing on one skill as of the event that last touched it.

    The estimate ``p_fresh`` is taken at that event, so a rebuild that replays the log gives
    exactly the stored value, whatever other learners did since.
    """
    from classroom_server.learning import ALGORITHM_VERSION

    record = state.mastery[learner_uid][skill_id]
    return {
        "learner_uid": learner_uid, "skill": skill_id, "state": record.state,
        "p_fresh": round(state.p_fresh(learner_uid, skill_id), 4),
        "attempts": record.attempts, "needs_help": bool(record.needs_help),
        "algorithm": ALGORITHM_VERSION, "event_id": event_id,
    }


def write_projection(rows: list[dict[str, Any]], *, replace: bool = False) -> None:
    """Upsert projection rows; a row only replaces one stamped with an older (or equal) event."""
    newer = {name: getattr(EXCLUDED, name) for name in
             ("state", "p_fresh", "attempts", "needs_help", "algorithm", "event_id")}
    with db.atomic():
        if replace:
            MasteryRow.delete().execute()
        for start in range(0, len(rows), 200):
            (MasteryRow.insert_many(rows[start:start + 200])
             .on_conflict(conflict_target=[MasteryRow.learner_uid, MasteryRow.skill], update=newer,
                          where=(EXCLUDED.event_id >= MasteryRow.event_id))
             .execute())


def compare_with_stored(rows: dict[tuple[str, str], dict[str, Any]]) -> list[str]:
    """Differences between a fresh rebuild and the stored projection, in plain words."""
    fresh = rows
    stored = {(r.learner_uid, r.skill): r for r in MasteryRow.select()}
    problems = []
    for key in sorted(set(fresh) | set(stored)):
        a, b = fresh.get(key), stored.get(key)
        if a is None:
            problems.append(f"{key[0]} {key[1]}: stored but not in the rebuild")
        elif b is None:
            problems.append(f"{key[0]} {key[1]}: in the rebuild but not stored")
        else:
            for name in ("state", "p_fresh", "attempts", "needs_help", "algorithm", "event_id"):
                if a[name] != getattr(b, name):
                    problems.append(f"{key[0]} {key[1]}: {name} stored {getattr(b, name)!r}, rebuilt {a[name]!r}")
    return problems
