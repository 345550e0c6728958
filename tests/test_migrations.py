"""Schema migrations: run at start, quickly, and upgrade an older database without losing data."""

from tests.conftest import LATEST_SCHEMA
import sqlite3

from classroom_server import db as database
from classroom_server.app import create_app
from playhouse.migrations import Runner


def _schema(path):
    con = sqlite3.connect(path)
    try:
        rows = con.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
        ).fetchall()
    finally:
        con.close()
    return rows


def test_fresh_database_is_at_the_newest_schema(app, data_dir):
    with database.db.connection_context():
        assert database.schema_version() == LATEST_SCHEMA
        assert database.pending_migrations() == []


def test_upgrading_an_older_database_keeps_its_data_and_matches_a_fresh_one(tmp_path):
    old_dir = tmp_path / "old"
    old_dir.mkdir()
    database.configure(database.database_path(old_dir))
    with database.db.connection_context():
        applied = Runner(database.db, str(database.MIGRATIONS_DIR)).up(target="0001_initial")
        assert applied == ["0001_initial"]
        database.db.execute_sql("INSERT INTO hub_meta (key, value) VALUES ('hub_id', 'old-hub')")
    database.db.close()

    create_app(old_dir, {"log_level": "warning"})  # migrates at start
    with database.db.connection_context():
        assert database.schema_version() == LATEST_SCHEMA
        assert database.db.execute_sql("SELECT value FROM hub_meta WHERE key='hub_id'").fetchone() == ("old-hub",)
    database.db.close()

    fresh_dir = tmp_path / "fresh"
    fresh_dir.mkdir()
    create_app(fresh_dir, {"log_level": "warning"})
    database.db.close()
    assert _schema(database.database_path(old_dir)) == _schema(database.database_path(fresh_dir))


def test_database_runs_in_wal_mode_with_foreign_keys(app):
    with database.db.connection_context():
        assert database.db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert database.db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        assert database.db.execute_sql("PRAGMA synchronous").fetchone()[0] == 2  # FULL
