"""The hub's writers queue on a lock of this process before SQLite's (classroom_server/db.py):
taken at BEGIN IMMEDIATE, let go at commit, at rollback, on an error and when a connection goes
back to the pool mid-transaction; a writer never waits on the queue past WRITER_QUEUE_SECONDS."""

import threading

import pytest

from classroom_server import db as database
from classroom_server.db import db


@pytest.fixture
def hub_db(tmp_path):
    database.configure(tmp_path / "hub.sqlite3")
    with db.connection_context():
        db.execute_sql("CREATE TABLE t (n INTEGER)")
    yield db
    database.close_all()


def _writer_free() -> bool:
    if db._writer.acquire(blocking=False):
        db._writer.release()
        return True
    return False


def test_the_queue_is_taken_at_begin_and_let_go_at_commit_and_rollback(hub_db):
    with db.connection_context():
        with db.atomic("IMMEDIATE"):
            assert not _writer_free()
            with db.atomic("IMMEDIATE"):  # nested: a savepoint, the same turn
                db.execute_sql("INSERT INTO t VALUES (1)")
        assert _writer_free()
        with pytest.raises(ZeroDivisionError):
            with db.atomic("IMMEDIATE"):
                db.execute_sql("INSERT INTO t VALUES (2)")
                raise ZeroDivisionError
        assert _writer_free()
        with db.atomic():  # a deferred transaction does not queue
            assert _writer_free()
        assert db.execute_sql("SELECT count(*) FROM t").fetchone()[0] == 1


def test_a_connection_given_back_mid_transaction_lets_the_queue_go(hub_db):
    db.connect()
    db.atomic("IMMEDIATE").__enter__()  # never left, and forgotten: a safety net, peewee unwinds its own
    db.pop_transaction()
    assert not _writer_free()
    db.close()  # back to the pool, the open transaction rolled back there
    assert _writer_free()


def test_a_second_writer_waits_its_turn_and_goes_the_moment_the_first_commits(hub_db):
    first_in, second_done = threading.Event(), threading.Event()
    order: list[str] = []

    def second() -> None:
        first_in.wait(10)
        with db.connection_context(), db.atomic("IMMEDIATE"):
            order.append("second")
            db.execute_sql("INSERT INTO t VALUES (2)")
        second_done.set()

    other = threading.Thread(target=second)
    other.start()
    with db.connection_context():
        with db.atomic("IMMEDIATE"):
            db.execute_sql("INSERT INTO t VALUES (1)")
            first_in.set()
            assert not second_done.wait(0.2)  # it queues behind this transaction
            order.append("first")
    other.join(10)
    assert order == ["first", "second"] and second_done.is_set() and _writer_free()


def test_a_stuck_queue_sends_a_writer_on_to_sqlites_own_lock(hub_db, monkeypatch):
    monkeypatch.setattr(database, "WRITER_QUEUE_SECONDS", 0.05)
    db._writer.acquire()  # someone holds the queue and never commits
    try:
        with db.connection_context(), db.atomic("IMMEDIATE"):
            db.execute_sql("INSERT INTO t VALUES (1)")
        assert not _writer_free()  # the writer that went past the queue did not let the holder's turn go
    finally:
        db._writer.release()
    with db.connection_context():
        assert db.execute_sql("SELECT count(*) FROM t").fetchone()[0] == 1
