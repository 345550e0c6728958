"""``classroom-server district ...``: the district server that hubs sync with, and what its staff
do: add schools, register hubs (a one-time code, printed with a QR code), list and revoke them."""

from __future__ import annotations

import errno
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import click

from classroom_server.cli.common import Fail, _check_port, stop_on_signals

log = logging.getLogger("classroom_server.district")
DATABASE_ENV = "CLASSROOM_DISTRICT_DATABASE_URL"
database_option = click.option(
    "--database-url", "database_url", envvar=DATABASE_ENV, required=True, metavar="URL",
    help="The district's database: postgresql://USER:PASSWORD@HOST:5432/NAME, or sqlite:///PATH for a "
         f"quick try (or set {DATABASE_ENV}, which keeps a password out of the process list).",
)


def shown_url(url: str) -> str:
    """A database URL with its password hidden, for messages and logs."""
    try:
        parsed = urlparse(url)
        if parsed.password:
            netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@")
            return urlunparse(parsed._replace(netloc=netloc))
    except ValueError:
        pass
    return url


@contextmanager
def _database(url: str) -> Iterator[Any]:
    """The district's database, open (tables made if missing), or a plain-word failure."""
    from peewee import DatabaseError, InterfaceError

    from sync.district.models import connect

    try:
        database = connect(url)
    except ValueError as exc:
        raise Fail(str(exc)) from None
    except ImportError:
        raise Fail("A PostgreSQL district needs psycopg: pip install 'classroom-server[district]'.") from None
    except (DatabaseError, InterfaceError, OSError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise Fail(f"The district's database {shown_url(url)} cannot be opened: {reason}") from None
    try:
        with database.connection_context():
            yield database
    finally:
        if not database.is_closed():
            database.close()


@click.group()
def district() -> None:
    """The district server: serve it, add schools, register hubs and revoke them."""


@district.command("serve")
@database_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. 0.0.0.0 serves other machines directly; in production put the "
                   "district behind an HTTPS proxy instead (events carry learners' data).")
@click.option("--port", type=click.IntRange(1, 65535), default=8090, show_default=True, help="Port.")
@click.option("--threads", type=click.IntRange(1, 64), default=8, show_default=True, help="Worker threads.")
@click.option("--recompute-seconds", type=click.IntRange(0, 24 * 3600), default=60, show_default=True,
              help="How often to recompute the projections (mastery, assignments, goals) of hubs that sent "
                   "events since; 0 turns it off (then: classroom-server district recompute).")
