"""Where installed packs live on disk, and how other processes learn that they changed.

``DATA/packs/`` holds one immutable folder per installed pack version
(``<id>@<version>-<random>``), the staging folders of imports in progress (``.staging-*``),
uploads waiting to be imported or for an admin to confirm an upgrade (``.upload-*``) and
the generation marker (``.generation``): a file renamed into place after every change, so any
process serving the same data directory notices with one stat. What is installed, and which
version is active, is the database's business (``services/packs.py``); this module only knows
folders, files and their sizes.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

PACKS_DIR = "packs"
GENERATION_FILE = ".generation"
LEGACY_RETIRED_DIR = ".retired"  # where hubs before the pack_manifest table kept retired items
UPLOAD_PREFIX = ".upload-"
UPLOAD_MAX_AGE = 24 * 3600  # an upload nobody confirmed is deleted after a day
_TOKEN = re.compile(r"^[0-9a-f]{32}$")
_UNSAFE_IN_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")
Tick = Callable[[int], None]  # called with the bytes just done


def packs_dir(data_dir: Path) -> Path:
    path = Path(data_dir) / PACKS_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def bump_generation(data_dir: Path) -> None:
    """Tell every process serving this data directory that the installed packs changed: a new
    marker file, renamed into place (so its inode changes)."""
    marker = packs_dir(data_dir) / GENERATION_FILE
    temp = marker.with_name(f"{GENERATION_FILE}.{secrets.token_hex(4)}")
    temp.write_text(secrets.token_hex(8))
    os.replace(temp, marker)


def generation_marker(data_dir: Path) -> Path:
    """The file whose inode, time and size say which set of installed packs is current."""
    return Path(data_dir) / PACKS_DIR / GENERATION_FILE


def folder_size(root: Path) -> int:
    """The bytes of every file under ``root``."""
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def zip_size(source: Path) -> int:
    """The bytes a .zip holds once extracted (0 for a file that is not a readable .zip)."""
    try:
        with zipfile.ZipFile(source) as zf:
            return sum(i.file_size for i in zf.infolist() if not i.is_dir())
    except (zipfile.BadZipFile, OSError):
        return 0


def copy_folder(source: Path, target: Path, tick: Tick) -> None:
    """Copy a pack folder (symbolic links copied as links, never followed), ticking each file's bytes."""
    def copy(src: str, dst: str) -> str:
        result = shutil.copy2(src, dst, follow_symlinks=False)
        tick(os.lstat(dst).st_size)
        return result

    shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True, copy_function=copy)


def fsync_tree(root: Path) -> None:
    """Flush every file and folder under ``root`` (and ``root``) to the disk, deepest first, so
    a power cut after the folder is switched in finds it whole."""
    for dirpath, _dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(dirpath))


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (a rename into it, a new file) to the disk."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def new_upload(data_dir: Path, filename: str) -> tuple[str, Path]:
    """A private folder for one uploaded pack, and the path to save it at under the name the admin
    chose (so every message names that file); returns (token, path). Uploads older than a day,
    left by an upgrade nobody confirmed, are deleted first."""
    root = packs_dir(data_dir)
    for old in root.glob(UPLOAD_PREFIX + "*"):
        try:
            stale = time.time() - old.stat().st_mtime > UPLOAD_MAX_AGE
        except OSError:
            continue
        if stale:
            shutil.rmtree(old, ignore_errors=True)
    token = secrets.token_hex(16)
    folder = root / f"{UPLOAD_PREFIX}{token}"
    folder.mkdir()
    return token, folder / upload_name(filename)


def upload_name(filename: str) -> str:
    """The chosen file's own name, made safe to save: no folders, no control characters."""
    name = filename.encode("utf-8", "replace").decode().replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_IN_NAME.sub("_", name).strip()
    if name in ("", ".", ".."):
        name = "pack.zip"
    if len(name.encode()) > 200:  # file systems allow 255 bytes
        suffix = Path(name).suffix if len(Path(name).suffix) <= 10 else ""
        name = name.encode()[: 200 - len(suffix.encode())].decode(errors="ignore") + suffix
    return name


def find_upload(data_dir: Path, token: str) -> Path | None:
    """The file kept for an upload waiting for confirmation, or None if it is gone."""
    if not _TOKEN.match(token):
        return None
    folder = packs_dir(data_dir) / f"{UPLOAD_PREFIX}{token}"
    files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    return files[0] if len(files) == 1 else None


def discard_upload(upload: Path) -> None:
    """Delete an upload and its private folder."""
    if upload.parent.name.startswith(UPLOAD_PREFIX):
        shutil.rmtree(upload.parent, ignore_errors=True)
