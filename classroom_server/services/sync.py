"""District sync on the hub: enrolment, the hub's side of a sync, and what the admin sees of it.

The protocol and the sync's steps are pure (sync/protocol.py, sync/client.py); this module is
the hub's database as they see it (``Store``), and the record of how syncs went, kept in
``hub_meta`` for the admin page, ``/healthz`` and the command line.
"""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from peewee import fn

from classroom_server import clock, inflight
from classroom_server.db import db
from classroom_server.models import (
    CANONICAL_ORDER,
    Event,
    FollowedLearner,
    ForeignScan,
    OriginCounter,
    PackManifest,
    Person,
    SyncAck,
    SyncQuarantine,
)
from classroom_server.services import district_changes, events, hub, pack_fetch, projections
from sync import client, protocol
from sync.protocol import WireEvent

KEY_URL = "sync.district_url"
KEY_SECRET = "sync.secret"
KEY_SCHOOL = "sync.school"
KEY_COUNTER = "sync.counter"
KEY_LAST_SUCCESS = "sync.last_success"
KEY_LAST_ATTEMPT = "sync.last_attempt"
KEY_LAST_ERROR = "sync.last_error"
KEY_FAILURES = "sync.failures"
KEY_OTHERS_HEAD = "sync.others_head"
KEY_DISTRICT_VERSION = "sync.district_protocol"  # the district's protocol version, as it last said
KEY_ANSWERED = "sync.answered_counter"  # the newest request counter whose answer this hub applied

LOCK_FILE = "sync.lock"

_RUNNING = threading.Lock()  # one sync at a time in this process


def _tuples(query: Any) -> list[tuple[Any, ...]]:
    """``query.tuples()`` as what it is (peewee's stubs keep the model type)."""
    return cast("list[tuple[Any, ...]]", list(query.tuples()))


def _dicts(query: Any) -> list[dict[str, Any]]:
    return cast("list[dict[str, Any]]", list(query.dicts()))
@contextmanager
def _one_at_a_time() -> Iterator[None]:
    """One sync at a time for a hub: among this process's threads, and between processes (the
    hub's scheduled sync and a `classroom-server sync run` typed meanwhile) through a lock file
    beside the database. Two syncs at once would only trip over each other's request counters."""
    if not _RUNNING.acquire(blocking=False):
        raise client.SyncError("A sync is already running.")
    try:
        handle = open(Path(db.database).parent / LOCK_FILE, "a+")
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise client.SyncError("A sync is already running (in another process).") from None
            yield
        finally:
            handle.close()
    finally:
        _RUNNING.release()


class NotEnrolled(Exception):
    """This hub has no district yet: enrol it with the district's one-time code."""


@dataclass(frozen=True)
class Status:
    enrolled: bool
    district_url: str | None
    school: str | None
    last_success: str | None
    last_attempt: str | None
    last_error: str | None
    failures: int
    waiting: int
    quarantined: int
    changes_through: int = 0  # the number of the last district change applied (its roster, ...)


