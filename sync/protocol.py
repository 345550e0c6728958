"""The sync protocol between a hub and the district: messages, signing, batches. Pure.

Standard library only (and the hub's pure event-kind rules): no Flask, no database, no network.
The hub's client (sync/client.py), the district server (sync/district/) and USB bundles all speak
through these functions, so they cannot disagree about a byte.

Every request is ``POST /sync/v1/<message>`` with a JSON body (a push body is gzip-compressed)
and four headers:

    X-Sync-Version    the protocol version of the sender (VERSION)
    X-Sync-Hub        the hub's id
    X-Sync-Counter    a number the hub never uses twice (it only grows; kept in its database)
    X-Sync-Signature  "hmac-sha256=" + hex HMAC over method, path, body SHA-256, hub id, counter

No wall clock is signed (a Pi has no clock battery); the counter stops replays: the district
keeps the highest counter each hub used and refuses any request that does not exceed it. A hub
restored from an old backup has an old counter: the district's refusal names its last counter,
and the hub goes on from there. The district signs its answer over the request's counter, the
status and the body's SHA-256, so a hub believes an acknowledgement only from its district.

Events travel as columns (one list per field, and one per payload key) in a gzip-compressed
JSON object: what repeats from one event to the next (kind, learner, item, pack, language) then
compresses away, and what one field implies of another is not sent twice (the recorded time is
the hybrid clock's, an answer's actor is its learner). A batch names its origin and first
sequence number and holds a contiguous run, so sequence numbers are not sent. Payload hashes
are not sent either: the receiver computes them with the same rule (classroom_server/eventkinds.py)
and compares. ``encode_batch`` describes the columns.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import hmac
import io
import json
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from classroom_server import eventkinds

VERSION = 2  # 2: a batch's event ids travel as prefixes and counter steps (``encode_batch``)
OLDEST_COMPATIBLE = 1  # the oldest peer version this one still works with
SIGNATURE_ALG = "hmac-sha256"
PREFIX = "/sync/v1/"

MIN_BATCH_BYTES = 8 * 1024
MAX_BATCH_BYTES = 256 * 1024
START_BATCH_BYTES = 32 * 1024
TARGET_SECONDS = 10.0
MAX_BODY_BYTES = 4 * MAX_BATCH_BYTES  # a request larger than this on the wire is refused unread
MAX_INFLATED_BYTES = 64 * 1024 * 1024  # a batch that inflates beyond this is refused (gzip bomb)

# The fields of a stored event that travel, in their wire order. ``seq`` is implied by the
# batch's ``first``; ``hlc`` travels as the difference from the previous event's.
FIELDS = ("event_id", "kind", "learner_uid", "actor_uid", "class_uid", "hlc", "occurred_at", "recorded_at",
          "payload")
_COLUMNS = ("kind", "learner", "actor", "class", "hlc", "recorded", "occurred", "shape")  # one entry per event


class ProtocolError(ValueError):
    """A message that does not follow the protocol: truncated, corrupt, or malformed."""


@dataclass(frozen=True)
class WireEvent:
    """One event as it travels: where it sits in its origin's log, and what it says."""

    origin: str
    seq: int
    event_id: str
    kind: str
    learner_uid: str | None
    actor_uid: str | None
    class_uid: str | None
    hlc: int
    occurred_at: str
    recorded_at: str
    payload: str  # canonical JSON

    @property
    def payload_hash(self) -> str:
        return eventkinds.payload_hash(self.kind, self.payload, self.learner_uid, self.actor_uid, self.class_uid)

    def check(self) -> None:
        """Raise ``ProtocolError`` if the event breaks its kind's rules (eventkinds.py)."""
        try:
            body = eventkinds.check(self.kind, json.loads(self.payload), self.learner_uid)
        except ValueError as exc:
            raise ProtocolError(f"event {self.event_id}: {exc}") from None
        if body != self.payload:
            raise ProtocolError(f"event {self.event_id}: the payload is not canonical JSON")

    def as_row(self) -> dict[str, Any]:
        return {"origin": self.origin, "seq": self.seq, **{f: getattr(self, f) for f in FIELDS}}


