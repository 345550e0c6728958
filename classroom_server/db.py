"""The hub's one SQLite database: deferred init, WAL, pooled connections, migrations.

Writes that append events run in ``db.atomic("IMMEDIATE")`` so the writer lock is taken at
BEGIN: the per-origin sequence number is read and written under it, and no transaction has to
upgrade its lock half way (which is where SQLITE_BUSY comes from).

Connections are pooled (peewee's ``PooledSqliteDatabase``): a request takes one and gives it
back, open, with its pragmas set and its page cache warm. Opening a connection with its five
pragmas and closing it on every request cost 8 to 23 % of a request's CPU (#21), and with WAL
the last connection's close checkpoints the log and deletes the -wal file, which the next
request makes again. A connection given back inside a transaction is rolled back first.

Writers of this process queue on a lock of their own before ``BEGIN IMMEDIATE`` (#21). SQLite's
busy handler makes a writer that finds the lock taken sleep and try again, sleeping longer each
time (up to 100 ms a try); under a class signing in together, waitress's threads slept there
while the lock stood free and the requests queued behind them (200 sign-ins took 6.6 s for
2.7 s of CPU). Queued on a Python lock, the next writer starts the moment the last one commits.
Another process (a command, a second server) still meets SQLite's own lock and busy handler, and
a writer that has queued for ``WRITER_QUEUE_SECONDS`` goes on to wait there as before.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from playhouse.migrations import Runner
from playhouse.pool import PooledSqliteDatabase

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
DB_FILENAME = "hub.sqlite3"

# A writer queues this long at most, then waits in SQLite's busy handler instead: the queue only
# makes writers faster, SQLite's lock alone keeps them apart.
WRITER_QUEUE_SECONDS = 5.0


class HubDatabase(PooledSqliteDatabase):
    """Peewee's pooled SQLite database, whose immediate transactions take this process's
    writer lock first (the module's docstring says why)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._writer = threading.Lock()
        self._writing = threading.local()

    def begin(self, lock_type: str | None = None) -> None:
        lock_type = lock_type or self._lock_type
        if not lock_type or lock_type.upper() not in ("IMMEDIATE", "EXCLUSIVE") or self._holds_writer():
            return super().begin(lock_type)
        if not self._writer.acquire(timeout=WRITER_QUEUE_SECONDS):
            # The queue stands still: its first writer waits for SQLite's lock, which another
            # process holds. Wait there too (busy_timeout), as every writer did before the queue.
            return super().begin(lock_type)
        self._writing.held = True
        try:
            super().begin(lock_type)
        except BaseException:
            self._let_go()
            raise

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            conn = self._state.conn
            if conn is None or not conn.in_transaction:  # a failed COMMIT leaves it open: the rollback lets go
                self._let_go()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._let_go()

    def _close(self, conn, close_conn: bool = False) -> None:
        super()._close(conn, close_conn)  # a connection given back mid-transaction is rolled back
        self._let_go()

    def _holds_writer(self) -> bool:
        return getattr(self._writing, "held", False)

    def _let_go(self) -> None:
        if self._holds_writer():
            self._writing.held = False
            self._writer.release()

    def forget_writers(self) -> None:
        """After a fork: the child's writer lock starts free, whatever the parent held."""
        self._writer = threading.Lock()
        self._writing = threading.local()


# Connections move between waitress's threads (one at a time), hence check_same_thread=False.
# An idle connection older than ten minutes is closed when next taken or given back.
db = HubDatabase(None, max_connections=None, stale_timeout=600, check_same_thread=False)
# How many times ``configure`` ran in this process: what is kept about one file (services/setup_cache.py)
# is never taken for another, nor for a file put in its place (a restore in a test).
configured = 0
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


def configure(path: Path, synchronous: str = "full", cache_kb: int = 8000) -> HubDatabase:
    """Point the shared database at a file, with the pragmas every connection needs. Every
    pooled connection to the file used before is closed first."""
    global configured
    close_all()
    configured += 1
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
            "busy_timeout": 10_000,  # ms: a writer waits this long for another's lock
        },
    )
    return db


def close_all() -> None:
    """Close every pooled connection (before the file changes, or when the hub stops)."""
    if db.database is not None:
        db.close_all()


def _forget_after_fork() -> None:
    """A child process must never use its parent's SQLite connections: it opens its own."""
    db.dispose()  # forgets them without closing them: they are the parent's
    db.forget_writers()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


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
    """Take a pooled connection for each request and give it back whatever happens.

    It is a connection *context*, so a service that opens its own ``db.connection_context()``
    inside a request nests in it instead of closing the request's connection on the way out.
    """
    from flask import g

    from classroom_server import request_memo

    @app.before_request
    def _db_connect() -> None:
        context = db.connection_context()
        context.__enter__()  # on a full disk this raises; then there is nothing to close
        g.db_context = context
        g.request_memo = request_memo.begin()

    @app.teardown_request
    def _db_close(exc: BaseException | None) -> None:
        memo = g.pop("request_memo", None)
        if memo is not None:
            request_memo.end(memo)
        context = g.pop("db_context", None)
        if context is not None:
            context.__exit__(None, None, None)
