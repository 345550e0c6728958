"""``classroom-server users ...``: staff accounts from the command line."""

from __future__ import annotations

import secrets
from pathlib import Path

import click

from classroom_server.cli.common import Fail, _load_app, _require_initialised, data_option


@click.group()
def users() -> None:
    """Staff accounts: add, list, reset a password."""


@users.command("add")
@data_option
@click.option("--role", type=click.Choice(["teacher", "admin"]), default="teacher", show_default=True)
@click.option("--username", required=True)
@click.option("--name", "display_name", required=True, help="Name shown on pages.")
@click.option("--password", envvar="CLASSROOM_NEW_PASSWORD", help="Asked for when omitted.")
def users_add(data_dir: Path, role: str, username: str, display_name: str, password: str | None) -> None:
    """Create a teacher or admin account."""
    _require_initialised(data_dir)
    from classroom_server.db import db
    from classroom_server.errors import ClassroomError
    from classroom_server.services import accounts

    _load_app(data_dir)
    if not password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with db.connection_context():
        try:
            person = accounts.create_staff(role, username, display_name, password)
        except ClassroomError as exc:
            raise Fail(exc.message) from None
    click.echo(f"Created {role} {person.username}.")


@users.command("list")
@data_option
def users_list(data_dir: Path) -> None:
    """List staff and learner counts per class."""
    _require_initialised(data_dir)
    from classroom_server.db import db
    from classroom_server.models import Classroom, Person
    from classroom_server.services import accounts

    _load_app(data_dir)
    with db.connection_context():
        for person in Person.select().where(Person.role != "learner").order_by(Person.role, Person.username):
            state = "" if person.active else " (disabled)"
            click.echo(f"{person.role:8} {person.username or '-':20} {person.display_name}{state}")
        for classroom in Classroom.select().order_by(Classroom.name):
            click.echo(f"class    {classroom.name:20} {len(accounts.learners_in(classroom))} learners")


@users.command("reset-password")
@data_option
@click.argument("username")
@click.option("--password", envvar="CLASSROOM_NEW_PASSWORD", help="New password; a random one is made when omitted.")
def users_reset_password(data_dir: Path, username: str, password: str | None) -> None:
    """Give a staff account a new password (signs it out everywhere)."""
    _require_initialised(data_dir)
    from classroom_server.db import db
    from classroom_server.errors import ClassroomError
    from classroom_server.models import Person
    from classroom_server.services import accounts

    _load_app(data_dir)
    generated = not password
    password = password or secrets.token_urlsafe(9)
    with db.connection_context():
        person = Person.get_or_none(Person.username == username.lower(), Person.role != "learner")
        if person is None:
            raise Fail(f"There is no staff account {username!r}. See: classroom-server users list")
        try:
            accounts.set_password(person, password)
        except ClassroomError as exc:
            raise Fail(exc.message) from None
    click.echo(f"New password for {person.username}: {password}" if generated
               else f"Password changed for {person.username}.")
