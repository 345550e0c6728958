"""What the district does with each sync message, and what its staff do to schools and hubs.

No Flask here: sync/district/app.py turns HTTP into these calls, and tests call them directly.
Every receiving step is one transaction, and idempotent: a message handled twice (a resend
after a lost answer) changes nothing the second time and gets the same answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import operator
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from peewee import IntegrityError, PostgresqlDatabase, fn

from classroom_server.learning.adapter import manifest_key
from sync import changes as change_rules
from sync import protocol
from sync.district.models import (
    PACK_CHUNK,
    Change,
    Event,
    HeldId,
    Hub,
    HubFollow,
    HubManifest,
    Learner,
    LearnerMove,
    Manifest,
    Origin,
    PackChunk,
    PackFile,
    Quarantine,
    School,
    district_db,
)
from sync.protocol import ProtocolError, WireEvent

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U: easy to read aloud and type
CODE_LENGTH = 12
INSERT_CHUNK = 1000


class Refused(Exception):
    """A request the district will not act on. ``status`` and ``error`` go back to the hub."""

    def __init__(self, status: int, error: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.extra = extra

    def reply(self) -> dict[str, Any]:
        return {"error": self.error, "message": self.message, **self.extra}


def _tuples(query: Any) -> list[tuple[Any, ...]]:
    """``query.tuples()`` as what it is (peewee's stubs keep the model type)."""
    return cast("list[tuple[Any, ...]]", list(query.tuples()))


def _dicts(query: Any) -> list[dict[str, Any]]:
    return cast("list[dict[str, Any]]", list(query.dicts()))


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _postgres() -> bool:
    return isinstance(district_db.obj, PostgresqlDatabase)


def _transaction() -> Any:
    """One write transaction: on SQLite it takes the write lock at once (IMMEDIATE)."""
    if _postgres():
        return district_db.atomic()
    return district_db.atomic("IMMEDIATE")


# --- staff: schools and hubs ----------------------------------------------------------------------

def add_school(name: str) -> School:
    name = " ".join(name.split())
    if not name:
        raise ValueError("A school needs a name.")
    try:
        with _transaction():
            return School.create(name=name, created_at=now())
    except IntegrityError:
        raise ValueError(f"There is already a school called {name!r}.") from None


def school_named(name: str) -> School:
    school = School.get_or_none(School.name == " ".join(name.split()))
    if school is None:
        raise ValueError(f"There is no school called {name!r}.")
    return school


def _code_hash(code: str) -> str:
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


def normalize_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def format_code(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def register_hub(school: School, name: str) -> tuple[Hub, str]:
    """A new hub registration and its one-time enrolment code (shown once, stored only hashed)."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    with _transaction():
        registration = Hub.create(school=school, name=" ".join(name.split()) or "Hub", code_hash=_code_hash(code),
                                  created_at=now())
    return registration, format_code(code)


def revoke(registration: Hub) -> None:
    with _transaction():
        Hub.update(revoked_at=now(), code_hash=None).where(Hub.id == registration.id).execute()


def hubs() -> list[Hub]:
    return list(Hub.select(Hub, School).join(School).order_by(School.name, Hub.name))


def hub_by_reference(reference: str) -> Hub:
    """A registration by its number (as staff see it listed) or by the enrolled hub's own id."""
    text = reference.strip()
    query = Hub.select(Hub, School).join(School)
    found = query.where(Hub.id == int(text)).first() if text.isdigit() else None
    if found is None and text:
        found = query.where(Hub.hub_id == text).first()
    if found is None:
        raise ValueError(f"There is no hub registration {text!r} (give its number or the hub's id).")
    return found


def schools() -> list[School]:
    return list(School.select().order_by(School.name))


# --- enrolment ------------------------------------------------------------------------------------

def enrol(code: Any, hub_id: Any, hub_name: Any) -> tuple[Hub, str]:
    """Bind a registration to the hub presenting its code; returns it and the hub's secret.

    The same hub may present the same code again (its answer was lost) until its first signed
    request; after that the code is spent."""
    if not isinstance(hub_id, str) or not 8 <= len(hub_id) <= 64:
        raise Refused(400, "bad_request", "The enrolment does not name the hub.")
    if not isinstance(code, str) or len(normalize_code(code)) != CODE_LENGTH:
        raise Refused(400, "bad_code", "That is not an enrolment code (it has 12 letters and digits).")
    with _transaction():
        registration = Hub.get_or_none(Hub.code_hash == _code_hash(code))
        if registration is None:
            raise Refused(403, "bad_code", "That enrolment code is not known, or was used already.")
        if registration.revoked_at:
            raise Refused(403, "revoked", "That hub registration was revoked.")
        if registration.hub_id and registration.hub_id != hub_id:
            raise Refused(403, "bad_code", "That enrolment code was used by another hub.")
        other = Hub.get_or_none((Hub.hub_id == hub_id) & (Hub.id != registration.id))
        if other is not None and not other.revoked_at:
            raise Refused(409, "already_enrolled", "This hub is enrolled already; revoke its registration first.")
        if not registration.secret:
            registration.secret = secrets.token_urlsafe(32)
        if other is not None:  # a revoked earlier registration of the same hub: it gives its id up,
            Hub.update(hub_id=None).where(Hub.id == other.id).execute()
            # and the hub's origins, so the hub goes on from what the district holds of them.
            Origin.update(hub=registration.id).where(Origin.hub == other.id).execute()
        registration.hub_id = hub_id
        if isinstance(hub_name, str) and hub_name.strip() and registration.name == "Hub":
            registration.name = hub_name.strip()[:100]
        registration.enrolled_at = registration.enrolled_at or now()
        registration.save()
    return registration, registration.secret


# --- signed requests ------------------------------------------------------------------------------

def hub_for(hub_id: str | None) -> Hub | None:
    if not hub_id:
        return None
    return Hub.select(Hub, School).join(School).where(Hub.hub_id == hub_id).first()


def take_counter(registration: Hub, counter: int, version: int) -> bool:
    """Accept ``counter`` if it is above every counter this hub used before (no replay)."""
    with _transaction():
        changed = (Hub.update(last_counter=counter, last_contact_at=now(), protocol_version=version, code_hash=None)
                   .where((Hub.id == registration.id) & (Hub.last_counter < counter)).execute())
    return bool(changed)


def last_counter(registration: Hub) -> int:
    return int(Hub.get_by_id(registration.id).last_counter)


def note_problem(registration: Hub, problem: str | None) -> None:
    Hub.update(last_problem=problem).where(Hub.id == registration.id).execute()


def _own_origin(registration: Hub, origin: Any) -> str:
    if not isinstance(origin, str) or not origin.startswith(f"{registration.hub_id}."):
        raise Refused(403, "not_yours", "A hub may only send and fetch its own events.")
    return origin


def hello(registration: Hub, message: dict[str, Any]) -> dict[str, Any]:
    """Where the district stands on each of the hub's origins."""
    origins = message.get("origins")
    if isinstance(origins, dict) and all(isinstance(k, str) and isinstance(v, int) for k, v in origins.items()):
        # What the hub holds, for the dashboard's "events waiting" (the hub's word, never trusted further).
        mine = {k: v for k, v in origins.items() if k.startswith(f"{registration.hub_id}.")}
        Hub.update(reported=json.dumps(mine, sort_keys=True)).where(Hub.id == registration.id).execute()
    rows = list(Origin.select().where(Origin.hub == registration.id))
    wanted = [key for key in _manifest_keys_wanted(registration)]
    head = pull_head(int(registration.school_id))
    others = sum(others_of(registration).values())
    pulled = message.get("pulled")
    # The change the hub's cursor stands on is not the district's change of that number (or
    # there is none): the district's database was restored from a backup and numbers its changes
    # anew. The hub takes them all again (a change applied already changes nothing).
    restored = False
    if isinstance(pulled, int) and pulled > 0:
        row = Change.get_or_none(Change.seq == pulled)
        restored = row is None or change_mark(row) != message.get("pulled_mark")
    return {
        **({"pull_from": 0} if restored else {}),
        **({"others_head": others} if others else {}),
        "acked": {row.origin: int(row.hwm) for row in rows},
        "tips": {row.origin: row.tip for row in rows if row.tip},
        **({"pull_head": head} if head else {}),
        "oldest": protocol.OLDEST_COMPATIBLE,
        **({"manifests": wanted} if wanted else {}),
    }


@dataclass
class PushResult:
    acked_through: int
    quarantined: list[dict[str, Any]]
    manifests: list[str] = field(default_factory=list)  # named by events of this push, not held yet

    def reply(self) -> dict[str, Any]:
        return {"acked_through": self.acked_through,
                **({"quarantined": self.quarantined} if self.quarantined else {}),
                **({"manifests": self.manifests} if self.manifests else {})}


def push(registration: Hub, body: bytes) -> PushResult:
    """Take a contiguous run of one origin's events, exactly once.

    Events at or below the high-water mark are resends: each must match what is held (else it is
    quarantined). A run that starts beyond the mark is answered with the mark, so the hub sends
    from there. Each new event is checked: its id new to the district (or the same event, seen
    from another hub), its learner of the hub's school. What fails a check is quarantined, never
    stored as an event, and the run goes on."""
    try:
        origin, first, events = protocol.decode_batch(body)
    except ProtocolError as exc:
        raise Refused(400, "bad_batch", f"The batch could not be read: {exc}.") from None
    _own_origin(registration, origin)
    school_id = int(registration.school.id)
    with _transaction():
        Origin.insert(origin=origin, hub=registration.id, hwm=0).on_conflict_ignore().execute()
        query = Origin.select().where(Origin.origin == origin)
        row = (query.for_update() if _postgres() else query).get()
        if row.hub.id != registration.id:
            raise Refused(403, "not_yours", "That origin belongs to another hub registration.")
        hwm = int(row.hwm)
        if first > hwm + 1:
            return PushResult(hwm, [])
        last = events[-1].seq
        quarantined: list[dict[str, Any]] = []
        resent = [e for e in events if e.seq <= hwm]
        fresh = [e for e in events if e.seq > hwm]
        if resent:
            held = dict(_tuples(Event.select(Event.seq, Event.payload_hash).where(
                (Event.origin == origin) & (Event.seq.between(resent[0].seq, resent[-1].seq)))))
            for event in resent:
                if event.seq in held and held[event.seq] != event.payload_hash:
                    quarantined.append(_quarantine(registration, event, "conflict: the district holds another "
                                                                        "event at this place in the log"))
        stored = _store_fresh(registration, school_id, fresh, quarantined)
        wanted = _manifests_wanted(registration, [e.payload for e in stored if e.kind == "pack.installed"])
        if fresh:
            row.hwm = last
            row.tip = fresh[-1].event_id
            row.save()
        earlier = list(Quarantine.select().where((Quarantine.origin == origin) & (Quarantine.seq.between(first, last))))
        reported = {(q["seq"], q["event_id"]) for q in quarantined}
        for item in earlier:
            if (item.seq, item.event_id) not in reported:
                quarantined.append({"seq": int(item.seq), "event_id": item.event_id, "reason": item.reason})
        quarantined.sort(key=lambda q: q["seq"])
        return PushResult(max(hwm, last), quarantined, wanted)


def _store_fresh(registration: Hub, school_id: int, fresh: Sequence[WireEvent],
                 quarantined: list[dict[str, Any]]) -> list[WireEvent]:
    """Store what is new and passes the checks; returns the events stored."""
    if not fresh:
        return []
    known = _held_ids([e.event_id for e in fresh])
    learners = {e.learner_uid for e in fresh if e.learner_uid}
    schools: dict[str, int] = {}
    names = sorted(learners)
    for start in range(0, len(names), INSERT_CHUNK):
        chunk = names[start:start + INSERT_CHUNK]
        schools.update(_tuples(Learner.select(Learner.uid, Learner.school).where(Learner.uid.in_(chunk))))
    elsewhere = sorted(uid for uid in names if uid in schools and schools[uid] != school_id)
    # Learners moved away from this school: what its hubs recorded before they heard of it is theirs.
    moved_from_here = {str(uid) for (uid,) in _tuples(LearnerMove.select(LearnerMove.uid).where(
        LearnerMove.uid.in_(elsewhere) & (LearnerMove.from_school == school_id)))} if elsewhere else set()
    new_learners = [{"uid": uid, "school": school_id} for uid in names if uid not in schools]
    for start in range(0, len(new_learners), INSERT_CHUNK):
        Learner.insert_many(new_learners[start:start + INSERT_CHUNK]).on_conflict_ignore().execute()
    received = now()
    rows: list[tuple[Any, ...]] = []
    taken: list[WireEvent] = []
    seen: set[str] = set()
    for event, digest in zip(fresh, protocol.payload_hashes(fresh), strict=True):
        if event.event_id in known or event.event_id in seen:
            if known.get(event.event_id) != digest:
                quarantined.append(_quarantine(registration, event, "conflict: this event id was used for "
                                                                    "another event"))
            continue  # the same event, recorded by another hub too: held once
        if (event.learner_uid and schools.get(event.learner_uid, school_id) != school_id
                and event.learner_uid not in moved_from_here):
            quarantined.append(_quarantine(registration, event, "the learner belongs to another school"))
            continue
        seen.add(event.event_id)
        taken.append(event)
        rows.append((*_wire_columns(event), digest, school_id, received))
    _insert_rows(rows)
    return taken


def _held_ids(ids: Sequence[str]) -> dict[str, str]:
    """The payload hash of every event the district holds under one of these ids, in any school."""
    if not ids:
        return {}
    if _postgres():  # the ids as one array parameter: one statement, nothing for peewee to build
        cursor = district_db.execute_sql(
            f"SELECT event_id, payload_hash FROM {HeldId._meta.table_name} WHERE event_id = ANY(%s)", (list(ids),))
        return dict(cursor.fetchall())
    known: dict[str, str] = {}
    for start in range(0, len(ids), INSERT_CHUNK):
        chunk = ids[start:start + INSERT_CHUNK]
        known.update(_tuples(HeldId.select(HeldId.event_id, HeldId.payload_hash).where(HeldId.event_id.in_(chunk))))
    return known


_EVENT_COLUMNS = [f.column_name for f in Event._meta.sorted_fields if f.column_name != "id"]
# A stored event's row in _EVENT_COLUMNS' order: what the event says, then what the district adds.
_ADDED_COLUMNS = ["payload_hash", "school", "received_at"]
assert _EVENT_COLUMNS[-len(_ADDED_COLUMNS):] == _ADDED_COLUMNS, _EVENT_COLUMNS
_wire_columns = operator.attrgetter(*_EVENT_COLUMNS[:-len(_ADDED_COLUMNS)])
_EVENT_FIELDS = [Event._meta.columns[column] for column in _EVENT_COLUMNS]
_ID_AT, _HASH_AT = _EVENT_COLUMNS.index("event_id"), _EVENT_COLUMNS.index("payload_hash")
_HELD_FIELDS = [HeldId.event_id, HeldId.payload_hash]


def _insert_events(rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert event rows (mappings of every column in ``_EVENT_COLUMNS``), as ``_insert_rows``."""
    _insert_rows([tuple(row[column] for column in _EVENT_COLUMNS) for row in rows])


def _insert_rows(rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert event rows (tuples in ``_EVENT_COLUMNS``' order), and their ids into ``HeldId``, in
    the current transaction. On PostgreSQL by COPY, straight into the partitioned table: about
    six times as fast as a multi-row INSERT (docs/scale.md). A row that breaks a unique
    constraint (an id already held, in any school) fails the whole COPY with IntegrityError, as
    INSERT does."""
    if not rows:
        return
    held = [(row[_ID_AT], row[_HASH_AT]) for row in rows]
    if not _postgres():
        for start in range(0, len(rows), INSERT_CHUNK):
            Event.insert_many(rows[start:start + INSERT_CHUNK], fields=_EVENT_FIELDS).execute()
            HeldId.insert_many(held[start:start + INSERT_CHUNK], fields=_HELD_FIELDS).execute()
        return
    import psycopg  # only on PostgreSQL: the hub never loads it

    try:
        with district_db.connection().cursor() as cursor:
            with cursor.copy(f"COPY {HeldId._meta.table_name} (event_id, payload_hash) FROM STDIN") as copy:
                for pair in held:
                    copy.write_row(pair)
            with cursor.copy(f"COPY event ({', '.join(_EVENT_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    except psycopg.IntegrityError as exc:
        raise IntegrityError(str(exc)) from exc


def _quarantine(registration: Hub, event: WireEvent, reason: str) -> dict[str, Any]:
    (Quarantine.insert(hub=registration.id, origin=event.origin, seq=event.seq, event_id=event.event_id,
                       reason=reason, body=json.dumps(event.as_row(), sort_keys=True), received_at=now())
     .on_conflict_ignore().execute())
    return {"seq": event.seq, "event_id": event.event_id, "reason": reason}


def fetch(registration: Hub, message: dict[str, Any]) -> bytes | None:
    """The hub's own events after ``after`` of ``origin`` (a hub whose log was rewound)."""
    origin = _own_origin(registration, message.get("origin"))
    after = message.get("after")
    max_bytes = message.get("max_bytes")
    if not isinstance(after, int) or after < 0 or not isinstance(max_bytes, int) or max_bytes < 1:
        raise Refused(400, "bad_request", "A fetch names an origin, a position and a size.")
    max_bytes = min(max_bytes, protocol.MAX_BATCH_BYTES)
    limit = max(1, min(5000, max_bytes // 25))
    fields = [Event.origin, Event.seq, *(getattr(Event, f) for f in protocol.FIELDS)]
    held = {int(row["seq"]): row for row in _dicts(
        Event.select(*fields).where((Event.origin == origin) & (Event.seq.between(after + 1, after + limit))))}
    # Where the log has a hole, the event the hub sent is in quarantine (refused, kept whole):
    # it goes back too, so the hub's log is whole again, as it was.
    refused: dict[int, dict[str, Any]] = {}
    if len(held) < limit:
        for item in (Quarantine.select(Quarantine.seq, Quarantine.body)
                     .where((Quarantine.origin == origin) & (Quarantine.seq.between(after + 1, after + limit)))
                     .order_by(Quarantine.id)):
            refused.setdefault(int(item.seq), json.loads(item.body))
    contiguous: list[dict[str, Any]] = []
    for seq in range(after + 1, after + limit + 1):
        row = held.get(seq) or refused.get(seq)
        if row is None:
            break  # past the end (or the same event held under another origin: not this hub's to fetch)
        contiguous.append(row)
    if not contiguous:
        return None
    # In the hub's own version (its message says it): a hub not yet upgraded reads the batch.
    given = message.get("v")
    version = given if isinstance(given, int) else 1
    body = protocol.encode_batch(origin, contiguous, version=version)
    while len(body) > max_bytes and len(contiguous) > 1:
        contiguous = contiguous[: max(1, len(contiguous) // 2)]
        body = protocol.encode_batch(origin, contiguous, version=version)
    return body


# --- what the district publishes for hubs: changes since a cursor (sync/changes.py) -------------

@dataclass
class Published:
    """What a publication did: records added as changes, and records that changed nothing."""

    published: int = 0
    unchanged: int = 0


def _for_school(school_id: int) -> Any:
    return (Change.school == school_id) | Change.school.is_null()


def _of(school: School | None) -> Any:
    return (Change.school == school.id) if school is not None else Change.school.is_null()


def current(school: School | None, kind: str, key: str) -> dict[str, Any] | None:
    """The record's newest published state (a tombstone included), or None if never published."""
    row = (Change.select(Change.body).where(_of(school) & (Change.kind == kind) & (Change.key == key))
           .order_by(Change.seq.desc()).first())
    return json.loads(row.body) if row is not None else None


def publish(school: School | None, records: Iterable[Mapping[str, Any]]) -> Published:
    """Publish records for a school's hubs (or, with no school, for every hub): each a mapping
    with ``kind`` and the fields sync/changes.py gives that kind. All are checked before any is
    stored, and all are stored or none. A record equal to its newest published state (its
    ``dateLastModified`` aside) changes nothing, so publishing the same roster twice is publishing
    it once. Raises ``ChangeError`` naming the first bad record.

    Calibrations and packs may be for every school; a roster (users, classes, enrollments), an
    assignment and a class's courses belong to one school; an enrollment
    must name a user and a class of that school that are not withdrawn; a student belongs to one
    school (the district's ``Learner`` table, which also keeps other schools' hubs from sending
    events about them)."""
    checked: list[tuple[str, dict[str, Any]]] = []
    for record in records:
        if not isinstance(record, Mapping):
            raise change_rules.ChangeError("a record is not an object")
        kind = str(record.get("kind"))
        body = change_rules.check(kind, {k: v for k, v in record.items() if k != "kind"})
        if school is None and kind not in ("calibration", "pack"):
            raise change_rules.ChangeError(f"{kind} {body['sourcedId']!r}: a {kind} is for one school; name it")
        checked.append((kind, body))
    result = Published()
    stamp = now()
    with _transaction():
        if _postgres():
            # Numbers in the order of commits: a hub that has read through N never misses a
            # smaller number committed later (publishing is rare; hubs reading are not blocked).
            district_db.execute_sql("LOCK TABLE change IN SHARE ROW EXCLUSIVE MODE")
        pending: dict[tuple[str, str], dict[str, Any]] = {}

        def state(kind: str, key: str) -> dict[str, Any] | None:
            return pending.get((kind, key)) or current(school, kind, key)

        for kind, body in checked:
            key = body["sourcedId"]
            _check_references(school, kind, body, state)
            earlier = state(kind, key)
            if earlier is not None and _same(earlier, body):
                result.unchanged += 1
                continue
            if kind == "user" and body["role"] == "student" and school is not None:
                _claim_learner(school, key)
            stored = {**body, "dateLastModified": body.get("dateLastModified") or stamp}
            Change.create(school=school.id if school else None, kind=kind, key=key, status=body["status"],
                          body=protocol.canonical(stored).decode("utf-8"), published_at=stamp)
            pending[(kind, key)] = stored
            result.published += 1
    return result


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return ({k: v for k, v in a.items() if k != "dateLastModified"}
            == {k: v for k, v in b.items() if k != "dateLastModified"})


def _check_references(school: School | None, kind: str, body: Mapping[str, Any],
                      state: Any) -> None:
    if body["status"] != "active":
        return
    if kind == "enrollment":
        for ref_kind, ref in (("class", body["classSourcedId"]), ("user", body["userSourcedId"])):
            found = state(ref_kind, ref)
            if found is None or found["status"] != "active":
                raise change_rules.ChangeError(f"enrollment {body['sourcedId']!r}: no {ref_kind} {ref!r} in this "
                                               "school's roster")
        user = state("user", body["userSourcedId"])
        if (user["role"] == "student") != (body["role"] == "student"):
            raise change_rules.ChangeError(f"enrollment {body['sourcedId']!r}: the user is a {user['role']}, "
                                           f"not a {body['role']}")
    if kind in ("assignment", "course"):
        found = state("class", body["sourcedId"])
        if found is None or found["status"] != "active":
            raise change_rules.ChangeError(f"{kind} {body['sourcedId']!r}: no class {body['sourcedId']!r} in "
                                           "this school's roster")


def _claim_learner(school: School, uid: str) -> None:
    Learner.insert(uid=uid, school=school.id).on_conflict_ignore().execute()
    held = Learner.get_by_id(uid)
    if int(held.school) != int(school.id):
        other = School.get_or_none(School.id == held.school)
        raise change_rules.ChangeError(f"user {uid!r}: this learner belongs to "
                                       f"{other.name if other else 'another school'}")


def withdraw(school: School | None, kind: str, key: str) -> Published:
    """Publish the tombstone of a record: its last state, marked ``tobedeleted``."""
    earlier = current(school, kind, key)
    if earlier is None:
        raise change_rules.ChangeError(f"{kind} {key!r} was never published here")
    if earlier["status"] == "tobedeleted":
        return Published(unchanged=1)
    body = {k: v for k, v in earlier.items() if k != "dateLastModified"}
    return publish(school, [{**body, "kind": kind, "status": "tobedeleted"}])


@dataclass(frozen=True)
class Moved:
    """What moving a learner did: tombstones at the school they left, records at the one they joined."""

    uid: str
    from_school: str
    to_school: str
    withdrawn: int  # records of the school left (the user, its enrollments) now tombstones
    published: int  # records at the school joined (the user; an enrollment when a class was named)
    made_on_hub: bool  # the learner was made on a hub of the school left, not by the district


def move_learner(uid: str, to: School, *, class_id: str | None = None, by: str = "district") -> Moved:
    """Move a learner to another school: one transaction, all or nothing.

    At the school they leave, the district's records of them (the user and their enrollments)
    become tombstones, so its hubs archive them at their next sync; what those hubs recorded
    before they heard of it is still taken (``LearnerMove``, checked in ``_store_fresh``). At
    the school they join they are published as a student (in ``class_id``, a class of that
    school, when it is named), and its hubs get their earlier events from the other school's
    hubs as they do a learner on two hubs (``others_of``), so their progress goes on where it
    was. A learner made on a hub (not on the district's roster) is moved all the same; that hub's
    teachers archive them there themselves. Raises ``ChangeError`` in words."""
    held = Learner.get_or_none(Learner.uid == uid)
    if held is None:
        raise change_rules.ChangeError(f"user {uid!r}: the district knows no learner with this id")
    old = School.get_or_none(School.id == held.school)
    if old is None or int(old.id) == int(to.id):
        raise change_rules.ChangeError(f"user {uid!r}: this learner is at {to.name} already")
    with _transaction():
        record = current(old, "user", uid)
        withdrawn = 0
        if record is not None and record["status"] == "active":
            if record.get("role") != "student":
                raise change_rules.ChangeError(f"user {uid!r}: only a student can be moved (this is a "
                                               f"{record.get('role')})")
            for enrollment in published(old, "enrollment"):
                if enrollment["userSourcedId"] == uid and enrollment["status"] == "active":
                    withdrawn += withdraw(old, "enrollment", enrollment["sourcedId"]).published
            withdrawn += withdraw(old, "user", uid).published
        Learner.update(school=to.id).where(Learner.uid == uid).execute()
        LearnerMove.create(uid=uid, from_school=old.id, to_school=to.id, moved_at=now(), moved_by=by)
        base = {k: v for k, v in (record or {}).items() if k not in ("dateLastModified", "kind")}
        user = {**base, "kind": "user", "sourcedId": uid, "status": "active", "role": "student"}
        if "givenName" not in user:
            user.update(givenName=_hub_made_name(uid), familyName="")
        records: list[dict[str, Any]] = [user]
        if class_id:
            records.append({"kind": "enrollment", "sourcedId": f"{uid}@{class_id}", "status": "active",
                            "classSourcedId": class_id, "userSourcedId": uid, "role": "student"})
        done = publish(to, records)
    return Moved(uid, old.name, to.name, withdrawn, done.published, record is None)


def _hub_made_name(uid: str) -> str:
    """The name a hub last gave a learner it made (its newest ``learner.created`` or
    ``learner.updated`` event, as the hub's own roster fold reads them), for the roster."""
    kinds = ("learner.created", "learner.updated", "person.created", "person.updated")
    for (payload,) in _tuples(Event.select(Event.payload).where(Event.kind.in_(kinds) & Event.payload.contains(uid))
                              .order_by(Event.hlc.desc(), Event.origin.desc(), Event.seq.desc())):
        body = json.loads(payload)
        if body.get("uid") == uid and isinstance(body.get("display_name"), str) and body["display_name"].strip():
            return " ".join(body["display_name"].split())[:100]
    return uid


def schools_left_for(school_id: int) -> set[int]:
    """The schools that learners now at this school were moved from."""
    return {int(s) for (s,) in _tuples(LearnerMove.select(LearnerMove.from_school)
                                       .where(LearnerMove.to_school == school_id).distinct())}


def pull_head(school_id: int) -> int:
    """The number of the newest change for this school's hubs (0: none)."""
    return int(Change.select(fn.MAX(Change.seq)).where(_for_school(school_id)).scalar() or 0)


def change_mark(row: Change) -> str:
    """What tells one change from another published under the same number (after a restore)."""
    return protocol.sha256_hex(f"{row.seq}|{row.kind}|{row.key}|{row.published_at}".encode())[:16]


def changes_since(registration: Hub, message: Mapping[str, Any]) -> dict[str, Any]:
    """The changes for the hub's school after ``since``, oldest first, about ``max_bytes`` of them
    (at least one), with the cursor that follows them: the last change sent when more follow,
    else the district's newest number (so changes for other schools are never asked about again)."""
    since, max_bytes = message.get("since"), message.get("max_bytes")
    if not isinstance(since, int) or since < 0 or not isinstance(max_bytes, int) or max_bytes < 1:
        raise Refused(400, "bad_request", "A pull names a cursor and a size.")
    max_bytes = min(max_bytes, protocol.MAX_BATCH_BYTES * 8)  # JSON text: about 8 times its gzip
    head = int(Change.select(fn.MAX(Change.seq)).scalar() or 0)
    rows = (Change.select(Change.seq, Change.kind, Change.body)
            .where((Change.seq > since) & (Change.seq <= head) & _for_school(int(registration.school_id)))
            .order_by(Change.seq).limit(2000))
    sent: list[dict[str, Any]] = []
    size = 0
    more = False
    for row in rows.iterator():
        if sent and size + len(row.body) > max_bytes:
            more = True
            break
        sent.append({"seq": int(row.seq), "kind": row.kind, **json.loads(row.body)})
        size += len(row.body) + 30
    if not more and len(sent) == 2000:
        more = True
    through = sent[-1]["seq"] if more else max(head, since)
    at = Change.get_or_none(Change.seq == through) if through else None
    return {"changes": sent, "through": through, "more": more, **({"mark": change_mark(at)} if at else {})}


def published(school: School | None, kind: str | None = None) -> list[dict[str, Any]]:
    """Every record's newest state for a school (or the district-wide ones), tombstones included."""
    query = Change.select(Change.kind, Change.key, Change.body, Change.seq).where(_of(school))
    if kind:
        query = query.where(Change.kind == kind)
    newest: dict[tuple[str, str], tuple[int, str]] = {}
    for row in query.iterator():
        key = (row.kind, row.key)
        if key not in newest or row.seq > newest[key][0]:
            newest[key] = (int(row.seq), row.body)
    return [{"kind": k[0], **json.loads(body)} for k, (_, body) in sorted(newest.items())]


# --- one learner on two hubs ------------------------------------------------------------------------

MAX_FOLLOW = 5000


def others_of(registration: Hub) -> dict[str, int]:
    """The origins of the school's other hubs, with how far the district holds each; and those of
    the hubs of schools that learners of this school were moved from (their earlier events, and
    what those hubs recorded before they heard of the move)."""
    schools = {int(registration.school_id)} | schools_left_for(int(registration.school_id))
    rows = (Origin.select(Origin.origin, Origin.hwm).join(Hub)
            .where(Hub.school.in_(sorted(schools)) & (Hub.id != registration.id)))
    return {row.origin: int(row.hwm) for row in rows}


def shared(registration: Hub, message: Mapping[str, Any]) -> dict[str, Any]:
    """Events that the school's other hubs recorded about this hub's learners, so that a learner
    who works on two hubs has one log on each (folded in the canonical order, the same numbers).

    The hub names the learners it wants to ``follow`` (new ones: the district records them and
    sends their events the hub has scanned past already) and, per origin of another hub, how far
    it has ``scanned``; the district sends the followed learners' events after those places, up
    to about ``max_bytes``, and where each origin's scan now stands. Idempotent: an answer lost
    on the way is asked for again from the same places, and the hub ignores events it holds."""
    scanned, follow, max_bytes = message.get("scanned"), message.get("follow"), message.get("max_bytes")
    if (not isinstance(scanned, dict) or not all(isinstance(v, int) and v >= 0 for v in scanned.values())
            or not isinstance(follow, list) or not all(isinstance(u, str) and 0 < len(u) <= 64 for u in follow)
            or len(follow) > MAX_FOLLOW or not isinstance(max_bytes, int) or max_bytes < 1):
        raise Refused(400, "bad_request", "A shared request names what was scanned, whom to follow and a size.")
    budget = min(max_bytes, protocol.MAX_BATCH_BYTES * 8)
    others = others_of(registration)
    fields = [Event.origin, Event.seq, *(getattr(Event, f) for f in protocol.FIELDS)]
    sent: list[dict[str, Any]] = []
    size = 0
    more = False
    followed: list[str] = []

    def cost(rows: list[dict[str, Any]]) -> int:
        return sum(len(row["payload"]) + 260 for row in rows)

    with _transaction():
        wanted = sorted(set(follow))
        scanned_past: dict[str, list[dict[str, Any]]] = {uid: [] for uid in wanted}
        for start in range(0, len(wanted), INSERT_CHUNK):  # one query for all of them, not one each
            for row in _dicts(Event.select(*fields).where(
                    Event.learner_uid.in_(wanted[start:start + INSERT_CHUNK]) & Event.origin.in_(sorted(others)))
                    .order_by(Event.origin, Event.seq)):
                if int(row["seq"]) <= scanned.get(row["origin"], 0):
                    scanned_past[row["learner_uid"]].append(row)
        for uid in wanted:
            earlier = scanned_past[uid]
            if sent and size + cost(earlier) > budget:
                more = True
                break
            HubFollow.insert(hub=registration.id, learner_uid=uid).on_conflict_ignore().execute()
            sent.extend(earlier)
            size += cost(earlier)
            followed.append(uid)
        places = {origin: min(int(scanned.get(origin, 0)), hwm) for origin, hwm in others.items()}
        mine = HubFollow.select(HubFollow.learner_uid).where(HubFollow.hub == registration.id)
        for origin, hwm in sorted(others.items()):
            if more:
                break
            start = places[origin]
            if start >= hwm:
                continue
            rows = _dicts(Event.select(*fields).where(
                (Event.origin == origin) & (Event.seq > start) & (Event.seq <= hwm) & Event.learner_uid.in_(mine))
                .order_by(Event.seq).limit(2000))
            for row in rows:
                if sent and size + cost([row]) > budget:
                    more = True
                    break
                sent.append(row)
                size += cost([row])
                places[origin] = int(row["seq"])
            else:
                if len(rows) == 2000:
                    more = True
                else:
                    places[origin] = hwm
    return {"events": sent, "scanned": places, "followed": followed, "more": more,
            "head": sum(others.values())}


# --- pack files ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AddedPack:
    pack_id: str
    version: str
    title: str
    sha256: str
    size: int
    published: Published


def add_pack(school: School | None, source: Any) -> AddedPack:
    """Keep a pack file (.zip) and offer it to a school's hubs (or every school's): the file must
    be a valid, built pack (content_packs: its checksums verified), as a hub would import it.
    Raises ``ChangeError`` saying why not. Adding the same file again offers it again, once."""
    import tempfile
    import zipfile
    from pathlib import Path

    from content_packs import PackError, extract_pack, load_pack
    from content_packs.validate import validate_folder

    path = Path(source)
    if not path.is_file() or not zipfile.is_zipfile(path):
        raise change_rules.ChangeError(f"{path.name} is not a pack .zip file (build one with `classroom-server pack "
                                       "build`)")
    with tempfile.TemporaryDirectory(prefix="district-pack-") as folder:
        staging = Path(folder) / "pack"
        staging.mkdir()
        try:
            extract_pack(path, staging)
        except PackError as exc:
            raise change_rules.ChangeError(f"{path.name} cannot be read as a pack: {exc}") from None
        report = validate_folder(staging, built=True)
        if not report.ok:
            raise change_rules.ChangeError(f"{path.name} is not a valid pack: {report.summary()}; first: "
                                           f"{report.errors[0].format()}")
        pack = load_pack(staging, check=False)
        title = str(pack.title.pick("en") or pack.id)
    sha = _file_sha256(path)
    with _transaction():
        if PackFile.get_or_none(PackFile.sha256 == sha) is None:
            size = 0
            with open(path, "rb") as handle:
                for n, piece in enumerate(iter(lambda: handle.read(PACK_CHUNK), b"")):
                    PackChunk.insert(sha256=sha, n=n, data=piece).execute()
                    size += len(piece)
            PackFile.create(sha256=sha, pack_id=pack.id, version=pack.version, title=title[:200], size=size,
                            added_at=now())
        found = PackFile.get(PackFile.sha256 == sha)
    record = {"kind": "pack", "sourcedId": pack.id, "status": "active", "version": pack.version,
              "sha256": found.sha256, "size": int(found.size), "title": found.title}
    return AddedPack(pack.id, pack.version, found.title, found.sha256, int(found.size), publish(school, [record]))


def _file_sha256(path: Any) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pack_files() -> list[PackFile]:
    return list(PackFile.select().order_by(PackFile.pack_id, PackFile.added_at))


def pack_piece(registration: Hub, message: Mapping[str, Any]) -> tuple[bytes, int, int]:
    """Bytes ``offset`` to ``offset + length`` of a pack file the district keeps (at most a
    batch's worth): the bytes, their first offset and the file's size. Packs are open content,
    so any enrolled hub may fetch any pack the district keeps."""
    sha, offset, length = message.get("sha256"), message.get("offset"), message.get("length")
    if (not isinstance(sha, str) or not _is_sha256(sha) or not isinstance(offset, int) or offset < 0
            or not isinstance(length, int) or length < 1):
        raise Refused(400, "bad_request", "A pack piece names a file by its SHA-256, an offset and a length.")
    found = PackFile.get_or_none(PackFile.sha256 == sha)
    if found is None:
        raise Refused(404, "no_pack", "The district does not keep that pack file (withdrawn?).")
    size = int(found.size)
    if offset >= size:
        raise Refused(416, "bad_range", "That piece starts past the end of the pack file.")
    end = min(size, offset + min(length, protocol.MAX_BATCH_BYTES))
    rows = (PackChunk.select(PackChunk.n, PackChunk.data)
            .where((PackChunk.sha256 == sha) & (PackChunk.n.between(offset // PACK_CHUNK, (end - 1) // PACK_CHUNK)))
            .order_by(PackChunk.n))
    data = b"".join(bytes(row.data) for row in rows)
    start = offset - (offset // PACK_CHUNK) * PACK_CHUNK
    return data[start:start + end - offset], offset, size


# --- manifests ------------------------------------------------------------------------------------

def _manifest_keys_wanted(registration: Hub) -> list[str]:
    payloads = [payload for (payload,) in _tuples(
        Event.select(Event.payload).join(Origin, on=(Event.origin == Origin.origin))
        .where((Origin.hub == registration.id) & (Event.kind == "pack.installed")))]
    return _manifests_wanted(registration, payloads)


def _manifests_wanted(registration: Hub, installed_payloads: Iterable[str]) -> list[str]:
    """The manifests that these ``pack.installed`` payloads name and the district lacks: by
    SHA-256, or (events from before manifests were kept) by ``<pack>@<version>``, per hub."""
    named = {manifest_key(json.loads(payload)) for payload in installed_payloads}
    if not named:
        return []
    content = sorted(key for key in named if _is_sha256(key))
    held = {key for (key,) in _tuples(Manifest.select(Manifest.key).where(Manifest.key.in_(content)))}
    held |= {name for (name,) in _tuples(HubManifest.select(HubManifest.name)
                                         .where(HubManifest.hub == registration.id))}
    return sorted(named - held)


def _is_sha256(name: str) -> bool:
    return len(name) == 64 and all(ch in "0123456789abcdef" for ch in name)


def manifests(registration: Hub, message: dict[str, Any]) -> dict[str, Any]:
    """Engine manifests a hub sends because the district asked for them: one named by its SHA-256
    must hash to its name; one named ``<pack>@<version>`` must be that pack version's manifest,
    and is kept as this hub's (HubManifest)."""
    given = message.get("manifests")
    if not isinstance(given, dict):
        raise Refused(400, "bad_request", "Manifests come as an object of key to text.")
    taken = []
    with _transaction():
        for key, body in given.items():
            if not isinstance(body, str):
                raise Refused(400, "bad_manifest", f"The manifest {str(key)[:16]} is not text.")
            digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
            if _is_sha256(key):
                if digest != key:
                    raise Refused(400, "bad_manifest", f"The manifest {key[:16]} does not match its name.")
            elif _names_itself(key, body):
                (HubManifest.insert(hub=registration.id, name=key, key=digest)
                 .on_conflict(conflict_target=[HubManifest.hub, HubManifest.name],
                              update={HubManifest.key: digest}).execute())
            else:
                raise Refused(400, "bad_manifest", f"The manifest {str(key)[:80]} is not that pack version's.")
            Manifest.insert(key=digest, body=body).on_conflict_ignore().execute()
            taken.append(key)
    return {"taken": sorted(taken)}


def manifests_by_key() -> dict[str, dict[str, Any]]:
    return {row.key: json.loads(row.body) for row in Manifest.select()}


def events_of(origins: Iterable[str]) -> list[dict[str, Any]]:
    """Stored events of some origins in the canonical order (hlc, origin, seq)."""
    fields = [Event.origin, Event.seq, *(getattr(Event, f) for f in protocol.FIELDS)]
    return _dicts(Event.select(*fields).where(Event.origin.in_(sorted(origins)))
                  .order_by(Event.hlc, Event.origin, Event.seq))
def _names_itself(name: str, body: str) -> bool:
    """Whether ``body`` is the manifest of the pack version ``<pack>@<version>``."""
    try:
        manifest = json.loads(body)
    except ValueError:
        return False
    return (isinstance(manifest, dict) and isinstance(manifest.get("pack"), str)
            and isinstance(manifest.get("version"), str) and name == f"{manifest['pack']}@{manifest['version']}")


def counts() -> dict[str, int]:
    return {"events": Event.select(fn.COUNT(Event.id)).scalar() or 0,
            "quarantined": Quarantine.select(fn.COUNT(Quarantine.id)).scalar() or 0}
