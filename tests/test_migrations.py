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
    database.db.close_all()

    create_app(old_dir, {"log_level": "warning"})  # migrates at start
    with database.db.connection_context():
        assert database.schema_version() == LATEST_SCHEMA
        assert database.db.execute_sql("SELECT value FROM hub_meta WHERE key='hub_id'").fetchone() == ("old-hub",)
    database.db.close_all()

    fresh_dir = tmp_path / "fresh"
    fresh_dir.mkdir()
    create_app(fresh_dir, {"log_level": "warning"})
    database.db.close_all()
    assert _schema(database.database_path(old_dir)) == _schema(database.database_path(fresh_dir))


def test_database_runs_in_wal_mode_with_foreign_keys(app):
    with database.db.connection_context():
        assert database.db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert database.db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        assert database.db.execute_sql("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_a_hub_from_before_reproducible_projections_upgrades_in_place(tmp_path):
    """A hub at migration 0004 (retired items in DATA/packs/.retired/, pack events without a
    manifest hash, no payload hashes) gets its hashes and manifests at start, and its rebuild
    keeps the retired item's prior."""
    import json
    import shutil

    from click.testing import CliRunner
    from content_packs import load_pack
    from content_packs.testing import make_pack

    from classroom_server.cli import main
    from classroom_server.eventkinds import payload_hash
    from classroom_server.models import Event, PackManifest

    data = tmp_path / "old"
    data.mkdir()
    pack_src = make_pack(tmp_path / "src", skills=2, items_per_skill=3, pack_id="org.example.old")
    pack = load_pack(pack_src, check=False)
    folder = data / "packs" / "org.example.old@1.0.0-abcd1234"
    shutil.copytree(pack_src, folder)
    retired = data / "packs" / ".retired"
    retired.mkdir()
    (retired / "org.example.old.json").write_text(json.dumps({"pack": "org.example.old", "items": {
        "gone-1": {"skill": pack.skills[0].id, "type": "numeric", "difficulty": 1.75, "check": False}}}))
    database.configure(database.database_path(data))
    with database.db.connection_context():
        Runner(database.db, str(database.MIGRATIONS_DIR)).up(target="0004_mastery_projection")
        sql = database.db.execute_sql
        sql("INSERT INTO hub_meta (key, value) VALUES ('hub_id', 'old-hub'), ('epoch', 'e1')")
        sql("INSERT INTO pack (pack_id, version, folder, title, skills, items, size_bytes, status, installed_at) "
            "VALUES ('org.example.old', '1.0.0', ?, 'Old', 2, 6, 1, 'active', '2026-01-01T00:00:00')", (folder.name,))
        rows = [
            ("pack.installed", None, {"pack_id": "org.example.old", "version": "0.9.0", "previous": None,
                                      "skills": 2, "items": 7}),
            ("pack.installed", None, {"pack_id": "org.example.old", "version": "1.0.0", "previous": "0.9.0",
                                      "skills": 2, "items": 6}),
            ("attempt", "learner-1", {"pack": "org.example.old", "version": "0.9.0", "item": "gone-1",
                                      "skill": pack.skills[0].id, "response": 3, "correct": True, "hints_used": 0,
                                      "duration_ms": 9000, "mode": "practice", "lang": "en"}),
        ]
        for seq, (kind, learner, payload) in enumerate(rows, start=1):
            sql("INSERT INTO event (event_id, origin, seq, kind, learner_uid, occurred_at, recorded_at, payload) "
                "VALUES (?, 'old-hub.e1', ?, ?, ?, '2026-01-01T00:00:00', '2026-01-01T00:00:00', ?)",
                (f"00000000-0000-4000-8000-00000000000{seq}", seq, kind, learner,
                 json.dumps(payload, sort_keys=True, separators=(",", ":"))))
        sql("INSERT INTO origin_counter (origin, last_seq) VALUES ('old-hub.e1', 3)")
    database.db.close_all()
    (data / "secret_key").write_text("k" * 64)

    app = create_app(data, {"log_level": "warning"})  # migrates, backfills hashes and manifests
    with database.db.connection_context():
        for event in Event.select():
            assert event.payload_hash == payload_hash(event.kind, json.dumps(json.loads(event.payload),
                                                      sort_keys=True, separators=(",", ":")),
                                                      event.learner_uid, event.actor_uid, event.class_uid)
        keys = {m.key for m in PackManifest.select()}
        assert keys == {"org.example.old@0.9.0", "org.example.old@1.0.0"}
        with app.extensions["engine"].reading() as snap:
            gone = snap.catalog.items["org.example.old:gone-1"]
            assert gone.difficulty == 1.75 and "org.example.old:gone-1" not in {
                i.id for items in snap.catalog.items_by_skill.values() for i in items}
            assert snap.state.peek("learner-1", f"org.example.old:{pack.skills[0].id}").attempts == 1
    database.db.close_all()
    shutil.rmtree(data / "packs" / ".retired")  # read once: the database holds it now
    result = CliRunner().invoke(main, ["recompute", "--check", "--data", str(data)])
    assert result.exit_code == 0, result.output
