"""The installed packs, in memory: skill graphs, items and an index of their files.

Packs are immutable once imported, so they are loaded once and shared by every request. A
change made by another process (``classroom-server pack import`` while the hub serves) is noticed
through the generation marker that every import and removal rewrites: one small file read
per request, no database query.

An installed pack whose files were damaged on the hub (a power cut, a failing SD card: an empty
pack.json) is skipped with a logged message and listed in ``InstalledPacks.damaged`` (the admin's
Content packs page shows it), so one broken pack never takes the other packs, or the hub, down.
Importing the same version again repairs it.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classroom_server.db import db
from classroom_server.models import InstalledPack
from classroom_server.services import pack_storage

log = logging.getLogger("classroom_server.packs")

EXTRA_TYPES = {
    ".md": "text/markdown; charset=utf-8",
    ".svg": "image/svg+xml",
    ".opus": "audio/ogg",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".pdf": "application/pdf",
    ".json": "application/json",
}


def mime_type(path: str) -> str:
    suffix = Path(path).suffix.lower()
    return EXTRA_TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"


@dataclass(frozen=True)
class PackFile:
    path: Path
    mime: str
    size: int | None


@dataclass
class InstalledPacks:
    catalogue: Any  # content_packs.Catalogue, imported when first needed (it costs ~4 MB)
    files: dict[str, PackFile] = field(default_factory=dict)
    urls: dict[tuple[str, str], str] = field(default_factory=dict)  # (pack id, path) -> sha256
    damaged: dict[str, str] = field(default_factory=dict)  # pack id -> what is wrong, in plain words
    # Pack Markdown rendered once (web/render.py): it depends only on the text and on these packs'
    # files, so it lives and goes with this catalogue.
    rendered: dict[tuple[str, str, str], Any] = field(default_factory=dict)
    # Language -> qualified skill id -> its lessons' modalities (services/practice.lesson_modalities).
    modalities: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)

    def sha_for(self, pack_id: str, path: str) -> str | None:
        return self.urls.get((pack_id, path))


def _index(pack: Any, loaded: InstalledPacks) -> None:
    root = Path(pack.root)
    for resource in pack.resources:
        if resource.sha256:
            loaded.files[resource.sha256] = PackFile(
                root.joinpath(*resource.path.split("/")), mime_type(resource.path), resource.size
            )
            loaded.urls[(pack.id, resource.path)] = resource.sha256


def load_installed(folder: Path) -> Any:
    """Load an installed pack's folder (validated when it was imported); raises DamagedPack."""
    from content_packs import Catalogue, load_pack

    if not folder.is_dir():
        raise DamagedPack("its folder is missing")
    try:
        if not (folder / "pack.json").read_bytes().strip():
            raise DamagedPack("pack.json is empty")
    except OSError as exc:
        raise DamagedPack(_plain(exc)) from None
    try:
        pack = load_pack(folder, check=False)
        Catalogue([pack])  # its skill graph must index too
    except Exception as exc:  # noqa: BLE001 - whatever broke in the files, the pack is damaged
        raise DamagedPack(_plain(exc)) from None
    return pack


def damage(folder: Path) -> str | None:
    """What is wrong with an installed pack's folder, or None when it loads."""
    try:
        load_installed(folder)
    except DamagedPack as exc:
        return str(exc)
    return None


class DamagedPack(Exception):
    """An installed pack's files cannot be loaded any more; the message says why."""


def _plain(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "a file is nested too deeply"
    if isinstance(exc, OSError):
        name = Path(exc.filename).name if exc.filename else "a file"
        return f"{name} cannot be read ({exc.strerror or exc})"
    if isinstance(exc, json.JSONDecodeError):
        return f"a file is not valid JSON ({exc})"
    return f"{exc.__class__.__name__}: {exc}"


class CatalogueStore:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._marker = str(pack_storage.generation_marker(self.data_dir))
        self._lock = threading.Lock()
        self._generation: tuple[int, int, int] | None = None
        self._loaded: InstalledPacks | None = None

    def get(self) -> InstalledPacks:
        """The installed packs, loaded again when the generation marker changed (one ``stat``:
        a learner's page asks a dozen times, once for each piece of Markdown it shows)."""
        try:
            found = os.stat(self._marker)
            current = (found.st_ino, found.st_mtime_ns, found.st_size)
        except OSError:
            current = (0, 0, 0)
        if current != self._generation or self._loaded is None:
            with self._lock:
                if current != self._generation or self._loaded is None:
                    self._loaded = self._load()
                    self._generation = current
        return self._loaded

    def _load(self) -> InstalledPacks:
        from content_packs import Catalogue

        root = pack_storage.packs_dir(self.data_dir)
        with db.connection_context():
            rows = list(InstalledPack.select().where(InstalledPack.status == "active").order_by(InstalledPack.pack_id))
        loaded_packs = []
        damaged: dict[str, str] = {}
        for row in rows:
            try:
                pack = load_installed(root / row.folder)
            except DamagedPack as exc:
                damaged[row.pack_id] = str(exc)
                log.error("The installed pack %s %s is damaged and is skipped: %s. Learners cannot use it "
                          "until it is imported again (the same version repairs it).", row.pack_id, row.version, exc)
                continue
            if pack.id != row.pack_id or pack.version != row.version:
                damaged[row.pack_id] = f"its folder holds {pack.id} {pack.version}"
                log.error("The installed pack %s %s is damaged and is skipped: %s.", row.pack_id, row.version,
                          damaged[row.pack_id])
                continue
            loaded_packs.append(pack)
        loaded = InstalledPacks(Catalogue(loaded_packs), damaged=damaged)
        for pack in loaded_packs:
            _index(pack, loaded)
        return loaded
