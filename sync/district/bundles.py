"""USB bundles at the district: a hub's bundle applied through the network path's own steps, and
the return bundle that carries the district's answer back to the hub (sync/bundle.py).

Each step is the service function a network request runs (``hello``, ``push`` for every event
segment, ``manifests``, ``fetch``, ``changes_since``, ``shared``), so a bundle and a sync cannot
disagree: the same checks (the hub's signature, its own origins, its school's learners), the
same quarantine, and the same idempotence. A bundle applied twice, an older bundle after a newer
one, or the parts of a large export in any order change nothing twice; what cannot be used yet
(a damaged or missing segment, and the segments after it) waits for the next bundle, which holds
everything the district has not acknowledged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sync import bundle, protocol
from sync.bundle import Bundle, BundleError, MemberDamaged, Segment
from sync.district import service
from sync.district.models import PACK_CHUNK, Hub, Origin, PackChunk, PackFile
from sync.district.models import Event as DistrictEvent
from sync.district.service import Refused

FETCH_BYTES = protocol.MAX_BATCH_BYTES
CHANGES_BYTES = 8 * 1024 * 1024  # JSON text per page of changes (about a megabyte compressed)
SHARED_BYTES = 32 * 1024 * 1024


@dataclass
class Refusal:
    """A file the district could not use at all, and why, in words."""

    path: Path
    message: str


@dataclass
class Imported:
    """What one hub's bundles did at the district."""

    hub: Hub
    files: list[str]
    taken: int = 0  # events new to the district
    held: int = 0  # events the district held already (a bundle imported twice, an older one)
    quarantined: int = 0
    rewound: list[str] = field(default_factory=list)  # origins whose log the hub must mend
    waiting: list[str] = field(default_factory=list)  # what could not be used yet, in words
    notes: list[str] = field(default_factory=list)  # what else happened, in words
    returned: int = 0  # the hub's own events going back to it
    changes: int = 0  # district changes in the return bundle
    shared: int = 0  # other hubs' events about its learners in the return bundle
    packs: int = 0  # pack files in the return bundle
    return_path: Path | None = None
    return_problem: str | None = None


def _secret_for(manifest: dict[str, Any]) -> str:
    registration = service.hub_for(manifest.get("hub_id"))
    if registration is None or not registration.secret:
        raise BundleError(f"This bundle comes from a hub this district does not know ({manifest.get('hub_id')}): "
                          "it belongs to another district, or the hub was never enrolled here. Nothing in it was "
                          "used.")
    if registration.revoked_at:
        raise BundleError(f"The district revoked the enrolment of the hub {registration.name} "
                          f"({registration.school.name}): its bundle was not used.")
    return str(registration.secret)


def bundle_files(paths: Iterable[Path]) -> list[Path]:
    """The files named, with the hubs' bundles found in any folder named."""
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found.extend(sorted(path.glob(f"hub-*{bundle.SUFFIX}")))
        else:
            found.append(path)
    return found


def import_bundles(paths: Sequence[Path], return_to: Path | None = None) -> tuple[list[Imported], list[Refusal]]:
    """Apply hubs' bundles; write one return bundle per hub into ``return_to`` (by default, the
    folder of that hub's bundle: back onto the stick). Files that cannot be used are refused, in
    words; the others are applied."""
    refused: list[Refusal] = []
    by_hub: dict[str, list[Bundle]] = {}
    for path in bundle_files(paths):
        try:
            opened = bundle.open_bundle(path, _secret_for)
        except BundleError as exc:
            refused.append(Refusal(Path(path), str(exc)))
            continue
        if opened.direction != bundle.TO_DISTRICT:
            opened.close()
            refused.append(Refusal(Path(path), f"{Path(path).name} is the district's answer to a hub: carry it back "
                                               "to the school and read it there (classroom-server sync import)."))
            continue
        by_hub.setdefault(opened.hub_id, []).append(opened)
    results = []
    for hub_id, bundles in sorted(by_hub.items()):
        try:
            registration = service.hub_for(hub_id)
            assert registration is not None  # its secret was found a moment ago
            result, state = _apply(registration, bundles)
            folder = Path(return_to) if return_to else bundles[0].path.parent
            try:
                result.return_path = _write_return(registration, state, folder)
            except BundleError as exc:
                result.return_problem = (f"{exc} The bundle was applied; import it again to write its answer (it "
                                         "changes nothing twice).")
            Hub.update(last_bundle_at=service.now(), protocol_version=max(int(b.manifest["v"]) for b in bundles),
                       last_problem="; ".join(result.waiting) or None).where(Hub.id == registration.id).execute()
            results.append(result)
        finally:
            for opened in bundles:
                opened.close()
    return results, refused


