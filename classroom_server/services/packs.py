"""Installing, listing and removing content packs on the hub.

An import never leaves the hub half-changed: the pack is copied or extracted into a staging
folder under DATA/packs/, verified there (schema, checksums, sizes, safety), then renamed into
its final folder, and only then does one transaction switch the active version and append the
``pack.installed`` event. Any failure before that removes the staging folder and changes nothing.

Upgrades keep every learner's history: skill and item ids are stable across versions, events
keep the ids they were recorded with, and an item missing from the new version simply stops
being offered (it is retired, never deleted from the log). What the learning engine needs to
know about every pack version ever installed (skills, prerequisites, items with their skill,
type, difficulty prior and check flag) is kept in the database as its engine manifest
(``pack_manifest``, named by its SHA-256 in the ``pack.installed`` event), so a retired item
keeps the prior it had, a removed pack's items too, and a rebuild (or the district) needs
nothing outside the database. After each change the stored mastery projection is rewritten for
the packs now installed (it always equals a fresh rebuild).

Progress is reported file by file, weighted by bytes, while a pack is copied or extracted and
while its checksums are verified; each file is hashed once.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classroom_server import clock
from classroom_server.db import db
from classroom_server.errors import NotFound
from classroom_server.models import Event, InstalledPack, PackManifest, Person
from classroom_server.services import catalogue, events, pack_storage
from classroom_server.services.pack_storage import Tick

Progress = Callable[[str, float], None]
log = logging.getLogger("classroom_server.packs")


class ImportFailed(Exception):
    """A pack could not be imported; ``report`` lists every problem. The hub is unchanged."""

    def __init__(self, message: str, report: Any = None) -> None:
        from content_packs import Report

        super().__init__(message)
        self.report = report or Report()


class UpgradeNeedsConfirmation(ImportFailed):
    """The pack is a newer version of an installed one, and the caller did not say ``upgrade=True``.

    Nothing was extracted and the hub is unchanged; ``title``, ``installed`` and ``offered`` say
    what the upgrade would replace, for the person to confirm.
    """

    def __init__(self, source_name: str, pack_id: str, title: str, installed: str, offered: str) -> None:
        super().__init__(f"{source_name} is version {offered} of {title} ({pack_id}): it would replace the "
                         f"installed version {installed}. Confirm the upgrade to install it.")
        self.pack_id, self.title, self.installed, self.offered = pack_id, title, installed, offered


@dataclass(frozen=True)
class ImportResult:
    pack_id: str
    version: str
    previous: str | None
    skills: int
    items: int
    already_installed: bool = False


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


class _Meter:
    """Turns per-file steps into calls of ``progress``: never backwards, at most one per percent.

    Phases map their own bytes onto a slice of the bar (``phase``), so a large pack moves the bar
    smoothly while it extracts and verifies, and a pack of 20,000 small files still makes no
    more than about a hundred calls.
    """

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.fraction = 0.0
        self.shown: tuple[str, int] | None = None

    def __call__(self, stage: str, fraction: float) -> None:
        self.fraction = max(self.fraction, min(1.0, fraction))
        key = (stage, int(self.fraction * 100))
        if key != self.shown:
            self.shown = key
            self.progress(stage, self.fraction)

    def phase(self, stage: str, start: float, end: float, total: int) -> Tick:
        done = 0
        self(stage, start)

        def tick(count: int) -> None:
            nonlocal done
            done += count
            self(stage, start + (end - start) * (min(done, total) / total if total > 0 else 1.0))

        return tick


# Where the bar is at the start of each phase of an import.
CHECKED, COPIED, VERIFIED, INSTALLED = 0.05, 0.45, 0.9, 0.97


def _extract(source: Path, staging: Path, tick: Tick) -> None:
    """``extract_pack`` (which owns the safety checks), reporting the bytes written as it goes."""
    from content_packs import extract_pack

    reported = 0

    def written(total: int) -> None:
        nonlocal reported
        tick(total - reported)
        reported = total

    extract_pack(source, staging, progress=written)


def _verify(root: Path, meter: _Meter) -> Any:
    """``validate_folder(root, built=True)``, the bar moving as each file's checksum is checked."""
    from content_packs.validate import validate_folder

    tick = meter.phase("verifying", COPIED, VERIFIED, pack_storage.folder_size(root))
    return validate_folder(root, built=True, progress=tick)


