"""The ``classroom-server`` command line. Errors are plain words and exit code 1, never a traceback."""

from __future__ import annotations

import errno
import fcntl
import getpass
import os
import socket
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import click

from classroom_server import __version__

DATA_ENV = "CLASSROOM_DATA"
data_option = click.option(
    "--data", "data_dir", envvar=DATA_ENV, required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help=f"The hub's data directory (or set {DATA_ENV}).",
)


class Fail(click.ClickException):
    """A problem the person at the keyboard can fix; printed without a traceback, exit code 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.message}", err=True)


def _db_file(data_dir: Path) -> Path:
    from classroom_server.db import database_path

    return database_path(data_dir)


def _require_initialised(data_dir: Path) -> None:
    if not _db_file(data_dir).exists():
        raise Fail(f"{data_dir} is not a hub data directory yet. Run: classroom-server init --data {data_dir}")


def _check_writable(data_dir: Path) -> None:
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise Fail(
            f"The data directory {data_dir} is not writable ({exc.strerror}). "
            f"Give the user {getpass.getuser()!r} write access to it, or choose another with --data."
        ) from None


def _check_disk(data_dir: Path, min_free_mb: int, setting: bool = True) -> None:
    from classroom_server.services.hub import disk_free_bytes

    free_mb = disk_free_bytes(data_dir) // (1024 * 1024)
    if free_mb < min_free_mb:
        why = " (setting min_free_disk_mb)" if setting else ""
        raise Fail(
            f"The disk holding {data_dir} is full: {free_mb} MB free, and the hub needs at least "
            f"{min_free_mb} MB{why}. Free some space on it, then try again."
        )


def _storage_failure(exc: BaseException) -> Fail | None:
    """A plain error for a full, read-only or missing disk under the hub; None for anything else."""
    from classroom_server.errors import storage_problem

    if isinstance(exc, PermissionError):
        return Fail(f"Permission denied: {exc.filename or exc}. Run the command as the user the hub "
                    f"runs as, or give the user {getpass.getuser()!r} access to it.")
    kind = storage_problem(exc)
    if kind is None:
        return None
    if isinstance(exc, OSError):
        where = exc.filename or "a file"
        if kind == "full":
            return Fail(f"Could not write {where}: {exc.strerror}. The disk is full (or failing): "
                        "free some space on it, then try again.")
        return Fail(f"Could not write {where}: {exc.strerror}. The disk is mounted read-only.")
    from classroom_server.db import db

    data_dir = Path(db.database).parent if db.database else "the data directory"
    if kind == "full":
        return Fail(f"The hub's database in {data_dir} cannot be written: the disk holding it is full "
                    f"(or failing) ({exc}). Free some space on that disk (see: df -h {data_dir}), then "
                    "try again. What was saved before is safe.")
    if kind == "read_only":
        return Fail(f"The hub's database in {data_dir} is read-only ({exc}). Give the user "
                    f"{getpass.getuser()!r} write access to {data_dir} and the files in it, or check "
                    "that the disk is not mounted read-only.")
    return Fail(f"The hub's database in {data_dir} cannot be opened ({exc}). Check that the disk is "
                f"mounted and that the user {getpass.getuser()!r} can read and write {data_dir}.")


def _without_postgres_drivers() -> None:
    """The hub never talks to PostgreSQL, but peewee imports any driver it finds (100 ms, 10 MB)."""
    for name in ("psycopg", "psycopg2"):
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


def _load_app(data_dir: Path, overrides: dict[str, Any] | None = None, config_file: Path | None = None):  # type: ignore[no-untyped-def]
    if data_dir.is_dir():
        _check_disk(data_dir, 1, setting=False)  # SQLite cannot even open its database on a full disk
    from classroom_server.app import create_app
    from classroom_server.config import ConfigError

    try:
        return create_app(data_dir, overrides, config_file)
    except ConfigError as exc:
        raise Fail(str(exc)) from None
    except Exception as exc:
        failure = _storage_failure(exc)
        if failure is None:
            raise
        raise failure from None


def _settings(data_dir: Path, overrides: dict[str, Any] | None, config_file: Path | None) -> dict[str, Any]:
    from classroom_server.config import ConfigError, load_settings

    try:
        return load_settings(data_dir, overrides, config_file)
    except ConfigError as exc:
        raise Fail(str(exc)) from None


@contextmanager
def _serve_lock(data_dir: Path, waiting_for: str) -> Iterator[None]:
    """Held while the hub serves, so restore cannot swap the database under a running hub."""
    handle = open(data_dir / "serve.lock", "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise Fail(f"The hub in {data_dir} is running. {waiting_for}") from None
        yield
    finally:
        handle.close()


def _address_by_route() -> str | None:
    """The address this machine would use toward a private network: a UDP "connect" only picks
    the route and the source address; it sends nothing, so it works offline with any LAN."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            return str(probe.getsockname()[0])
    except OSError:
        return None


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback, from local name resolution, else the
    routing table (Debian and Raspberry Pi OS map the host name to 127.0.1.1)."""
    found: list[str] = []
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.append(str(info[4][0]))
    except OSError:
        pass
    found.append(_address_by_route() or "")
    usable: list[str] = []
    for address in found:
        if address and not address.startswith("127.") and address != "0.0.0.0" and address not in usable:
            usable.append(address)
    return usable


class _Commands(click.Group):
    """Every command: a full, read-only or missing disk found mid-way is a plain error too."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException:
            raise
        except Exception as exc:
            failure = _storage_failure(exc)
            if failure is None:
                raise
            raise failure from None


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="classroom-server")
def main() -> None:
    """The classroom server: personalized practice and mastery for a classroom, offline.

    Start with `init`, then `serve`. Or try everything at once with `demo`.
    """


