"""``classroom-server sync ...``: enrol a hub with its district, sync now, and read how syncs went."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from classroom_server.cli.common import Fail, _load_app, _require_initialised, data_option


@click.group()
def sync() -> None:
    """District sync: enrol this hub with the district, sync now, show how syncs went."""


@sync.command("enrol")
@data_option
@click.option("--district", "district_url", required=True, metavar="URL",
              help="The district's address, e.g. https://district.example.org.")
@click.option("--name", "hub_name", help="This hub's name at the district, when district staff gave it none "
                                         "(default: this machine's name).")
@click.argument("code", nargs=-1, required=True)
def sync_enrol(data_dir: Path, district_url: str, hub_name: str | None, code: tuple[str, ...]) -> None:
    """Enrol this hub with the district, using the one-time CODE district staff gave for it.

    CODE may be typed with or without its dashes and spaces (ABCD-EFGH-JKMN, abcd efgh jkmn).
    """
    _require_initialised(data_dir)
    _load_app(data_dir, {"log_level": "warning"})
    from classroom_server.db import db
    from classroom_server.errors import Invalid
    from classroom_server.services import sync_runner
    from sync.client import SyncError

    with db.connection_context():
        try:
            school = sync_runner.enrol(district_url, " ".join(code), hub_name)
        except Invalid as exc:
            raise Fail(exc.message) from None
        except SyncError as exc:
            raise Fail(f"This hub is not enrolled. {exc}") from None
    click.echo(f"Enrolled with the district at {sync_runner.check_district_url(district_url)}, for {school}.")
    click.echo(f"Sync now with: classroom-server sync run --data {data_dir}")
    click.echo("(`serve` also syncs by itself, every `sync_interval_minutes`.)")


def _progress_bar(width: int = 30) -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        fraction = done / total if total else 1.0
        filled = int(width * fraction)
        click.echo(f"\r[{'#' * filled}{'.' * (width - filled)}] {int(fraction * 100):3d}% "
                   f"{done} of {total} events", nl=False, err=True)

    return show


def _events(count: int) -> str:
    return f"{count} event{'' if count == 1 else 's'}"


def _size(count: int) -> str:
    for unit, scale in (("MB", 1024**2), ("KB", 1024)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} bytes"


@sync.command("run")
@data_option
def sync_run(data_dir: Path) -> None:
    """Sync with the district now: send every event it lacks (a progress bar on a terminal).

    Prints what was done; exit 1, with the reason, when the sync could not finish (nothing is
    lost: unsent events wait on the hub for the next sync).
    """
    _require_initialised(data_dir)
    app = _load_app(data_dir, {"log_level": "warning"})
    from classroom_server.db import db
    from classroom_server.services import sync as hub_sync
    from classroom_server.services import sync_runner
    from sync.client import SyncError

    on_terminal = sys.stderr.isatty()
    with db.connection_context():
        try:
            outcome = sync_runner.sync_now(app.config["SETTINGS"], progress=_progress_bar() if on_terminal else None)
        except hub_sync.NotEnrolled:
            raise Fail("This hub is not enrolled with a district yet. Enrol it first: classroom-server sync enrol "
                       f"--data {data_dir} --district URL CODE") from None
        except SyncError as exc:
            if on_terminal:
                click.echo("", err=True)
            raise Fail(f"The sync did not finish. {exc} Nothing is lost: the events wait on this hub "
                       "for the next sync.") from None
        school = hub_sync.status().school
    if on_terminal:
        click.echo("", err=True)
    click.echo(f"Synced with the district ({school}).")
    click.echo(f"  pushed:   {_events(outcome.pushed)}")
    click.echo(f"  waiting:  {_events(outcome.waiting)}")
    click.echo(f"  requests: {outcome.requests}")
    click.echo(f"  bytes:    {_size(outcome.bytes_sent)} sent, {_size(outcome.bytes_received)} received")
    if outcome.pulled:
        click.echo(f"  pulled:   {outcome.pulled} district change{'' if outcome.pulled == 1 else 's'} applied "
                   "(rosters, assignments, calibrations, packs)")
    if outcome.fetched_back:
        click.echo(f"  fetched back: {_events(outcome.fetched_back)} of this hub's own that it had lost")
    if outcome.quarantined:
        click.echo(f"  refused by the district: {_events(outcome.quarantined)} "
                   f"(see: classroom-server sync status --data {data_dir})")
    for note in outcome.notes:
        click.echo(f"  {note}")


@sync.command("export")
@data_option
@click.option("--to", "folder", required=True, type=click.Path(path_type=Path),
              help="The folder to write the bundle in: a USB stick's, e.g. /media/usb0.")
def sync_export(data_dir: Path, folder: Path) -> None:
    """Write a USB sync bundle for the district: every event it has not acknowledged (so a lost
    stick loses nothing: the next bundle holds it all again), signed with this hub's secret.

    Take the stick to the district (classroom-server district import), bring back the return
    bundle it writes, and read it here with: classroom-server sync import.
    """
    _require_initialised(data_dir)
    _load_app(data_dir, {"log_level": "warning"})
    from classroom_server.db import db
    from classroom_server.services import bundles
    from classroom_server.services import sync as hub_sync
    from sync.bundle import BundleError
    from sync.client import SyncError

    on_terminal = sys.stderr.isatty()
    with db.connection_context():
        try:
            exported = bundles.export(folder, progress=_progress_bar() if on_terminal else None)
        except hub_sync.NotEnrolled:
            raise Fail("This hub is not enrolled with a district yet. Enrol it first (once, where there is a "
                       f"link): classroom-server sync enrol --data {data_dir} --district URL CODE") from None
        except (BundleError, SyncError) as exc:
            if on_terminal:
                click.echo("", err=True)
            raise Fail(f"No bundle was written. {exc}") from None
    if on_terminal:
        click.echo("", err=True)
    for path in exported.paths:
        click.echo(f"Wrote {path} ({_size(path.stat().st_size)}).")
    click.echo(f"  events: {_events(exported.events)} the district has not acknowledged")
    click.echo("Eject the stick safely before pulling it out.")


@sync.command("import")
@data_option
@click.argument("source", type=click.Path(path_type=Path))
def sync_import(data_dir: Path, source: Path) -> None:
    """Read the district's return bundle (SOURCE: the file, or a folder such as a stick's, where
    every return bundle for this hub is read, oldest first): acknowledgements, rosters, courses,
    assignments, calibrations and pack files. Reading one twice changes nothing twice.
    """
    _require_initialised(data_dir)
    _load_app(data_dir, {"log_level": "warning"})
    from classroom_server.db import db
    from classroom_server.services import bundles
    from classroom_server.services import sync as hub_sync
    from sync.bundle import BundleError
    from sync.client import SyncError

    with db.connection_context():
        paths = bundles.returns_in(source) if source.is_dir() else [source]
        if not paths:
            raise Fail(f"There is no return bundle for this hub in {source} (return-<this hub>-....bundle).")
        failed = 0
        for path in paths:
            try:
                read = bundles.read_back(path)
            except hub_sync.NotEnrolled:
                raise Fail("This hub is not enrolled with a district.") from None
            except (BundleError, SyncError) as exc:
                click.echo(f"{path.name}: not read. {exc}", err=True)
                failed += 1
                continue
            outcome = read.outcome
            click.echo(f"Read {path.name}.")
            click.echo(f"  district changes applied: {outcome.pulled}")
            click.echo(f"  events waiting:           {outcome.waiting}")
            if outcome.fetched_back:
                click.echo(f"  fetched back: {_events(outcome.fetched_back)} of this hub's own that it had lost")
            if outcome.shared:
                click.echo(f"  other hubs' events about this hub's learners: {outcome.shared}")
            if outcome.quarantined:
                click.echo(f"  refused by the district: {_events(outcome.quarantined)}")
            for note in read.notes + outcome.notes:
                click.echo(f"  {note}")
    if failed == len(paths):
        sys.exit(1)


def _when(value: str | None) -> str:
    """A stored time in the hub's local time, and how long ago (by the hub's clock)."""
    if not value:
        return "never"
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    seconds = (dt.datetime.now(dt.UTC) - moment).total_seconds()
    local = moment.astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()
    if seconds < -120:
        return f"{local} (ahead of this hub's clock: is the clock right?)"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{local} ({count} {unit}{'s' if count != 1 else ''} ago)"
    return f"{local} (just now)"


@sync.command("status")
@data_option
def sync_status(data_dir: Path) -> None:
    """Show whether this hub is enrolled, with which district and school, how the last syncs
    went, how many events wait to be sent, and the events the district refused."""
    _require_initialised(data_dir)
    _load_app(data_dir, {"log_level": "warning"})
    from classroom_server.db import db
    from classroom_server.services import bundles
    from classroom_server.services import sync as hub_sync

    with db.connection_context():
        state = hub_sync.status()
        refused = hub_sync.quarantined_details(limit=50)
        written, answer = bundles.last_export(), bundles.last_import()
    lines: list[tuple[str, Any]] = [
        ("enrolled", "yes" if state.enrolled else "no (classroom-server sync enrol --data DIR --district URL CODE)"),
        ("district", state.district_url or "-"),
        ("school", state.school or "-"),
        ("last success", _when(state.last_success)),
        ("last attempt", _when(state.last_attempt)),
        ("last error", state.last_error or "none"),
        ("failures in a row", state.failures),
        ("events waiting", state.waiting),
        ("quarantined", state.quarantined),
        ("district changes", f"applied through number {state.changes_through}" if state.changes_through
         else "none applied yet"),
        ("last bundle", f"{_when(str(written['at']))}, {written['events']} events" if written else "never"),
        ("last answer read", f"{_when(str(answer['at']))} ({answer['file']})" if answer else "never"),
    ]
    for label, value in lines:
        click.echo(f"{label + ':':18} {value}")
    for item in refused:
        what = item.kind or "an event this hub no longer holds"
        learner = f", learner {item.learner}" if item.learner else ""
        click.echo(f"  - {item.origin} #{item.seq} ({what}{learner}), noted {_when(item.noted_at)}: {item.reason}")
    if state.quarantined > len(refused):
        click.echo(f"  ... and {state.quarantined - len(refused)} more")