class Store:
    """The hub's database as sync/client.py sees it (the ``HubStore`` protocol)."""

    def __init__(self, on_rewound: Callable[[], None] | None = None,
                 breathe: Callable[[], None] | None = None) -> None:
        hub_id = hub.get_meta("hub_id")
        if not hub_id:
            raise RuntimeError("This hub has no identity yet: run `classroom-server init` first.")
        self.hub_id = hub_id
        self.on_rewound = on_rewound or (lambda: None)  # after the projections are rewritten
        self.breathe = breathe  # between the small steps of a push (``let_requests_through``)

    def secret(self) -> str:
        value = hub.get_meta(KEY_SECRET)
        if not value:
            raise NotEnrolled("This hub is not enrolled with a district yet.")
        return value

    def next_counter(self) -> int:
        with db.atomic("IMMEDIATE"):
            value = int(hub.get_meta(KEY_COUNTER) or 0) + 1
            hub.set_meta(KEY_COUNTER, str(value))
        return value

    def raise_counter(self, at_least: int) -> None:
        with db.atomic("IMMEDIATE"):
            if int(hub.get_meta(KEY_COUNTER) or 0) < at_least:
                hub.set_meta(KEY_COUNTER, str(at_least))

    def note_district_version(self, version: int) -> None:
        if hub.get_meta(KEY_DISTRICT_VERSION) != str(version):
            hub.set_meta(KEY_DISTRICT_VERSION, str(version))

    def district_version(self) -> int:
        """The district's protocol version as it last said (1, the first, if it never did)."""
        value = hub.get_meta(KEY_DISTRICT_VERSION)
        return min(protocol.VERSION, int(value)) if value and value.isdigit() else 1

    def positions(self) -> dict[str, int]:
        rows = _tuples(Event.select(Event.origin, fn.MAX(Event.seq).alias("last"))
                       .where(Event.origin.startswith(self.hub_id + ".")).group_by(Event.origin))
        return {origin: int(last) for origin, last in rows}

    def current_origin(self) -> str:
        return hub.origin()

    def event_id_at(self, origin: str, seq: int) -> str | None:
        row = Event.get_or_none((Event.origin == origin) & (Event.seq == seq))
        return row.event_id if row is not None else None

    def events_after(self, origin: str, seq: int, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` events after ``seq``, read a few hundred at a time when the push gives
        way to learners (the log only grows at its end, so the pieces make one run)."""
        fields = [Event.origin, Event.seq, *(getattr(Event, f) for f in protocol.FIELDS)]
        step = limit if self.breathe is None else READ_STEP
        rows: list[dict[str, Any]] = []
        while len(rows) < limit:
            if rows and self.breathe is not None:
                self.breathe()
            after = int(rows[-1]["seq"]) if rows else seq
            want = min(step, limit - len(rows))
            piece = _dicts(Event.select(*fields).where((Event.origin == origin) & (Event.seq > after))
                           .order_by(Event.seq).limit(want))
            rows.extend(piece)
            if len(piece) < want:
                break
        return rows

    def set_acked(self, origin: str, acked: int) -> None:
        SyncAck.insert(origin=origin, acked=acked).on_conflict_replace().execute()

    def quarantine(self, origin: str, seq: int, event_id: str, reason: str) -> None:
        (SyncQuarantine.insert(event_id=event_id, origin=origin, seq=seq, reason=reason, noted_at=clock.iso())
         .on_conflict_ignore().execute())

    def begin_new_epoch(self, reason: str) -> str:
        return hub.begin_new_epoch(reason)

    def move_divergent(self, origin: str, after: int, new_origin: str) -> int:
        """Events this hub wrote under ``origin`` after ``after`` that the district never got (it
        holds other events at those numbers: the log was rewound, then written on) move to the
        new origin, in order, under the writer lock. They never left the hub, so nothing anywhere
        refers to their old numbers; their ids, content and place in the log stay as they were."""
        with db.atomic("IMMEDIATE"):
            rows = _tuples(Event.select(Event.id).where((Event.origin == origin) & (Event.seq > after))
                           .order_by(Event.seq))
            if not rows:
                return 0
            counter = OriginCounter.get(OriginCounter.origin == new_origin) if OriginCounter.get_or_none(
                OriginCounter.origin == new_origin) else None
            start = counter.last_seq if counter is not None else 0
            # Move the rows of the new origin up first so the numbers never collide.
            existing = _tuples(Event.select(Event.id, Event.seq).where(Event.origin == new_origin)
                               .order_by(Event.seq.desc()))
            db.execute_sql("DROP TRIGGER event_no_update")
            try:
                for row_id, seq in existing:
                    Event.update(seq=seq + len(rows)).where(Event.id == row_id).execute()
                for offset, (row_id,) in enumerate(rows, start=1):
                    Event.update(origin=new_origin, seq=offset).where(Event.id == row_id).execute()
            finally:
                db.execute_sql("""CREATE TRIGGER event_no_update BEFORE UPDATE ON event
                   BEGIN SELECT RAISE(ABORT, 'events are append-only'); END""")
            total = start + len(rows)
            if counter is not None:
                OriginCounter.update(last_seq=total).where(OriginCounter.origin == new_origin).execute()
            else:
                hlc = OriginCounter.select(fn.MAX(OriginCounter.hlc)).scalar() or 0
                OriginCounter.create(origin=new_origin, last_seq=total, hlc=hlc)
            OriginCounter.update(last_seq=after).where(OriginCounter.origin == origin).execute()
        return len(rows)

    def manifests(self, keys: Sequence[str]) -> dict[str, str]:
        return {row.key: row.body for row in PackManifest.select().where(PackManifest.key.in_(list(keys)))}

    def restore_events(self, events: Sequence[WireEvent]) -> None:
        """Put back events of this hub's own that the district returned, and rewrite every stored
        projection from the log in the same transaction: the events belong earlier in the
        canonical order than events already folded (the ones written after the rewind), so
        applying them after those, as an engine applies new rows, would give other numbers than
        a rebuild, or the district, computes."""
        if not events:
            return
        with db.atomic("IMMEDIATE"):
            newest = _store_received(events)
            origin = events[-1].origin
            last = max(e.seq for e in events)
            OriginCounter.insert(origin=origin, last_seq=last, hlc=newest, retired=1).on_conflict(
                conflict_target=[OriginCounter.origin],
                update={OriginCounter.last_seq: fn.MAX(OriginCounter.last_seq, last),
                        OriginCounter.hlc: fn.MAX(OriginCounter.hlc, newest), OriginCounter.retired: 1}).execute()
            # The receive rule of a hybrid logical clock: the hub's clock passes what it received.
            projections.rewrite_all()
        self.on_rewound()


    def pull_cursor(self) -> int:
        return district_changes.cursor()

    def pull_mark(self) -> str:
        return district_changes.cursor_mark()

    def apply_changes(self, changes: Sequence[Mapping[str, Any]], through: int, mark: str = "") -> list[str]:
        """The events they record join the log at its end (the hub's clock is past everything
        it holds), so the learning engine takes them in as any new event."""
        return district_changes.apply(changes, through, mark).passed_over

    def reset_pull_cursor(self) -> None:
        district_changes.reset_cursor()

    def shared_state(self) -> tuple[dict[str, int], list[str], int]:
        """Where this hub stands on the school's other hubs: how far it scanned each of their
        origins, the learners it does not follow yet, and the total it last caught up with."""
        scanned = {row.origin: int(row.scanned) for row in ForeignScan.select()}
        followed = {row.uid for row in FollowedLearner.select()}
        learners = [uid for (uid,) in _tuples(Person.select(Person.uid).where(Person.role == "learner")
                                               .order_by(Person.uid)) if uid not in followed]
        return scanned, learners, int(hub.get_meta(KEY_OTHERS_HEAD) or 0)

    def apply_shared(self, events: Sequence[WireEvent], scanned: Mapping[str, int], followed: Sequence[str],
                     head: int | None) -> int:
        """Store other hubs' events about this hub's learners, the scan places and the learners
        now followed, in one transaction; rewrite the projections when events came (they belong
        earlier in the canonical order than events already folded). Returns the events new here."""
        with db.atomic("IMMEDIATE"):
            held: set[str] = set()
            ids = [e.event_id for e in events]
            for start in range(0, len(ids), 500):
                held.update(row.event_id for row in Event.select(Event.event_id)
                            .where(Event.event_id.in_(ids[start:start + 500])))
            fresh = [e for e in events if e.event_id not in held]
            if fresh:
                _store_received(fresh)
            added = len(fresh)
            for origin, place in scanned.items():
                (ForeignScan.insert(origin=origin, scanned=place)
                 .on_conflict(conflict_target=[ForeignScan.origin], update={ForeignScan.scanned: place}).execute())
            for uid in followed:
                FollowedLearner.insert(uid=uid).on_conflict_ignore().execute()
            if head is not None:
                hub.set_meta(KEY_OTHERS_HEAD, str(head))
            if added:
                projections.rewrite_all()
        if added:
            self.on_rewound()
        return added

    def pack_offers(self) -> list[dict[str, Any]]:
        return pack_fetch.waiting()

    def pack_have(self, sha256: str) -> int:
        return pack_fetch.have(sha256)

    def pack_room(self, size: int) -> str | None:
        return pack_fetch.room_for(size)

    def pack_write(self, sha256: str, offset: int, data: bytes) -> None:
        pack_fetch.write(sha256, offset, data)

    def pack_problem(self, pack_id: str, problem: str) -> None:
        pack_fetch.note_problem(pack_id, problem)

    def pack_finish(self, offer: Mapping[str, Any]) -> str:
        return pack_fetch.finish(dict(offer))


def _store_received(events: Sequence[WireEvent]) -> int:
    """Store events that came from the district (this hub's own fetched back, or other hubs'
    about its learners; one already held is skipped) and apply the receive rule of a hybrid
    logical clock: the hub's clock passes what it received. Returns the newest clock value."""
    rows = [{**event.as_row(), "payload_hash": event.payload_hash, "result": None} for event in events]
    for start in range(0, len(rows), 200):
        Event.insert_many(rows[start:start + 200]).on_conflict_ignore().execute()
    newest = max(e.hlc for e in events)
    OriginCounter.update(hlc=fn.MAX(OriginCounter.hlc, newest)).where(OriginCounter.retired == 0).execute()
    return newest


ACTIVE_SECONDS = 15.0  # a learner acted this recently: learners are at work
GIVE_WAY = 24  # then a sync sleeps 24 times what a batch cost: at most 1/25 of a CPU
MAX_PAUSE_SECONDS = 10.0


READ_STEP = 200  # events read at a time while a push gives way (about 1 ms here)
QUIET_WAIT_SECONDS = 0.25  # the longest a step of a push waits for the learners' requests
HAND_OVER_SECONDS = 0.0002  # a sleep this short still lets a waiting thread take the interpreter


def let_requests_through() -> None:
    """Between two small steps of a push (reading, encoding, compressing a batch): while
    learners are at work on this hub, let every other thread run first, then wait until no
    request is being handled, so that a learner's answer shares the CPU with one small step of
    the push at most. The short sleep matters: the server's own thread, which reads requests
    and writes answers outside the app, would otherwise wait for Python's switch interval (5 ms)
    to get the interpreter from a push that never blocks. A hub busy without a break still
    pushes, one step every quarter of a second."""
    if events.seconds_since_learner_action() < ACTIVE_SECONDS:
        time.sleep(HAND_OVER_SECONDS)
        inflight.wait_until_quiet(QUIET_WAIT_SECONDS)


def give_way(busy: float) -> None:
    """Between two batches of a push: while learners are at work on this hub, sleep so that the
    sync takes at most a twenty-fifth of the CPU it shares with them (a Pi has one or four cores,
    and Python one lock). A backlog then goes up in the breaks, at full speed after school."""
    if events.seconds_since_learner_action() < ACTIVE_SECONDS:
        time.sleep(min(busy * GIVE_WAY, MAX_PAUSE_SECONDS))


def run(transport: client.Transport, *, progress: client.Progress | None = None,
        on_rewound: Callable[[], None] | None = None, sizer: protocol.BatchSizer | None = None,
        pause: Callable[[float], None] | None = give_way) -> client.Outcome:
    """One sync with the district, recorded for the admin page. Raises ``client.SyncError``, or
    ``NotEnrolled`` before any request."""
    with _one_at_a_time():
        breathe = let_requests_through if pause is not None else None  # no pause: nobody practises
        store = Store(on_rewound, breathe)
        store.secret()
        hub.set_meta(KEY_LAST_ATTEMPT, clock.iso())
        session = client.Session(store, transport, sizer=sizer, progress=progress, pause=pause, breathe=breathe)
        try:
            outcome = session.run()
        except client.SyncError as exc:
            _note_failure(str(exc))
            raise
        except protocol.ProtocolError as exc:
            _note_failure(f"The district's answer was damaged ({exc}).")
            raise client.SyncError(str(exc)) from None
        with db.atomic("IMMEDIATE"):
            hub.set_meta(KEY_LAST_SUCCESS, clock.iso())
            hub.set_meta(KEY_LAST_ERROR, "")
            hub.set_meta(KEY_FAILURES, "0")
            # A return bundle answering a request from before this sync is older news (services/bundles.py).
            hub.set_meta(KEY_ANSWERED, hub.get_meta(KEY_COUNTER) or "0")
        outcome.waiting = waiting()
        return outcome


def _note_failure(message: str) -> None:
    with db.atomic("IMMEDIATE"):
        hub.set_meta(KEY_LAST_ERROR, message)
        hub.set_meta(KEY_FAILURES, str(int(hub.get_meta(KEY_FAILURES) or 0) + 1))


def note_unreachable(problem: str) -> None:
    """The scheduled sync found the district out of reach before sending anything: said on the
    admin page and in /healthz, but not a failed sync (it costs nothing, so no backing off)."""
    with db.atomic("IMMEDIATE"):
        hub.set_meta(KEY_LAST_ATTEMPT, clock.iso())
        hub.set_meta(KEY_LAST_ERROR, f"The district could not be reached: {problem}.")


def waiting() -> int:
    """Events of this hub's own that the district has not acknowledged (as last heard).

    Read from the origin counters (one small row per origin, kept in step with the log in the
    same transactions), not from the events, so /healthz stays quick on a long log."""
    hub_id = hub.get_meta("hub_id") or ""
    acked = {row.origin: row.acked for row in SyncAck.select()}
    rows = _tuples(OriginCounter.select(OriginCounter.origin, OriginCounter.last_seq).tuples())
    return sum(max(0, int(last) - acked.get(origin, 0)) for origin, last in rows if origin.startswith(hub_id + "."))


def status() -> Status:
    failures = int(hub.get_meta(KEY_FAILURES) or 0)
    return Status(
        enrolled=bool(hub.get_meta(KEY_SECRET)), district_url=hub.get_meta(KEY_URL), school=hub.get_meta(KEY_SCHOOL),
        last_success=hub.get_meta(KEY_LAST_SUCCESS) or None, last_attempt=hub.get_meta(KEY_LAST_ATTEMPT) or None,
        last_error=hub.get_meta(KEY_LAST_ERROR) or None, failures=failures, waiting=waiting(),
        quarantined=SyncQuarantine.select().count(), changes_through=district_changes.cursor())


def enrol(transport: client.Transport, district_url: str, code: str, hub_name: str) -> str:
    """Exchange the district's one-time code for this hub's secret; returns the school's name."""
    hub_id = hub.get_meta("hub_id")
    body = protocol.encode_json({"code": code.strip().upper().replace("-", "").replace(" ", ""),
                                 "hub_id": hub_id, "name": hub_name})
    try:
        answer = transport.post(protocol.PREFIX + "enrol", body, {"X-Sync-Version": str(protocol.VERSION)},
                                client.TIMEOUT_SECONDS)
    except OSError as exc:
        raise client.SyncError(f"The district did not answer: {exc}.") from None
    reply = {}
    try:
        reply = protocol.decode_json(answer.body)
    except protocol.ProtocolError:
        pass
    if answer.status != 200:
        raise client.SyncError(reply.get("message") or f"The district refused the code (HTTP {answer.status}).",
                               retry=False)
    secret, school = reply.get("secret"), reply.get("school")
    if not isinstance(secret, str) or len(secret) < 32 or not isinstance(school, str):
        raise client.SyncError("The district's answer to the enrolment was not understood.")
    with db.atomic("IMMEDIATE"):
        hub.set_meta(KEY_URL, district_url)
        hub.set_meta(KEY_SECRET, secret)
        hub.set_meta(KEY_SCHOOL, school)
        hub.set_meta(KEY_LAST_ERROR, "")
    return school


def quarantined() -> list[SyncQuarantine]:
    return list(SyncQuarantine.select().order_by(SyncQuarantine.id))


@dataclass(frozen=True)
class QuarantinedEvent:
    """An event the district refused, with what a person needs to recognise it."""

    origin: str
    seq: int
    event_id: str
    kind: str | None  # None: the hub no longer holds the event under that id
    learner: str | None  # the learner's name on this hub, if the event is about one
    occurred_at: str | None
    reason: str
    noted_at: str


def quarantined_details(limit: int = 200) -> list[QuarantinedEvent]:
    """The newest refused events first, with their kind and learner's name."""
    rows = list(SyncQuarantine.select().order_by(SyncQuarantine.id.desc()).limit(limit))
    events = {e.event_id: e for e in Event.select(Event.event_id, Event.kind, Event.learner_uid, Event.occurred_at)
              .where(Event.event_id.in_([r.event_id for r in rows]))}
    uids = {e.learner_uid for e in events.values() if e.learner_uid}
    names = {p.uid: p.display_name for p in Person.select(Person.uid, Person.display_name)
             .where(Person.uid.in_(sorted(uids)))} if uids else {}
    found = []
    for row in rows:
        event = events.get(row.event_id)
        found.append(QuarantinedEvent(
            origin=row.origin, seq=int(row.seq), event_id=row.event_id, kind=event.kind if event else None,
            learner=names.get(event.learner_uid) if event and event.learner_uid else None,
            occurred_at=event.occurred_at if event else None, reason=row.reason, noted_at=row.noted_at))
    return found


def canonical_events() -> list[dict[str, Any]]:
    """Every event in the log's canonical order, as the protocol describes it (for tests, checks)."""
    fields = [Event.origin, Event.seq, *(getattr(Event, f) for f in protocol.FIELDS)]
    return _dicts(Event.select(*fields).order_by(*CANONICAL_ORDER))

