"""The ``classroom-server`` command line. Errors are plain words and exit code 1, never a traceback.

This module is the click group ``main`` (the console script) and the list of its commands. The
commands live in modules by subject (``hub``, ``demo``, ``packs``, ``users``) and share
``common``; none of them imports this module, so there is no import circle.
"""

from __future__ import annotations

import os
import sys

import click

from classroom_server import __version__
from classroom_server.cli import demo, district, hub, hub_sync, packs, roster, users
from classroom_server.cli.common import _Commands


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="classroom-server")
def main() -> None:
    """The classroom server: personalized practice and mastery for a classroom, offline.

    Start with `init`, then `serve`. Or try everything at once with `demo`.
    """
    # Everything the hub writes (database, backups, packs, bundles) is for its own user alone:
    # it holds learners' records and the hashes of small secrets (docs/security.md).
    os.umask(0o077)
    click.get_current_context().call_on_close(_close_database)


def _close_database() -> None:
    """A command leaves no connection open (the hub's are pooled): SQLite then checkpoints the
    write-ahead log into the database file and removes it, as a stopped hub should leave it."""
    if "classroom_server.db" in sys.modules:
        sys.modules["classroom_server.db"].close_all()


for command in (hub.init, hub.serve, demo.demo, demo.demo_district, hub.backup, hub.restore, hub.migrate, hub.recompute,
                hub.calibrate, hub.check, packs.pack, users.users, roster.roster, hub_sync.sync, district.district):
    main.add_command(command)
