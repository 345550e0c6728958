"""Reading packs without trusting them: folders and .zip files.

A pack comes from a USB stick or a district download and may be hostile. Nothing in it is ever
executed, and it may only write inside the directory the caller gives: names are checked before
any byte is written, links and special files are refused, and sizes are counted while
decompressing (the sizes a zip declares can lie).
"""
from __future__ import annotations

import json
import os
import re
import stat
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .report import PackInvalid, PackNotFound, Report, UnsafePack

MANIFEST = "pack.json"
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Limits:
    """Ceilings for one pack. Defaults fit a Pi's SD card and still allow short videos."""

    max_entries: int = 20_000
    max_total_bytes: int = 2 * 1024**3
    max_file_bytes: int = 512 * 1024**2
    max_ratio: int = 200          # uncompressed / compressed, for entries above ratio_floor
    ratio_floor: int = 1024**2    # tiny files may compress well without being bombs
    max_manifest_bytes: int = 16 * 1024**2


DEFAULT_LIMITS = Limits()


def unsafe_name(name: str) -> str | None:
    """Why `name` cannot be a file name inside a pack, or None if it is fine."""
    if not name:
        return "empty file name"
    if "\\" in name:
        return "backslash in path (use forward slashes)"
    if name.startswith("/"):
        return "absolute path"
    if _DRIVE.match(name):
        return "drive letter in path"
    if _CONTROL.search(name):
        return "control character in path"
    parts = name.rstrip("/").split("/")
    if any(p == ".." for p in parts):
        return "'..' in path (path traversal)"
    if any(p in ("", ".") for p in parts):
        return "empty or '.' segment in path"
    if len(name) > 255:
        return "path longer than 255 characters"
    return None


def fold(name: str) -> str:
    """The key under which two names collide on a case-insensitive file system."""
    return unicodedata.normalize("NFC", name).casefold()


def manifest_paths(manifest: object) -> set[str]:
    """Every file a manifest lists: pack.json, item files and resource paths (strings only)."""
    listed = {MANIFEST}
    if isinstance(manifest, dict):
        for path in manifest.get("item_files") or []:
            if isinstance(path, str):
                listed.add(path)
        for res in manifest.get("resources") or []:
            if isinstance(res, dict) and isinstance(res.get("path"), str):
                listed.add(res["path"])
    return listed


def scan_folder(root: Path, report: Report) -> list[str]:
    """List every file under root as a relative POSIX path; report links and special files.

    Never follows a symlink: a linked file or folder could point anywhere on the hub.
    """
    files: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in sorted(dirnames + filenames):
            full = Path(dirpath, name)
            rel = full.relative_to(root).as_posix()
            mode = full.lstat().st_mode
            if stat.S_ISLNK(mode):
                report.error(rel, "", "symbolic links are not allowed in a pack", "unsafe-symlink")
            elif stat.S_ISREG(mode):
                files.append(rel)
            elif not stat.S_ISDIR(mode):
                report.error(rel, "", "special files are not allowed in a pack", "unsafe-special")
        dirnames[:] = [d for d in dirnames if not Path(dirpath, d).is_symlink()]
    return sorted(files)


def _entry_problems(info: zipfile.ZipInfo) -> list[tuple[str, str]]:
    problems = []
    why = unsafe_name(info.filename)
    if why:
        problems.append((why, "unsafe-path"))
    kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the zip tool stored no file type
    if info.create_system == 3 and kind:
        if kind == stat.S_IFLNK:
            problems.append(("symbolic links are not allowed in a pack", "unsafe-symlink"))
        elif kind not in (stat.S_IFREG, stat.S_IFDIR):
            problems.append(("special files are not allowed in a pack", "unsafe-special"))
    if info.flag_bits & 0x1:
        problems.append(("encrypted entries are not allowed", "unsafe-encrypted"))
    return problems


