"""USB sync bundles: a hub's events on a stick to the district, and the district's answer back. Pure.

A school with no usable link carries a stick to the district office. The hub writes a bundle of
everything the district has not acknowledged yet (so a lost stick loses nothing: the next bundle
holds it all again); the district applies it through the network path's own steps and writes a
return bundle (acknowledgements, the district's changes, the hub's own events when its log was
rewound, other hubs' events about its learners, pack files offered); the hub applies that the
way a sync applies the district's answers (``apply_return``).

A bundle is a ZIP file (members stored, not deflated: what is inside is compressed already):

    manifest.json    what the bundle is: format, direction, hub, the hub's request counter,
                     positions, and per member its name, SHA-256 and size
    signature        "hmac-sha256=" + HMAC of the hub's secret over the direction and the
                     manifest's SHA-256: the manifest names every member's hash, so the
                     signature covers every byte; only the hub and its district hold the secret
    events/...       push batches, exactly as a network push sends them (protocol.encode_batch),
                     of about ``SEGMENT_BYTES`` each
    ...              a return bundle's changes, events, shared events and pack files

It is written under a temporary name, flushed to the device and renamed, so a file that looks
whole is whole; a write that fails (a full stick) removes what it wrote. One file stays under
FAT32's 4 GB limit (``FAT32_MAX_FILE``): an export larger than that is cut into several files,
each a bundle of its own.

Standard library only (and the protocol): no Flask, no database.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import json
import os
import uuid
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sync import changes, client, protocol
from sync.protocol import ProtocolError, WireEvent

FORMAT = "classroom-sync-bundle"
FORMAT_VERSION = 1
TO_DISTRICT = "hub-to-district"
TO_HUB = "district-to-hub"
SUFFIX = ".bundle"
SEGMENT_BYTES = 1024 * 1024
FAT32_MAX_FILE = 4 * 1024**3 - 1
MAX_FILE_BYTES = FAT32_MAX_FILE - 64 * 1024 * 1024  # room for the manifest and the ZIP directory
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
MAX_MEMBER_BYTES = 512 * 1024 * 1024  # a pack file; an event segment is about 1 MB
MANIFEST = "manifest.json"
SIGNATURE = "signature"


class BundleError(ValueError):
    """A bundle that cannot be written or read as a whole, in words for the person holding it."""


class MemberDamaged(ValueError):
    """One member of a bundle is missing or damaged; the rest of the bundle can still be used."""


def file_name(direction: str, hub_id: str, counter: int, part: int = 1) -> str:
    """``hub-<hub>-<counter>.bundle`` from a hub, ``return-<hub>-<counter>.bundle`` from the district."""
    stem = "hub" if direction == TO_DISTRICT else "return"
    suffix = f"-part{part}" if part > 1 else ""
    return f"{stem}-{hub_id}-{counter:06d}{suffix}{SUFFIX}"


def _signature_text(direction: str, manifest: bytes) -> bytes:
    return "\n".join((protocol.SIGNATURE_ALG, "bundle", direction, protocol.sha256_hex(manifest))).encode()


def sign(secret: str, direction: str, manifest: bytes) -> str:
    mac = hmac.new(secret.encode(), _signature_text(direction, manifest), hashlib.sha256).hexdigest()
    return f"{protocol.SIGNATURE_ALG}={mac}"


def signed_by(secret: str, direction: str, manifest: bytes, signature: str) -> bool:
    alg, _, given = signature.strip().partition("=")
    expected = hmac.new(secret.encode(), _signature_text(direction, manifest), hashlib.sha256).hexdigest()
    return alg == protocol.SIGNATURE_ALG and hmac.compare_digest(expected, given)


# --- writing -------------------------------------------------------------------------------------

def _plain_write_error(exc: OSError, folder: Path) -> str:
    if exc.errno == errno.ENOSPC:
        return f"{folder} is full: make room on it (or use another stick) and write the bundle again."
    if exc.errno == errno.EROFS:
        return f"{folder} is read-only (a locked stick?): unlock it or use another one."
    if exc.errno == errno.EFBIG:
        return f"The file is too large for the file system of {folder}."
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"This hub may not write to {folder}."
    if exc.errno in (errno.EIO, errno.ENODEV, errno.ENXIO):
        return f"{folder} stopped answering (was the stick pulled out?): put it back and write the bundle again."
    return f"The bundle could not be written to {folder}: {exc.strerror or exc}."


class Writer:
    """One bundle file, written under a temporary name and renamed only once it is whole.

    ``add`` a member (bytes, or pieces of bytes for a large file), then ``finish`` with the
    manifest; ``abort`` (or leaving a ``with`` block on an error) removes the temporary file."""

    def __init__(self, folder: Path, name: str, direction: str, secret: str,
                 opener: Callable[[Path], IO[bytes]] | None = None) -> None:
        self.folder = Path(folder)
        self.path = self.folder / name
        self.temporary = self.folder / f".{name}.part"
        self.direction = direction
        self.secret = secret
        self.members: list[dict[str, Any]] = []
        try:
            self._file = opener(self.temporary) if opener else open(self.temporary, "wb")  # noqa: SIM115
        except OSError as exc:
            raise BundleError(_plain_write_error(exc, self.folder)) from None
        self._zip = zipfile.ZipFile(self._file, "w", compression=zipfile.ZIP_STORED, allowZip64=True)
        self._done = False

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
        if not self._done:
            self.abort()

    def size(self) -> int:
        """Bytes written so far (without the manifest and the ZIP's directory)."""
        return self._file.tell()

    def add(self, name: str, data: bytes | Iterable[bytes], **meta: Any) -> dict[str, Any]:
        digest = hashlib.sha256()
        size = 0
        try:
            with self._zip.open(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), "w",
                                force_zip64=not isinstance(data, bytes)) as member:
                for piece in ([data] if isinstance(data, bytes) else data):
                    member.write(piece)
                    digest.update(piece)
                    size += len(piece)
        except OSError as exc:
            self.abort()
            raise BundleError(_plain_write_error(exc, self.folder)) from None
        entry = {"name": name, "sha256": digest.hexdigest(), "bytes": size, **meta}
        self.members.append(entry)
        return entry

    def finish(self, manifest: Mapping[str, Any]) -> Path:
        body = protocol.canonical({"format": FORMAT, "format_version": FORMAT_VERSION, "v": protocol.VERSION,
                                   "oldest": protocol.OLDEST_COMPATIBLE, "direction": self.direction,
                                   **manifest, "members": self.members})
        try:
            self._zip.writestr(zipfile.ZipInfo(MANIFEST, date_time=(1980, 1, 1, 0, 0, 0)), body)
            self._zip.writestr(zipfile.ZipInfo(SIGNATURE, date_time=(1980, 1, 1, 0, 0, 0)),
                               sign(self.secret, self.direction, body))
            self._zip.close()
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self.temporary, self.path)
            _fsync_folder(self.folder)
        except OSError as exc:
            self.abort()
            raise BundleError(_plain_write_error(exc, self.folder)) from None
        self._done = True
        return self.path

    def abort(self) -> None:
        self._done = True
        for close in (self._zip.close, self._file.close):
            # The file is removed next: what it held no longer matters.
            with contextlib.suppress(OSError, ValueError):
                close()
        # A stick pulled out leaves nothing to remove, and the name says ".part".
        with contextlib.suppress(OSError):
            self.temporary.unlink()


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (a stick pulled right after keeps the whole file)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # some file systems (FAT on some kernels) do not open folders: the file's own fsync stands
    try:
        with contextlib.suppress(OSError):  # FAT32 sticks refuse it on a folder: the file's own fsync stands
            os.fsync(handle)
    finally:
        os.close(handle)


