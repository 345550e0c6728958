"""The command line: set up, accounts, backup and restore, and plain-word failures (exit 1)."""

import errno
import json
import re
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import peewee
import pytest
from click.testing import CliRunner

from classroom_server import db as database
from classroom_server.cli import main
from tests.conftest import real_disk

ROOT = Path(__file__).resolve().parents[1]


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
        database.db.close_all()


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
    database.db.close_all()
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
    database.db.close_all()
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


# --- a full, read-only or odd disk: plain words, exit 1, nothing lost ---

def _plain_failure(result):
    """Exit 1 through a Fail (SystemExit), not an exception CliRunner caught for us."""
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result.output


def _fill(disk):
    """Fill a disk to the last byte, for real."""
    with open(disk / "filler", "wb", buffering=0) as fh:
        for size in (1 << 16, 1 << 12, 1 << 9):
            try:
                while True:
                    fh.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    assert shutil.disk_usage(disk).free < 64 * 1024


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 2 MB disk (tmpfs) to fill up; mounting needs root, which CI has."""
    with real_disk(tmp_path / "tiny-disk", "2m") as point:
        yield point


@pytest.fixture
def full_hub(tiny_disk, runner):
    hub = tiny_disk / "hub"
    result = runner.invoke(main, ["init", "--data", str(hub), "--admin-password", "first-admin-pw"])
    assert result.exit_code == 0, result.output
    database.close_all()  # really closed (pooled connections stay open), before the disk fills
    _fill(tiny_disk)
    return hub


@pytest.mark.parametrize("command", [["serve"], ["check"], ["users", "list"], ["migrate"],
                                     ["users", "add", "--username", "kim", "--name", "K", "--password", "kims-password"]])
def test_a_truly_full_disk_is_explained_before_the_database_is_touched(full_hub, runner, command):
    before = database.database_path(full_hub).read_bytes()
    output = _plain_failure(runner.invoke(main, [*command, "--data", str(full_hub)]))
    assert f"The disk holding {full_hub} is full" in output and "Free some space" in output
    assert database.database_path(full_hub).read_bytes() == before


@pytest.mark.parametrize("command", [["check"], ["users", "list"],
                                     ["users", "add", "--username", "kim", "--name", "K", "--password", "kims-password"]])
def test_sqlite_errors_on_a_full_disk_are_plain_words_too(full_hub, runner, monkeypatch, command):
    """Past the free-space check (as when the disk fills while a command runs): SQLite fails for real."""
    from classroom_server.services import hub

    monkeypatch.setattr(hub, "disk_free_bytes", lambda path: 10 ** 12)
    output = _plain_failure(runner.invoke(main, [*command, "--data", str(full_hub)]))
    assert f"The hub's database in {full_hub} cannot be written" in output
    assert "disk holding it is full" in output and f"df -h {full_hub}" in output


@pytest.mark.parametrize("message, expected", [
    ("database or disk is full", "disk holding it is full"),
    ("disk I/O error", "disk holding it is full"),
    ("attempt to write a readonly database", "is read-only"),
    ("unable to open database file", "cannot be opened"),
])
def test_each_kind_of_storage_error_in_a_command_is_explained(hub_dir, runner, monkeypatch, message, expected):
    from classroom_server.services import accounts

    def fail(*args, **kwargs):
        raise peewee.OperationalError(message)

    monkeypatch.setattr(accounts, "create_staff", fail)
    result = runner.invoke(main, ["users", "add", "--data", str(hub_dir), "--username", "kim", "--name", "K",
                                  "--password", "kims-password"])
    output = _plain_failure(result)
    assert expected in output and str(hub_dir) in output and message in output


def test_other_database_errors_are_not_dressed_up(hub_dir, runner, monkeypatch):
    """A bug is a bug: only the disk's troubles become plain words."""
    from classroom_server.services import accounts

    def fail(*args, **kwargs):
        raise peewee.OperationalError("no such table: person")

    monkeypatch.setattr(accounts, "create_staff", fail)
    result = runner.invoke(main, ["users", "add", "--data", str(hub_dir), "--username", "kim", "--name", "K",
                                  "--password", "kims-password"])
    assert isinstance(result.exception, peewee.OperationalError)


