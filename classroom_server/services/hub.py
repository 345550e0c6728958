"""The hub's identity, its database (schema, storage errors), and backup and restore.

A hub is known by a random ``hub_id`` made at ``init`` and a random database ``epoch``. Every
event carries the origin ``<hub_id>.<epoch>``. Restoring a backup mints a new epoch, so events
written after the restore can never be mistaken for the (lost) events written after the backup
under the old epoch.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from peewee import OperationalError

from classroom_server import clock
from classroom_server.db import database_path, db, pending_migrations, private_file, schema_version
from classroom_server.errors import storage_problem
from classroom_server.models import HubMeta

SECRET_KEY_FILE = "secret_key"
# What a database call raises when SQLite cannot do its work, a full or failing disk among
# them: wrapped by peewee, or straight from sqlite3 (web/errors.py answers a full disk with 507).
STORAGE_ERRORS: tuple[type[Exception], ...] = (OperationalError, sqlite3.OperationalError)


TROUBLE_REMEMBERED_SECONDS = 600


def note_storage_trouble(memory: dict[str, object], problem: str, exc: BaseException) -> None:
    """Remember (in the running app's ``memory``) that a write just failed for the disk's sake,
    for /healthz to tell."""
    memory.update(problem=problem, detail=str(exc)[:200], at=time.monotonic(), when=clock.iso())


def storage_trouble(data_dir: Path, memory: dict[str, object]) -> dict[str, object] | None:
    """What is wrong with the disk under the database now: it cannot be written, or a write
    failed for the disk's sake in the last ten minutes. None when all is well."""
    database_file = database_path(Path(data_dir))
    for path in (Path(data_dir), database_file):
        if path.exists() and not os.access(path, os.W_OK):
            return {"problem": "read_only", "detail": f"{path} cannot be written", "when": clock.iso()}
    at = memory.get("at")
    if isinstance(at, float) and time.monotonic() - at < TROUBLE_REMEMBERED_SECONDS:
        return {k: v for k, v in memory.items() if k != "at"}
    return None


class BackupError(Exception):
    """A backup could not be made or a file is not a usable backup; nothing was changed."""


def get_meta(key: str, default: str | None = None) -> str | None:
    row = HubMeta.get_or_none(HubMeta.key == key)
    return row.value if row is not None else default


def set_meta(key: str, value: str) -> None:
    HubMeta.insert(key=key, value=value).on_conflict_replace().execute()
    _ORIGINS.clear()


def initialize_identity() -> bool:
    """Give a fresh database its hub id and epoch; returns False when it already had them."""
    with db.atomic("IMMEDIATE"):
        if get_meta("hub_id"):
            return False
        set_meta("hub_id", str(uuid.uuid4()))
        set_meta("epoch", secrets.token_hex(6))
        set_meta("created_at", clock.iso())
    return True


_ORIGINS: dict[tuple[str, int, int], str] = {}  # (database path, device, inode) -> origin


def origin() -> str:
    """``<hub id>.<epoch>``, read once per database file: every event needs it, and it changes
    only by ``init`` or ``restore`` (which replaces the file, so the cache key changes with it)."""
    path = str(db.database)
    try:
        stat = os.stat(path)
        key: tuple[str, int, int] | None = (path, stat.st_dev, stat.st_ino)
    except OSError:
        key = None
    found = _ORIGINS.get(key) if key else None
    if found is not None:
        return found
    hub_id, epoch = get_meta("hub_id"), get_meta("epoch")
    if not hub_id or not epoch:
        raise RuntimeError("This hub has no identity yet: run `classroom-server init` first.")
    found = f"{hub_id}.{epoch}"
    if key:
        _ORIGINS[key] = found
    return found


def forget_origin() -> None:
    """Read the origin from the database again at its next use (another process changed it)."""
    _ORIGINS.clear()


def begin_new_epoch(reason: str) -> str:
    """Retire the current origin and write under a new epoch from now on; returns the new origin.

    For a log found rewound (an old SD card image, a backup restored by copying the file): the
    district holds events under the current origin that this database no longer has, so writing
    on under it would reuse their sequence numbers. Taken under the writer lock, so no event
    slips in between; a process still holding the old origin finds it retired and reads the new
    one (services/events.py)."""
    from classroom_server.models import OriginCounter

    with db.atomic("IMMEDIATE"):
        old = f"{get_meta('hub_id')}.{get_meta('epoch')}"
        OriginCounter.update(retired=1).where(OriginCounter.origin == old).execute()
        if OriginCounter.get_or_none(OriginCounter.origin == old) is None:
            OriginCounter.create(origin=old, last_seq=0, hlc=0, retired=1)
        set_meta("epoch", secrets.token_hex(6))
        set_meta("epoch_reason", reason)
    return origin()


def ensure_secret_key(data_dir: Path) -> str:
    """Read the session-signing key, creating it (mode 0600) on first use."""
    path = Path(data_dir) / SECRET_KEY_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _integrity_ok(path: Path) -> tuple[bool, str]:
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = con.execute("PRAGMA integrity_check").fetchall()
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        return False, f"it is not a readable SQLite database ({exc})"
    if rows != [("ok",)]:
        return False, "SQLite's integrity check failed: " + "; ".join(r[0] for r in rows[:3])
    missing = {"hub_meta", "event", "person"} - tables
    if missing:
        return False, "it is not a classroom-server database (missing " + ", ".join(sorted(missing)) + ")"
    return True, "ok"


def backup(source: Path, destination: Path) -> Path:
    """Copy the live database with SQLite's online backup API, then verify the copy.

    ``destination`` may be a folder (existing, or any path without a file extension: a dated
    file name is chosen in it) or a file path such as ``hub.sqlite3``. The copy is
    written beside its final name and renamed into place only once verified.
    """
    destination = Path(destination)
    try:
        if destination.is_dir() or not destination.suffix:
            destination.mkdir(parents=True, exist_ok=True)
            stamp = clock.now().strftime("%Y%m%d-%H%M%S")
            destination = destination / f"classroom-hub-{stamp}.sqlite3"
        destination.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(
            f"Cannot make the folder for the backup at {destination}: {_reason(exc)}. "
            "Choose a folder (or a file name ending in .sqlite3) where you can write."
        ) from None
    partial = destination.with_name(destination.name + ".partial")
    # Read-only: a backup never writes the hub's files, so it also works on a read-only data directory.
    src = sqlite3.connect(f"{Path(source).absolute().as_uri()}?mode=ro", uri=True)
    try:
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        src.close()
        raise BackupError(
            f"The hub's database {source} cannot be read for a backup ({exc}). Check that its disk is "
            "mounted and not full, and that this user may read the data directory."
        ) from None
    try:
        partial.unlink(missing_ok=True)
        private_file(partial)  # a backup is the whole hub: for this user's eyes only
        dst = sqlite3.connect(str(partial))
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        full = " (a disk is full)" if storage_problem(exc) == "full" else ""
        raise BackupError(f"The backup to {destination} could not be made: {exc}{full}. Nothing was kept.") from None
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"The backup could not be written to {destination}: {_reason(exc)}. "
                          "Nothing was kept.") from None
    finally:
        src.close()
    ok, why = _integrity_ok(partial)
    if not ok:
        partial.unlink(missing_ok=True)
        raise BackupError(f"The backup copy failed its check ({why}); nothing was kept.")
    try:
        with open(partial, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(partial, destination)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"The backup could not be written to {destination}: {_reason(exc)}. "
                          "Nothing was kept.") from None
    return destination


