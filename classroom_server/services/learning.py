"""The learning engine on the hub: the event log folded into learner model and mastery.

One ``Engine`` per hub process holds the projection in memory. It is rebuilt from the whole
event log when it starts or when the installed packs change, and kept current event by event:
``events.record`` calls ``project_event`` inside the transaction that appends the event, so the
event, the engine's memory and the ``mastery`` rows it changed are one commit. If that commit
fails (a full disk, a kill), ``forget_uncommitted`` drops what memory learned and the next read
rebuilds from the log. ``catch_up`` applies, in log order, events recorded by another process.

A learner's projection depends only on that learner's events, the ``model.calibrated`` events
and the pack versions that ``pack.installed`` events name (learning/adapter.py): never on other
learners' answers or on files outside the database. The ``mastery`` rows are stamped with the
algorithm version and the last event applied, and ``classroom-server recompute --check``
proves they equal a fresh rebuild.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from classroom_server import request_memo
from classroom_server.db import db
from classroom_server.growth_rules import ChangeLog
from classroom_server.models import CANONICAL_ORDER, Event, MasteryRow, PackManifest

if TYPE_CHECKING:  # the engine itself is imported on first use, not at start
    from classroom_server.learning import EngineState, SkillGraph

PACK_KINDS = ("pack.installed", "pack.removed")
SEP = ":"  # engine ids are <pack id>:<skill or item id>, as in learning/adapter.py


def qualify(pack_id: str, local_id: str) -> str:
    """The engine's id of a pack's skill or item (learning/adapter.qualify, without loading the
    engine: the hub imports the engine on first use, for its idle memory)."""
    return f"{pack_id}{SEP}{local_id}"


def split(engine_id: str) -> tuple[str, str]:
    pack_id, _, local_id = engine_id.partition(SEP)
    return pack_id, local_id

ENGINE_KINDS = ("attempt", "override", "test_out_started", "lesson_viewed", "worked_example_viewed",
                "model.calibrated", "placement.finished")
RECENT_TRANSITIONS = 2000
_FIELDS = (Event.id, Event.kind, Event.learner_uid, Event.recorded_at, Event.payload, Event.hlc)
# The events after the last one applied, as every request asks (#21): the SQL text is written
# once here instead of being built by peewee each time, and read in chunks.
_AFTER_SQL = 'SELECT id, kind, learner_uid, recorded_at, payload, hlc FROM "event" WHERE id > ? ORDER BY id'
_CHUNK = 1000


_MASTERY_COLUMNS = ("learner_uid", "skill", "state", "p_fresh", "attempts", "needs_help", "algorithm", "event_id")
# A row only replaces one stamped with an older (or the same) event.
_UPSERT_SQL = (
    f'INSERT INTO "mastery" ({", ".join(_MASTERY_COLUMNS)}) VALUES ({", ".join("?" * len(_MASTERY_COLUMNS))}) '
    "ON CONFLICT (learner_uid, skill) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _MASTERY_COLUMNS[2:])
    + ' WHERE excluded.event_id >= "mastery".event_id'
)


class _Row(NamedTuple):
    id: int
    kind: str
    learner_uid: str | None
    recorded_at: str
    payload: str
    hlc: int | None


def catalog_from_log() -> SkillGraph:
    """The engine's catalogue from the pack events in the log and the manifests they name."""
    from classroom_server.learning.adapter import engine_catalog

    pack_events = (Event.select(Event.kind, Event.payload).where(Event.kind.in_(PACK_KINDS))
                   .order_by(*CANONICAL_ORDER).dicts())
    manifests = {row.key: json.loads(row.body) for row in PackManifest.select()}
    # .dicts() yields dicts; peewee's stubs keep the model type
    return engine_catalog(list(cast("Iterable[dict[str, Any]]", pack_events)), manifests)


@dataclass(frozen=True)
class Snapshot:
    """What a caller needs to read the projection safely: use it inside ``engine.reading()``."""

    state: EngineState
    catalog: SkillGraph


_LIVE: weakref.WeakSet[Engine] = weakref.WeakSet()  # engines that write the table
_LIVE_LOCK = threading.Lock()


def _live_engines() -> list[Engine]:
    with _LIVE_LOCK:
        return list(_LIVE)