def test_restore_on_a_full_disk_changes_nothing(tiny_disk, runner, tmp_path):
    hub = tiny_disk / "hub"
    assert runner.invoke(main, ["init", "--data", str(hub), "--admin-password", "first-admin-pw"]).exit_code == 0
    backup = tmp_path / "b.sqlite3"
    assert runner.invoke(main, ["backup", "--data", str(hub), "--to", str(backup)]).exit_code == 0
    database.db.close_all()
    _fill(tiny_disk)
    before = sorted(p.name for p in hub.iterdir()), database.database_path(hub).read_bytes()
    output = _plain_failure(runner.invoke(main, ["restore", "--data", str(hub), str(backup), "--yes"]))
    assert "the disk is full" in output and "Nothing was changed" in output
    assert not (hub / "hub.sqlite3.restoring").exists() and not list(hub.glob("*before-restore*"))
    assert (sorted(p.name for p in hub.iterdir() if p.name != "serve.lock"), database.database_path(hub).read_bytes()) == before
    (tiny_disk / "filler").unlink()  # with space again, the same restore works
    assert runner.invoke(main, ["restore", "--data", str(hub), str(backup), "--yes"]).exit_code == 0


def _half_written_then_full(path):
    Path(path).write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    raise OSError(errno.ENOSPC, "No space left on device", str(path))


def test_restore_cleans_up_when_the_staging_copy_runs_out_of_space(hub_dir, runner, tmp_path, monkeypatch):
    from classroom_server.services import hub

    runner.invoke(main, ["backup", "--data", str(hub_dir), "--to", str(tmp_path / "b.sqlite3")])
    database.db.close_all()
    before = database.database_path(hub_dir).read_bytes()
    monkeypatch.setattr(hub.shutil, "copyfile", lambda src, dst: _half_written_then_full(dst))
    output = _plain_failure(runner.invoke(main, ["restore", "--data", str(hub_dir), str(tmp_path / "b.sqlite3"), "--yes"]))
    assert "the disk is full" in output and "Nothing was changed" in output
    assert not (hub_dir / "hub.sqlite3.restoring").exists()
    assert database.database_path(hub_dir).read_bytes() == before


def test_restore_cleans_up_when_keeping_the_old_database_runs_out_of_space(hub_dir, runner, tmp_path, monkeypatch):
    from classroom_server.services import hub

    runner.invoke(main, ["backup", "--data", str(hub_dir), "--to", str(tmp_path / "b.sqlite3")])
    database.db.close_all()
    before = database.database_path(hub_dir).read_bytes()

    def copy_until_full(source, target):
        Path(target).write_bytes(b"partial")
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(hub, "_copy_database", copy_until_full)
    output = _plain_failure(runner.invoke(main, ["restore", "--data", str(hub_dir), str(tmp_path / "b.sqlite3"), "--yes"]))
    assert "the disk is full" in output
    assert not (hub_dir / "hub.sqlite3.restoring").exists() and not list(hub_dir.glob("*before-restore*"))
    assert database.database_path(hub_dir).read_bytes() == before


@pytest.mark.parametrize("under", ["a-file/sub", "a-file/sub/b.sqlite3", "a-file"])
def test_backup_to_a_path_through_a_file_is_explained(hub_dir, runner, tmp_path, under):
    (tmp_path / "a-file").write_text("not a folder")
    output = _plain_failure(runner.invoke(main, ["backup", "--data", str(hub_dir), "--to", str(tmp_path / under)]))
    assert f"{tmp_path / 'a-file'} is a file, not a folder" in output
    assert (tmp_path / "a-file").read_text() == "not a folder"
    assert _meta(hub_dir, "last_backup") is None