@main.command()
@data_option
@click.option("--admin-username", default="admin", show_default=True, help="Username of the first admin.")
@click.option("--admin-name", default="Admin", show_default=True, help="Display name of the first admin.")
@click.option("--admin-password", envvar="CLASSROOM_ADMIN_PASSWORD",
              help="Password of the first admin (or set CLASSROOM_ADMIN_PASSWORD). Asked for when omitted.")
def init(data_dir: Path, admin_username: str, admin_name: str, admin_password: str | None) -> None:
    """Create a hub: data directory, secret key (mode 0600), hub identity and the first admin."""
    _check_writable(data_dir)
    _check_disk(data_dir, 1)
    from classroom_server.db import db
    from classroom_server.errors import ClassroomError
    from classroom_server.models import Person
    from classroom_server.services import accounts, hub

    _load_app(data_dir)
    with db.connection_context():
        created = hub.initialize_identity()
        if Person.select().where(Person.role == "admin").exists():
            click.echo(f"The hub in {data_dir} is already set up (hub id {hub.get_meta('hub_id')}).")
            return
        if not admin_password:
            if not sys.stdin.isatty():
                raise Fail("No admin password given. Use --admin-password or CLASSROOM_ADMIN_PASSWORD.")
            admin_password = click.prompt("Password for the first admin", hide_input=True, confirmation_prompt=True)
        try:
            accounts.create_staff("admin", admin_username, admin_name, admin_password)
        except ClassroomError as exc:
            raise Fail(exc.message) from None
        click.echo(f"{'Created' if created else 'Completed'} the hub in {data_dir} (hub id {hub.get_meta('hub_id')}).")
        click.echo(f"Admin: {admin_username}. Next: classroom-server serve --data {data_dir}")


