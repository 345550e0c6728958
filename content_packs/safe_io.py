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
from typing import Any

from .report import PackError, PackInvalid, PackNotFound, Report, UnsafePack

MANIFEST = "pack.json"
MAX_JSON_DEPTH = 64  # levels of arrays and objects; the deepest real pack uses 7
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Limits:
    """Ceilings for one pack. Defaults fit a Pi's SD card and still allow short videos."""

    max_entries: int = 20_000     # files (and folders) in a pack
    max_total_bytes: int = 2 * 1024**3
    max_file_bytes: int = 512 * 1024**2
    max_ratio: int = 200          # uncompressed / compressed, for entries above ratio_floor
    ratio_floor: int = 1024**2    # tiny files may compress well without being bombs
    max_total_ratio: int = 100    # the whole pack's bytes / the zip's, once above total_ratio_floor
    total_ratio_floor: int = 32 * 1024**2
    max_manifest_bytes: int = 16 * 1024**2


DEFAULT_LIMITS = Limits()


class NestedTooDeep(ValueError):
    """JSON nested deeper than MAX_JSON_DEPTH levels of arrays and objects."""

    def __init__(self) -> None:
        super().__init__(f"is nested too deeply (more than {MAX_JSON_DEPTH} levels of arrays and objects)")


def load_json(text: str | bytes, **options: Any) -> Any:
    """json.loads, refusing (NestedTooDeep) a document nested deeper than MAX_JSON_DEPTH.

    Python's parser runs out of stack near 1,000 levels (RecursionError); everything that walks a
    pack's JSON afterwards recurses too, so far shallower nesting is refused before any of it runs.
    """
    try:
        data = json.loads(text, **options)
    except RecursionError:
        raise NestedTooDeep() from None
    if nesting_exceeds(data, MAX_JSON_DEPTH):
        raise NestedTooDeep()
    return data