def test_backup_of_a_hub_on_a_read_only_disk_is_explained(tiny_disk, runner, tmp_path):
    hub = tiny_disk / "hub"
    assert runner.invoke(main, ["init", "--data", str(hub), "--admin-password", "first-admin-pw"]).exit_code == 0
    database.db.close_all()
    remounted = subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], capture_output=True, text=True)
    assert remounted.returncode == 0, remounted.stderr
    output = _plain_failure(runner.invoke(main, ["backup", "--data", str(hub), "--to", str(tmp_path / "b")]))
    assert f"The hub's database {database.database_path(hub)} cannot be read for a backup" in output
    assert not list((tmp_path / "b").glob("*"))
    assert "cannot be opened" in _plain_failure(runner.invoke(main, ["users", "list", "--data", str(hub)]))


def test_a_backup_whose_time_cannot_be_recorded_says_so_and_keeps_the_backup(hub_dir, runner, tmp_path, monkeypatch):
    from classroom_server.services import hub

    def read_only(*args):
        raise peewee.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(hub, "set_meta", read_only)
    result = runner.invoke(main, ["backup", "--data", str(hub_dir), "--to", str(tmp_path / "b.sqlite3")])
    output = _plain_failure(result)
    assert "Backup written and verified" in output and "The backup is fine" in output and "read-only" in output
    assert hub._integrity_ok(tmp_path / "b.sqlite3") == (True, "ok")


# --- demo ---

def test_demo_refuses_a_hub_that_is_not_a_demo(hub_dir, runner):
    before = database.database_path(hub_dir).read_bytes()
    output = _plain_failure(runner.invoke(main, ["demo", "--data", str(hub_dir), "--no-serve"]))
    assert f"{hub_dir} already holds a hub that is not a demo" in output
    assert database.database_path(hub_dir).read_bytes() == before
    assert not (hub_dir / "demo-logins.json").exists()