def district_serve(database_url: str, host: str, port: int, threads: int, recompute_seconds: int) -> None:
    """Run the district server under waitress until stopped, logging each request."""
    from waitress.server import create_server

    from sync.district.app import create_district_app

    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    with _database(database_url):  # a bad URL or an unreachable server is said first
        log.info("the district's database %s is open", shown_url(database_url))
    app = create_district_app(database_url)
    try:
        _check_port(host, port)
        server = create_server(app, host=host, port=port, threads=threads, ident="classroom-district")
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise Fail(f"Port {port} is already in use on {host}. Stop the other program or choose --port.") from None
        raise Fail(f"Cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    click.echo(f"District server serving at http://{host}:{port}/ (database {shown_url(database_url)}).")
    click.echo(f"Hubs enrol with: classroom-server sync enrol --data DIR --district http://{host}:{port} CODE")
    sys.stdout.flush()
    stop_on_signals()
    from sync.district.app import start_recomputing

    scheduler = start_recomputing(app, recompute_seconds) if recompute_seconds else None
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        if scheduler is not None:
            scheduler.shutdown(wait=False)
    click.echo("Stopped.")


@district.command("recompute")
@database_option
def district_recompute(database_url: str) -> None:
    """Recompute the projections of every hub that sent events since the last recompute, now."""
    from sync.district import projections
    from sync.district.app import describe

    with _database(database_url):
        done = projections.recompute_stale()
    if not done:
        click.echo("Every hub's projections are current.")
    for result in done:
        click.echo(describe(result))


@district.command("calibrate")
@database_option
def district_calibrate(database_url: str) -> None:
    """Fit a calibration of the learner model on every school's answers, as a draft to review and
    send on the dashboard (Calibration). Prints its progress; takes minutes on a large district."""
    from sync.district import calibrate

    with _database(database_url):
        try:
            row = calibrate.start()
        except calibrate.Busy:
            raise Fail("A calibration is being fitted already (see the dashboard, Calibration).") from None
        click.echo(f"Fitting calibration #{row.id} on {row.total} events...")
        calibrate.fit(row, progress=lambda done: click.echo(f"  {done} of {row.total} events"))
        found = calibrate.review(int(row.id))
        assert found is not None
        done = found.calibration
        click.echo(f"Draft #{done.id}: {done.answers} answers from {done.hubs} hubs, {found.items} items, "
                   f"{found.skills} skills. Review it and send it on the dashboard, under Calibration.")


@district.command("import")
@database_option
@click.option("--return-to", "return_to", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write each hub's return bundle (default: beside its bundle, back on the stick).")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def district_import(database_url: str, return_to: Path | None, files: tuple[Path, ...]) -> None:
    """Apply hubs' USB sync bundles (FILES: bundles, or folders holding them, such as a stick)
    and write each hub's return bundle, which carries the district's answer back to the school.

    Idempotent: a bundle applied twice, an older one, or the parts of a large export in any
    order change nothing twice. Exit 1 when no bundle could be used.
    """
    from sync.district import bundles

    if return_to is not None and not return_to.is_dir():
        raise Fail(f"There is no folder {return_to}.")
    found = bundles.bundle_files(files)
    if not found:
        raise Fail("No hub bundle (hub-....bundle) was found there.")
    with _database(database_url):
        results, refused = bundles.import_bundles(found, return_to)
        for result in results:
            where = f"{result.hub.name} ({result.hub.school.name})"
            click.echo(f"{where}: {len(result.files)} file{'' if len(result.files) == 1 else 's'}")
            click.echo(f"  events taken:        {result.taken}")
            click.echo(f"  held already:        {result.held}")
            if result.quarantined:
                click.echo(f"  quarantined:         {result.quarantined}")
            click.echo(f"  going back: {result.changes} district changes, {result.packs} pack files, "
                       f"{result.shared} other hubs' events, {result.returned} of its own events")
            for line in result.waiting + result.notes:
                click.echo(f"  - {line}")
            if result.return_path is not None:
                click.echo(f"  return bundle: {result.return_path} (read it on the hub: classroom-server sync import)")
            else:
                click.echo(f"  no return bundle: {result.return_problem}")
    for refusal in refused:
        click.echo(f"{refusal.path}: refused. {refusal.message}", err=True)
    if not results:
        sys.exit(1)


@district.group("school")
def school() -> None:
    """Schools at the district: add, list."""


@school.command("add")
@database_option
@click.argument("name")
def school_add(database_url: str, name: str) -> None:
    """Add a school (its NAME as district staff know it)."""
    from sync.district import service

    with _database(database_url):
        try:
            added = service.add_school(name)
        except ValueError as exc:
            raise Fail(str(exc)) from None
    click.echo(f"Added the school {added.name}. Register its hubs with: classroom-server district hub add "
               f"--database-url URL --school {_quoted(added.name)} --name NAME")


@school.command("list")
@database_option
def school_list(database_url: str) -> None:
    """List the schools."""
    from sync.district import service

    with _database(database_url):
        names = [s.name for s in service.schools()]
    if not names:
        click.echo("No schools yet. Add one with: classroom-server district school add --database-url URL NAME")
    for name in names:
        click.echo(name)


@district.group("staff")
def staff_group() -> None:
    """Accounts of the district's staff for the dashboard: add, list, set a password, disable."""


def _password_option(func: Any) -> Any:
    return click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
                        envvar="CLASSROOM_STAFF_PASSWORD",
                        help="The password (asked for when left out; or CLASSROOM_STAFF_PASSWORD).")(func)


@staff_group.command("add")
@database_option
@click.option("--username", required=True, help="The name to sign in with (one word).")
@click.option("--name", "display_name", default="", help="The person's name as pages show it.")
@click.option("--school", "school_name", help="Their school: they see only it. Left out: the district's staff, "
                                              "who see every school, register hubs and read sticks.")
@_password_option
def staff_add(database_url: str, username: str, display_name: str, school_name: str | None, password: str) -> None:
    """Add a staff account for the district dashboard (at /dashboard/ on the district server)."""
    from classroom_server.errors import Invalid
    from sync.district import service
    from sync.district import staff as district_staff

    with _database(database_url):
        try:
            school = service.school_named(school_name) if school_name else None
            account = district_staff.add(username, display_name or username, password, school)
        except ValueError as exc:
            raise Fail(str(exc)) from None
        except Invalid as exc:
            raise Fail(exc.template % exc.params) from None
    where = f"the school {school.name}" if school else "every school"
    click.echo(f"Added {account.username}, who sees {where}. They sign in at the district's /dashboard/.")


@staff_group.command("list")
@database_option
def staff_list(database_url: str) -> None:
    """List the staff accounts: username, name, school (or every school), disabled or not."""
    from sync.district import staff as district_staff

    with _database(database_url):
        rows = [(a.username, a.display_name, a.school.name if a.school else "every school",
                 f"disabled {a.disabled_at}" if a.disabled_at else "active") for a in district_staff.accounts()]
    if not rows:
        click.echo("No staff accounts yet. Add one with: classroom-server district staff add --username NAME")
    for row in rows:
        click.echo("  |  ".join(row))


@staff_group.command("password")
@database_option
@click.argument("username")
@_password_option
def staff_password(database_url: str, username: str, password: str) -> None:
    """Set a staff account's password; its sessions end (everywhere)."""
    from classroom_server.errors import Invalid
    from sync.district import staff as district_staff

    with _database(database_url):
        try:
            district_staff.set_password(district_staff.by_username(username), password)
        except ValueError as exc:
            raise Fail(str(exc)) from None
        except Invalid as exc:
            raise Fail(exc.template % exc.params) from None
    click.echo(f"The password of {username} is set; their sessions have ended.")


@staff_group.command("disable")
@database_option
@click.argument("username")
def staff_disable(database_url: str, username: str) -> None:
    """Disable a staff account: it can no longer sign in, and its sessions end."""
    from sync.district import staff as district_staff

    with _database(database_url):
        try:
            district_staff.disable(district_staff.by_username(username))
        except ValueError as exc:
            raise Fail(str(exc)) from None
    click.echo(f"{username} is disabled and signed out everywhere.")


def _quoted(text: str) -> str:
    return f'"{text}"' if any(ch.isspace() for ch in text) else text


@district.group("hub")
def hub() -> None:
    """Hub registrations: add one (a one-time code), list them, revoke one."""


def print_qr(text: str, out: Any = None) -> None:
    """A QR code of ``text`` in the terminal, for a phone to carry the code to the hub.

    segno: pure Python with no dependencies of its own, small, long maintained, and it draws in a
    terminal by itself; a regular QR code (not a Micro QR code, which few phone cameras read)."""
    import segno

    out = out or sys.stdout
    code = segno.make_qr(text, error="m")
    if out.isatty():
        code.terminal(out=out, border=2)  # colours set explicitly: readable on a dark or light terminal
    else:
        code.terminal(out=out, border=2, compact=True)  # plain characters (light on a dark background)


@hub.command("add")
@database_option
@click.option("--school", "school_name", required=True, help="The school the hub belongs to.")
@click.option("--name", "hub_name", required=True, help="The hub's name, e.g. its classroom.")
@click.option("--district-url", metavar="URL",
              help="The district's address as hubs reach it: printed in the command to run on the hub.")
def hub_add(database_url: str, school_name: str, hub_name: str, district_url: str | None) -> None:
    """Register a hub for a school and print its one-time enrolment code, with a QR code of it.

    The code is shown this once (the district keeps only its hash) and enrols one hub.
    """
    from sync.district import service

    if district_url is not None:
        parsed = urlparse(district_url.strip())
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise Fail("--district-url must be the district's address, like https://district.example.org.")
        district_url = district_url.strip().rstrip("/")
    with _database(database_url):
        try:
            found = service.school_named(school_name)
        except ValueError as exc:
            raise Fail(f"{exc} Add it first: classroom-server district school add --database-url URL "
                       f"{_quoted(school_name)}") from None
        registration, code = service.register_hub(found, hub_name)
    click.echo(f"Registered hub {registration.id}: {registration.name}, {found.name}.")
    click.echo(f"One-time enrolment code: {code}")
    click.echo("It is shown only now and enrols one hub. On the hub, run:")
    click.echo(f"  classroom-server sync enrol --data DIR --district {district_url or 'URL'} {code}")
    click.echo("or type the district's address and the code on the hub's admin page, under District sync.")
    click.echo("")
    print_qr(code)


@hub.command("list")
@database_option
def hub_list(database_url: str) -> None:
    """List hub registrations: number, school, name, state, hub id, last contact, last problem."""
    from sync.district import service

    with _database(database_url):
        rows = service.hubs()
        lines = []
        for row in rows:
            if row.revoked_at:
                state = f"revoked {row.revoked_at}"
            elif row.hub_id:
                state = "enrolled"
            else:
                state = "waiting for its code"
            contacts = [f"last contact {row.last_contact_at}" if row.last_contact_at else "",
                        f"last stick {row.last_bundle_at}" if row.last_bundle_at else ""]
            contact = ", ".join(c for c in contacts if c) or "no contact yet"
            problem = f"; last problem: {row.last_problem}" if row.last_problem else ""
            lines.append(f"{row.id:>4}  {row.school.name}  |  {row.name}  |  {state}  |  "
                         f"hub {row.hub_id or '-'}  |  {contact}{problem}")
    if not lines:
        click.echo("No hubs registered yet. Register one with: classroom-server district hub add "
                   "--database-url URL --school NAME --name NAME")
    for line in lines:
        click.echo(line)


@hub.command("revoke")
@database_option
@click.argument("reference", metavar="HUB")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def hub_revoke(database_url: str, reference: str, yes: bool) -> None:
    """Revoke a hub's registration (HUB: its number in `hub list`, or the hub's id): it can no
    longer sync, and its code, if unused, no longer works. Events it sent are kept."""
    from sync.district import service

    with _database(database_url):
        try:
            registration = service.hub_by_reference(reference)
        except ValueError as exc:
            raise Fail(str(exc)) from None
        described = f"hub {registration.id} ({registration.name}, {registration.school.name})"
        if registration.revoked_at:
            click.echo(f"The {described} was revoked already, at {registration.revoked_at}.")
            return
        if not yes and not click.confirm(f"Revoke {described}? It will no longer be able to sync."):
            raise Fail("Nothing was changed.")
        service.revoke(registration)
    click.echo(f"Revoked {described}. To enrol it again, register a new code: classroom-server district hub add.")


def _records(text: str) -> list[Any]:
    """A JSON list of records, or JSON Lines (one record a line; blank lines and # comments skipped)."""
    import json

    stripped = text.strip()
    if stripped.startswith("["):
        try:
            found = json.loads(stripped)
        except ValueError as exc:
            raise Fail(f"The file is not valid JSON: {exc}.") from None
        return list(found)
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            records.append(json.loads(line))
        except ValueError as exc:
            raise Fail(f"Line {number} is not valid JSON: {exc}.") from None
    return records


def _school_or_none(service: Any, school_name: str | None) -> Any:
    if school_name is None:
        return None
    try:
        return service.school_named(school_name)
    except ValueError as exc:
        raise Fail(str(exc)) from None


@district.command("publish")
@database_option
@click.option("--school", "school_name", help="The school whose hubs get the records (calibrations and packs "
                                               "may leave it out: then every school's hubs get them).")
@click.argument("source", type=click.File("r", encoding="utf-8-sig"), metavar="FILE")
def district_publish(database_url: str, school_name: str | None, source: Any) -> None:
    """Publish records for hubs to copy at their next sync: users, classes and enrollments
    (OneRoster-shaped), class assignments, class courses and calibrations. FILE (or - for standard input) holds
    a JSON list of records or one record a line, each with its "kind"; docs/sync.md shows each
    kind. All are checked first, and all are published or none; publishing the same records
    again changes nothing."""
    from sync.changes import ChangeError
    from sync.district import service

    records = _records(source.read())
    if not records:
        raise Fail("The file holds no records.")
    with _database(database_url):
        school = _school_or_none(service, school_name)
        try:
            done = service.publish(school, records)
        except ChangeError as exc:
            raise Fail(f"Nothing was published: {exc}.") from None
    whose = f"{school.name}'s hubs" if school is not None else "every school's hubs"
    click.echo(f"Published {done.published} records ({done.unchanged} unchanged) for {whose}; they get them at "
               "their next sync.")


@district.command("withdraw")
@database_option
@click.option("--school", "school_name", help="The record's school (leave out for a district-wide calibration).")
@click.argument("kind", type=click.Choice(["user", "class", "enrollment", "assignment", "course", "pack"]))
@click.argument("sourced_id", metavar="ID")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def district_withdraw(database_url: str, school_name: str | None, kind: str, sourced_id: str, yes: bool) -> None:
    """Withdraw a published record (its sourcedId ID; a pack's id): hubs archive the person or
    class, take the enrollment off, clear the assignment or the class's courses, or stop fetching the pack, at their
    next sync. History is kept, and so is a pack a hub installed already."""
    from sync.changes import ChangeError
    from sync.district import service

    with _database(database_url):
        school = _school_or_none(service, school_name)
        if not yes and not click.confirm(f"Withdraw the {kind} {sourced_id} from the hubs?"):
            raise Fail("Nothing was changed.")
        try:
            done = service.withdraw(school, kind, sourced_id)
        except ChangeError as exc:
            raise Fail(f"Nothing was withdrawn: {exc}.") from None
    if done.published:
        click.echo(f"Withdrew the {kind} {sourced_id}; hubs apply it at their next sync.")
    else:
        click.echo(f"The {kind} {sourced_id} was withdrawn already.")


@district.command("move-learner")
@database_option
@click.argument("uid", metavar="LEARNER")
@click.option("--to", "school_name", required=True, help="The school the learner joins.")
@click.option("--class", "class_id", help="A class of that school to enrol them in (its sourcedId).")
def district_move_learner(database_url: str, uid: str, school_name: str, class_id: str | None) -> None:
    """Move a learner (their id: the roster's sourcedId, or the id a hub gave them) to another
    school. The school they leave archives them at its hubs' next sync (what its hubs recorded
    before is kept); the school they join gets them on its roster, with their whole history, so
    their progress goes on where it was. All or nothing."""
    from sync.changes import ChangeError
    from sync.district import service

    with _database(database_url):
        school = _school_or_none(service, school_name)
        try:
            moved = service.move_learner(uid, school, class_id=class_id, by="command line")
        except ChangeError as exc:
            raise Fail(f"Nothing was moved: {exc}.") from None
    click.echo(f"Moved {moved.uid} from {moved.from_school} to {moved.to_school}"
               + (f", in class {class_id}" if class_id else "") + ". Both schools' hubs apply it at their next sync.")
    if moved.made_on_hub:
        click.echo(f"{moved.uid} was made on a hub of {moved.from_school}, not on the district's roster: "
                   "archive them there on the hub.")


@district.command("published")
@database_option
@click.option("--school", "school_name", help="The school (leave out for the district-wide records).")
@click.option("--kind", type=click.Choice(["user", "class", "enrollment", "assignment", "course", "calibration",
                                            "pack"]))
def district_published(database_url: str, school_name: str | None, kind: str | None) -> None:
    """List the newest state of every published record, one JSON object a line (withdrawn ones
    say "status": "tobedeleted"): the form `district publish` reads back."""
    import json

    from sync.district import service

    with _database(database_url):
        school = _school_or_none(service, school_name)
        for record in service.published(school, kind):
            click.echo(json.dumps(record, sort_keys=True, ensure_ascii=False))


@district.group("roster")
def roster_group() -> None:
    """A school's roster from OneRoster CSV files: import."""


@roster_group.command("import")
@database_option
@click.option("--school", "school_name", required=True,
              help="The school whose roster this is: its hubs get it (the orgs in the files do not choose it).")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def roster_import(database_url: str, school_name: str, path: Path) -> None:
    """Import PATH (a folder of OneRoster 1.1 or 1.2 CSV files, or a zip of them) as the school's
    roster: classes, students, teachers and enrollments are published for its hubs, keyed by
    sourcedId, so importing the same files again changes nothing; tobedeleted records that were
    published before are withdrawn. Prints the counts, then every rejected row with its file,
    line and reason, and every note. Exit 0 when the files could be read (even with rejected
    rows), 1 when nothing could be read (nothing is published then)."""
    from sync.district import rosters, service

    with _database(database_url):
        school = _school_or_none(service, school_name)
        result = rosters.import_roster(path, school)
    if not result.readable:
        for problem in result.problems:
            click.echo(f"problem: {problem}", err=True)
        raise Fail(f"Nothing was imported for {result.school}.")
    click.echo(", ".join(f"{name} {count}" for name, count in rosters.counts(result)))
    for row in result.rejected:
        click.echo(f"rejected: {row.file} line {row.line}: {row.reason}")
    for note in result.notes:
        click.echo(f"note: {note}")
    if result.changed:
        click.echo(f"{result.school}'s hubs get the changes at their next sync.")


@district.group("pack")
def pack() -> None:
    """Pack files the district offers hubs: add, list."""


@pack.command("add")
@database_option
@click.option("--school", "school_name", help="Offer it to this school's hubs only (default: every school's).")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="PACK.zip")
def pack_add(database_url: str, school_name: str | None, source: Path) -> None:
    """Keep a built pack (.zip, from `classroom-server pack build`) and offer it to hubs: each
    fetches it a piece at a time at its syncs, checks it against its SHA-256 and installs it (a
    newer version of a pack replaces the older one and keeps learners' history)."""
    from sync.changes import ChangeError
    from sync.district import service

    with _database(database_url):
        school = _school_or_none(service, school_name)
        try:
            added = service.add_pack(school, source)
        except ChangeError as exc:
            raise Fail(f"Nothing was added: {exc}.") from None
    whose = f"{school.name}'s hubs" if school is not None else "every school's hubs"
    state = "offered" if added.published.published else "was offered already"
    click.echo(f"{added.title} ({added.pack_id} {added.version}, {added.size / 2**20:.1f} MB, sha256 "
               f"{added.sha256[:12]}...) {state} to {whose}.")


@pack.command("list")
@database_option
def pack_list(database_url: str) -> None:
    """List the pack files the district keeps: id, version, size, SHA-256 and title."""
    from sync.district import service

    with _database(database_url):
        rows = service.pack_files()
        lines = [f"{row.pack_id}  {row.version}  {int(row.size) / 2**20:.1f} MB  {row.sha256[:12]}  {row.title}"
                 for row in rows]
    if not lines:
        click.echo("No packs yet. Add one with: classroom-server district pack add --database-url URL PACK.zip")
    for line in lines:
        click.echo(line)
