"""USB sync bundles on the hub: write what the district lacks onto a stick, and read the
district's answer back (sync/bundle.py describes the format; sync/district/bundles.py the
district's side).

A bundle holds every event the district has not acknowledged, whatever bundles went before, so
a lost or forgotten stick loses nothing: the next bundle carries it all again. Reading the
answer runs the steps of a network sync (sync/bundle.py, ``ReturnSession``) on this hub's store.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from classroom_server import clock
from classroom_server.db import db
from classroom_server.models import Event, SyncAck
from classroom_server.services import hub, pack_fetch
from classroom_server.services import sync as hub_sync
from sync import bundle, client, protocol
from sync.bundle import BundleError

KEY_LAST_EXPORT = "sync.bundle.last_export"  # JSON: at, files, events
KEY_LAST_IMPORT = "sync.bundle.last_import"  # JSON: at, file, pulled, acknowledged
KEY_ANSWERED = hub_sync.KEY_ANSWERED
READ_EVENTS = 20_000  # events read from the log at a time while writing


@dataclass
class Exported:
    paths: list[Path]
    events: int
    bytes: int
    counter: int


@dataclass
class ReadBack:
    path: Path
    outcome: client.Outcome
    newest: bool  # no newer answer was applied before this one
    notes: list[str] = field(default_factory=list)


def _manifest_texts(store: hub_sync.Store) -> dict[str, str]:
    """The engine manifests this hub's installed packs name (the district folds a hub's log with
    the pack versions it names): a few kilobytes, sent with every bundle."""
    from classroom_server.learning.adapter import manifest_key

    keys = {manifest_key(json.loads(row.payload)) for row in
            Event.select(Event.payload).where(Event.kind == "pack.installed")}
    return store.manifests(sorted(keys)) if keys else {}


def export(folder: Path, *, max_file_bytes: int = bundle.MAX_FILE_BYTES, segment_bytes: int = bundle.SEGMENT_BYTES,
           progress: client.Progress | None = None,
           opener: Callable[[Path], IO[bytes]] | None = None) -> Exported:
    """Write a bundle of everything the district has not acknowledged into ``folder`` (a stick).

    Raises ``hub_sync.NotEnrolled``, ``client.SyncError`` (a sync running) or ``BundleError``
    (the stick full, read-only, pulled out: said in words, and no file that looks whole left)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BundleError(f"There is no folder {folder} (is the stick in?).")
    with hub_sync._one_at_a_time():
        store = hub_sync.Store()
        secret = store.secret()
        counter = store.next_counter()
        positions = store.positions()
        acked = {row.origin: int(row.acked) for row in SyncAck.select()}
        scanned, unfollowed, _ = store.shared_state()
        sent_from = {o: min(acked.get(o, 0), n) for o, n in positions.items()}
        common: dict[str, object] = {
            "hub_id": store.hub_id, "counter": counter, "bundle": bundle.bundle_id(), "written_at": clock.iso(),
            "school": hub.get_meta(hub_sync.KEY_SCHOOL) or "", "district_url": hub.get_meta(hub_sync.KEY_URL) or "",
            "origins": positions, "acked": sent_from,
            "tips": {o: store.event_id_at(o, n) for o, n in positions.items()},
            "pulled": store.pull_cursor(), "pulled_mark": store.pull_mark(),
            "shared": {"scanned": scanned, "follow": unfollowed[:client.MAX_FOLLOW]},
            "packs_waiting": [offer["sha256"] for offer in pack_fetch.waiting()],
        }
        manifests = protocol.encode_json_gzip({"manifests": _manifest_texts(store)})
        version = store.district_version()  # batches the district can read, if it is not upgraded yet
        total = sum(n - sent_from[o] for o, n in positions.items())
        done = 0
        report = progress or (lambda done, total: None)
        report(0, total)
        paths: list[Path] = []
        written = 0
        part = 1

        def start() -> bundle.Writer:
            writer = bundle.Writer(folder, bundle.file_name(bundle.TO_DISTRICT, store.hub_id, counter, part),
                                   bundle.TO_DISTRICT, secret, opener)
            writer.add("manifests.json.gz", manifests)
            return writer

        writer = start()
        try:
            segments = 0
            for index, origin in enumerate(sorted(positions)):
                at = sent_from[origin]
                while at < positions[origin]:
                    rows = store.events_after(origin, at, READ_EVENTS)
                    if not rows:
                        raise BundleError(f"Events after {at} of {origin} are missing from this hub's log.")
                    for body, first, last in bundle.export_segments(origin, rows, segment_bytes, version=version):
                        if segments and writer.size() + len(body) > max_file_bytes:
                            paths.append(writer.finish({**common, "part": part, "last_part": False}))
                            written += paths[-1].stat().st_size
                            part += 1
                            writer = start()
                            segments = 0
                        writer.add(f"events/{index:03d}-{first:010d}.gz", body, origin=origin, first=first,
                                   last=last)
                        segments += 1
                        done += last - first + 1
                        report(done, total)
                    at = int(rows[-1]["seq"])
            paths.append(writer.finish({**common, "part": part, "last_part": True}))
            written += paths[-1].stat().st_size
        finally:
            writer.__exit__(None, None, None)
        with db.atomic("IMMEDIATE"):
            hub.set_meta(KEY_LAST_EXPORT, json.dumps({"at": clock.iso(), "files": [p.name for p in paths],
                                                      "events": total}))
        return Exported(paths, total, written, counter)


