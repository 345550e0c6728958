"""Where installed packs live on disk, and how other processes learn that they changed.

``DATA/packs/`` holds one immutable folder per installed pack version
(``<id>@<version>-<random>``), the staging folders of imports in progress (``.staging-*``) and
the generation marker (``.generation``): a file renamed into place after every change, so any
process serving the same data directory notices with one stat. What is installed, and which
version is active, is the database's business (``services/packs.py``); this module only knows
folders, files and their sizes.
"""

from __future__ import annotations

import os
import secrets
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

PACKS_DIR = "packs"
GENERATION_FILE = ".generation"
LEGACY_RETIRED_DIR = ".retired"  # where hubs before the pack_manifest table kept retired items
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


def generation(data_dir: Path) -> str:
    """Which set of installed packs is current: one stat of the marker (every request asks)."""
    marker = Path(data_dir) / PACKS_DIR / GENERATION_FILE
    try:
        found = os.stat(marker)
    except OSError:
        return ""
    return f"{found.st_ino}:{found.st_mtime_ns}:{found.st_size}"


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