def _stage(source: Path, staging: Path, meter: _Meter) -> None:
    meter("checking", 0.0)
    if source.is_dir():
        from content_packs.validate import validate_folder

        # A quick look before copying (no checksums: the copy's are verified below, so no file
        # is hashed twice); it refuses symbolic links and special files before copytree meets them.
        report = validate_folder(source, built=True, checksums=False)
        if not report.ok:
            report = validate_folder(source, built=True)  # every problem, the checksums' too
            raise ImportFailed(f"{source.name} is not a valid pack: {report.summary()}", report)
        size = pack_storage.folder_size(source)
        pack_storage.copy_folder(source, staging, meter.phase("copying", CHECKED, COPIED, size))
    elif source.is_file() and zipfile.is_zipfile(source):
        from content_packs import PackError

        total = pack_storage.zip_size(source)
        try:
            _extract(source, staging, meter.phase("extracting", CHECKED, COPIED, total))
        except PackError as exc:
            raise ImportFailed(f"{source.name} cannot be imported: {exc}", exc.report) from None
    else:
        raise ImportFailed(f"{source.name} is not a pack folder or a .zip file.")
    report = _verify(staging, meter)
    if not report.ok:
        raise ImportFailed(f"{source.name} failed verification: {report.summary()}", report)


def _manifest_bytes(source: Path) -> bytes | None:
    """pack.json of a pack folder or .zip, read without extracting or copying anything (None when
    it cannot be read safely: staging the pack then reports why)."""
    from content_packs.safe_io import DEFAULT_LIMITS, MANIFEST, peek_manifest

    if source.is_dir():
        path = source / MANIFEST
        try:
            if path.is_symlink() or path.stat().st_size > DEFAULT_LIMITS.max_manifest_bytes:
                return None
            return path.read_bytes()
        except OSError:
            return None
    if source.is_file() and zipfile.is_zipfile(source):
        return peek_manifest(source)
    return None


def _names(raw: bytes | None) -> tuple[str, str] | None:
    """The (id, version) a pack.json claims, or None."""
    from content_packs.safe_io import load_json

    if raw is None:
        return None
    try:
        manifest = load_json(raw)
    except ValueError:  # bad JSON, bad UTF-8 or nested too deeply: staging reports it
        return None
    if isinstance(manifest, dict) and isinstance(manifest.get("id"), str) and isinstance(manifest.get("version"), str):
        return manifest["id"], manifest["version"]
    return None


def _active(pack_id: str) -> InstalledPack | None:
    with db.connection_context():
        return InstalledPack.get_or_none(InstalledPack.pack_id == pack_id, InstalledPack.status == "active")


def _decide(data_dir: Path, active: InstalledPack | None, pack_id: str, version: str, source_name: str,
            force: bool, upgrade: bool) -> str:
    """"install" or "installed" (this version is installed and intact); raises ImportFailed for an
    older version without ``force`` and UpgradeNeedsConfirmation for a newer one without ``upgrade``.
    The same version again reinstalls it when its installed copy is damaged."""
    if active is None:
        return "install"
    if version == active.version:
        if force or catalogue.damage(pack_storage.packs_dir(data_dir) / active.folder):
            return "install"
        return "installed"
    if semver_key(version) < semver_key(active.version):
        if not force:
            raise ImportFailed(
                f"{pack_id} {version} is older than the installed {active.version}. "
                "Use --force to install an older version."
            )
        return "install"
    if not upgrade:
        raise UpgradeNeedsConfirmation(source_name, pack_id, active.title, active.version, version)
    return "install"