def test_demo_runs_again_on_its_own_directory(hub_dir, runner):
    logins = {"staff": [{"role": "admin", "username": "admin", "password": "from-before"}], "classes": [], "packs": []}
    (hub_dir / "demo-logins.json").write_text(json.dumps(logins))
    result = runner.invoke(main, ["demo", "--data", str(hub_dir), "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "from-before" in result.output


def test_demo_build_itself_refuses_a_hub_with_people(hub_dir):
    from classroom_server import demo
    from classroom_server.app import create_app

    create_app(hub_dir, {"TESTING": True, "log_level": "warning"})
    with pytest.raises(demo.NotADemo):
        demo.build(hub_dir)


def test_demo_options_are_explained(runner):
    text = runner.invoke(main, ["demo", "--help"]).output
    assert "Address to listen on" in text and "Port to listen on" in text


# --- the classroom address ---

class _FakeUdp:
    """Records what lan_addresses does with a socket; sends nothing, as the real call must not."""

    def __init__(self, address, log):
        self.address, self.log = address, log

    def __call__(self, family=-1, kind=-1, *args):
        self.log.append(("socket", family, kind))
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.log.append(("closed",))

    def connect(self, target):
        self.log.append(("connect", target))

    def getsockname(self):
        return (self.address, 40000)

    def __getattr__(self, name):  # send, sendto, ...: any of them fails the test
        raise AssertionError(f"lan_addresses must not call socket.{name}")


@pytest.mark.parametrize("by_name, by_route, expected", [
    (["127.0.1.1"], "192.168.4.1", ["192.168.4.1"]),           # Debian, Raspberry Pi OS
    (["127.0.0.1"], "10.0.0.7", ["10.0.0.7"]),
    (["192.168.4.1"], "192.168.4.1", ["192.168.4.1"]),          # no duplicates
    (["192.168.4.1"], "10.0.0.7", ["192.168.4.1", "10.0.0.7"]),
    (["127.0.1.1"], "127.0.0.1", []),                           # no network at all: loopback is no use
])
def test_lan_addresses_fall_back_to_the_route(monkeypatch, by_name, by_route, expected):
    from classroom_server.cli import common as cli

    log = []
    monkeypatch.setattr(cli.socket, "getaddrinfo", lambda *a: [(socket.AF_INET, 0, 0, "", (a_, 0)) for a_ in by_name])
    monkeypatch.setattr(cli.socket, "socket", _FakeUdp(by_route, log))
    assert cli.lan_addresses() == expected
    assert log == [("socket", socket.AF_INET, socket.SOCK_DGRAM), ("connect", ("10.255.255.255", 1)), ("closed",)]


def test_lan_addresses_without_any_network(monkeypatch):
    from classroom_server.cli import common as cli

    def no_network(*args):
        raise OSError(errno.ENETUNREACH, "Network is unreachable")

    monkeypatch.setattr(cli.socket, "getaddrinfo", no_network)
    monkeypatch.setattr(cli.socket, "socket", no_network)
    assert cli.lan_addresses() == []


# --- the real thing: a serve process, and the set-up scripts ---

def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serve_runs_as_a_real_process_and_stops_cleanly(hub_dir, stop):
    """Ctrl-C and a service manager's SIGTERM both stop the hub cleanly, even when the process
    was started with SIGINT ignored (as a shell's background job is)."""
    database.db.close_all()
    script = Path(sys.executable).with_name("classroom-server")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "classroom_server.cli"]
    port = _free_port()
    process = subprocess.Popen(
        [*command, "serve", "--data", str(hub_dir), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        deadline, status = time.monotonic() + 30, None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    status = response.status
                    body = json.loads(response.read())
                break
            except OSError:
                time.sleep(0.05)
        assert status == 200, process.stderr.read() if process.poll() is not None else "no answer"
        assert body["status"] in ("ok", "degraded")
    finally:
        process.send_signal(stop)
        try:
            out, err = process.communicate(timeout=60)  # generous: a loaded machine is slow, not wrong
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            raise AssertionError(f"serve did not stop within 60 s of Ctrl-C: {err[-2000:]}") from None
    assert process.returncode == 0, err
    assert f"serving at http://localhost:{port}/" in out and "Stopped." in out
    assert "Traceback" not in err
    with socket.socket() as again:  # nothing listens on the port any more
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))


def _script_sandbox(tmp_path, name):
    """The script in a copy of the repository whose .venv/bin/python logs pip and runs the rest."""
    root = tmp_path / "repo"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / name, root / "scripts" / name)
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    bin_dir = root / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    fake = bin_dir / "python"
    fake.write_text(
        "#!/usr/bin/env bash\n"
        'if [ "${1:-}" = "-m" ] && [ "${2:-}" = "pip" ]; then echo "$*" >> "$(dirname "$0")/../pip.log"; exit 0; fi\n'
        'if [ "${1:-}" = "-m" ]; then exit 0; fi\n'
        f'exec {sys.executable} "$@"\n'
    )
    fake.chmod(0o755)
    cli_script = bin_dir / "classroom-server"
    cli_script.write_text("#!/usr/bin/env bash\nexit 0\n")
    cli_script.chmod(0o755)
    return root


def _pip_runs(root):
    log = root / ".venv" / "pip.log"
    return log.read_text().splitlines() if log.exists() else []


@pytest.mark.parametrize("name, extras", [("test", ".[test]"), ("demo", "-e .")])
def test_setup_scripts_install_only_when_pyproject_changes(tmp_path, name, extras):
    root = _script_sandbox(tmp_path, name)

    def run():
        done = subprocess.run(["bash", str(root / "scripts" / name)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr

    run()
    assert len(_pip_runs(root)) == 1 and extras in _pip_runs(root)[0]
    run()  # offline the second time: no pip
    assert len(_pip_runs(root)) == 1
    (root / "pyproject.toml").write_text((root / "pyproject.toml").read_text() + "\n# changed\n")
    run()
    assert len(_pip_runs(root)) == 2


def test_the_demo_reuses_an_install_made_for_the_tests(tmp_path):
    root = _script_sandbox(tmp_path, "test")
    shutil.copy(ROOT / "scripts" / "demo", root / "scripts" / "demo")
    for name in ("test", "demo"):
        assert subprocess.run(["bash", str(root / "scripts" / name)], capture_output=True, timeout=60).returncode == 0
    assert len(_pip_runs(root)) == 1


def test_every_library_the_command_line_imports_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {re.split(r"[<>=\[ ]", d)[0].lower() for d in project["dependencies"]}
    assert {"click", "flask", "peewee", "waitress"} <= declared
