"""Syncs with the district as a running hub makes them: the admin's "Sync now" in a background
thread, the schedule's in its own thread, and `classroom-server sync run` in the foreground.

services/sync.py is the hub's side of the protocol and the record of how syncs went; this module
adds what a sync needs from the hub's settings and memory: the HTTP transport (with the bandwidth
cap), the rebuild of every projection when the district sent back events of a rewound log, and
the progress of the sync under way, for the admin page to show.
"""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from classroom_server import clock
from classroom_server.db import db
from classroom_server.errors import Invalid
from classroom_server.services import hub
from classroom_server.services import sync as hub_sync
from sync import client

log = logging.getLogger("classroom_server.sync")


def check_district_url(url: str) -> str:
    """The district's address as the hub keeps it (``https://host[:port][/path]``, no trailing slash)."""
    text = (url or "").strip().rstrip("/")
    try:
        parsed = urlparse(text)
        parsed.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise Invalid("The district address has a port that is not a number.", field="district_url") from None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise Invalid("The district address starts with https:// (or http://), for example "
                      "https://district.example.org.", field="district_url")
    if parsed.query or parsed.fragment or parsed.username or parsed.password:
        raise Invalid("The district address is only the server's address, without ?, # or a password.",
                      field="district_url")
    return text


def make_transport(url: str, max_kbit: int = 0) -> client.Transport:
    """The transport to the district (tests replace this to reach a district in the process)."""
    from sync.transport import HttpTransport

    return HttpTransport(url, max_kbit=max_kbit)


def _close(transport: Any) -> None:
    closing = getattr(transport, "close", None)
    if closing is not None:
        closing()


def enrol(url: str, code: str, hub_name: str | None = None) -> str:
    """Enrol this hub with the district at ``url`` using its one-time code; returns the school's name.

    Raises ``Invalid`` for an address or code that cannot be right, ``client.SyncError`` when the
    district cannot be reached or refuses the code."""
    url = check_district_url(url)
    if not "".join(ch for ch in code or "" if ch.isalnum()):
        raise Invalid("Type the one-time code the district gave for this hub.", field="code")
    transport = make_transport(url)
    try:
        return hub_sync.enrol(transport, url, code, hub_name or socket.gethostname())
    finally:
        _close(transport)


def sync_now(settings: dict[str, Any], progress: client.Progress | None = None) -> client.Outcome:
    """One sync with the district the hub is enrolled with. Raises ``hub_sync.NotEnrolled`` or
    ``client.SyncError`` (recorded for the admin page)."""
    url = hub.get_meta(hub_sync.KEY_URL)
    if not url or not hub.get_meta(hub_sync.KEY_SECRET):
        raise hub_sync.NotEnrolled("This hub is not enrolled with a district yet.")

    transport = make_transport(url, settings.get("sync_bandwidth_kbit", 0))
    try:
        return hub_sync.run(transport, progress=progress)  # a fetch-back rewrites the projections itself
    finally:
        _close(transport)


@dataclass(frozen=True)
class Progress:
    """Where the latest sync of this process stands (the admin page polls it)."""

    running: bool = False
    done: int = 0
    total: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None
    pushed: int = 0
    fetched_back: int = 0
    quarantined: int = 0
    requests: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    waiting: int | None = None
    notes: list[str] = field(default_factory=list)
    started_by: str = ""
    kind: str = "sync"  # or "export" (a bundle written to a stick), "import" (the district's answer read)
    files: list[str] = field(default_factory=list)  # the bundles written or read
    pulled: int = 0  # district changes applied

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


