"""``classroom-server roster import``: a school system's OneRoster export onto the hub."""

from __future__ import annotations

from pathlib import Path

import click

from classroom_server.cli.common import Fail, _load_app, _require_initialised, data_option


@click.group()
def roster() -> None:
    """Rosters from school systems (OneRoster 1.1 and 1.2 CSV)."""


@roster.command("import")
@data_option
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--class", "class_id", type=int, help="Put every student of the export in this class (its id), "
                                                   "leaving the export's classes aside.")
def roster_import(data_dir: Path, path: Path, class_id: int | None) -> None:
    """Import PATH (a folder of OneRoster CSV files or a zip of them): classes, learners, teachers
    and enrollments, keyed by sourcedId, so importing the same files again changes nothing;
    tobedeleted records are archived. Prints the counts, then every rejected row with its file,
    line and reason, and every note. Exit 0 when the files could be read (even with rejected
    rows), 1 when nothing could be read (nothing is changed then). New learners get a picture
    password or PIN: print their login cards from the class page (Login cards)."""
    _require_initialised(data_dir)
    from classroom_server.db import db
    from classroom_server.models import Classroom
    from classroom_server.services import roster as rosters

    _load_app(data_dir)
    with db.connection_context():
        into = None
        if class_id is not None:
            into = Classroom.get_or_none(Classroom.id == class_id, Classroom.archived == False)  # noqa: E712
            if into is None:
                raise Fail(f"There is no class {class_id} on this hub (see the admin page for class ids).")
        outcome = rosters.import_roster(path, actor=None, into=into)
    if not outcome.readable:
        for problem in outcome.problems:
            click.echo(f"problem: {problem}", err=True)
        raise Fail("Nothing was imported: the files could not be read.")
    click.echo(f"imported {outcome.imported}, updated {outcome.updated}, archived {outcome.archived}, "
               f"rejected {len(outcome.rejected)}")
    for row in outcome.rejected:
        click.echo(f"rejected: {row.file} line {row.line}: {row.reason}")
    for note in outcome.notes:
        click.echo(f"note: {note}")
    if outcome.secrets:
        click.echo(f"{len(outcome.secrets)} new learners: print their login cards from each class's page "
                   "(Login cards).")