@dataclass
class _State:
    """What the newest of a hub's bundles says of the hub, and what the district answers."""

    newest: Bundle
    segments: list[tuple[Segment, Bundle]]
    answer: dict[str, Any] = field(default_factory=dict)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    returned_from: dict[str, int] = field(default_factory=dict)
    pages: list[dict[str, Any]] = field(default_factory=list)
    shared: dict[str, Any] | None = None
    packs: list[str] = field(default_factory=list)
    returned: list[tuple[str, int, bytes]] = field(default_factory=list)  # (origin, first, batch)


def _apply(registration: Hub, bundles: list[Bundle]) -> tuple[Imported, _State]:
    newest = max(bundles, key=lambda b: b.counter)
    result = Imported(registration, [b.path.name for b in bundles])
    seen: dict[tuple[str, int, int, str], tuple[Segment, Bundle]] = {}
    for opened in bundles:
        try:
            for segment in bundle.segments(opened):
                seen.setdefault((segment.origin, segment.first, segment.last, segment.entry["sha256"]),
                                (segment, opened))
        except BundleError as exc:
            result.waiting.append(str(exc))
    state = _State(newest, sorted(seen.values(), key=lambda s: (s[0].origin, s[0].first, s[0].last)))
    manifest = newest.manifest
    positions = {o: n for o, n in (manifest.get("origins") or {}).items() if isinstance(n, int)}
    before = service.hello(registration, {"origins": positions})
    rewound, shorter = _rewound(registration, state, positions, before, result)
    _push(registration, state, rewound, result)
    _send_manifests(registration, bundles, result)
    pulled, mark = manifest.get("pulled"), manifest.get("pulled_mark")
    after = service.hello(registration, {"origins": positions,
                                         **({"pulled": pulled, "pulled_mark": mark} if pulled else {})})
    _return_events(registration, state, rewound | shorter, result)
    since = 0 if after.get("pull_from") == 0 or not isinstance(pulled, int) else pulled
    _changes(registration, state, since, result)
    _shared(registration, state, result)
    _packs(state, result)
    state.answer = {"answers": newest.counter, "acked": after["acked"], "tips": after["tips"],
                    **({"pull_from": 0} if "pull_from" in after else {}),
                    "quarantined": state.quarantined, "notes": result.waiting + result.notes}
    result.rewound = sorted(rewound)
    return result, state


def _hwm(origin: str) -> int:
    row = Origin.get_or_none(Origin.origin == origin)
    return int(row.hwm) if row is not None else 0


def _event_id_at(state: _State, origin: str, seq: int) -> str | None:
    """The hub's event at ``seq`` of ``origin``, when one of its bundles holds it."""
    for segment, opened in state.segments:
        if segment.origin == origin and segment.first <= seq <= segment.last:
            try:
                _, first, events = protocol.decode_batch(opened.read(segment.entry))
            except (MemberDamaged, protocol.ProtocolError):
                continue
            return events[seq - first].event_id
    return None