def _check_port(host: str, port: int) -> None:
    """Bind once ourselves first: waitress leaks its sockets when its own bind fails."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def _serve(app: Any, data_dir: Path, host: str, port: int, threads: int, banner: str = "") -> None:
    from waitress.server import create_server

    try:
        _check_port(host, port)
        server = create_server(app, host=host, port=port, threads=threads, ident="classroom-server")
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise Fail(f"Port {port} is already in use on {host}. Stop the other program or choose --port.") from None
        if exc.errno == errno.EACCES:
            raise Fail(f"Not allowed to listen on port {port}. Ports under 1024 need special rights; try 8080.") from None
        raise Fail(f"Cannot listen on {host}:{port}: {exc.strerror}") from None
    with _serve_lock(data_dir, "Only one hub can serve a data directory at a time."):
        shown = "localhost" if host in ("0.0.0.0", "::", "127.0.0.1") else host
        click.echo(f"Classroom hub {__version__} serving at http://{shown}:{port}/")
        if host in ("0.0.0.0", "::"):
            for address in lan_addresses():
                click.echo(f"  on the classroom network: http://{address}:{port}/")
        if banner:
            click.echo(banner)
        sys.stdout.flush()
        try:
            server.run()  # waitress returns on Ctrl+C or SIGINT itself
        except KeyboardInterrupt:
            pass
        finally:
            server.close()
        click.echo("Stopped.")


@main.command()
@data_option
@click.option("--host", help="Address to listen on (setting `host`).")
@click.option("--port", type=int, help="Port (setting `port`).")
@click.option("--threads", type=int, help="Worker threads (setting `threads`).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A TOML settings file (default: config.toml in the data directory, if present).")
def serve(data_dir: Path, host: str | None, port: int | None, threads: int | None, config_file: Path | None) -> None:
    """Run the hub under waitress until stopped."""
    _without_postgres_drivers()
    _require_initialised(data_dir)
    _check_writable(data_dir)
    overrides = {"host": host, "port": port, "threads": threads}
    _check_disk(data_dir, _settings(data_dir, overrides, config_file)["min_free_disk_mb"])
    app = _load_app(data_dir, overrides, config_file)
    settings = app.config["SETTINGS"]
    from classroom_server import jobs

    scheduler = jobs.start(app)
    try:
        _serve(app, data_dir, settings["host"], settings["port"], settings["threads"])
    finally:
        scheduler.shutdown(wait=False)


@main.command()
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to build the demo school (default: a new temporary directory).")
@click.option("--host", default="0.0.0.0", show_default=True,
              help="Address to listen on; 0.0.0.0 lets the classroom's devices reach the demo, "
                   "127.0.0.1 keeps it to this machine.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on.")
@click.option("--no-serve", is_flag=True, help="Build the demo school and exit without serving.")
def demo(data_dir: Path | None, host: str, port: int, no_serve: bool) -> None:
    """Build a complete demo school and serve it, printing the addresses and logins."""
    _without_postgres_drivers()
    from classroom_server import demo as demo_school

    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="classroom-demo-"))
    if demo_school.holds_another_hub(data_dir):
        raise Fail(
            f"{data_dir} already holds a hub that is not a demo (it has no {demo_school.LOGINS_FILE}); "
            "the demo will not touch it. Choose a new or empty folder with --data, or leave --data out. "
            "If it is a demo whose set-up was interrupted, delete that folder and run the demo again."
        )
    _check_writable(data_dir)
    app = _load_app(data_dir, {"host": host, "port": port})
    try:
        logins = demo_school.build(data_dir, engine=app.extensions["engine"])
    except demo_school.NotADemo as exc:
        raise Fail(str(exc)) from None
    banner = demo_school.describe(logins, data_dir)
    if no_serve:
        click.echo(banner)
        return
    _serve(app, data_dir, host, port, app.config["SETTINGS"]["threads"], banner)


@main.command()
@data_option
@click.option("--to", "destination", required=True, type=click.Path(path_type=Path),
              help="A folder (a dated file is made in it) or a file name.")
def backup(data_dir: Path, destination: Path) -> None:
    """Copy the hub database safely while it runs, and verify the copy."""
    _require_initialised(data_dir)
    from classroom_server import clock
    from classroom_server import db as database
    from classroom_server.services import hub

    try:  # reads only: a hub on a read-only or nearly full disk can still be backed up
        written = hub.backup(_db_file(data_dir), destination)
    except hub.BackupError as exc:
        raise Fail(str(exc)) from None
    click.echo(f"Backup written and verified: {written}")
    try:
        database.configure(_db_file(data_dir))
        with database.db.connection_context():
            hub.set_meta("last_backup", clock.iso())
    except Exception as exc:
        failure = _storage_failure(exc)
        if failure is None:
            raise
        raise Fail(f"The backup is fine, but its time could not be recorded in the hub (so /healthz "
                   f"does not show it as last_backup). {failure.message}") from None


@main.command()
@data_option
@click.argument("backup_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore(data_dir: Path, backup_file: Path, yes: bool) -> None:
    """Replace the hub's database with a backup. The hub must be stopped.

    The replaced database is kept beside it, and the restored hub gets a new epoch so that
    sync never confuses events written before and after the restore.
    """
    from classroom_server.services import hub

    _check_writable(data_dir)
    with _serve_lock(data_dir, "Stop it before restoring a backup."):
        if not yes and not click.confirm(f"Replace the hub database in {data_dir} with {backup_file}?"):
            raise Fail("Nothing was changed.")
        try:
            epoch, kept = hub.restore(backup_file, _db_file(data_dir))
        except hub.BackupError as exc:
            raise Fail(str(exc)) from None
    click.echo(f"Restored {backup_file}. New epoch: {epoch}.")
    if kept:
        click.echo(f"The replaced database is kept at {kept}")
    _load_app(data_dir)  # runs any migrations the older backup needs (serve would run them too)


@main.command()
@data_option
def migrate(data_dir: Path) -> None:
    """Apply pending schema migrations (serve does this by itself at start)."""
    _require_initialised(data_dir)
    _check_disk(data_dir, 1, setting=False)
    from classroom_server import db as database

    database.configure(_db_file(data_dir))
    applied = database.migrate()
    with database.db.connection_context():
        version = database.schema_version()
    click.echo(("Applied: " + ", ".join(applied)) if applied else "Nothing to do.")
    click.echo(f"Schema: {version}")


@main.command()
@data_option
@click.option("--check", is_flag=True, help="Compare a fresh rebuild with the stored projection; change nothing.")
def recompute(data_dir: Path, check: bool) -> None:
    """Rebuild every stored projection (mastery, assignments, accommodations, goals) from the
    event log.

    With --check, exit 1 and list every difference if a stored projection is not exactly what
    the event log gives today.
    """
    _require_initialised(data_dir)
    app = _load_app(data_dir, {"log_level": "warning"})
    from classroom_server.learning import ALGORITHM_VERSION
    from classroom_server.services import projections

    started = time.perf_counter()
    outcomes = projections.recompute(app.extensions["catalogue"], check)
    seconds = time.perf_counter() - started
    if not check:
        click.echo(f"Rebuilt every projection ({ALGORITHM_VERSION}) from the event log in {seconds:.2f} s: "
                   f"{projections.describe(outcomes)} rows.")
        return
    problems = [p for o in outcomes for p in o.problems]
    for problem in problems[:100]:
        click.echo(problem)
    if problems:
        click.echo(f"{len(problems)} differences between the stored projections and a rebuild. "
                   "Run `classroom-server recompute` to rewrite them.")
        sys.exit(1)
    click.echo(f"Every stored projection equals a fresh rebuild ({ALGORITHM_VERSION}; "
               f"{projections.describe(outcomes)} rows; {seconds:.2f} s).")


@main.command()
@data_option
@click.option("--get", "path", default="/healthz", show_default=True, help="Path to request.")
def check(data_dir: Path, path: str) -> None:
    """Request one page through the app without opening a port; exit 1 unless it answers 200."""
    _require_initialised(data_dir)
    app = _load_app(data_dir, {"log_level": "warning"})
    started = time.perf_counter()
    response = app.test_client().get(path)
    click.echo(response.get_data(as_text=True).rstrip())
    click.echo(f"{response.status_code} in {(time.perf_counter() - started) * 1000:.0f} ms", err=True)
    if response.status_code != 200:
        sys.exit(1)


def _register_subcommands() -> None:
    from classroom_server.cli_packs import pack
    from classroom_server.cli_users import users

    main.add_command(pack)
    main.add_command(users)


_register_subcommands()


if __name__ == "__main__":  # pragma: no cover
    main()