def canonical(value: Any) -> bytes:
    return eventkinds.canonical_json(value).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def payload_hashes(events: Iterable[WireEvent]) -> list[str]:
    """``WireEvent.payload_hash`` of each event, for a whole batch at once.

    The hash is over the canonical JSON of what an event says (eventkinds.py), whose text is the
    part that names the kind and the people, then the payload's own canonical text (``payload``
    sorts last). That first part is made once for each kind and set of people in the batch (a
    few dozen in a batch of thousands), not once an event: the same text, so the same hash."""
    heads: dict[tuple[str, str | None, str | None, str | None], bytes] = {}
    out = []
    for event in events:
        key = (event.kind, event.learner_uid, event.actor_uid, event.class_uid)
        head = heads.get(key)
        if head is None:
            text = eventkinds.canonical_json({"actor": event.actor_uid, "class": event.class_uid, "kind": event.kind,
                                              "learner": event.learner_uid, "payload": None})
            head = heads[key] = text.removesuffix("null}").encode("utf-8")
        out.append(hashlib.sha256(head + event.payload.encode("utf-8") + b"}").hexdigest())
    return out


# --- versions --------------------------------------------------------------------------------

def version_problem(peer_version: Any, peer_oldest: Any = None) -> str | None:
    """Plain words when two versions cannot work together (and which side must upgrade), else None."""
    if not isinstance(peer_version, int):
        return "The other side did not say which sync protocol it speaks."
    if peer_version < OLDEST_COMPATIBLE:
        return (f"The other side speaks sync protocol {peer_version}, older than {OLDEST_COMPATIBLE}: "
                "upgrade the other side.")
    if isinstance(peer_oldest, int) and VERSION < peer_oldest:
        return (f"This side speaks sync protocol {VERSION}, but the other needs {peer_oldest} or later: "
                "upgrade this side.")
    return None


# --- signing ---------------------------------------------------------------------------------

def _request_text(method: str, path: str, body: bytes, hub_id: str, counter: int) -> bytes:
    return "\n".join((SIGNATURE_ALG, method.upper(), path, sha256_hex(body), hub_id, str(counter))).encode()


def sign_request(secret: str, method: str, path: str, body: bytes, hub_id: str, counter: int) -> dict[str, str]:
    """The headers that make a request the hub's own."""
    mac = hmac.new(secret.encode(), _request_text(method, path, body, hub_id, counter), hashlib.sha256).hexdigest()
    return {"X-Sync-Version": str(VERSION), "X-Sync-Hub": hub_id, "X-Sync-Counter": str(counter),
            "X-Sync-Signature": f"{SIGNATURE_ALG}={mac}"}


def request_signed_by(secret: str, method: str, path: str, body: bytes, headers: Mapping[str, str]) -> bool:
    try:
        hub_id = headers["X-Sync-Hub"]
        counter = int(headers["X-Sync-Counter"])
        alg, _, given = headers["X-Sync-Signature"].partition("=")
    except (KeyError, ValueError):
        return False
    if alg != SIGNATURE_ALG:
        return False
    mac = hmac.new(secret.encode(), _request_text(method, path, body, hub_id, counter), hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, given)


def _response_text(counter: int, status: int, body: bytes) -> bytes:
    return "\n".join((SIGNATURE_ALG, "response", str(counter), str(status), sha256_hex(body))).encode()


def sign_response(secret: str, counter: int, status: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), _response_text(counter, status, body), hashlib.sha256).hexdigest()
    return f"{SIGNATURE_ALG}={mac}"


def response_signed_by(secret: str, counter: int, status: int, body: bytes, signature: str | None) -> bool:
    if not signature:
        return False
    alg, _, given = signature.partition("=")
    expected = hmac.new(secret.encode(), _response_text(counter, status, body), hashlib.sha256).hexdigest()
    return alg == SIGNATURE_ALG and hmac.compare_digest(expected, given)


def parse_counter(headers: Mapping[str, str]) -> int | None:
    try:
        value = int(headers.get("X-Sync-Counter", ""))
    except ValueError:
        return None
    return value if value > 0 else None


# --- message bodies ----------------------------------------------------------------------------