def _engine_for_database() -> Engine | None:
    """The live engine of the database this process has open (the newest, when tests make many)."""
    path = str(db.database)
    found = None
    for engine in _live_engines():
        if engine.database == path and (found is None or engine.serial > found.serial):
            found = engine
    return found


def project_event(event: Event) -> None:
    """Called by ``events.record`` inside the transaction that appends ``event``."""
    engine = _engine_for_database()
    if engine is not None and db.transaction_depth() == 1:
        engine.project(event)
    # Nested in a larger transaction (a pack switch), the engine catches up after it commits.


def forget_uncommitted() -> None:
    engine = _engine_for_database()
    if engine is not None:
        engine.invalidate()


_SERIAL = [0]


class Engine:
    def __init__(self, catalogue_store: Any, persist: bool = True) -> None:
        self.catalogue_store = catalogue_store
        self.persist = persist
        self.database = str(db.database)
        self.lock = threading.RLock()
        self._epoch = 0  # one more at each rebuild
        self._loaded: Any = None
        self.catalog: SkillGraph | None = None
        self.state: EngineState | None = None  # built by the first catch_up
        self.last_row_id = 0  # the last event of any kind looked at
        self.last_hlc = 0  # the latest clock value among them
        self._recent: OrderedDict[int, list[str]] = OrderedDict()
        self.rows: dict[tuple[str, str], dict[str, Any]] = {}
        self.changes = ChangeLog()  # each (learner, skill)'s changes of state, for the reports
        if persist:
            with _LIVE_LOCK:
                _SERIAL[0] += 1
                self.serial = _SERIAL[0]
                _LIVE.add(self)

    def transitions_for(self, event_row_id: int) -> list[str]:
        """What an event changed (e.g. ``["proficient"]``), for events applied recently."""
        with self.lock:
            return list(self._recent.get(event_row_id, []))

    def invalidate(self) -> None:
        """Memory may hold an event that never committed: rebuild from the log at the next read."""
        with self.lock:
            self._loaded = None
            self.state = None

    def _rebuild_if_packs_changed(self) -> bool:
        loaded = self.catalogue_store.get()
        if loaded is self._loaded and self.state is not None:
            return False
        from classroom_server.learning import new_state

        self._loaded = loaded
        self.catalog = catalog_from_log()
        self.state = new_state(catalog=self.catalog)
        self.last_row_id = 0
        self.last_hlc = 0
        self.rows = {}
        self.changes = ChangeLog()
        self._recent.clear()
        self._epoch += 1
        return True

    def _unseen(self) -> Iterable[Event]:
        if self.last_row_id == 0:  # the whole log: in its canonical order
            return Event.select(*_FIELDS).order_by(*CANONICAL_ORDER).iterator()
        return Event.select(*_FIELDS).where(Event.id > self.last_row_id).order_by(Event.id).iterator()

    def _apply(self, rows: Iterable[Event] | Iterable[_Row]) -> set[tuple[str, str]]:
        from classroom_server.learning.adapter import apply_stored, mastery_row

        touched: set[tuple[str, str]] = set()
        assert self.state is not None
        for row in rows:
            self.last_row_id = max(self.last_row_id, row.id)
            self.last_hlc = max(self.last_hlc, row.hlc or 0)
            if row.kind not in ENGINE_KINDS:
                continue
            stored = {"kind": row.kind, "learner_uid": row.learner_uid, "recorded_at": row.recorded_at,
                      "payload": row.payload}
            self._recent[row.id], keys = apply_stored(self.state, stored)
            self.changes.note(self.state, stored, keys)
            if len(self._recent) > RECENT_TRANSITIONS:
                self._recent.popitem(last=False)
            for key in keys:
                self.rows[key] = {**mastery_row(self.state, *key), "event_id": row.id}
            touched.update(keys)
        return touched

    def _apply_new(self) -> set[tuple[str, str]] | None:
        """Apply the events after the last one applied, in log order, and return the keys they
        touched; None when one of them joined the log before its end (``_log_rewritten``: then
        the engine must rebuild, and what this applied is thrown away with the rest). One query
        where a request used to ask twice (is there such an event? then, which are new?)."""
        since_hlc = self.last_hlc
        cursor = db.execute_sql(_AFTER_SQL, (self.last_row_id,))
        touched: set[tuple[str, str]] = set()
        while chunk := cursor.fetchmany(_CHUNK):
            rows = [_Row(*row) for row in chunk]
            if any(row.hlc is not None and row.hlc < since_hlc for row in rows):
                cursor.close()
                return None
            touched |= self._apply(rows)
        return touched

    def _log_rewritten(self) -> bool:
        """Whether events joined the log *before* its end since this engine last read it: a
        rewound hub's own events fetched back from the district (services/sync.py), put in by
        another process. Applied after the rest they would fold out of canonical order, so the
        engine rebuilds from the whole log instead."""
        return self.last_row_id > 0 and (Event.select(Event.id)
                                         .where((Event.id > self.last_row_id) & (Event.hlc < self.last_hlc))
                                         .exists())

    def project(self, event: Event) -> None:
        """Apply ``event`` (just appended, not yet committed) and write the rows it changed in
        the same transaction. The caller holds the database's write lock."""
        with self.lock:
            if event.id != self.last_row_id + 1 and self._log_rewritten():
                self.state = None
            if self.state is None or self.catalogue_store.get() is not self._loaded:
                self._rebuild_if_packs_changed()
                self._apply(self._unseen())  # the whole log, this event included
                if self.persist:
                    write_projection(list(self.rows.values()), replace=True)
                return
            if event.id == self.last_row_id + 1:
                touched = self._apply((event,))
            else:  # another process wrote events since: read them, in order, this one included
                touched = self._apply(self._unseen())
            rows = [self.rows[key] for key in touched if key in self.rows]
            if self.persist and rows:
                write_projection(rows)

    def catch_up(self) -> None:
        """Apply every event not yet applied (written by another process, or all of them after a
        rebuild); write the rows they changed.

        Lock order is the database's write lock, then ``lock``, never the other way round (that
        is the order ``events.record`` takes them in). So rows are computed under ``lock`` and
        written after it is released, with an upsert that never lets an older row overwrite a
        newer one; after a rebuild every stored row is replaced under both locks.
        """
        with self.lock:
            touched: set[tuple[str, str]] | None = None
            if self.state is not None and self.last_row_id > 0 and self.catalogue_store.get() is self._loaded:
                touched = self._apply_new()  # the usual case: nothing new, or a few events
                if touched is None:
                    self.state = None
            rebuilt = False
            if touched is None:
                rebuilt = self._rebuild_if_packs_changed()
                touched = self._apply(self._unseen())
            epoch = self._epoch
            rows = [dict(self.rows[key]) for key in touched if key in self.rows]
        if not self.persist or not (rows or rebuilt):
            return
        with db.atomic("IMMEDIATE"):
            with self.lock:
                if epoch != self._epoch:
                    return  # rebuilt again meanwhile: that rebuild writes its own rows
                if rebuilt:
                    self._apply(self._unseen())
                    write_projection(list(self.rows.values()), replace=True)
                else:
                    write_projection(rows)

    def reading(self) -> _Reading:
        """``with engine.reading() as snap:`` gives a consistent, current view of the projection."""
        return _Reading(self)

    def can_undo_mark(self, learner_uid: str, skill: str) -> bool:
        """Whether undoing a "mark mastered" would put something back: nothing else happened on
        the skill since the mark (learning/projection.py keeps the record from before it)."""
        with self.reading() as snap:
            return (learner_uid, skill) in snap.state.undoable


