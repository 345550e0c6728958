"""The hub's own commands: init, serve, backup, restore, migrate, recompute, check."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from classroom_server.cli.common import (
    Fail,
    _check_disk,
    _check_writable,
    _db_file,
    _load_app,
    _require_initialised,
    _serve,
    _serve_lock,
    _settings,
    _storage_failure,
    _without_postgres_drivers,
    data_option,
)


@click.command()
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


@click.command()
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


@click.command()
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


@click.command()
@data_option
@click.argument("backup_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--other-hub", is_flag=True,
              help="The backup is another hub's, and moving that hub onto this machine is the point.")
def restore(data_dir: Path, backup_file: Path, yes: bool, other_hub: bool) -> None:
    """Replace the hub's database with a backup. The hub must be stopped.

    The replaced database is kept beside it, and the restored hub gets a new epoch so that
    sync never confuses events written before and after the restore. Every session ends.
    Another hub's backup is refused unless --other-hub says so.
    """
    from classroom_server.services import hub

    _check_writable(data_dir)
    with _serve_lock(data_dir, "Stop it before restoring a backup."):
        if not yes and not click.confirm(f"Replace the hub database in {data_dir} with {backup_file}?"):
            raise Fail("Nothing was changed.")
        try:
            epoch, kept = hub.restore(backup_file, _db_file(data_dir), other_hub=other_hub)
        except hub.BackupError as exc:
            raise Fail(str(exc)) from None
    click.echo(f"Restored {backup_file}. New epoch: {epoch}. Everyone signs in again.")
    if kept:
        click.echo(f"The replaced database is kept at {kept}")
    _load_app(data_dir)  # runs any migrations the older backup needs (serve would run them too)


@click.command()
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


@click.command()
@data_option
@click.option("--check", is_flag=True, help="Compare a fresh rebuild with every stored projection; change nothing.")
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


@click.command()
@data_option
@click.option("--min-new-answers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Do nothing unless at least this many answers arrived since the last calibration.")
def calibrate(data_dir: Path, min_new_answers: int) -> None:
    """Fit item difficulties (and guess and slip) on the whole event log and record them.

    The fit is recorded as a `model.calibrated` event: every learner's estimates use it from
    there on, and a rebuild reproduces them. `serve` does this nightly by itself.
    """
    _require_initialised(data_dir)
    app = _load_app(data_dir, {"log_level": "warning"})
    import json

    from classroom_server.db import db
    from classroom_server.services.learning import calibrate as fit

    started = time.perf_counter()
    with db.connection_context():
        recorded = fit(app.extensions["engine"], min_new_answers=min_new_answers)
    if recorded is None:
        click.echo("Nothing to calibrate: too few new answers since the last calibration.")
        return
    payload = json.loads(recorded.payload)
    click.echo(f"Calibrated {len(payload['items'])} items and {len(payload['skills'])} skills on "
               f"{payload['answers']} answers in {time.perf_counter() - started:.2f} s.")


@click.command()
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