def nesting_exceeds(data: Any, limit: int) -> bool:
    """Does parsed JSON nest arrays and objects more than `limit` deep? (No recursion.)"""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def size_words(size: int) -> str:
    """Bytes in words for a message: "16 MiB", "1,234 bytes"."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size:,} bytes"


def manifest_too_large(size: int, limits: Limits) -> str | None:
    """The message for a pack.json over its own size limit, or None."""
    if size <= limits.max_manifest_bytes:
        return None
    return (f"pack.json is {size_words(size)}, more than the limit of {size_words(limits.max_manifest_bytes)} "
            "for pack.json (keep items in item files)")


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


def scan_folder(root: Path, report: Report, limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """List every file under root as a relative POSIX path; report links and special files.

    Never follows a symlink: a linked file or folder could point anywhere on the hub. A folder
    with more entries or bytes than `limits` allow is reported, and its scan stops there.
    """
    files: list[str] = []
    entries = total = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in sorted(dirnames + filenames):
            full = Path(dirpath, name)
            rel = full.relative_to(root).as_posix()
            found = full.lstat()
            mode = found.st_mode
            entries += 1
            if stat.S_ISLNK(mode):
                report.error(rel, "", "symbolic links are not allowed in a pack", "unsafe-symlink")
            elif stat.S_ISREG(mode):
                files.append(rel)
                total += found.st_size
            elif not stat.S_ISDIR(mode):
                report.error(rel, "", "special files are not allowed in a pack", "unsafe-special")
            if entries > limits.max_entries:
                report.error("", "", f"more than {limits.max_entries:,} files and folders: more than a pack "
                             "may hold", "unsafe-bomb")
                return sorted(files)
        dirnames[:] = [d for d in dirnames if not Path(dirpath, d).is_symlink()]
    if total > limits.max_total_bytes:
        report.error("", "", f"{total:,} bytes in all is more than the limit of "
                     f"{size_words(limits.max_total_bytes)} for a pack", "unsafe-bomb")
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


def check_zip(zf: zipfile.ZipFile, limits: Limits, report: Report, archive_size: int | None = None) -> dict:
    """Check every entry of an open zip before extracting anything; return the parsed manifest.

    `archive_size` (the .zip's bytes on disk) bounds what the entries may claim to be compressed
    into, so the whole pack's compression ratio is checked against what is really there.
    """
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        report.error("", "", f"{len(infos)} entries is more than the limit of {limits.max_entries}",
                     "unsafe-bomb")
        return {}
    seen: dict[str, str] = {}
    total = compressed = 0
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
        compressed += info.compress_size
        if info.file_size > limits.max_file_bytes:
            report.error(name, "", f"{info.file_size} bytes is more than the per-file limit of "
                         f"{limits.max_file_bytes}", "unsafe-bomb")
        if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            report.error(name, "", f"compression ratio above {limits.max_ratio}:1 (a zip bomb?)", "unsafe-bomb")
    if total > limits.max_total_bytes:
        report.error("", "", f"{total} bytes uncompressed is more than the limit of {limits.max_total_bytes}",
                     "unsafe-bomb")
    if archive_size is not None:
        compressed = min(compressed, archive_size)  # what the entries claim cannot exceed the file
    if total > limits.total_ratio_floor and total > limits.max_total_ratio * max(compressed, 1):
        report.error("", "", f"the files would expand to {total:,} bytes from {compressed:,} compressed: "
                     f"more than {limits.max_total_ratio} times (a zip bomb?)", "unsafe-bomb")
    manifest: Any = {}
    names = {i.filename for i in infos}
    if MANIFEST not in names:
        nested = sorted(n for n in names if n.endswith("/" + MANIFEST))
        hint = f" (found '{nested[0]}': zip the folder's contents, not the folder)" if nested else ""
        report.error(MANIFEST, "", "pack.json missing at the root of the zip" + hint, "missing-file")
    elif report.ok:
        info = zf.getinfo(MANIFEST)
        try:
            manifest = load_json(_read_limited(zf, info, limits))
        except NestedTooDeep as exc:
            report.error(MANIFEST, "", f"{MANIFEST} {exc}", "json")
        except (ValueError, UnicodeDecodeError) as exc:
            report.error(MANIFEST, "", f"cannot read pack.json: {exc}", "json")
        except PackError as exc:
            report.error(MANIFEST, "", str(exc), "unsafe-bomb")
        if not report.ok:  # every file would look unlisted: the manifest's problem is the one to fix
            return {}
        listed = {fold(p) for p in manifest_paths(manifest)}
        parents = {fold(str(p)) for n in listed for p in PurePosixPath(n).parents}
        for info in infos:
            key = fold(info.filename.rstrip("/"))
            if info.is_dir() and key in parents:
                continue
            if key not in listed:
                report.error(info.filename, "", "file not listed in pack.json", "unsafe-unlisted")
    return manifest if isinstance(manifest, dict) else {}


def _read_limited(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> bytes:
    """pack.json's bytes, refused (UnsafePack) when over its own limit or longer than its header says."""
    too_large = manifest_too_large(info.file_size, limits)
    if too_large:
        raise UnsafePack(too_large)
    with zf.open(info) as src:
        data = src.read(limits.max_manifest_bytes + 1)
    too_large = manifest_too_large(len(data), limits)
    if too_large:
        raise UnsafePack(too_large)
    if len(data) > info.file_size:
        raise UnsafePack(f"{info.filename} is larger than its zip entry says")
    return data


def peek_manifest(zip_path: str | os.PathLike, limits: Limits = DEFAULT_LIMITS) -> bytes | None:
    """pack.json's bytes, read from a .zip without extracting anything (every entry's header
    checked first), or None when the zip has any problem: extract_pack then reports them all."""
    try:
        with zipfile.ZipFile(zip_path) as zf:
            report = Report()
            check_zip(zf, limits, report, os.path.getsize(zip_path))
            if not report.ok:
                return None
            return _read_limited(zf, zf.getinfo(MANIFEST), limits)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, PackError):
        return None


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
        check_zip(zf, limits, report, zip_path.stat().st_size)
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