def encode_json(message: Mapping[str, Any]) -> bytes:
    return canonical({"v": VERSION, **message})


def encode_json_gzip(message: Mapping[str, Any]) -> bytes:
    """``encode_json``, compressed: for a large message (a pack's manifests: 30 KB of JSON, 5 on
    the wire). ``decode_json`` takes either."""
    return gzip.compress(encode_json(message), compresslevel=9, mtime=0)


def decode_json(body: bytes) -> dict[str, Any]:
    if body[:2] == b"\x1f\x8b":  # gzip's magic number; JSON text never starts so
        body = _inflate(body)
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError("the message is not JSON (cut short or damaged on the way?)") from None
    if not isinstance(message, dict):
        raise ProtocolError("the message is not a JSON object")
    return message


def _inflate(body: bytes) -> bytes:
    try:
        inflater = gzip.GzipFile(fileobj=io.BytesIO(body))  # shares the bytes, copies nothing
        data = inflater.read(MAX_INFLATED_BYTES + 1)
    except (OSError, EOFError) as exc:
        raise ProtocolError(f"the body is not valid gzip ({exc})") from None
    if len(data) > MAX_INFLATED_BYTES:
        raise ProtocolError("the body inflates beyond the limit")
    return data


_HALF = 2**64 - 1


class _IdColumns:
    """A batch's event ids as ``encode_batch`` writes them (see there)."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.prefixes: dict[int, int] = {}
        self.last: list[int] = []
        self.refs: list[int] = []
        self.steps: list[int] = []

    def add(self, value: int) -> None:
        self.ids.append(value)
        high, low = value >> 64, value & _HALF
        ref = self.prefixes.get(high)
        if ref is None:
            ref = self.prefixes[high] = len(self.prefixes)
            self.last.append(0)
            self.refs.append(0)
        else:
            self.refs.append(ref + 1)
        self.steps.append(low - self.last[ref])
        self.last[ref] = low

    def columns(self, version: int) -> dict[str, Any]:
        if version < 2:
            return {"id": base64.b64encode(b"".join(v.to_bytes(16, "big") for v in self.ids)).decode("ascii")}
        prefixes = b"".join(high.to_bytes(8, "big") for high in self.prefixes)
        return {"idp": base64.b64encode(prefixes).decode("ascii"), "idr": self.refs, "idc": self.steps}


def _decode_ids(message: Mapping[str, Any], count: int) -> list[str]:
    """The event ids of a batch of ``count`` events, from either version's columns."""
    if "id" in message:  # version 1
        try:
            ids = base64.b64decode(message.get("id") or "", validate=True)
        except (TypeError, ValueError):
            raise ProtocolError("the batch's event ids are not base64") from None
        if len(ids) != 16 * count:
            raise ProtocolError("the batch's 'id' column has the wrong length")
        return [str(uuid.UUID(bytes=ids[16 * n:16 * n + 16])) for n in range(count)]
    if "idp" not in message:
        raise ProtocolError("the batch's event id columns are missing")
    try:
        prefixes = base64.b64decode(message.get("idp") or "", validate=True)
    except (TypeError, ValueError):
        raise ProtocolError("the batch's id prefixes are not base64") from None
    refs, steps = message.get("idr"), message.get("idc")
    if (len(prefixes) % 8 or not isinstance(refs, list) or not isinstance(steps, list)
            or len(refs) != count or len(steps) != count):
        raise ProtocolError("the batch's event id columns are missing or have the wrong length")
    highs = [int.from_bytes(prefixes[n:n + 8], "big") for n in range(0, len(prefixes), 8)]
    last: list[int] = []
    out = []
    for ref, step in zip(refs, steps, strict=True):
        if not isinstance(ref, int) or isinstance(ref, bool) or not isinstance(step, int) or isinstance(step, bool):
            raise ProtocolError("an event id in the batch is damaged")
        if ref == 0:
            last.append(0)
            ref = len(last) - 1
        else:
            ref -= 1
        if not 0 <= ref < min(len(last), len(highs)):
            raise ProtocolError("an event id in the batch is damaged")
        low = last[ref] + step
        if not 0 <= low <= _HALF:
            raise ProtocolError("an event id in the batch is damaged")
        last[ref] = low
        out.append(str(uuid.UUID(int=(highs[ref] << 64) | low)))
    if len(last) != len(highs):
        raise ProtocolError("the batch's id prefixes do not match its events")
    return out


