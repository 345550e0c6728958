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

Events travel as columns (one list per field) in a gzip-compressed JSON object: what repeats
from one event to the next (kind, learner, item, the time's first digits) then compresses away.
A batch names its origin and first sequence number and holds a contiguous run, so sequence
numbers are not sent. Payload hashes are not sent either: the receiver computes them with the
same rule (classroom_server/eventkinds.py) and compares.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from classroom_server import eventkinds

VERSION = 1
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
_COLUMNS = ("id", "kind", "learner", "actor", "class", "hlc", "occurred", "recorded", "payload")


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


def decode_json(body: bytes) -> dict[str, Any]:
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError("the message is not JSON (cut short or damaged on the way?)") from None
    if not isinstance(message, dict):
        raise ProtocolError("the message is not a JSON object")
    return message


def _inflate(body: bytes) -> bytes:
    try:
        inflater = gzip.GzipFile(mode="rb", fileobj=_Reader(body))
        data = inflater.read(MAX_INFLATED_BYTES + 1)
    except (OSError, EOFError) as exc:
        raise ProtocolError(f"the batch is not valid gzip ({exc})") from None
    if len(data) > MAX_INFLATED_BYTES:
        raise ProtocolError("the batch inflates beyond the limit")
    return data


class _Reader:
    """A minimal file over bytes for GzipFile (io.BytesIO would do; this keeps no copy)."""

    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._at = 0

    def read(self, n: int = -1) -> bytes:
        end = len(self._view) if n is None or n < 0 else min(len(self._view), self._at + n)
        chunk = bytes(self._view[self._at:end])
        self._at = end
        return chunk

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self._at, len(self._view))[whence]
        self._at = max(0, min(len(self._view), base + offset))
        return self._at


def encode_batch(origin: str, events: Sequence[Mapping[str, Any]], *, level: int = 9) -> bytes:
    """Compress a contiguous run of one origin's stored events (mappings with FIELDS and seq)."""
    if not events:
        raise ValueError("an empty batch")
    first = int(events[0]["seq"])
    for offset, event in enumerate(events):
        if int(event["seq"]) != first + offset or event.get("origin", origin) != origin:
            raise ValueError("a batch must be a contiguous run of one origin's events")
    columns: dict[str, list[Any]] = {name: [] for name in _COLUMNS}
    previous_hlc = 0
    for event in events:
        columns["id"].append(uuid.UUID(event["event_id"]).hex)
        columns["kind"].append(event["kind"])
        columns["learner"].append(event["learner_uid"])
        columns["actor"].append(event["actor_uid"])
        columns["class"].append(event["class_uid"])
        columns["hlc"].append(int(event["hlc"]) - previous_hlc)
        previous_hlc = int(event["hlc"])
        recorded = event["recorded_at"]
        columns["recorded"].append(recorded)
        columns["occurred"].append(None if event["occurred_at"] == recorded else event["occurred_at"])
        columns["payload"].append(json.loads(event["payload"]) if isinstance(event["payload"], str)
                                  else event["payload"])
    body = {"v": VERSION, "origin": origin, "first": first, "n": len(events), **columns}
    return gzip.compress(canonical(body), compresslevel=level, mtime=0)


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
    events = []
    hlc = 0
    rows = zip(*columns, strict=True)
    for offset, (eid, kind, learner, actor, klass, dhlc, occurred, recorded, payload) in enumerate(rows):
        try:
            event_id = str(uuid.UUID(hex=eid))
        except (TypeError, ValueError):
            raise ProtocolError(f"event {first + offset}: the id is not a UUID") from None
        if not isinstance(dhlc, int) or not isinstance(recorded, str) or not isinstance(kind, str):
            raise ProtocolError(f"event {first + offset}: a field has the wrong type")
        for value in (learner, actor, klass, occurred):
            if value is not None and not isinstance(value, str):
                raise ProtocolError(f"event {first + offset}: a field has the wrong type")
        hlc += dhlc
        event = WireEvent(origin=origin, seq=first + offset, event_id=event_id, kind=kind, learner_uid=learner,
                          actor_uid=actor, class_uid=klass, hlc=hlc, occurred_at=occurred or recorded,
                          recorded_at=recorded, payload=eventkinds.canonical_json(payload))
        event.check()
        events.append(event)
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
    additive increase while requests are quick, multiplicative decrease on a slow or failed one
    (the AIMD of TCP), always between MIN_BATCH_BYTES and MAX_BATCH_BYTES."""

    size: int = START_BATCH_BYTES
    step: int = 16 * 1024

    def succeeded(self, sent_bytes: int, seconds: float) -> None:
        if seconds <= 0:
            seconds = 0.001
        rate = sent_bytes / seconds
        if seconds > TARGET_SECONDS:
            self.size = max(MIN_BATCH_BYTES, min(self.size // 2, int(rate * TARGET_SECONDS)))
        elif sent_bytes >= self.size // 2:
            self.size = min(MAX_BATCH_BYTES, self.size + self.step, max(self.size, int(rate * TARGET_SECONDS)))

    def failed(self) -> None:
        self.size = max(MIN_BATCH_BYTES, self.size // 2)
