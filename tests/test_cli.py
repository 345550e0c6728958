"""The command line: set up, accounts, backup and restore, and plain-word failures (exit 1)."""

import json
import socket
import sqlite3
import stat

import pytest
from click.testing import CliRunner

from classroom_server import db as database
from classroom_server.cli import main


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def hub_dir(tmp_path, runner):
    data = tmp_path / "hub"
    result = runner.invoke(main, ["init", "--data", str(data), "--admin-password", "first-admin-pw"])
    assert result.exit_code == 0, result.output
    yield data
    if not database.db.is_closed():
        database.db.close()


def _meta(data, key):
    con = sqlite3.connect(database.database_path(data))
    try:
        row = con.execute("SELECT value FROM hub_meta WHERE key=?", (key,)).fetchone()
    finally:
        con.close()
    return row[0] if row else None


def test_help_explains_every_command(runner):
    result = runner.invoke(main, ["--help"])
    for command in ("init", "serve", "demo", "users", "backup", "restore", "migrate", "check"):
        assert command in result.output


def test_init_makes_a_private_secret_key_and_an_identity(hub_dir, runner):
    mode = stat.S_IMODE((hub_dir / "secret_key").stat().st_mode)
    assert mode == 0o600
    assert len((hub_dir / "secret_key").read_text().strip()) >= 40
    assert _meta(hub_dir, "hub_id") and _meta(hub_dir, "epoch")
    again = runner.invoke(main, ["init", "--data", str(hub_dir), "--admin-password", "other-password"])
    assert again.exit_code == 0 and "already set up" in again.output


def test_init_without_a_password_and_no_terminal_fails_clearly(tmp_path, runner):
    result = runner.invoke(main, ["init", "--data", str(tmp_path / "x")], env={"CLASSROOM_ADMIN_PASSWORD": ""})
    assert result.exit_code == 1
    assert "No admin password given" in result.output


def test_check_reports_health(hub_dir, runner):
    result = runner.invoke(main, ["check", "--data", str(hub_dir)])
    assert result.exit_code == 0
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"status", "version", "schema", "hub_id", "disk_free_bytes", "last_backup"} <= set(report)


def test_check_fails_on_a_missing_page(hub_dir, runner):
    assert runner.invoke(main, ["check", "--data", str(hub_dir), "--get", "/nope"]).exit_code == 1


def test_users_add_list_and_reset_password(hub_dir, runner):
    added = runner.invoke(main, ["users", "add", "--data", str(hub_dir), "--username", "kim", "--name", "Kim", "--password", "kims-password"])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(main, ["users", "list", "--data", str(hub_dir)])
    assert "kim" in listed.output and "admin" in listed.output
    reset = runner.invoke(main, ["users", "reset-password", "--data", str(hub_dir), "kim"])
    assert reset.exit_code == 0 and "New password for kim:" in reset.output
    missing = runner.invoke(main, ["users", "reset-password", "--data", str(hub_dir), "nobody"])
    assert missing.exit_code == 1 and "There is no staff account 'nobody'" in missing.output
    dup = runner.invoke(main, ["users", "add", "--data", str(hub_dir), "--username", "kim", "--name", "K", "--password", "kims-password"])
    assert dup.exit_code == 1 and "already taken" in dup.output


def test_backup_then_restore_gives_a_new_epoch_and_keeps_the_old_database(hub_dir, runner, tmp_path):
    result = runner.invoke(main, ["backup", "--data", str(hub_dir), "--to", str(tmp_path / "backups")])
    assert result.exit_code == 0, result.output
    backup_file = next((tmp_path / "backups").glob("*.sqlite3"))
    assert _meta(hub_dir, "last_backup")
    old_epoch = _meta(hub_dir, "epoch")
    database.db.close()
    restored = runner.invoke(main, ["restore", "--data", str(hub_dir), str(backup_file), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert _meta(hub_dir, "epoch") != old_epoch
    assert _meta(hub_dir, "restored_from_epoch") == old_epoch
    assert list(hub_dir.glob("hub.before-restore-*.sqlite3"))


@pytest.mark.parametrize("content", [b"", b"this is not a database at all" * 100, b"SQLite format 3\x00" + b"\x00" * 200])
def test_a_corrupt_backup_is_refused_and_nothing_is_overwritten(hub_dir, runner, tmp_path, content):
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(content)
    before = database.database_path(hub_dir).read_bytes()
    database.db.close()
    result = runner.invoke(main, ["restore", "--data", str(hub_dir), str(bad), "--yes"])
    assert result.exit_code == 1
    assert "cannot be restored" in result.output and "Nothing was changed" in result.output
    assert database.database_path(hub_dir).read_bytes() == before


def test_a_backup_of_a_truncated_copy_is_refused(hub_dir, runner, tmp_path):
    runner.invoke(main, ["backup", "--data", str(hub_dir), "--to", str(tmp_path / "b.sqlite3")])
    data = (tmp_path / "b.sqlite3").read_bytes()
    (tmp_path / "cut.sqlite3").write_bytes(data[: len(data) // 2])
    result = runner.invoke(main, ["restore", "--data", str(hub_dir), str(tmp_path / "cut.sqlite3"), "--yes"])
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_serve_on_a_port_in_use_says_so(hub_dir, runner):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(main, ["serve", "--data", str(hub_dir), "--host", "127.0.0.1", "--port", str(port)])
    assert result.exit_code == 1
    assert f"Port {port} is already in use" in result.output


def test_serve_with_a_malformed_setting_names_it(hub_dir, runner):
    result = runner.invoke(main, ["serve", "--data", str(hub_dir)], env={"CLASSROOM_THREADS": "lots"})
    assert result.exit_code == 1
    assert "Setting 'threads' (from CLASSROOM_THREADS)" in result.output


def test_serve_refuses_when_the_disk_is_full(hub_dir, runner):
    result = runner.invoke(main, ["serve", "--data", str(hub_dir)], env={"CLASSROOM_MIN_FREE_DISK_MB": "1000000"})
    assert result.exit_code == 1
    assert "is full" in result.output and "min_free_disk_mb" in result.output


def test_an_unwritable_data_directory_is_explained(tmp_path, runner):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = runner.invoke(main, ["init", "--data", str(blocker / "hub"), "--admin-password", "first-admin-pw"])
    assert result.exit_code == 1
    assert "is not writable" in result.output and "Traceback" not in result.output


def test_serve_before_init_says_what_to_do(tmp_path, runner):
    result = runner.invoke(main, ["serve", "--data", str(tmp_path / "empty")])
    assert result.exit_code == 1 and "classroom-server init" in result.output


def test_migrate_is_a_no_op_on_a_current_database(hub_dir, runner):
    result = runner.invoke(main, ["migrate", "--data", str(hub_dir)])
    assert result.exit_code == 0 and "Nothing to do." in result.output