class _Reading:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __enter__(self) -> Snapshot:
        engine = self.engine
        caught_up = ("engine caught up", id(engine))
        if not request_memo.done(caught_up):  # once a request: a page reads the engine several times
            engine.catch_up()
            request_memo.note(caught_up)
        while True:
            engine.lock.acquire()
            if engine.state is not None and engine.catalog is not None:
                return Snapshot(engine.state, engine.catalog)
            engine.lock.release()  # dropped meanwhile (a failed commit, new packs): rebuild
            engine.catch_up()

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
    engines = _live_engines()
    engine = next((e for e in engines if Path(getattr(e.catalogue_store, "data_dir", "")).resolve() == wanted), None)
    if engine is None:
        engine = Engine(CatalogueStore(data_dir))
    with db.connection_context():
        engine.catch_up()


def projection_row(state: EngineState, learner_uid: str, skill_id: str, event_id: int) -> dict[str, Any]:
    """One learner's standing on one skill as of the event that last touched it (the pure
    ``adapter.mastery_row``, the district's too), stamped with that event's row id."""
    from classroom_server.learning.adapter import mastery_row

    return {**mastery_row(state, learner_uid, skill_id), "event_id": event_id}


def rewrite_after_insertion() -> int:
    """Rewrite every stored mastery row from the whole log in canonical order, inside the
    caller's transaction, and make this process's engine rebuild at its next read; returns the
    number of rows.

    For events that joined the log before its end (a rewound hub's own events fetched back from
    the district): applied after the rest, as an engine applies new rows, they would fold out of
    canonical order. Another process's engine notices by itself (``Engine._log_rewritten``).
    """
    from classroom_server.learning import new_state
    from classroom_server.learning.adapter import apply_stored, mastery_row

    state = new_state(catalog=catalog_from_log())
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    query = Event.select(*_FIELDS).where(Event.kind.in_(ENGINE_KINDS)).order_by(*CANONICAL_ORDER)
    for row in query.iterator():
        _, keys = apply_stored(state, {"kind": row.kind, "learner_uid": row.learner_uid,
                                       "recorded_at": row.recorded_at, "payload": row.payload})
        for key in keys:
            rows[key] = {**mastery_row(state, *key), "event_id": row.id}
    write_projection(list(rows.values()), replace=True)
    engine = _engine_for_database()
    if engine is not None:
        engine.invalidate()
    return len(rows)