def encode_batch(origin: str, events: Sequence[Mapping[str, Any]], *, level: int = 9,
                 version: int = VERSION, between: Callable[[], None] | None = None) -> bytes:
    """Compress a contiguous run of one origin's stored events (mappings with FIELDS and seq).

    ``between``, when given, is called after every few hundred events and every piece of the
    compression (each a few milliseconds of CPU), so that a hub's learners go first: see
    classroom_server/inflight.py. The bytes are the same with it or without it.

    The columns, each a list with one entry per event unless it says otherwise:

    - the event ids (classroom_server/event_ids.py: a prefix per source, then a counter) as
      ``idp``, the distinct high halves (8 bytes each, run together, in one base64 text),
      ``idr``, each event's prefix (0: the next new one in ``idp``, else its position there
      plus 1, so a run of random ids is a run of zeros), and ``idc``, each low half less
      the low half of the event before it with the same prefix (the first: less 0). Ids from
      one source differ by about 65,536, so an id costs about 2 bytes where its 16 random bytes
      would cost 16; a random (version 4) id still travels whole, in ``idp`` and ``idc``.
      Protocol version 1 sent ``id``: every id's 16 bytes in one base64 text (``version=1``
      writes that, for a peer of version 1; ``decode_batch`` reads both);
    - ``kind``; ``uids``: the distinct learner, actor and class ids, named by their position in
      ``learner``, ``actor`` and ``class`` (null: none; an actor of ``true`` is the learner);
    - ``hlc``: the difference from the previous event's;
    - ``recorded``: milliseconds from the time the hlc holds (almost always 0), or the text
      when it is not a millisecond UTC time; ``occurred``: null when it is the recorded time,
      else milliseconds from it, or the text;
    - ``shapes`` (the distinct key lists of the payloads, sorted), ``shape`` (each event's)
      and ``values``: per shape, one column per key of the values of the events of that shape,
      in order. A key's values sit together (true, false, true; "en", "en"), so they compress
      far better than whole payloads with their keys repeated.
    """
    if not events:
        raise ValueError("an empty batch")
    first = int(events[0]["seq"])
    for offset, event in enumerate(events):
        if int(event["seq"]) != first + offset or event.get("origin", origin) != origin:
            raise ValueError("a batch must be a contiguous run of one origin's events")
    uids: dict[str, int] = {}

    def ref(uid: str | None) -> int | None:
        return None if uid is None else uids.setdefault(uid, len(uids))

    ids = _IdColumns()
    columns: dict[str, list[Any]] = {name: [] for name in _COLUMNS}
    shapes: dict[tuple[str, ...], int] = {}
    values: list[list[list[Any]]] = []
    previous_hlc = 0
    for offset, event in enumerate(events):
        if between is not None and offset % _STEP_EVENTS == _STEP_EVENTS - 1:
            between()
        ids.add(uuid.UUID(event["event_id"]).int)
        columns["kind"].append(event["kind"])
        learner, actor = event["learner_uid"], event["actor_uid"]
        columns["learner"].append(ref(learner))
        columns["actor"].append(True if actor is not None and actor == learner else ref(actor))
        columns["class"].append(ref(event["class_uid"]))
        hlc = int(event["hlc"])
        columns["hlc"].append(hlc - previous_hlc)
        previous_hlc = hlc
        recorded, occurred = event["recorded_at"], event["occurred_at"]
        recorded_ms = _milliseconds(recorded)
        columns["recorded"].append(recorded if recorded_ms is None else recorded_ms - hlc // 1000)
        if occurred == recorded:
            columns["occurred"].append(None)
        else:
            occurred_ms = _milliseconds(occurred)
            columns["occurred"].append(occurred if occurred_ms is None or recorded_ms is None
                                       else occurred_ms - recorded_ms)
        payload = json.loads(event["payload"]) if isinstance(event["payload"], str) else event["payload"]
        if not isinstance(payload, dict):
            raise ValueError("an event's payload must be a JSON object")
        keys = tuple(sorted(payload))
        shape = shapes.get(keys)
        if shape is None:
            shape = shapes[keys] = len(shapes)
            values.append([[] for _ in keys])
        columns["shape"].append(shape)
        for column, key in zip(values[shape], keys, strict=True):
            column.append(payload[key])
    body = {"v": min(version, VERSION), "origin": origin, "first": first, "n": len(events),
            **ids.columns(version), "uids": list(uids), **columns,
            "shapes": [list(keys) for keys in shapes], "values": values}
    text = canonical(body)
    if between is None:
        return gzip.compress(text, compresslevel=level, mtime=0)
    # In pieces: the same gzip member as gzip.compress(mtime=0) writes (zlib's own header).
    packer = zlib.compressobj(level, zlib.DEFLATED, 31)
    pieces = []
    for start in range(0, len(text), _STEP_BYTES):
        between()
        pieces.append(packer.compress(text[start:start + _STEP_BYTES]))
    pieces.append(packer.flush())
    return b"".join(pieces)


_STEP_EVENTS = 100  # about 2.5 ms of encoding here
_STEP_BYTES = 16 * 1024  # about 2 ms of compression at level 9


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MILLISECOND = dt.timedelta(milliseconds=1)


def _iso(milliseconds: int) -> str:
    """The time as the hub writes it (classroom_server.clock.iso): UTC, to the millisecond."""
    return (_EPOCH + milliseconds * _MILLISECOND).isoformat(timespec="milliseconds")


def _milliseconds(text: str) -> int | None:
    """Milliseconds since 1970 of a time written as ``_iso`` writes it, else None."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    value = (moment - _EPOCH) // _MILLISECOND
    return value if _iso(value) == text else None


def _time(value: Any, base: int | None, what: str) -> tuple[str, int | None]:
    """A ``recorded`` or ``occurred`` entry as text, and its milliseconds when known."""
    if isinstance(value, str):
        return value, _milliseconds(value)
    if isinstance(value, int) and not isinstance(value, bool) and base is not None:
        try:
            return _iso(base + value), base + value
        except (OverflowError, ValueError):
            pass
    raise ProtocolError(f"{what} is not a time")


def _uid(uids: list[Any], ref: Any) -> str | None:
    if ref is None:
        return None
    if isinstance(ref, int) and not isinstance(ref, bool) and 0 <= ref < len(uids):
        return str(uids[ref])
    raise ProtocolError("an id refers to nothing in the batch's uids")


def _payload_columns(shapes: Any, values: Any) -> tuple[list[list[str]], list[list[list[Any]]]]:
    """``shapes`` and ``values`` once they are checked: a list of key lists (texts, none twice)
    and, per shape, one column (a list) per key."""
    problem = ProtocolError("the batch's payload shapes and values do not match")
    if not isinstance(shapes, list) or not isinstance(values, list) or len(values) != len(shapes):
        raise problem
    for keys, columns in zip(shapes, values, strict=True):
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys) or len(set(keys)) != len(keys):
            raise problem
        if not isinstance(columns, list) or len(columns) != len(keys) or not all(isinstance(c, list) for c in columns):
            raise problem
    return shapes, values


def decode_batch(body: bytes) -> tuple[str, int, list[WireEvent]]:
    """The origin, first sequence number and events of a batch; ``ProtocolError`` if it is damaged.

    Every event is checked against its kind's rules, so nothing malformed reaches a log."""
    message = decode_json(_inflate(body))
    origin, first, count = message.get("origin"), message.get("first"), message.get("n")
    if not isinstance(origin, str) or not origin or not isinstance(first, int) or first < 1:
        raise ProtocolError("the batch does not say its origin and first sequence number")
    if not isinstance(count, int) or count < 1:
        raise ProtocolError("the batch does not say how many events it holds")
    columns = []
    for name in _COLUMNS:
        column = message.get(name)
        if not isinstance(column, list) or len(column) != count:
            raise ProtocolError(f"the batch's {name!r} column is missing or has the wrong length")
        columns.append(column)
    ids = _decode_ids(message, count)
    uids = message.get("uids")
    if not isinstance(uids, list) or not all(isinstance(u, str) for u in uids):
        raise ProtocolError("the batch's 'uids' are not a list of texts")
    shapes, values = _payload_columns(message.get("shapes"), message.get("values"))
    at = [0] * len(shapes)
    events = []
    hlc = 0
    rows = zip(*columns, strict=True)
    for offset, (kind, learner, actor, klass, dhlc, recorded, occurred, shape) in enumerate(rows):
        seq = first + offset
        if (not isinstance(dhlc, int) or isinstance(dhlc, bool) or not isinstance(kind, str)
                or not isinstance(shape, int) or isinstance(shape, bool) or not 0 <= shape < len(shapes)):
            raise ProtocolError(f"event {seq}: a field has the wrong type")
        hlc += dhlc
        try:
            learner_uid = _uid(uids, learner)
            actor_uid = learner_uid if actor is True and learner_uid is not None else _uid(uids, actor)
            class_uid = _uid(uids, klass)
            recorded_at, recorded_ms = _time(recorded, hlc // 1000, "the recorded time")
            occurred_at = recorded_at if occurred is None else _time(occurred, recorded_ms, "the time")[0]
            n = at[shape]
            payload = {key: column[n] for key, column in zip(shapes[shape], values[shape], strict=True)}
        except ProtocolError as exc:
            raise ProtocolError(f"event {seq}: {exc}") from None
        except IndexError:
            raise ProtocolError(f"event {seq}: the payload values are missing") from None
        at[shape] = n + 1
        event_id = ids[offset]
        try:  # WireEvent.check's rules, on the payload as decoded (not dumped and parsed again)
            text = eventkinds.check(kind, payload, learner_uid)
        except ValueError as exc:
            raise ProtocolError(f"event {event_id}: {exc}") from None
        events.append(WireEvent(origin=origin, seq=seq, event_id=event_id, kind=kind, learner_uid=learner_uid,
                                actor_uid=actor_uid, class_uid=class_uid, hlc=hlc, occurred_at=occurred_at,
                                recorded_at=recorded_at, payload=text))
    if any(len(column) != used for cols, used in zip(values, at, strict=True) for column in cols):
        raise ProtocolError("the batch holds payload values of no event")
    return origin, first, events


def batch_limit(events: Iterable[Mapping[str, Any]], max_bytes: int) -> int:
    """How many of ``events`` (in order) fit in a compressed batch of about ``max_bytes``.

    Estimated from the raw size with a conservative ratio, then the caller may check the real
    compressed size; a batch always holds at least one event."""
    budget = max_bytes * 6  # events compress at least 6 to 1 (measured ~10-20 to 1)
    used = 0
    count = 0
    for event in events:
        used += len(event["payload"]) + 120
        if count and used > budget:
            break
        count += 1
    return count


# --- batch size ----------------------------------------------------------------------------------

@dataclass
class BatchSizer:
    """Adapts the compressed batch size so that a request takes about ``TARGET_SECONDS``:
    additive increase while requests are quick, multiplicative decrease on a failed one (the
    AIMD of TCP), always between ``minimum`` and ``maximum`` bytes. A slow request shrinks
    the batch to what its own rate says fits, with a margin: one of 11 s takes a fifth off, one
    of 20 s more than half (halving on every request just over the target, as a slow link's
    jitter and losses make many, left batches of half the size on such a link)."""

    size: int = START_BATCH_BYTES
    step: int = 16 * 1024
    minimum: int = MIN_BATCH_BYTES
    maximum: int = MAX_BATCH_BYTES

    def succeeded(self, sent_bytes: int, seconds: float) -> None:
        seconds = max(seconds, 0.001)
        rate = sent_bytes / seconds
        if seconds > TARGET_SECONDS:
            self.size = max(self.minimum, min(self.size, int(rate * TARGET_SECONDS * 0.9)))
        elif sent_bytes >= self.size // 2:
            self.size = min(self.maximum, self.size + self.step, max(self.size, int(rate * TARGET_SECONDS)))

    def failed(self) -> None:
        self.size = max(self.minimum, self.size // 2)