def import_pack(
    data_dir: Path, source: Path, actor: Person | None = None, *, force: bool = False, upgrade: bool = True,
    progress: Progress = lambda stage, fraction: None, rewrite_projection: bool = True,
) -> ImportResult:
    """Import one pack folder or .zip. See the module docstring for the guarantees.

    The version already installed is recognised from pack.json alone, before anything is
    extracted (and installed again if its copy on the hub is damaged). An older version needs
    ``force``. A newer one needs ``upgrade``: people's entry points (the admin page, ``pack
    import``) pass False until the person confirms, and get UpgradeNeedsConfirmation meanwhile.
    ``rewrite_projection=False`` leaves rewriting the stored projection to the caller (call
    ``rewrite_stored_projection`` once after importing several packs).
    """
    from content_packs import load_pack

    source = Path(source)
    meter = _Meter(progress)
    claimed = _names(_manifest_bytes(source))
    if claimed is not None:
        active = _active(claimed[0])
        if _decide(data_dir, active, *claimed, source.name, force, upgrade) == "installed":
            assert active is not None  # "installed" names the active version
            meter("done", 1.0)
            return ImportResult(active.pack_id, active.version, active.version, active.skills, active.items, True)
    root = pack_storage.packs_dir(data_dir)
    staging = root / f".staging-{secrets.token_hex(6)}"
    staging.mkdir()
    final: Path | None = None
    try:
        _stage(source, staging, meter)
        pack = load_pack(staging, check=False)
        active = _active(pack.id)
        if _decide(data_dir, active, pack.id, pack.version, source.name, force, upgrade) == "installed":
            meter("done", 1.0)
            return ImportResult(pack.id, pack.version, pack.version, len(pack.skills), len(pack.items), True)
        meter("installing", VERIFIED)
        final = root / f"{pack.id}@{pack.version}-{secrets.token_hex(4)}"
        pack_storage.fsync_tree(staging)  # every byte on the disk before the folder is switched in
        os.replace(staging, final)
        pack_storage.fsync_dir(root)
        size = pack_storage.folder_size(final)
        with db.connection_context():
            result = _switch(pack, final.name, size, actor)
        pack_storage.bump_generation(data_dir)
        if result.previous_folder and result.previous_folder != final.name:
            shutil.rmtree(root / result.previous_folder, ignore_errors=True)
        if rewrite_projection:
            meter("installing", INSTALLED)
            rewrite_stored_projection(data_dir)
        meter("done", 1.0)
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


def store_manifest(pack: Any) -> str:
    """Keep what the engine needs of this pack version; returns the manifest's key (its SHA-256)."""
    from classroom_server.learning.adapter import engine_manifest, manifest_sha256, manifest_text

    manifest = engine_manifest(pack)
    key = manifest_sha256(manifest)
    PackManifest.insert(key=key, pack_id=pack.id, version=pack.version,
                        body=manifest_text(manifest)).on_conflict_ignore().execute()
    return key


def _switch(pack, folder: str, size: int, actor: Person | None) -> _Switched:
    """Make ``folder`` the active version of its pack and record it, in one transaction."""
    with db.atomic("IMMEDIATE"):
        manifest = store_manifest(pack)
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
             "skills": len(pack.skills), "items": len(pack.items), "manifest": manifest},
            actor_uid=actor.uid if actor else None, action=action,
        )
    return outcome


def installed() -> list[InstalledPack]:
    return list(InstalledPack.select().where(InstalledPack.status == "active").order_by(InstalledPack.pack_id))


def remove_pack(data_dir: Path, pack_id: str, actor: Person | None = None) -> InstalledPack:
    """Stop offering a pack and delete its files. Learners' history of it stays in the event log.

    Its items stay known to the learning engine (as retired items), so removing a pack does not
    move learners' estimates on the other packs.
    """
    active = InstalledPack.get_or_none(InstalledPack.pack_id == pack_id, InstalledPack.status == "active")
    if active is None:
        raise NotFound("No pack %(pack)s is installed.", pack=pack_id)

    def action() -> None:
        InstalledPack.update(status="removed").where(InstalledPack.id == active.id).execute()

    events.record(
        "pack.removed", {"pack_id": pack_id, "version": active.version},
        actor_uid=actor.uid if actor else None, action=action,
    )
    pack_storage.bump_generation(data_dir)
    shutil.rmtree(pack_storage.packs_dir(data_dir) / active.folder, ignore_errors=True)
    rewrite_stored_projection(data_dir)
    return active