class Runner:
    """One sync at a time for a serving hub, with its progress kept for the admin page.

    ``start()`` runs one in a background thread (the admin's "Sync now") and returns at once;
    ``run()`` runs one in the caller's thread (the schedule's). Both refuse while one runs."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._progress = Progress()
        self._thread: threading.Thread | None = None

    def progress(self) -> Progress:
        with self._lock:
            return self._progress

    def _begin(self, started_by: str, kind: str = "sync") -> None:
        with self._lock:
            if self._progress.running:
                raise client.SyncError("A sync is already running.")
            self._progress = Progress(running=True, started_at=clock.iso(), started_by=started_by, kind=kind)

    def start_bundle(self, kind: str, folder: Path, started_by: str = "admin") -> threading.Thread:
        """Write a bundle to a stick (``export``) or read the district's answers on it
        (``import``) in the background, with progress; ``client.SyncError`` if a sync or another
        bundle is under way."""
        if kind not in ("export", "import"):
            raise ValueError(kind)
        self._begin(started_by, kind)
        thread = threading.Thread(target=self._bundle, args=(kind, Path(folder)), name=f"usb-{kind}", daemon=True)
        self._thread = thread
        thread.start()
        return thread

    def _bundle(self, kind: str, folder: Path) -> None:
        from classroom_server.services import bundles
        from sync.bundle import BundleError

        try:
            with db.connection_context():
                if kind == "export":
                    exported = bundles.export(folder, progress=self._step)
                    facts: dict[str, Any] = {"files": [p.name for p in exported.paths], "pushed": exported.events,
                                             "waiting": hub_sync.waiting()}
                    log.info("wrote a sync bundle to %s: %d events in %s", folder, exported.events,
                             ", ".join(facts["files"]))
                else:
                    facts = self._read_returns(bundles, folder)
        except (BundleError, client.SyncError, hub_sync.NotEnrolled) as exc:
            log.warning("the USB %s failed: %s", kind, exc)
            self._end(error=str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a background thread has no one to raise to: log it
            log.exception("the USB %s failed", kind)
            self._end(error=f"It stopped on an unexpected problem ({exc.__class__.__name__}: {exc}); the hub's "
                            "log has the details.")
            return
        with self._lock:
            self._progress = replace(self._progress, running=False, finished_at=clock.iso(), **facts)

    def _read_returns(self, bundles: Any, folder: Path) -> dict[str, Any]:
        from sync.bundle import BundleError

        paths = bundles.returns_in(folder)
        if not paths:
            raise BundleError(f"There is no answer from the district for this hub on {folder}.")
        read: list[str] = []
        notes: list[str] = []
        pulled = fetched = 0
        self._step(0, len(paths))
        for n, path in enumerate(paths, start=1):
            try:
                back = bundles.read_back(path)
            except BundleError as exc:
                notes.append(f"{path.name}: {exc}")
                continue
            finally:
                self._step(n, len(paths))
            read.append(path.name)
            pulled += back.outcome.pulled
            fetched += back.outcome.fetched_back
            notes.extend(back.notes + back.outcome.notes)
            log.info("read the district's answer %s: %d changes applied", path.name, back.outcome.pulled)
        if not read:
            raise BundleError(notes[0] if notes else f"No answer on {folder} could be read.")
        return {"files": read, "pulled": pulled, "fetched_back": fetched, "notes": notes,
                "waiting": hub_sync.waiting()}

    def start(self, started_by: str = "admin") -> threading.Thread:
        """Begin a sync in the background; ``client.SyncError`` if one is running already."""
        self._begin(started_by)
        thread = threading.Thread(target=self._background, name="district-sync", daemon=True)
        self._thread = thread
        thread.start()
        return thread

    def run(self, started_by: str = "schedule") -> client.Outcome:
        """A sync in this thread; raises what ``sync_now`` raises."""
        self._begin(started_by)
        return self._sync()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the background sync (if any) to end; whether it has."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _background(self) -> None:
        try:
            self._sync()
        except (client.SyncError, hub_sync.NotEnrolled):
            return  # recorded in the progress and, for a sync that began, in the hub's sync state
        except Exception:  # noqa: BLE001 - a background thread has no one to raise to: log it
            log.exception("the sync started from the admin page failed")

    def _step(self, done: int, total: int) -> None:
        with self._lock:
            self._progress = replace(self._progress, done=done, total=total)

    def _sync(self) -> client.Outcome:
        try:
            with db.connection_context():
                outcome = sync_now(self.settings, progress=self._step)
        except (client.SyncError, hub_sync.NotEnrolled) as exc:
            self._end(error=str(exc))
            log.warning("sync with the district failed: %s", exc)
            raise
        except Exception as exc:
            self._end(error=f"The sync stopped on an unexpected problem ({exc.__class__.__name__}: {exc}); "
                            "the hub's log has the details.")
            raise
        self._end(outcome=outcome)
        log.info("synced with the district: %d events pushed, %d waiting, %d requests, %d bytes sent, "
                 "%d received", outcome.pushed, outcome.waiting, outcome.requests, outcome.bytes_sent,
                 outcome.bytes_received)
        return outcome

    def _end(self, outcome: client.Outcome | None = None, error: str | None = None) -> None:
        with self._lock:
            facts: dict[str, Any] = {}
            if outcome is not None:
                facts = {"pushed": outcome.pushed, "fetched_back": outcome.fetched_back,
                         "quarantined": outcome.quarantined, "requests": outcome.requests,
                         "bytes_sent": outcome.bytes_sent, "bytes_received": outcome.bytes_received,
                         "waiting": outcome.waiting, "notes": list(outcome.notes)}
            self._progress = replace(self._progress, running=False, finished_at=clock.iso(), error=error, **facts)

