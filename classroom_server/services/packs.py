"""Installing, listing and removing content packs on the hub.

An import never leaves the hub half-changed: the pack is copied or extracted into a staging
folder under DATA/packs/, verified there (schema, checksums, sizes, safety), then renamed into
its final folder, and only then does one transaction switch the active version and append the
``pack.installed`` event. Any failure before that removes the staging folder and changes nothing.

Upgrades keep every learner's history: skill and item ids are stable across versions, events
keep the ids they were recorded with, and an item missing from the new version simply stops
being offered (it is retired, never deleted from the log).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator


from classroom_server import clock
from classroom_server.db import db
from classroom_server.errors import NotFound
from classroom_server.models import InstalledPack, Person
from classroom_server.services import events

PACKS_DIR = "packs"
GENERATION_FILE = ".generation"
Progress = Callable[[str, float], None]


class ImportFailed(Exception):
    """A pack could not be imported; ``report`` lists every problem. The hub is unchanged."""

    def __init__(self, message: str, report: Any = None) -> None:
        from content_packs import Report

        super().__init__(message)
        self.report = report or Report()


@dataclass(frozen=True)
class ImportResult:
    pack_id: str
    version: str
    previous: str | None
    skills: int
    items: int
    already_installed: bool = False


def packs_dir(data_dir: Path) -> Path:
    path = Path(data_dir) / PACKS_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def bump_generation(data_dir: Path) -> None:
    """Tell every process serving this data directory that the installed packs changed."""
    marker = packs_dir(data_dir) / GENERATION_FILE
    marker.write_text(secrets.token_hex(8))


def generation(data_dir: Path) -> str:
    marker = Path(data_dir) / PACKS_DIR / GENERATION_FILE
    try:
        return marker.read_text()
    except OSError:
        return ""


def semver_key(version: str) -> tuple:
    """Order versions by semver: 1.10.0 > 1.9.0, and a pre-release sorts before its release."""
    match = re.match(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?", version)
    if not match:
        return (0, 0, 0, 0, ())
    major, minor, patch, pre = match.groups()
    pre_key = tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split(".")) if pre else ()
    return (int(major), int(minor), int(patch), 0 if pre else 1, pre_key)


def find_packs(path: Path) -> list[Path]:
    """A pack folder or .zip, or (for a USB stick) every pack folder and .zip up to two levels down."""
    path = Path(path)
    if path.is_file() or (path / "pack.json").is_file():
        return [path]
    if not path.is_dir():
        raise ImportFailed(f"There is no file or folder at {path}.")
    found: list[Path] = []
    for depth_glob in ("*", "*/*"):
        for candidate in sorted(path.glob(depth_glob)):
            if candidate.is_symlink():
                continue
            if candidate.is_file() and candidate.suffix.lower() == ".zip":
                found.append(candidate)
            elif candidate.is_dir() and (candidate / "pack.json").is_file():
                found.append(candidate)
    return found


def _folder_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def _stage(source: Path, staging: Path, progress: Progress) -> None:
    from content_packs import PackError, extract_pack
    from content_packs.validate import validate_folder

    progress("checking", 0.05)
    if source.is_dir():
        report = validate_folder(source)
        if not report.ok:
            raise ImportFailed(f"{source.name} is not a valid pack: {report.summary()}", report)
        progress("copying", 0.2)
        shutil.copytree(source, staging, symlinks=True, dirs_exist_ok=True)
    elif source.is_file() and zipfile.is_zipfile(source):
        progress("extracting", 0.2)
        try:
            extract_pack(source, staging)
        except PackError as exc:
            raise ImportFailed(f"{source.name} cannot be imported: {exc}", exc.report) from None
    else:
        raise ImportFailed(f"{source.name} is not a pack folder or a .zip file.")
    progress("verifying", 0.6)
    report = validate_folder(staging, built=True)
    if not report.ok:
        raise ImportFailed(f"{source.name} failed verification: {report.summary()}", report)


def import_pack(
    data_dir: Path, source: Path, actor: Person | None = None, *, force: bool = False,
    progress: Progress = lambda stage, fraction: None,
) -> ImportResult:
    """Import one pack folder or .zip. See the module docstring for the guarantees."""
    from content_packs import load_pack

    root = packs_dir(data_dir)
    staging = root / f".staging-{secrets.token_hex(6)}"
    staging.mkdir()
    final: Path | None = None
    try:
        _stage(Path(source), staging, progress)
        pack = load_pack(staging, check=False)
        with db.connection_context():
            active = InstalledPack.get_or_none(InstalledPack.pack_id == pack.id, InstalledPack.status == "active")
        if active is not None and active.version == pack.version and not force:
            progress("done", 1.0)
            return ImportResult(pack.id, pack.version, active.version, len(pack.skills), len(pack.items), True)
        if active is not None and semver_key(pack.version) < semver_key(active.version) and not force:
            raise ImportFailed(
                f"{pack.id} {pack.version} is older than the installed {active.version}. "
                "Use --force to install an older version."
            )
        progress("installing", 0.85)
        final = root / f"{pack.id}@{pack.version}-{secrets.token_hex(4)}"
        os.replace(staging, final)
        size = _folder_size(final)
        with db.connection_context():
            result = _switch(pack, final.name, size, actor)
        progress("done", 1.0)
        bump_generation(data_dir)
        if result.previous_folder:
            shutil.rmtree(root / result.previous_folder, ignore_errors=True)
        return ImportResult(pack.id, pack.version, result.previous_version, len(pack.skills), len(pack.items))
    except BaseException:
        if final is not None:
            shutil.rmtree(final, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@dataclass
class _Switched:
    previous_version: str | None
    previous_folder: str | None


def _switch(pack, folder: str, size: int, actor: Person | None) -> _Switched:  # type: ignore[no-untyped-def]
    """Make ``folder`` the active version of its pack and record it, in one transaction."""
    with db.atomic("IMMEDIATE"):
        active = InstalledPack.get_or_none(InstalledPack.pack_id == pack.id, InstalledPack.status == "active")
        outcome = _Switched(active.version if active else None, active.folder if active else None)

        def action() -> None:
            if active is not None:
                InstalledPack.update(status="superseded").where(InstalledPack.id == active.id).execute()
            InstalledPack.delete().where(
                InstalledPack.pack_id == pack.id, InstalledPack.version == pack.version
            ).execute()
            InstalledPack.create(
                pack_id=pack.id, version=pack.version, folder=folder, title=pack.title.pick("en") or pack.id,
                skills=len(pack.skills), items=len(pack.items), size_bytes=size, status="active",
                installed_at=clock.iso(),
            )

        events.record(
            "pack.installed",
            {"pack_id": pack.id, "version": pack.version, "previous": outcome.previous_version,
             "skills": len(pack.skills), "items": len(pack.items)},
            actor_uid=actor.uid if actor else None, action=action,
        )
    return outcome


def installed() -> list[InstalledPack]:
    return list(InstalledPack.select().where(InstalledPack.status == "active").order_by(InstalledPack.pack_id))


def remove_pack(data_dir: Path, pack_id: str, actor: Person | None = None) -> InstalledPack:
    """Stop offering a pack and delete its files. Learners' history of it stays in the event log."""
    active = InstalledPack.get_or_none(InstalledPack.pack_id == pack_id, InstalledPack.status == "active")
    if active is None:
        raise NotFound("No pack %(pack)s is installed.", pack=pack_id)

    def action() -> None:
        InstalledPack.update(status="removed").where(InstalledPack.id == active.id).execute()

    events.record(
        "pack.removed", {"pack_id": pack_id, "version": active.version},
        actor_uid=actor.uid if actor else None, action=action,
    )
    bump_generation(data_dir)
    shutil.rmtree(packs_dir(data_dir) / active.folder, ignore_errors=True)
    return active


def iter_import(
    data_dir: Path, path: Path, actor: Person | None = None, force: bool = False,
    progress: Progress = lambda stage, fraction: None,
) -> Iterator[tuple[Path, ImportResult | ImportFailed]]:
    """Import every pack found at ``path``; one bad pack does not stop the others."""
    from content_packs import PackError

    sources = find_packs(path)
    if not sources:
        raise ImportFailed(f"No content packs (.zip files or folders with pack.json) were found in {path}.")
    for source in sources:
        try:
            yield source, import_pack(data_dir, source, actor, force=force, progress=progress)
        except ImportFailed as exc:
            yield source, exc
        except PackError as exc:
            yield source, ImportFailed(str(exc), exc.report)