def write_projection(rows: list[dict[str, Any]], *, replace: bool = False) -> None:
    """Upsert projection rows; a row only replaces one stamped with an older (or equal) event.

    Inside a transaction (an answer's) the rows join it; otherwise they get one of their own.
    """
    if not db.in_transaction():
        with db.atomic():
            write_projection(rows, replace=replace)
        return
    if replace:
        MasteryRow.delete().execute()
    if rows:  # one prepared statement for every row (every answer writes one or two)
        db.connection().executemany(_UPSERT_SQL, [tuple(row[c] for c in _MASTERY_COLUMNS) for row in rows])


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


def calibrate(engine: Engine, *, min_new_answers: int = 1) -> Any:
    """Fit the shared terms on the whole log and record them as a ``model.calibrated`` event.

    Returns the recorded event, or None when fewer than ``min_new_answers`` answers arrived
    since the last calibration (nothing to learn), or when the last calibration came from the
    district (fitted on every school's answers; the district sends the next one too). Runs
    nightly under ``serve``; the fold applies the event at its place in the log, so every
    learner's numbers move from there on and a rebuild reproduces them exactly.
    """
    from classroom_server.learning.adapter import engine_event
    from classroom_server.learning.calibration import fit_calibration
    from classroom_server.services import events, hub

    engine.catch_up()
    with engine.lock:
        catalog = engine.catalog
    last = (Event.select(Event.payload).where(Event.kind == "model.calibrated").order_by(Event.id.desc()).first())
    last_fit = json.loads(last.payload) if last else {}
    if last_fit.get("source") == "district":
        return None  # fitted on every school's data: better than this hub's alone; kept till the next
    answered_before = last_fit.get("answers", 0)
    rows = list(Event.select(*_FIELDS, Event.origin, Event.seq).where(Event.kind.in_(ENGINE_KINDS))
                .order_by(*CANONICAL_ORDER).iterator())
    answers = sum(1 for row in rows if row.kind == "attempt")
    if not rows or answers - answered_before < min_new_answers:
        return None
    fitted = fit_calibration(
        (engine_event({"kind": r.kind, "learner_uid": r.learner_uid, "recorded_at": r.recorded_at,
                       "payload": r.payload}) for r in rows), catalog)
    fitted["answers"] = answers
    through = rows[-1]
    fitted["through"] = {"origin": through.origin or hub.origin(), "seq": int(through.seq)}
    fitted["source"] = "hub"
    return events.record("model.calibrated", fitted).event
