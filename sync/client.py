"""The hub's side of a sync: hello, fetch back what the hub lost, pull the district's changes,
push what the district lacks, fetch the packs the district offers.

Pure protocol logic over two seams, so that it runs the same against the real district over
HTTP, against a district in the same process, and through a transport that injects faults:

- a ``Transport`` posts bytes and returns the status, headers and body (sync/transport.py);
- a ``HubStore`` is the hub's database as sync sees it (classroom_server/services/sync.py).

Nothing is ever taken as sent until the district's signed answer says so, and every answer is
stored before the next request: a sync cut at any byte resumes from the last acknowledged event.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sync import changes, protocol
from sync.protocol import BatchSizer, ProtocolError, WireEvent

TIMEOUT_SECONDS = 30.0
MAX_BATCH_EVENTS = 5000
FIRST_EVENT_BYTES = 32.0  # about what an answer takes in a batch, until a batch has been measured


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes


class Transport(Protocol):
    def post(self, path: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Response:
        """Send one request; raise ``OSError`` (or a subclass) when no answer came back."""


class HubStore(Protocol):
    hub_id: str

    def secret(self) -> str: ...

    def next_counter(self) -> int:
        """A request counter never used before (stored before it is returned)."""

    def raise_counter(self, at_least: int) -> None: ...

    def note_district_version(self, version: int) -> None:
        """Keep the district's protocol version (a USB bundle is written in it)."""

    def positions(self) -> dict[str, int]:
        """The last sequence number this hub holds of each of its own origins."""

    def current_origin(self) -> str: ...

    def events_after(self, origin: str, seq: int, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` stored events of ``origin`` after ``seq``, in order (FIELDS, origin, seq)."""

    def set_acked(self, origin: str, acked: int) -> None: ...

    def quarantine(self, origin: str, seq: int, event_id: str, reason: str) -> None: ...

    def event_id_at(self, origin: str, seq: int) -> str | None: ...

    def begin_new_epoch(self, reason: str) -> str: ...

    def move_divergent(self, origin: str, after: int, new_origin: str) -> int:
        """Move the events after ``after`` of ``origin`` to the end of ``new_origin``; how many."""

    def manifests(self, keys: Sequence[str]) -> dict[str, str]:
        """The engine manifests (canonical JSON text) this hub holds of those named."""

    def restore_events(self, events: Sequence[WireEvent]) -> None:
        """Store events of this hub's own that the district sent back (a rewound log)."""

    def pull_cursor(self) -> int:
        """The number of the last district change this hub applied."""

    def pull_mark(self) -> str:
        """The district's mark of the change the cursor stands on (tells a restored district)."""

    def apply_changes(self, changes: Sequence[Mapping[str, Any]], through: int, mark: str) -> list[str]:
        """Apply district changes and store ``through`` (and the district's ``mark`` of that
        change) as the cursor, in one transaction; returns what was passed over, in words."""

    def reset_pull_cursor(self) -> None:
        """Take the district's changes from the start again (a restored district)."""

    def shared_state(self) -> tuple[dict[str, int], list[str], int]:
        """Per origin of the school's other hubs, how far this hub scanned it; the learners it
        does not follow yet; the total of those origins' marks it last caught up with."""

    def apply_shared(self, events: Sequence[WireEvent], scanned: Mapping[str, int], followed: Sequence[str],
                     head: int | None) -> int:
        """Store other hubs' events about this hub's learners with the new scan places and the
        learners now followed, in one transaction; ``head`` once caught up. Returns events added."""

    def pack_offers(self) -> list[dict[str, Any]]:
        """Packs the district offered that are still to fetch: pack_id, version, sha256, size."""

    def pack_have(self, sha256: str) -> int:
        """How many bytes of that file the hub holds."""

    def pack_room(self, size: int) -> str | None:
        """Why the hub cannot take a file of ``size`` bytes (its disk), or None."""

    def pack_write(self, sha256: str, offset: int, data: bytes) -> None: ...

    def pack_problem(self, pack_id: str, problem: str) -> None: ...

    def pack_finish(self, offer: Mapping[str, Any]) -> str:
        """Check the whole file against its SHA-256 and install it; what happened, in words."""


class SyncError(Exception):
    """A sync that could not finish. ``retry`` says whether trying again later may help."""

    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


@dataclass
class Outcome:
    """What one sync did, for the admin page, the log and the command line."""

    requests: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    pushed: int = 0
    fetched_back: int = 0
    pulled: int = 0  # district changes applied (rosters, assignments, calibrations, pack offers)
    pack_bytes: int = 0  # bytes of pack files fetched
    shared: int = 0  # other hubs' events about this hub's learners, added here
    quarantined: int = 0
    new_epoch: str | None = None
    waiting: int = 0  # events the district has not acknowledged, after this sync
    notes: list[str] = field(default_factory=list)


Progress = Callable[[int, int], None]  # (events done, events to do)


class Session:
    """One sync: ``run()`` makes the requests; the batch sizer may be kept between syncs."""

    def __init__(self, store: HubStore, transport: Transport, sizer: BatchSizer | None = None,
                 progress: Progress | None = None, clock: Callable[[], float] = time.monotonic,
                 pause: Callable[[float], None] | None = None,
                 breathe: Callable[[], None] | None = None) -> None:
        self.store = store
        self.transport = transport
        # Called after each batch pushed with the CPU seconds this thread spent on it: the hub
        # sleeps there while learners are answering (services/sync.py, ``give_way``).
        self.pause = pause or (lambda busy: None)
        # Called between the small steps of making a batch: the hub waits there while a
        # learner's request is being handled (classroom_server/inflight.py).
        self.breathe = breathe
        self.sizer = sizer or BatchSizer()
        self.version = protocol.VERSION  # the district's, once its hello says it
        self.progress = progress or (lambda done, total: None)
        self.clock = clock
        self.outcome = Outcome()
        self._manifests_asked: set[str] = set()
        self.event_bytes = FIRST_EVENT_BYTES  # compressed bytes per event of the last batch

    # --- one signed request ----------------------------------------------------------------
    def call(self, message: str, body: bytes, *, stale_retry: bool = True) -> tuple[int, bytes]:
        path = protocol.PREFIX + message
        secret = self.store.secret()
        counter = self.store.next_counter()
        headers = protocol.sign_request(secret, "POST", path, body, self.store.hub_id, counter)
        started = self.clock()
        try:
            answer = self.transport.post(path, body, headers, TIMEOUT_SECONDS)
        except OSError as exc:
            raise SyncError(f"The district did not answer: {exc}.") from None
        self.outcome.requests += 1
        self.outcome.bytes_sent += len(body)
        self.outcome.bytes_received += len(answer.body)
        if answer.status >= 500:
            raise SyncError(f"The district had a problem (HTTP {answer.status}); it will be tried again.")
        signature = {k.lower(): v for k, v in answer.headers.items()}.get("x-sync-signature")
        if not protocol.response_signed_by(secret, counter, answer.status, answer.body, signature):
            if answer.status in (401, 403, 426) and not signature:
                # Unsigned, so possibly damaged or forged on the way: said, but never taken as final.
                reply = _plain_reply(answer.body)
                raise SyncError(reply.get("message") or "The district refused this hub.")
            raise SyncError("An answer did not come from the district (a damaged or forged answer); "
                            "it will be tried again.")
        reply_status = answer.status
        self.last_seconds = self.clock() - started
        if reply_status == 401 and stale_retry:
            reply = _plain_reply(answer.body)
            if reply.get("error") == "stale_counter" and isinstance(reply.get("last_counter"), int):
                # This hub's counter is behind what the district has seen: a restored backup.
                self.store.raise_counter(reply["last_counter"])
                return self.call(message, body, stale_retry=False)
        if reply_status == 426:
            raise SyncError(_plain_reply(answer.body).get("message") or "The versions do not work together.",
                            retry=False)
        if reply_status in (400, 401, 403, 404, 413):
            reply = _plain_reply(answer.body)
            raise SyncError(reply.get("message") or f"The district refused the request (HTTP {reply_status}).",
                            retry=reply.get("error") not in ("revoked",))
        return reply_status, answer.body

    # --- the sync ------------------------------------------------------------------------
    def run(self) -> Outcome:
        positions = self.store.positions()
        pulled, mark = self.store.pull_cursor(), self.store.pull_mark()
        status, body = self.call("hello", protocol.encode_json(
            {"origins": positions, **({"pulled": pulled, "pulled_mark": mark} if pulled else {})}))
        hello = protocol.decode_json(body)
        problem = protocol.version_problem(hello.get("v"), hello.get("oldest"))
        if problem:
            raise SyncError(problem, retry=False)
        # Batches go in the older of the two versions (a district not yet upgraded reads them).
        self.version = min(protocol.VERSION, int(hello["v"]))
        self.store.note_district_version(self.version)
        mine = self.store.hub_id + "."
        acked = {o: n for o, n in (hello.get("acked") or {}).items() if isinstance(n, int) and o.startswith(mine)}
        tips = {o: t for o, t in (hello.get("tips") or {}).items() if isinstance(t, str)}
        self._recover(positions, acked, tips)
        self._send_manifests(hello.get("manifests"))
        # The district's changes first: the events that record them here then go up in this sync.
        head = hello.get("pull_head")
        if hello.get("pull_from") == 0 and pulled:
            # The district's changes restart below this hub's cursor (its database was restored
            # from a backup): take them all again; what is applied already changes nothing.
            self.store.reset_pull_cursor()
            self.outcome.notes.append("The district's changes were numbered anew (a restored district); "
                                      "this hub took them all again.")
        if isinstance(head, int) and head > self.store.pull_cursor():
            self._pull(head)
        positions = self.store.positions()
        todo = {o: positions[o] - acked.get(o, 0) for o in positions if positions[o] > acked.get(o, 0)}
        total = sum(todo.values())
        done = 0
        self.progress(0, total)
        for origin in sorted(todo):
            self.store.set_acked(origin, acked.get(origin, 0))
            done = self._push_origin(origin, acked.get(origin, 0), positions[origin], done, total)
        for origin in positions:
            if origin not in todo:
                self.store.set_acked(origin, min(acked.get(origin, 0), positions[origin]))
        # The pack versions that the events just pushed name: without them the district cannot
        # fold this hub's log until the next sync's hello asks for them.
        self._send_manifests(sorted(self._manifests_asked))
        head = hello.get("others_head")
        if isinstance(head, int) and head > 0:
            self._shared(head)
        self._fetch_packs()  # last: the learners' events go first on a thin link
        self.outcome.waiting = 0
        return self.outcome

    def _shared(self, head: int) -> None:
        """One learner on two hubs: the events the school's other hubs recorded about this hub's
        learners, so each hub folds the learner's whole log (in the canonical order) and shows
        the numbers the district shows. Asked for only when those hubs sent something since this
        hub last caught up, or this hub has learners it does not follow yet."""
        mine = self.store.hub_id + "."
        while True:
            scanned, unfollowed, caught_up = self.store.shared_state()
            if caught_up == head and not unfollowed:
                return
            status, body = self.call("shared", protocol.encode_json_gzip(
                {"scanned": scanned, "follow": unfollowed[:MAX_FOLLOW], "max_bytes": self.sizer.size * 6}))
            try:
                answer = protocol.decode_json(body)
                events, places, followed, more = _shared_answer(answer, mine)
            except ProtocolError as exc:
                raise SyncError(f"The other hubs' events could not be read ({exc}); it will be tried again.") from None
            self.outcome.shared += self.store.apply_shared(
                events, places, followed, None if more else int(answer.get("head") or head))
            if not more and len(unfollowed) <= MAX_FOLLOW:
                return

    def _fetch_packs(self) -> None:
        """Fetch the packs the district offered, a piece at a time from where the hub's copy
        ends, and install each one whole and checked."""
        for offer in self.store.pack_offers():
            sha, size = offer["sha256"], int(offer["size"])
            have = self.store.pack_have(sha)
            if have == 0:
                problem = self.store.pack_room(size)
                if problem:
                    self.store.pack_problem(offer["pack_id"], problem)
                    self.outcome.notes.append(f"The pack {offer['pack_id']} {offer['version']} waits: {problem}.")
                    continue
            while have < size:
                length = min(self.sizer.size, size - have)
                status, body = self.call("pack", protocol.encode_json({"sha256": sha, "offset": have,
                                                                       "length": length}))
                if status != 206 or not body or len(body) > length:
                    raise SyncError(f"The district sent a wrong piece of the pack {offer['pack_id']}; "
                                    "it will be tried again.")
                self.sizer.succeeded(len(body), self.last_seconds)
                self.store.pack_write(sha, have, body)
                have += len(body)
                self.outcome.pack_bytes += len(body)
            self.outcome.notes.append(self.store.pack_finish(offer))

    def _pull(self, head: int) -> None:
        """The district's changes since this hub's cursor, a batch at a time: each batch applied
        with its cursor in one transaction, so a pull cut anywhere goes on from the last batch."""
        since = self.store.pull_cursor()
        while since < head:
            # Changes travel as gzip-compressed JSON, about 6 times smaller than the text asked for.
            status, body = self.call("changes", protocol.encode_json(
                {"since": since, "max_bytes": self.sizer.size * 6}))
            try:
                answer = protocol.decode_json(body)
                batch, through, more = changes.check_answer(answer, since)
            except (ProtocolError, changes.ChangeError) as exc:
                raise SyncError(f"The district's changes could not be read ({exc}); it will be tried again.") from None
            if through == since:
                break  # nothing after the cursor (head counted changes withdrawn meanwhile)
            self.sizer.succeeded(len(body), self.last_seconds)
            mark = answer.get("mark")
            self.outcome.notes.extend(self.store.apply_changes(batch, through, mark if isinstance(mark, str) else ""))
            self.outcome.pulled += len(batch)
            since = through
            if not more:
                break

    def _send_manifests(self, wanted: Any) -> None:
        """Send the engine manifests the district asked for (by hello, or in push answers)."""
        keys = [k for k in wanted or [] if isinstance(k, str)]
        if keys:
            found = self.store.manifests(keys)
            if found:
                self.call("manifests", protocol.encode_json_gzip({"manifests": found}))

    def _recover(self, positions: dict[str, int], acked: dict[str, int], tips: dict[str, str]) -> None:
        """The district holds events of an origin that this hub lacks, or other events at the same
        numbers: the hub's log was rewound (an old SD card image, a backup copied back by hand),
        and perhaps written on since. Never write on under that origin; move what only the hub
        holds to a new origin; fetch back what the district holds, so the hub's log is whole."""
        current = self.store.current_origin()
        for origin in sorted(acked):
            held = positions.get(origin, 0)
            district = acked[origin]
            tip = tips.get(origin)
            if district <= held and (tip is None or self.store.event_id_at(origin, district) == tip):
                continue
            common = self._last_agreed(origin, min(held, district))
            if origin == current:
                current = self.store.begin_new_epoch(
                    f"the district holds events of {origin} up to {district}; this hub held {held}")
                self.outcome.new_epoch = current
                self.outcome.notes.append("This hub's data was older than what the district holds: it began a "
                                          "new epoch and fetched its own events back.")
            moved = self.store.move_divergent(origin, common, current)
            if moved:
                self.outcome.notes.append(f"{moved} events written after the rewind moved to {current}.")
            self._fetch_back(origin, common, district)

    def _last_agreed(self, origin: str, upto: int) -> int:
        """The last place in ``origin`` up to ``upto`` where the hub and the district hold the same
        event. A rewound log agrees up to where it was rewound and not after, so a binary search
        finds it in about log2(upto) requests (a year of a hub's events: about 20)."""
        low, high = 0, upto  # agreed at low (0: nothing to agree on); the answer is in [low, high]
        while low < high:
            middle = (low + high + 1) // 2
            if self._district_agrees(origin, middle):
                low = middle
            else:
                high = middle - 1
        return low

    def _district_agrees(self, origin: str, seq: int) -> bool:
        """Whether the district's event ``seq`` of ``origin`` is the one this hub holds."""
        status, body = self.call("fetch", protocol.encode_json({"origin": origin, "after": seq - 1, "max_bytes": 1}))
        if status == 204 or not body:
            return False
        try:
            _, first, events = protocol.decode_batch(body)
        except ProtocolError as exc:
            raise SyncError(f"A batch from the district was damaged ({exc}); it will be tried again.") from None
        return first == seq and events[0].event_id == self.store.event_id_at(origin, seq)

    def _fetch_back(self, origin: str, held: int, upto: int) -> None:
        while held < upto:
            status, body = self.call("fetch", protocol.encode_json(
                {"origin": origin, "after": held, "max_bytes": self.sizer.size}))
            if status == 204 or not body:
                raise SyncError(f"The district did not send back events after {held} of {origin}.")
            try:
                got_origin, first, events = protocol.decode_batch(body)
            except ProtocolError as exc:
                raise SyncError(f"A batch from the district was damaged ({exc}); it will be tried again.") from None
            if got_origin != origin or first != held + 1:
                raise SyncError("The district sent back the wrong events; it will be tried again.")
            self.store.restore_events(events)
            held = events[-1].seq
            self.outcome.fetched_back += len(events)

    def _push_origin(self, origin: str, acked: int, last: int, done: int, total: int) -> int:
        while acked < last:
            # As many events as the last batch's bytes per event say fit: one encoding, rarely two.
            limit = max(1, min(MAX_BATCH_EVENTS, int(self.sizer.size / self.event_bytes)))
            working = time.thread_time()
            rows = self.store.events_after(origin, acked, limit)
            if not rows:
                raise SyncError(f"Events after {acked} of {origin} are missing from this hub's log.", retry=False)
            body = protocol.encode_batch(origin, rows, version=self.version, between=self.breathe)
            while len(body) > self.sizer.size and len(rows) > 1:
                rows = rows[: max(1, len(rows) * self.sizer.size // len(body) * 9 // 10)]
                body = protocol.encode_batch(origin, rows, version=self.version, between=self.breathe)
            self.event_bytes = max(1.0, len(body) / len(rows))
            try:
                status, reply_body = self.call("push", body)
            except SyncError:
                self.sizer.failed()
                raise
            self.sizer.succeeded(len(body), self.last_seconds)
            reply = protocol.decode_json(reply_body)
            through = reply.get("acked_through")
            if not isinstance(through, int) or through > int(rows[-1]["seq"]):
                raise SyncError("The district's answer did not say what it acknowledged.")
            self._manifests_asked.update(k for k in reply.get("manifests") or [] if isinstance(k, str))
            for item in reply.get("quarantined") or []:
                self.store.quarantine(origin, int(item["seq"]), str(item["event_id"]), str(item["reason"]))
                self.outcome.quarantined += 1
            if through > acked:
                done += through - acked
                self.outcome.pushed += through - acked
            acked = through  # may also move back: the district lost events and wants them again
            self.store.set_acked(origin, acked)
            self.progress(min(done, total), total)
            if acked < last:
                self.pause(time.thread_time() - working)  # reading, encoding, sending, recording
        return done


MAX_FOLLOW = 5000


def _shared_answer(answer: Mapping[str, Any], mine: str) -> tuple[list[WireEvent], dict[str, int], list[str], bool]:
    """The events, scan places, learners followed and "more to come" of a ``shared`` answer,
    each event checked by its kind's rules; raises ``ProtocolError``."""
    rows, places = answer.get("events"), answer.get("scanned")
    followed, more = answer.get("followed"), answer.get("more")
    if (not isinstance(rows, list) or not isinstance(places, dict) or not isinstance(followed, list)
            or not isinstance(more, bool) or not all(isinstance(v, int) for v in places.values())
            or not all(isinstance(u, str) for u in followed)):
        raise ProtocolError("the answer does not say what it holds")
    events = []
    for row in rows:
        try:
            event = WireEvent(**{name: row[name] for name in ("origin", "seq", *protocol.FIELDS)})
        except (KeyError, TypeError):
            raise ProtocolError("an event is missing a field") from None
        if event.origin.startswith(mine) or not event.learner_uid:
            raise ProtocolError("an event that is not another hub's about a learner")
        event.check()
        events.append(event)
    return events, places, followed, more


def _plain_reply(body: bytes) -> dict[str, Any]:
    try:
        return protocol.decode_json(body)
    except ProtocolError:
        return {}
