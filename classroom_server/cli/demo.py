"""``classroom-server demo``: a complete demo school, built and served in one command."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from classroom_server.cli.common import Fail, _check_writable, _load_app, _serve, _without_postgres_drivers


@click.command()
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