# --- reading -------------------------------------------------------------------------------------

@dataclass
class Bundle:
    """A bundle whose manifest and signature are checked; members are checked as they are read."""

    path: Path
    manifest: dict[str, Any]
    _zip: zipfile.ZipFile

    @property
    def direction(self) -> str:
        return str(self.manifest["direction"])

    @property
    def hub_id(self) -> str:
        return str(self.manifest["hub_id"])

    @property
    def counter(self) -> int:
        return int(self.manifest["counter"])

    def members(self, prefix: str = "") -> list[dict[str, Any]]:
        return [m for m in self.manifest["members"] if str(m.get("name", "")).startswith(prefix)]

    def read(self, entry: Mapping[str, Any]) -> bytes:
        """A member's bytes, checked against the size and SHA-256 the signed manifest gives."""
        name = str(entry["name"])
        try:
            info = self._zip.getinfo(name)
        except KeyError:
            raise MemberDamaged(f"{name} is missing from the bundle (an incomplete copy?)") from None
        if info.file_size != entry["bytes"] or info.file_size > MAX_MEMBER_BYTES:
            raise MemberDamaged(f"{name} has the wrong size: damaged on the stick")
        try:
            data = self._zip.read(info)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise MemberDamaged(f"{name} cannot be read ({exc}): damaged on the stick") from None
        if protocol.sha256_hex(data) != entry["sha256"]:
            raise MemberDamaged(f"{name} is damaged (its bytes changed on the stick)")
        return data

    def stream(self, entry: Mapping[str, Any], piece: int = 1024 * 1024) -> Iterable[bytes]:
        """A large member (a pack file) a piece at a time; its size is checked here, its hash by
        whoever takes the whole (a pack is checked against its SHA-256 before it is installed)."""
        name = str(entry["name"])
        try:
            info = self._zip.getinfo(name)
        except KeyError:
            raise MemberDamaged(f"{name} is missing from the bundle (an incomplete copy?)") from None
        if info.file_size != entry["bytes"]:
            raise MemberDamaged(f"{name} has the wrong size: damaged on the stick")
        try:
            with self._zip.open(info) as member:
                while block := member.read(piece):
                    yield block
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise MemberDamaged(f"{name} cannot be read ({exc}): damaged on the stick") from None

    def read_json(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return protocol.decode_json(self.read(entry))
        except ProtocolError as exc:
            raise MemberDamaged(f"{entry['name']}: {exc}") from None

    def close(self) -> None:
        self._zip.close()


def _check_manifest(manifest: Any) -> dict[str, Any]:
    problem = BundleError("The bundle's manifest is not one this version understands (damaged, or not a sync "
                          "bundle).")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError("This file is not a sync bundle.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BundleError(f"This bundle is of format {manifest.get('format_version')!r}; this version reads format "
                          f"{FORMAT_VERSION}: upgrade the side that cannot read it.")
    members = manifest.get("members")
    if (manifest.get("direction") not in (TO_DISTRICT, TO_HUB) or not isinstance(manifest.get("hub_id"), str)
            or not isinstance(manifest.get("counter"), int) or not isinstance(members, list)):
        raise problem
    for entry in members:
        if (not isinstance(entry, dict) or not isinstance(entry.get("name"), str)
                or not isinstance(entry.get("sha256"), str) or not isinstance(entry.get("bytes"), int)
                or entry["name"] in (MANIFEST, SIGNATURE) or entry["name"].startswith(("/", "..")) or ".." in
                entry["name"].split("/")):
            raise problem
    return manifest


def open_bundle(path: Path, secret_for: Callable[[dict[str, Any]], str]) -> Bundle:
    """Open a bundle and check its signature with the secret ``secret_for(manifest)`` gives
    (which raises ``BundleError`` when it knows no such hub). Raises ``BundleError`` in words."""
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise BundleError(f"There is no file {path}.") from None
    except (zipfile.BadZipFile, EOFError):
        raise BundleError(f"{path.name} is not a whole sync bundle: a half-copied file (was the stick removed "
                          "before it was ejected?) or not a bundle at all. Copy it again from where it was "
                          "written.") from None
    except OSError as exc:
        raise BundleError(f"{path.name} cannot be read: {exc.strerror or exc}.") from None
    try:
        try:
            info = archive.getinfo(MANIFEST)
            if info.file_size > MAX_MANIFEST_BYTES:
                raise BundleError(f"{path.name}'s manifest is too large to be a sync bundle's.")
            body = archive.read(info)
            signature = archive.read(SIGNATURE).decode("ascii", "replace")
        except KeyError:
            raise BundleError(f"{path.name} is not a sync bundle (it has no manifest or no signature).") from None
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            raise BundleError(f"{path.name} is damaged: its manifest cannot be read.") from None
        try:
            manifest = _check_manifest(json.loads(body))
        except (ValueError, UnicodeDecodeError):
            raise BundleError(f"{path.name} is damaged: its manifest is not JSON.") from None
        problem = protocol.version_problem(manifest.get("v"), manifest.get("oldest"))
        if problem:
            raise BundleError(problem)
        secret = secret_for(manifest)
        if not signed_by(secret, manifest["direction"], body, signature):
            raise BundleError(f"{path.name} does not carry a valid signature: it was altered after it was written, "
                              "or written by another district or for another hub. Nothing in it was used.")
        return Bundle(path, manifest, archive)
    except BaseException:
        archive.close()
        raise


# --- the hub's bundle: what it holds -------------------------------------------------------------

@dataclass(frozen=True)
class Segment:
    """One push batch of a bundle, as the manifest lists it."""

    entry: dict[str, Any]
    origin: str
    first: int
    last: int

    @property
    def count(self) -> int:
        return self.last - self.first + 1


def segments(bundle: Bundle) -> list[Segment]:
    """The event segments a hub's bundle lists, by origin and first event."""
    found = []
    for entry in bundle.members("events/"):
        origin, first, last = entry.get("origin"), entry.get("first"), entry.get("last")
        if not isinstance(origin, str) or not isinstance(first, int) or not isinstance(last, int) or last < first:
            raise BundleError(f"{bundle.path.name}'s manifest lists an event segment without its place in the log.")
        found.append(Segment(entry, origin, first, last))
    return sorted(found, key=lambda s: (s.origin, s.first, s.last))


def export_segments(origin: str, rows: Sequence[Mapping[str, Any]], max_bytes: int = SEGMENT_BYTES, *,
                    version: int = protocol.VERSION) -> Iterable[tuple[bytes, int, int]]:
    """Cut a contiguous run of one origin's events into push batches of about ``max_bytes``
    compressed: (batch, first seq, last seq) each."""
    at = 0
    while at < len(rows):
        count = protocol.batch_limit(rows[at:], max_bytes)
        body = protocol.encode_batch(origin, rows[at:at + count], version=version)
        while len(body) > max_bytes and count > 1:
            count = max(1, count * max_bytes // len(body) * 9 // 10)
            body = protocol.encode_batch(origin, rows[at:at + count], version=version)
        yield body, int(rows[at]["seq"]), int(rows[at + count - 1]["seq"])
        at += count


# --- the district's answer, applied on the hub ---------------------------------------------------

@dataclass
class ReturnAnswer:
    """What a return bundle says, read and checked member by member."""

    bundle: Bundle
    hello: dict[str, Any]
    returned: dict[str, list[WireEvent]] = field(default_factory=dict)  # this hub's own events, per origin
    returned_from: dict[str, int] = field(default_factory=dict)  # the first seq sent back, per origin
    change_pages: list[dict[str, Any]] = field(default_factory=list)
    shared: dict[str, Any] | None = None
    packs: dict[str, dict[str, Any]] = field(default_factory=dict)  # sha256 -> member entry
    problems: list[str] = field(default_factory=list)


def read_return(bundle: Bundle) -> ReturnAnswer:
    """The district's answer in a return bundle. A damaged member is said in ``problems`` and
    left out (what it would have carried comes again with the next bundle); a damaged answer
    (the part every other part rests on) refuses the whole bundle."""
    try:
        hello = bundle.read_json(_one(bundle, "answer.json"))
    except MemberDamaged as exc:
        raise BundleError(f"{bundle.path.name} is damaged ({exc}): nothing in it was used. Ask the district for "
                          "the return bundle again.") from None
    answer = ReturnAnswer(bundle, hello)
    for entry in bundle.members("returned/"):
        try:
            origin, first, events = protocol.decode_batch(bundle.read(entry))
        except (MemberDamaged, ProtocolError) as exc:
            answer.problems.append(str(exc))
            continue
        answer.returned.setdefault(origin, []).extend(events)
    for origin, events in answer.returned.items():
        events.sort(key=lambda e: e.seq)
        answer.returned_from[origin] = events[0].seq
    pages = bundle.members("changes/")
    for entry in sorted(pages, key=lambda e: e["name"]):
        try:
            answer.change_pages.append(bundle.read_json(entry))
        except MemberDamaged as exc:
            answer.problems.append(f"{exc}; the district's changes after it wait for the next bundle")
            break  # changes are applied in order: none after a gap
    shared = bundle.members("shared.json")
    if shared:
        try:
            answer.shared = bundle.read_json(shared[0])
        except MemberDamaged as exc:
            answer.problems.append(str(exc))
    for entry in bundle.members("packs/"):
        if isinstance(entry.get("pack"), dict):
            answer.packs[str(entry["sha256"])] = entry
    return answer


def _one(bundle: Bundle, name: str) -> dict[str, Any]:
    found = bundle.members(name)
    if len(found) != 1:
        raise MemberDamaged(f"{name} is not listed in the manifest")
    return found[0]


class ReturnSession(client.Session):
    """A sync whose answers come from a return bundle instead of the network: the same steps as
    ``client.Session`` (a rewound log recovered, the district's changes applied with their
    cursor, acknowledgements stored, other hubs' events taken, pack files installed), the same
    hub store, and no request."""

    def __init__(self, store: client.HubStore, answer: ReturnAnswer, *, newest: bool) -> None:
        super().__init__(store, _NoTransport())
        self.answer = answer
        self.newest = newest  # no newer return bundle was applied before: its acknowledgements stand

    def run(self) -> client.Outcome:
        hello = self.answer.hello
        mine = self.store.hub_id + "."
        acked = {o: n for o, n in (hello.get("acked") or {}).items() if isinstance(n, int) and o.startswith(mine)}
        tips = {o: t for o, t in (hello.get("tips") or {}).items() if isinstance(t, str)}
        positions = self.store.positions()
        for origin in sorted(acked):
            held, district, tip = positions.get(origin, 0), acked[origin], tips.get(origin)
            agrees = district <= held and (tip is None or self.store.event_id_at(origin, district) == tip)
            if not agrees and origin not in self.answer.returned:
                # Rewound, but the events to mend it did not come (a damaged member): left as it is,
                # and the next bundle asks again.
                self.outcome.notes.append(f"This hub's log of {origin} differs from the district's, and the "
                                          "events to mend it did not come in this bundle: write a new bundle.")
                del acked[origin]
        self._recover(positions, acked, tips)
        self._apply_changes()
        positions = self.store.positions()
        if self.newest:
            for origin, held in positions.items():
                if origin in acked or origin not in (hello.get("acked") or {}):
                    self.store.set_acked(origin, min(acked.get(origin, 0), held))
            for item in hello.get("quarantined") or []:
                if isinstance(item, dict) and str(item.get("origin", "")).startswith(mine):
                    self.store.quarantine(str(item["origin"]), int(item["seq"]), str(item["event_id"]),
                                          str(item["reason"]))
                    self.outcome.quarantined += 1
        self._apply_shared()
        self._install_packs()
        self.outcome.notes.extend(self.answer.problems)
        return self.outcome

    # A rewound log, answered from the events the bundle carries back (client.Session._recover).
    def _district_agrees(self, origin: str, seq: int) -> bool:
        first = self.answer.returned_from.get(origin)
        if first is None or seq < first:
            # Below what came back: the hub's acknowledged events, which the district holds as sent.
            return first is not None
        event = next((e for e in self.answer.returned[origin] if e.seq == seq), None)
        return event is not None and event.event_id == self.store.event_id_at(origin, seq)

    def _fetch_back(self, origin: str, held: int, upto: int) -> None:
        wanted = [e for e in self.answer.returned.get(origin, []) if held < e.seq <= upto]
        if [e.seq for e in wanted] != list(range(held + 1, upto + 1)):
            raise client.SyncError(f"The return bundle does not hold this hub's events {held + 1} to {upto} of "
                                   f"{origin}: write a new bundle, take it to the district, and bring its answer "
                                   "back.")
        for start in range(0, len(wanted), 5000):
            self.store.restore_events(wanted[start:start + 5000])
        self.outcome.fetched_back += len(wanted)

    def _apply_changes(self) -> None:
        if self.answer.hello.get("pull_from") == 0 and self.newest and self.store.pull_cursor():
            self.store.reset_pull_cursor()
            self.outcome.notes.append("The district's changes were numbered anew (a restored district); "
                                      "this hub took them all again.")
        for page in self.answer.change_pages:
            since = page.get("since")
            cursor = self.store.pull_cursor()
            if not isinstance(since, int) or since > cursor:
                self.outcome.notes.append("The district's changes in this bundle start after the ones this hub "
                                          "holds: they wait for the next bundle.")
                return
            try:
                batch, through, more = changes.check_answer(page, since)
            except changes.ChangeError as exc:
                self.outcome.notes.append(f"The district's changes could not be read ({exc}).")
                return
            if through <= cursor:
                continue  # applied already, from this bundle or a newer one
            batch = [c for c in batch if c["seq"] > cursor]
            mark = page.get("mark")
            self.outcome.notes.extend(self.store.apply_changes(batch, through, mark if isinstance(mark, str) else ""))
            self.outcome.pulled += len(batch)

    def _apply_shared(self) -> None:
        answer = self.answer.shared
        if answer is None:
            return
        try:
            events, places, followed, _more = client._shared_answer(answer, self.store.hub_id + ".")
        except ProtocolError as exc:
            self.outcome.notes.append(f"The other hubs' events could not be read ({exc}).")
            return
        head = answer.get("head")
        self.outcome.shared += self.store.apply_shared(events, places, followed,
                                                       int(head) if isinstance(head, int) else None)

    def _install_packs(self) -> None:
        for offer in self.store.pack_offers():
            entry = self.answer.packs.get(str(offer["sha256"]))
            if entry is None:
                continue
            size = int(entry["bytes"])
            have = self.store.pack_have(offer["sha256"])
            problem = self.store.pack_room(size) if have == 0 else None
            if problem:
                self.store.pack_problem(offer["pack_id"], problem)
                self.outcome.notes.append(f"The pack {offer['pack_id']} {offer['version']} waits: {problem}.")
                continue
            try:
                at = 0
                for piece in self.answer.bundle.stream(entry):
                    if at + len(piece) > have:
                        skip = max(0, have - at)
                        self.store.pack_write(offer["sha256"], at + skip, piece[skip:])
                        self.outcome.pack_bytes += len(piece) - skip
                    at += len(piece)
            except MemberDamaged as exc:
                self.outcome.notes.append(f"The pack {offer['pack_id']} {offer['version']} waits: {exc}.")
                continue
            # The whole file is checked against its SHA-256 before it is installed.
            self.outcome.notes.append(self.store.pack_finish(offer))


class _NoTransport:
    def post(self, path: str, body: bytes, headers: Mapping[str, str], timeout: float) -> client.Response:
        raise OSError("a return bundle answers no requests")


def bundle_id() -> str:
    return uuid.uuid4().hex
