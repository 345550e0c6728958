"""What every ``classroom-server`` command shares: ``--data``, plain-word failures (``Fail``, exit
code 1, never a traceback), the checks run before a hub is opened, the full, read-only or missing
disk turned into plain words, and serving under waitress (``serve`` and ``demo``).

Nothing here imports the rest of the package, so every command module can import it.
"""

from __future__ import annotations

import errno
import fcntl
import getpass
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


def _load_app(data_dir: Path, overrides: dict[str, Any] | None = None, config_file: Path | None = None):
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


def _check_port(host: str, port: int) -> None:
    """Bind once ourselves first: waitress leaks its sockets when its own bind fails."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def stop_on_signals() -> None:
    """Ctrl-C (SIGINT) and a service manager's SIGTERM both stop a server cleanly, whatever the
    process inherited: a program started in the background by a shell, or by a test runner's
    worker, may start with SIGINT ignored, and Python keeps it ignored unless told otherwise."""
    import signal

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


def _allow_open_files(wanted: int) -> None:
    """Raise this process's soft limit on open files towards ``wanted`` (never above the hard
    limit, which only the system can raise): many systems start programs at 1,024."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _serve(app: Any, data_dir: Path, host: str, port: int, threads: int, banner: str = "") -> None:
    from waitress.server import create_server

    try:
        _check_port(host, port)
        limit = int(app.config["SETTINGS"]["connection_limit"])
        _allow_open_files(limit + 100)  # the connections, the database, pack files and logs
        server = create_server(app, host=host, port=port, threads=threads, ident="classroom-server",
                               connection_limit=limit)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise Fail(f"Port {port} is already in use on {host}. Stop the other program or choose --port.") from None
        if exc.errno == errno.EACCES:
            raise Fail(
                f"Not allowed to listen on port {port}. Ports under 1024 need special rights; try 8080."
            ) from None
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
        stop_on_signals()
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            server.close()
        click.echo("Stopped.")
