"""The hub's one SQLite database: deferred init, WAL, a connection per request, migrations.

Writes that append events run in ``db.atomic("IMMEDIATE")`` so the writer lock is taken at
BEGIN: the per-origin sequence number is read and written under it, and no transaction has to
upgrade its lock half way (which is where SQLITE_BUSY comes from).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from peewee import SqliteDatabase
from playhouse.migrations import Runner

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
DB_FILENAME = "hub.sqlite3"

db = SqliteDatabase(None)
log = logging.getLogger("classroom_server.db")


def database_path(data_dir: Path) -> Path:
    return Path(data_dir) / DB_FILENAME


def private_file(path: Path) -> None:
    """Make ``path`` readable by the hub's own user alone (0600), creating it empty if missing.

    The database holds every learner's record and the hashes of small secrets (a PIN falls to
    a brute force in minutes): no other account on the machine may read it. SQLite gives its
    -wal and -shm files the database file's mode.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if os.stat(path).st_mode & 0o077:
            try:
                os.chmod(path, 0o600)
            except PermissionError:
                log.warning("%s can be read by other users of this machine, and this user cannot change "
                            "that: run chmod 600 on it", path)
    else:
        os.close(fd)


def configure(path: Path, synchronous: str = "full", cache_kb: int = 8000) -> SqliteDatabase:
    """Point the shared database at a file, with the pragmas every connection needs."""
    if not db.is_closed():
        db.close()
    if Path(path).parent.is_dir():
        private_file(Path(path))
    db.init(
        str(path),
        pragmas={
            "journal_mode": "wal",
            "foreign_keys": 1,
            "synchronous": synchronous.upper(),
            "cache_size": -int(cache_kb),
            "wal_autocheckpoint": 500,
        },
        timeout=10,
    )
    return db


def migrate() -> list[str]:
    """Apply pending migrations in order; returns the names applied (usually none)."""
    with db.connection_context():
        return Runner(db, str(MIGRATIONS_DIR)).up()


def schema_version() -> str:
    """Name of the newest applied migration, e.g. ``0002_login_throttle``."""
    status = Runner(db, str(MIGRATIONS_DIR)).status()
    applied = [m.name for m in status if m.applied]
    return applied[-1] if applied else "none"


def pending_migrations() -> list[str]:
    return [m.name for m in Runner(db, str(MIGRATIONS_DIR)).status() if not m.applied]


def init_app(app) -> None:
    """Open a connection for each request and close it whatever happens.

    It is a connection *context*, so a service that opens its own ``db.connection_context()``
    inside a request nests in it instead of closing the request's connection on the way out.
    """
    from flask import g

    @app.before_request
    def _db_connect() -> None:
        context = db.connection_context()
        context.__enter__()  # on a full disk this raises; then there is nothing to close
        g.db_context = context

    @app.teardown_request
    def _db_close(exc: BaseException | None) -> None:
        context = g.pop("db_context", None)
        if context is not None:
            context.__exit__(None, None, None)