def _rewound(registration: Hub, state: _State, positions: dict[str, int], before: dict[str, Any],
             result: Imported) -> tuple[set[str], set[str]]:
    """The origins whose log on the hub parts from the district's copy (a restored backup or an
    old SD card image, written on since), and those of which the bundle holds less than the
    district (an older bundle read late, or a hub restored and not written on).

    A parted origin's events are not taken (each would be a conflict); the return bundle carries
    the district's copy back, the hub moves what only it holds to a new epoch (as a network sync
    does), and its next bundle brings that. A shorter origin is pushed as usual (all resends),
    and the district's copy goes back too, in case the hub lost it."""
    tips = state.newest.manifest.get("tips") or {}
    parted, shorter = set(), set()
    for origin, district in (before.get("acked") or {}).items():
        held = positions.get(origin, 0)
        if district > held:
            if held and _district_event_id(origin, held) != tips.get(origin):
                parted.add(origin)
            else:
                shorter.add(origin)
            continue
        hub_event = tips.get(origin) if district == held else _event_id_at(state, origin, district)
        if hub_event is not None and hub_event != before["tips"].get(origin):
            parted.add(origin)
    for origin in sorted(parted):
        result.waiting.append(f"The hub's log of {origin} parts from the district's copy (restored from a backup "
                              "or an old SD card?): its events there were not taken. The return bundle takes the "
                              "district's copy back; the hub's next bundle brings the rest.")
    for origin in sorted(shorter):
        result.notes.append(f"This bundle holds less of {origin} than the district does (an older bundle, or a hub "
                            "restored from a backup): the return bundle takes the district's copy back.")
    return parted, shorter


def _district_event_id(origin: str, seq: int) -> str | None:
    row = DistrictEvent.get_or_none((DistrictEvent.origin == origin) & (DistrictEvent.seq == seq))
    return row.event_id if row is not None else None


def _push(registration: Hub, state: _State, rewound: set[str], result: Imported) -> None:
    """Every segment through the network push, in log order per origin."""
    gap: dict[str, int] = {}
    for segment, opened in state.segments:
        if segment.origin in rewound:
            continue
        acked = _hwm(segment.origin)
        if segment.last <= acked:
            result.held += segment.count
            continue
        try:
            data = opened.read(segment.entry)
            reply = service.push(registration, data)
        except MemberDamaged as exc:
            result.waiting.append(f"{exc}: events {segment.first} to {segment.last} of {segment.origin} wait for "
                                  "the next bundle")
            gap.setdefault(segment.origin, segment.first)
            continue
        except Refused as exc:
            result.waiting.append(f"events {segment.first} to {segment.last} of {segment.origin}: {exc.message}")
            gap.setdefault(segment.origin, segment.first)
            continue
        through = reply.acked_through
        result.taken += max(0, through - acked)
        result.held += max(0, min(acked, segment.last) - segment.first + 1)
        for item in reply.quarantined:
            state.quarantined.append({"origin": segment.origin, **item})
        result.quarantined += len(reply.quarantined)
        if through < segment.last and segment.origin not in gap:
            gap[segment.origin] = through + 1
    for origin, first in sorted(gap.items()):
        result.waiting.append(f"events of {origin} from {first} on wait for the next bundle (something before them "
                              "is missing)")


def _send_manifests(registration: Hub, bundles: list[Bundle], result: Imported) -> None:
    """The engine manifests the district lacks, from any of the bundles (the network path sends
    them when a hello or a push asks)."""
    wanted = set(service._manifest_keys_wanted(registration))
    if not wanted:
        return
    given: dict[str, str] = {}
    for opened in bundles:
        for entry in opened.members("manifests.json"):
            try:
                held = opened.read_json(entry).get("manifests") or {}
            except MemberDamaged as exc:
                result.waiting.append(str(exc))
                continue
            given.update({k: v for k, v in held.items() if k in wanted and isinstance(v, str)})
    if given:
        try:
            service.manifests(registration, {"manifests": given})
        except Refused as exc:
            result.waiting.append(exc.message)


def _return_events(registration: Hub, state: _State, rewound: set[str], result: Imported) -> None:
    """For each rewound origin, the district's copy of the hub's events from the first the hub
    has not seen acknowledged."""
    acked = state.newest.manifest.get("acked") or {}
    positions = state.newest.manifest.get("origins") or {}
    for origin in sorted(rewound):
        after = min(int(acked.get(origin, 0) or 0), int(positions.get(origin, 0) or 0))
        state.returned_from[origin] = after + 1
        while True:
            batch = service.fetch(registration, {"origin": origin, "after": after, "max_bytes": FETCH_BYTES,
                                                 "v": int(state.newest.manifest["v"])})
            if batch is None:
                break
            _, first, events = protocol.decode_batch(batch)
            state.returned.append((origin, first, batch))
            result.returned += len(events)
            after = events[-1].seq