def _reason(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full"
    if exc.errno in (errno.ENOTDIR, errno.EEXIST) and exc.filename:
        for part in (Path(exc.filename), *Path(exc.filename).parents):
            if part.exists() and not part.is_dir():
                return f"{part} is a file, not a folder"
    return exc.strerror or str(exc)


@contextmanager
def _looking_into(path: Path) -> Iterator[sqlite3.Connection]:
    """A plain connection to a stopped hub's database, for a look only. It leaves no -wal or
    -shm file behind that was not there before (SQLite makes them on opening a WAL database,
    and on a full disk cannot always tidy them away)."""
    extra = [Path(f"{path}{suffix}") for suffix in ("-wal", "-shm")]
    there = [p.exists() for p in extra]
    con = sqlite3.connect(str(path))
    try:
        yield con
    finally:
        con.close()
        wal, shm = extra
        if not there[0] and wal.exists() and wal.stat().st_size == 0:
            wal.unlink()
        if not there[1] and not wal.exists():
            shm.unlink(missing_ok=True)


def _hub_id_of(path: Path) -> str | None:
    """The hub id a database holds (None when it cannot be read: a damaged one may be replaced)."""
    try:
        with _looking_into(path) as con:
            row = con.execute("SELECT value FROM hub_meta WHERE key='hub_id'").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def restore(backup_file: Path, database_file: Path, other_hub: bool = False) -> tuple[str, Path | None]:
    """Replace the hub database with a verified backup and give it a new epoch.

    Returns the new epoch and where the replaced database was kept. The hub must be stopped.
    A file that fails verification raises BackupError and nothing is touched; so does another
    hub's backup, unless ``other_hub`` says that moving that hub here is the point (this hub
    then takes that hub's identity and accounts). Every session ends (a cookie from before is
    signed out), and person and class ids go on from the highest either database used, so an
    old cookie or link can never name someone new.
    """
    backup_file = Path(backup_file)
    if not backup_file.is_file():
        raise BackupError(f"There is no backup file at {backup_file}.")
    ok, why = _integrity_ok(backup_file)
    if not ok:
        raise BackupError(f"{backup_file} cannot be restored: {why}. Nothing was changed.")
    if database_file.exists() and not other_hub:
        ours, theirs = _hub_id_of(database_file), _hub_id_of(backup_file)
        if ours and theirs != ours:
            raise BackupError(
                f"{backup_file} is a backup of another hub ({theirs or 'unknown'}), not of this one ({ours}). "
                "Restoring it would replace this hub's accounts and identity with that hub's. Nothing was "
                "changed. To move that hub onto this machine on purpose, run restore again with --other-hub."
            )

    staging = database_file.with_name(database_file.name + ".restoring")
    kept: Path | None = None
    made: list[Path] = []
    try:
        made.append(staging)
        new_epoch = _stage(backup_file, staging, database_file if database_file.exists() else None)
        if database_file.exists():
            kept = database_file.with_name(
                f"{database_file.stem}.before-restore-{clock.now():%Y%m%d-%H%M%S}.sqlite3"
            )
            made.append(kept)
            _copy_database(database_file, kept)
    except (OSError, sqlite3.Error) as exc:
        # Up to here only new files were written: remove them and the live database is as it was.
        for leftover in made:
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(str(leftover) + suffix).unlink(missing_ok=True)
        if storage_problem(exc) == "full":
            needed = 2 * backup_file.stat().st_size // (1024 * 1024) + 1
            raise BackupError(
                f"The backup could not be copied into {database_file.parent}: the disk is full. It needs "
                f"about {needed} MB free. Nothing was changed; free some space and try again."
            ) from None
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise BackupError(
            f"The backup could not be copied into {database_file.parent}: {reason}. Nothing was changed."
        ) from None
    for suffix in ("-wal", "-shm"):
        Path(str(database_file) + suffix).unlink(missing_ok=True)
    os.replace(staging, database_file)
    _ORIGINS.clear()
    return new_epoch, kept


_NEVER_REUSED = ("person", "classroom")  # ids that cookies, links and throttle keys name
_SIGNED_IN = ("web_session", "trusted_device", "login_throttle", "guess_budget")


def _highest_ids(database_file: Path) -> dict[str, int]:
    """How far the replaced database's id counters went ({} when it cannot be read: a damaged
    database is a reason to restore, not a reason to refuse)."""
    try:
        with _looking_into(database_file) as con:
            return {
                name: int(seq) for name, seq in con.execute("SELECT name, seq FROM sqlite_sequence")
                if name in _NEVER_REUSED
            }
    except sqlite3.Error:
        return {}


def _stage(backup_file: Path, staging: Path, replaced: Path | None = None) -> str:
    """Copy the backup beside the database and give the copy a new epoch; returns the epoch.

    The copy also forgets every session and sign-in record, and its id counters go on from the
    replaced database's where that went further."""
    staging.unlink(missing_ok=True)
    private_file(staging)
    shutil.copyfile(backup_file, staging)  # keeps the mode of the file it writes into
    new_epoch = secrets.token_hex(6)
    highest = _highest_ids(replaced) if replaced else {}
    con = sqlite3.connect(str(staging))
    try:
        with con:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            for table in _SIGNED_IN:
                if table in tables:
                    con.execute(f"DELETE FROM {table}")  # noqa: S608 (names from the tuple above)
            for table, seq in highest.items():
                row = con.execute("SELECT seq FROM sqlite_sequence WHERE name=?", (table,)).fetchone()
                if row is None:
                    con.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, seq))
                elif row[0] < seq:
                    con.execute("UPDATE sqlite_sequence SET seq=? WHERE name=?", (seq, table))
            old = con.execute("SELECT value FROM hub_meta WHERE key='epoch'").fetchone()
            con.execute("INSERT OR REPLACE INTO hub_meta (key, value) VALUES ('epoch', ?)", (new_epoch,))
            con.execute(
                "INSERT OR REPLACE INTO hub_meta (key, value) VALUES ('restored_from_epoch', ?)",
                (old[0] if old else "",),
            )
            con.execute(
                "INSERT OR REPLACE INTO hub_meta (key, value) VALUES ('restored_at', ?)", (clock.iso(),)
            )
    finally:
        con.close()
    with open(staging, "rb") as fh:
        os.fsync(fh.fileno())
    return new_epoch


def _copy_database(source: Path, target: Path) -> None:
    private_file(target)
    src = sqlite3.connect(str(source))
    try:
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def schema_status() -> tuple[str, list[str]]:
    """The newest applied migration (e.g. ``0002_login_throttle``) and the ones still pending."""
    return schema_version(), pending_migrations()


# Under this much free space SQLite cannot grow its write-ahead log by even a few pages: the disk
# is full for the hub, whatever a read served by an open (pooled) connection would suggest.
FULL_DISK_BYTES = 64 * 1024


def require_room(data_dir: Path) -> None:
    """Fail as SQLite does on a full disk ("database or disk is full": a 507 with problems
    ``["disk_full"]`` from /healthz) when the disk under the hub has almost nothing free."""
    free = disk_free_bytes(data_dir)
    if free < FULL_DISK_BYTES:
        raise sqlite3.OperationalError(f"database or disk is full ({free} bytes free)")


def disk_free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free
