"""``classroom-server pack ...``: validate, build, import, list and remove content packs."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from classroom_server.cli.common import Fail, _load_app, _require_initialised, data_option


@click.group()
def pack() -> None:
    """Content packs: validate, build, import (folder, .zip or USB stick), list, remove."""


def _print_report(report, limit: int = 200) -> None:
    for problem in report.problems[:limit]:
        click.echo(problem.format(), err=problem.severity == "error")
    if len(report.problems) > limit:
        click.echo(f"... and {len(report.problems) - limit} more problems", err=True)


@pack.command("validate")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def pack_validate(path: Path) -> None:
    """Check a pack folder or .zip and report every problem at once (exit 1 when any is an error)."""
    from content_packs import validate

    report = validate(path)
    _print_report(report)
    click.echo(f"{path.name}: {report.summary()}")
    if not report.ok:
        sys.exit(1)


@pack.command("build")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The .zip to write.")
def pack_build(src: Path, out: Path) -> None:
    """Compute checksums, validate, and write a reproducible .zip of a pack folder."""
    from content_packs import PackError, build

    try:
        report = build(src, out)
    except PackError as exc:
        _print_report(exc.report)
        raise Fail(str(exc)) from None
    _print_report(report)
    click.echo(f"Built {out} ({out.stat().st_size} bytes): {report.summary()}")


@pack.command("import")
@data_option
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--force", is_flag=True, help="Install even an older version than the one installed.")
@click.option("--upgrade", is_flag=True, help="Replace an installed pack with the newer version found.")
def pack_import(data_dir: Path, path: Path, force: bool, upgrade: bool) -> None:
    """Import a pack folder or .zip, or every pack found on a mounted USB stick.

    A pack that fails leaves the hub exactly as it was. A newer version of an installed pack is
    installed only with --upgrade; learner history is kept across upgrades.
    """
    _require_initialised(data_dir)
    _load_app(data_dir, {"log_level": "warning"})
    from classroom_server.services import packs

    failures = 0
    try:
        results = packs.iter_import(data_dir, path, force=force, upgrade=upgrade, progress=_progress_printer())
        for source, outcome in results:
            if isinstance(outcome, packs.UpgradeNeedsConfirmation):
                failures += 1
                click.echo(f"\n{source.name}: not imported. It would replace {outcome.title} version "
                           f"{outcome.installed} with version {outcome.offered}: run the command again with "
                           "--upgrade to replace it.", err=True)
            elif isinstance(outcome, packs.ImportFailed):
                failures += 1
                click.echo(f"\n{source.name}: not imported. {outcome}", err=True)
                _print_report(outcome.report, limit=50)
            elif outcome.already_installed:
                click.echo(f"\n{outcome.pack_id} {outcome.version} is already installed.")
            else:
                was = f" (was {outcome.previous})" if outcome.previous else ""
                click.echo(f"\nInstalled {outcome.pack_id} {outcome.version}{was}: "
                           f"{outcome.skills} skills, {outcome.items} items.")
    except packs.ImportFailed as exc:
        raise Fail(str(exc)) from None
    if failures:
        sys.exit(1)


def _progress_printer():
    width = 30

    def show(stage: str, fraction: float) -> None:
        done = int(width * fraction)
        click.echo(f"\r[{'#' * done}{'.' * (width - done)}] {int(fraction * 100):3d}% {stage:<12}", nl=False, err=True)

    return show


@pack.command("list")
@data_option
def pack_list(data_dir: Path) -> None:
    """List installed packs: id, version, skills, items, size on disk and title."""
    _require_initialised(data_dir)
    _load_app(data_dir, {"log_level": "warning"})
    from classroom_server.db import db
    from classroom_server.services import packs

    with db.connection_context():
        rows = packs.installed()
    if not rows:
        click.echo("No packs installed. Import one with: classroom-server pack import --data DIR PATH")
    for row in rows:
        click.echo(f"{row.pack_id:36} {row.version:10} {row.skills:4} skills {row.items:6} items "
                   f"{_human_size(row.size_bytes):>9}  {row.title}")


def _human_size(size: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


@pack.command("remove")
@data_option
@click.argument("pack_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def pack_remove(data_dir: Path, pack_id: str, yes: bool) -> None:
    """Stop offering a pack and delete its files. Learners' history stays."""
    _require_initialised(data_dir)
    _load_app(data_dir, {"log_level": "warning"})
    from classroom_server.db import db
    from classroom_server.errors import NotFound
    from classroom_server.services import packs

    if not yes and not click.confirm(f"Remove {pack_id}? Learners' history stays, but they can no longer practise it."):
        raise Fail("Nothing was changed.")
    with db.connection_context():
        try:
            removed = packs.remove_pack(data_dir, pack_id)
        except NotFound as exc:
            raise Fail(exc.message) from None
    click.echo(f"Removed {removed.pack_id} {removed.version}.")