def check_zip(zf: zipfile.ZipFile, limits: Limits, report: Report) -> dict:
    """Check every entry of an open zip before extracting anything; return the parsed manifest."""
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        report.error("", "", f"{len(infos)} entries is more than the limit of {limits.max_entries}",
                     "unsafe-bomb")
        return {}
    seen: dict[str, str] = {}
    total = 0
    for info in infos:
        name = info.filename
        for why, code in _entry_problems(info):
            report.error(name, "", why, code)
        key = fold(name.rstrip("/"))
        if key in seen:
            other = seen[key]
            why = "duplicate entry" if other == name else f"same name as '{other}' once case is ignored"
            report.error(name, "", why, "unsafe-duplicate")
        seen[key] = name
        total += info.file_size
        if info.file_size > limits.max_file_bytes:
            report.error(name, "", f"{info.file_size} bytes is more than the per-file limit of "
                         f"{limits.max_file_bytes}", "unsafe-bomb")
        if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            report.error(name, "", f"compression ratio above {limits.max_ratio}:1 (a zip bomb?)", "unsafe-bomb")
    if total > limits.max_total_bytes:
        report.error("", "", f"{total} bytes uncompressed is more than the limit of {limits.max_total_bytes}",
                     "unsafe-bomb")
    manifest: dict = {}
    names = {i.filename for i in infos}
    if MANIFEST not in names:
        nested = sorted(n for n in names if n.endswith("/" + MANIFEST))
        hint = f" (found '{nested[0]}': zip the folder's contents, not the folder)" if nested else ""
        report.error(MANIFEST, "", "pack.json missing at the root of the zip" + hint, "missing-file")
    elif report.ok:
        info = zf.getinfo(MANIFEST)
        try:
            manifest = json.loads(_read_limited(zf, info, limits.max_manifest_bytes))
        except (ValueError, UnicodeDecodeError) as exc:
            report.error(MANIFEST, "", f"cannot read pack.json: {exc}", "json")
        listed = {fold(p) for p in manifest_paths(manifest)}
        parents = {fold(str(p)) for n in listed for p in PurePosixPath(n).parents}
        for info in infos:
            key = fold(info.filename.rstrip("/"))
            if info.is_dir() and key in parents:
                continue
            if key not in listed:
                report.error(info.filename, "", "file not listed in pack.json", "unsafe-unlisted")
    return manifest if isinstance(manifest, dict) else {}


def _read_limited(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    with zf.open(info) as src:
        data = src.read(limit + 1)
    if len(data) > limit or len(data) > info.file_size:
        raise UnsafePack(f"{info.filename} is larger than it says")
    return data


def extract_pack(zip_path: str | os.PathLike, dest: str | os.PathLike,
                 limits: Limits = DEFAULT_LIMITS,
                 progress: Callable[[int], None] | None = None) -> Path:
    """Extract a pack .zip into the existing empty folder `dest` and return it.

    Raises UnsafePack (traversal, links, bombs, duplicates, unlisted files) or PackInvalid
    (not a zip, no readable pack.json) with a Report of every problem; writes nothing then.
    `progress`, if given, is called with the number of bytes written after each chunk.
    """
    zip_path, dest = Path(zip_path), Path(dest)
    report = Report()
    if not zip_path.is_file():
        raise PackNotFound(f"{zip_path.name}: no such file")
    if not dest.is_dir() or any(dest.iterdir()):
        raise ValueError("extract_pack needs an existing, empty destination folder")
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        report.error(zip_path.name, "", f"not a readable zip file: {exc}", "zip")
        raise PackInvalid(f"{zip_path.name} is not a zip file", report) from None
    with zf:
        check_zip(zf, limits, report)
        if not report.ok:
            kind = UnsafePack if report.unsafe else PackInvalid
            raise kind(f"{zip_path.name}: {report.summary()}", report)
        root = dest.resolve()
        written = 0
        for info in zf.infolist():
            if info.is_dir():
                continue
            target = root.joinpath(*info.filename.split("/"))
            if not target.resolve().is_relative_to(root):  # belt and braces after unsafe_name
                raise UnsafePack(f"{info.filename} escapes the destination", report)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                written += _copy_limited(zf, info, target, limits, limits.max_total_bytes - written,
                                         progress, written)
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                report.error(info.filename, "", f"damaged entry: {exc}", "zip")
                raise PackInvalid(f"{zip_path.name}: damaged zip", report) from None
    return dest


def _copy_limited(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, limits: Limits,
                  budget: int, progress: Callable[[int], None] | None = None, before: int = 0) -> int:
    cap = min(info.file_size, limits.max_file_bytes, budget)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    count = 0
    with zf.open(info) as src, os.fdopen(os.open(target, flags, 0o644), "wb") as out:
        while chunk := src.read(1024 * 1024):
            count += len(chunk)
            if count > cap:
                report = Report()
                report.error(info.filename, "", "entry is larger than it says or than the limits allow",
                             "unsafe-bomb")
                raise UnsafePack(f"{info.filename}: too large", report)
            out.write(chunk)
            if progress is not None:
                progress(before + count)
    return count
