"""The installed packs, in memory: skill graphs, items and an index of their files.

Packs are immutable once imported, so they are loaded once and shared by every request. A
change made by another process (``classroom-server pack import`` while the hub serves) is noticed
through the generation marker that every import and removal rewrites: one small file read
per request, no database query.
"""

from __future__ import annotations

import mimetypes
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classroom_server.db import db
from classroom_server.models import InstalledPack
from classroom_server.services import pack_storage

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


class CatalogueStore:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._lock = threading.Lock()
        self._generation: str | None = None
        self._loaded: InstalledPacks | None = None

    def get(self) -> InstalledPacks:
        current = pack_storage.generation(self.data_dir)
        if current != self._generation or self._loaded is None:
            with self._lock:
                if current != self._generation or self._loaded is None:
                    self._loaded = self._load()
                    self._generation = current
        return self._loaded

    def _load(self) -> InstalledPacks:
        from content_packs import Catalogue, load_pack

        root = pack_storage.packs_dir(self.data_dir)
        with db.connection_context():
            rows = list(InstalledPack.select().where(InstalledPack.status == "active").order_by(InstalledPack.pack_id))
        loaded_packs = []
        for row in rows:
            folder = root / row.folder
            if folder.is_dir():
                loaded_packs.append(load_pack(folder, check=False))
        loaded = InstalledPacks(Catalogue(loaded_packs))
        for pack in loaded_packs:
            _index(pack, loaded)
        return loaded