def _changes(registration: Hub, state: _State, since: int, result: Imported) -> None:
    while True:
        page = service.changes_since(registration, {"since": since, "max_bytes": CHANGES_BYTES})
        if page["through"] <= since and not page["changes"]:
            break
        state.pages.append({"since": since, **page})
        result.changes += len(page["changes"])
        since = page["through"]
        if not page["more"]:
            break


def _shared(registration: Hub, state: _State, result: Imported) -> None:
    """Other hubs' events about this hub's learners (one learner on two hubs), as the network's
    ``shared`` gives them, all at once."""
    asked = state.newest.manifest.get("shared")
    if not isinstance(asked, dict):
        return
    scanned = {o: n for o, n in (asked.get("scanned") or {}).items() if isinstance(n, int)}
    follow = [u for u in asked.get("follow") or [] if isinstance(u, str)]
    events: list[dict[str, Any]] = []
    followed: list[str] = []
    head = 0
    for _ in range(10_000):  # each answer moves the scan on; this bounds a district that would not
        try:
            answer = service.shared(registration, {"scanned": scanned, "follow": follow[:service.MAX_FOLLOW],
                                                   "max_bytes": SHARED_BYTES})
        except Refused as exc:
            result.waiting.append(exc.message)
            return
        events.extend(answer["events"])
        followed.extend(answer["followed"])
        scanned = answer["scanned"]
        head = answer["head"]
        follow = [u for u in follow if u not in set(answer["followed"])]
        if not answer["more"] and not follow:
            break
    state.shared = {"events": events, "scanned": scanned, "followed": followed, "more": False, "head": head}
    result.shared = len(events)


def _packs(state: _State, result: Imported) -> None:
    """The pack files offered to the hub that it has not installed: offered in these changes,
    or offered before and still waiting on the hub."""
    wanted = [str(s) for s in state.newest.manifest.get("packs_waiting") or [] if isinstance(s, str)]
    for page in state.pages:
        wanted.extend(str(c.get("sha256")) for c in page["changes"]
                      if c.get("kind") == "pack" and c.get("status") == "active")
    held = {row.sha256 for row in PackFile.select(PackFile.sha256).where(PackFile.sha256.in_(sorted(set(wanted))))}
    state.packs = [sha for sha in dict.fromkeys(wanted) if sha in held]
    result.packs = len(state.packs)


def _pack_pieces(sha: str) -> Iterator[bytes]:
    last = -1
    while True:
        rows = list(PackChunk.select(PackChunk.n, PackChunk.data)
                    .where((PackChunk.sha256 == sha) & (PackChunk.n > last)).order_by(PackChunk.n).limit(16))
        if not rows:
            return
        for row in rows:
            yield bytes(row.data)
            last = int(row.n)


def _write_return(registration: Hub, state: _State, folder: Path) -> Path:
    newest = state.newest
    name = bundle.file_name(bundle.TO_HUB, str(registration.hub_id), newest.counter)
    with bundle.Writer(folder, name, bundle.TO_HUB, str(registration.secret)) as writer:
        writer.add("answer.json", protocol.encode_json(state.answer))
        for n, (origin, first, batch) in enumerate(state.returned, start=1):
            writer.add(f"returned/{n:05d}.gz", batch, origin=origin, first=first)
        for n, page in enumerate(state.pages, start=1):
            writer.add(f"changes/{n:05d}.json.gz", protocol.encode_json_gzip(page))
        if state.shared is not None:
            writer.add("shared.json.gz", protocol.encode_json_gzip(state.shared))
        for sha in state.packs:
            found = PackFile.get(PackFile.sha256 == sha)
            writer.add(f"packs/{sha}.zip", _pack_pieces(sha),
                       pack={"pack_id": found.pack_id, "version": found.version, "size": int(found.size)})
        return writer.finish({"hub_id": registration.hub_id, "counter": newest.counter,
                              "school": registration.school.name, "written_at": service.now()})


__all__ = ["PACK_CHUNK", "Imported", "Refusal", "bundle_files", "import_bundles"]