# --- engine manifests of hubs installed before they were kept ---------------------------------------

def backfill_manifests(data_dir: Path) -> int:
    """Give every pack version named by an older ``pack.installed`` event its engine manifest.

    Hubs installed before manifests were kept in the database name versions by
    ``<pack>@<version>``. The active version's manifest is read from its folder; a superseded or
    removed version's from the items the hub kept in ``DATA/packs/.retired/`` (without its skills,
    which the engine needs only for offered versions). Runs at start; returns how many it wrote.
    """
    from classroom_server.learning.adapter import engine_manifest, manifest_key, manifest_text
    from content_packs import load_pack

    known = {row.key for row in PackManifest.select(PackManifest.key)}
    wanted: dict[str, tuple[str, str]] = {}
    for row in Event.select(Event.payload).where(Event.kind == "pack.installed").order_by(Event.id):
        payload = json.loads(row.payload)
        key = manifest_key(payload)
        if key not in known:
            wanted[key] = (str(payload["pack_id"]), str(payload["version"]))
    if not wanted:
        return 0
    active = {(r.pack_id, r.version): r.folder for r in installed()}
    written = 0
    for key, (pack_id, version) in wanted.items():
        manifest: dict[str, Any] | None = None
        folder = active.get((pack_id, version))
        if folder and (pack_storage.packs_dir(data_dir) / folder).is_dir():
            manifest = engine_manifest(load_pack(pack_storage.packs_dir(data_dir) / folder, check=False))
        else:
            legacy = pack_storage.packs_dir(data_dir) / pack_storage.LEGACY_RETIRED_DIR / f"{pack_id}.json"
            items: dict[str, Any] = {}
            try:
                items = json.loads(legacy.read_text(encoding="utf-8")).get("items", {})
            except (OSError, ValueError):
                log.warning("no record of the items of %s %s; its answers fall back to skill priors",
                            pack_id, version)
            manifest = {"pack": pack_id, "version": version, "skills": [],
                        "items": [{"id": item_id, "skill": meta["skill"], "type": meta.get("type", "practice"),
                                   "check": bool(meta.get("check")), "difficulty": meta.get("difficulty")}
                                  for item_id, meta in sorted(items.items())]}
        PackManifest.insert(key=key, pack_id=pack_id, version=version,
                            body=manifest_text(manifest)).on_conflict_ignore().execute()
        written += 1
    return written


def rewrite_stored_projection(data_dir: Path) -> None:
    """After the installed packs changed: rebuild the mastery projection and rewrite every row.

    A failure here is logged, not raised: the pack change is already made, and the hub rewrites
    the projection itself when it next rebuilds (``classroom-server recompute`` does it too).
    """
    from classroom_server.services.learning import rewrite_projection

    try:
        rewrite_projection(data_dir)
    except Exception:  # noqa: BLE001 - see the docstring
        log.exception("the stored mastery projection could not be rewritten after a pack change; "
                      "run `classroom-server recompute`")


def iter_import(
    data_dir: Path, path: Path, actor: Person | None = None, force: bool = False,
    progress: Progress = lambda stage, fraction: None, upgrade: bool = True,
) -> Iterator[tuple[Path, ImportResult | ImportFailed]]:
    """Import every pack found at ``path``; one bad pack does not stop the others (``force`` and
    ``upgrade`` as for ``import_pack``)."""
    from content_packs import PackError

    sources = find_packs(path)
    if not sources:
        raise ImportFailed(f"No content packs (.zip files or folders with pack.json) were found in {path}.")
    changed = False
    try:
        for source in sources:
            try:
                result = import_pack(data_dir, source, actor, force=force, upgrade=upgrade, progress=progress,
                                     rewrite_projection=False)
            except ImportFailed as exc:
                yield source, exc
            except PackError as exc:
                yield source, ImportFailed(str(exc), exc.report)
            else:
                changed = changed or not result.already_installed
                yield source, result
    finally:
        if changed:  # once for all the packs found, even if the caller stopped early
            rewrite_stored_projection(data_dir)