def returns_in(folder: Path) -> list[Path]:
    """The district's answers for this hub in a folder (a stick), oldest first."""
    hub_id = hub.get_meta("hub_id") or ""
    pattern = re.compile(rf"return-{re.escape(hub_id)}-(\d+){re.escape(bundle.SUFFIX)}")
    found = [(int(m.group(1)), p) for p in Path(folder).glob(f"return-*{bundle.SUFFIX}")
             if (m := pattern.fullmatch(p.name))]
    return [p for _, p in sorted(found)]


def read_back(path: Path, on_rewound: Callable[[], None] | None = None) -> ReadBack:
    """Apply the district's answer in a return bundle. Raises ``BundleError`` in words when the
    file is not this hub's answer (another hub's, another district's, altered, half-copied),
    ``hub_sync.NotEnrolled`` or ``client.SyncError``."""
    path = Path(path)
    with hub_sync._one_at_a_time():
        store = hub_sync.Store(on_rewound)
        secret = store.secret()

        def secret_for(manifest: dict[str, object]) -> str:
            if manifest.get("hub_id") != store.hub_id:
                raise BundleError(f"{path.name} is the district's answer to another hub ({manifest.get('hub_id')}), "
                                  "not to this one: read it on that hub.")
            return secret

        opened = bundle.open_bundle(path, secret_for)
        try:
            if opened.direction != bundle.TO_HUB:
                raise BundleError(f"{path.name} is a bundle this hub wrote for the district: take it to the district "
                                  "(classroom-server district import), and bring back its answer.")
            answer = bundle.read_return(opened)
            store.note_district_version(min(protocol.VERSION, int(opened.manifest["v"])))
            answered = answer.hello.get("answers")
            if not isinstance(answered, int):
                raise BundleError(f"{path.name} does not say which bundle it answers.")
            newest = answered >= int(hub.get_meta(KEY_ANSWERED) or 0)
            outcome = bundle.ReturnSession(store, answer, newest=newest).run()
        finally:
            opened.close()
        with db.atomic("IMMEDIATE"):
            if newest:
                hub.set_meta(KEY_ANSWERED, str(answered))
            hub.set_meta(KEY_LAST_IMPORT, json.dumps({"at": clock.iso(), "file": path.name,
                                                      "pulled": outcome.pulled, "newest": newest}))
            hub.set_meta(hub_sync.KEY_LAST_ERROR, "")
        outcome.waiting = hub_sync.waiting()
        notes = [] if newest else ["This answer is older than one this hub read already: its acknowledgements "
                                   "were left aside (the next bundle sends those events again, harmlessly)."]
        return ReadBack(path, outcome, newest, notes)


def last_export() -> dict[str, object] | None:
    text = hub.get_meta(KEY_LAST_EXPORT)
    return json.loads(text) if text else None


def last_import() -> dict[str, object] | None:
    text = hub.get_meta(KEY_LAST_IMPORT)
    return json.loads(text) if text else None


def free_bytes(folder: Path) -> int | None:
    try:
        stats = os.statvfs(folder)
    except OSError:
        return None
    return stats.f_bavail * stats.f_frsize
