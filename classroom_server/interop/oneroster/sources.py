"""Where an export's files are: a folder, or a zip read member by member in memory.

Separate because it is the one place that touches the file system and unpacks archives: it
finds the OneRoster files (at the top or in one folder), never opens a zip member whose path
leaves the zip, and refuses a zip too large once unpacked before unpacking anything.
Its two exceptions, ``_Problem`` (the export cannot be read) and ``_Unreadable`` (bytes that
could not be had), are raised here first and again by the reading of each file.
"""

from __future__ import annotations

import io
import lzma
import os
import re
import zipfile
import zlib
from abc import ABC, abstractmethod
from pathlib import Path
from typing import IO, Any

from .values import _KNOWN, _READ, _mb, _names

MAX_MEMBER_BYTES = 50_000_000  # one file of a zip, unpacked: 20,000 users take about 3 MB
MAX_TOTAL_BYTES = 200_000_000  # every file the hub reads from a zip, unpacked


class _Problem(Exception):
    """Something that stops the whole export being read; the message says what and where."""


class _Unreadable(Exception):
    """Bytes that could not be had: a damaged zip member, a disk error."""


class _Source(ABC):
    """An export's files by lower-case name (``files``: the name as the export spells it); each
    opened as a binary stream when read (by the folder or the zip below)."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.files: dict[str, str] = {}
        self.notes: list[str] = []
        self._paths: dict[str, str] = {}

    @abstractmethod
    def open(self, name: str) -> IO[bytes]:
        """The file ``name`` (lower case) as a binary stream; raises ``_Unreadable``."""

    def close(self) -> None:
        return None

    def _take(self, paths: list[tuple[str, ...]]) -> None:
        """Keep the files at the export's top, or in its one folder; note the rest."""
        top_files = [p for p in paths if len(p) == 1]
        folders = sorted({p[0] for p in paths if len(p) > 1})
        root: tuple[str, ...] = ()
        if not any(p[0].lower() in _KNOWN for p in top_files) and folders:
            if len(folders) > 1:
                raise _Problem(f"{self.where} has no OneRoster files at its top but several folders "
                               f"({_names(folders)}); put the CSV files at its top or in one folder")
            root = (folders[0],)
        ignored = []
        for path in sorted(paths):
            name = path[-1]
            if path[:-1] != root or name.lower() not in _KNOWN:
                ignored.append("/".join(path))
            elif name.lower() in self.files:
                self.notes.append(f"{self.files[name.lower()]} and {name} differ only in case; {name} is not read")
            else:
                self.files[name.lower()] = name
                self._paths[name.lower()] = "/".join(path)
        if ignored:
            self.notes.append(f"not OneRoster files, not read: {_names(ignored)}")


class _Folder(_Source):
    def __init__(self, path: Path) -> None:
        super().__init__(f"the folder {path.name}")
        self._root = path
        try:
            top = sorted(os.scandir(path), key=lambda e: e.name)
            paths: list[tuple[str, ...]] = [(e.name,) for e in top if e.is_file() and not e.name.startswith(".")]
            folders = [e for e in top if e.is_dir() and not e.name.startswith(".")]
            if not any(p[0].lower() in _KNOWN for p in paths) and len(folders) == 1:
                paths += [(folders[0].name, e.name) for e in sorted(os.scandir(folders[0].path), key=lambda e: e.name)
                          if e.is_file() and not e.name.startswith(".")]
        except OSError as exc:
            raise _Problem(f"{self.where} cannot be read: {exc.strerror or exc}") from None
        self._take(paths)

    def open(self, name: str) -> IO[bytes]:
        try:
            return open(self._root / self._paths[name], "rb")
        except OSError as exc:
            raise _Unreadable(exc.strerror or str(exc)) from None


# Everything zipfile and its decompressors raise for a damaged or odd archive.
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, NotImplementedError, RuntimeError,
               ValueError)


class _Zip(_Source):
    def __init__(self, path: Path) -> None:
        super().__init__(f"the zip {path.name}")
        try:
            self._zip = zipfile.ZipFile(path)
            infos = self._zip.infolist()
        except _ZIP_ERRORS as exc:
            raise _Problem(f"{path.name} is not a zip file, or it is damaged ({exc})") from None
        unsafe: list[str] = []
        paths: list[tuple[str, ...]] = []
        self._infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = info.filename
            parts = tuple(name.replace("\\", "/").split("/"))
            if name.startswith(("/", "\\")) or ".." in parts or re.match(r"[A-Za-z]:", name):
                unsafe.append(name)
            elif not info.is_dir() and parts[0] != "__MACOSX" and not parts[-1].startswith("."):
                paths.append(tuple(p for p in parts if p))
                self._infos["/".join(paths[-1])] = info
        if unsafe:
            self.notes.append(f"zip members whose paths leave the zip are never opened: {_names(unsafe)}")
        try:
            self._take(paths)
        except _Problem:
            self._zip.close()
            raise
        sizes = {name: self._infos[self._paths[key]].file_size for key, name in self.files.items() if key in _READ}
        large = [f"{name} would take {_mb(size)}" for name, size in sizes.items() if size > MAX_MEMBER_BYTES]
        if not large and sum(sizes.values()) > MAX_TOTAL_BYTES:
            large = [f"its files would take {_mb(sum(sizes.values()))}"]
        if large:  # the sizes the zip claims bind what zipfile unpacks, so they are checked before it does
            self._zip.close()
            raise _Problem(f"{path.name} is refused: once unpacked, {_names(large)}; the hub reads at most "
                           f"{_mb(MAX_MEMBER_BYTES)} a file and {_mb(MAX_TOTAL_BYTES)} in all")

    def open(self, name: str) -> IO[bytes]:
        try:
            return self._zip.open(self._infos[self._paths[name]])
        except _ZIP_ERRORS as exc:
            raise _Unreadable(str(exc)) from None

    def close(self) -> None:
        self._zip.close()


class _Guarded(io.RawIOBase):
    """A member's bytes, its damage turned into ``_Unreadable`` (decompressors raise a zoo)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._raw.read(len(buffer))
        except _ZIP_ERRORS as exc:
            raise _Unreadable(str(exc)) from None
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()
