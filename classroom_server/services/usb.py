"""USB sticks mounted on the hub, for the admin's District sync page: where a sync bundle can go,
and which of the district's answers for this hub a stick holds.

Read from the kernel's list of mounts (``/proc/mounts``): a stick is a file system mounted from a
device under one of the ``usb_mount_roots`` folders (``/media``, ``/run/media``, ``/mnt``: where
desktop automounters and ``usbmount`` put them). Nothing here mounts or unmounts anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from classroom_server.services import bundles

MOUNTS = Path("/proc/mounts")


@dataclass(frozen=True)
class Stick:
    path: Path
    file_system: str
    read_only: bool
    free_bytes: int | None
    returns: list[Path]  # the district's answers for this hub on it, oldest first

    @property
    def name(self) -> str:
        return self.path.name or str(self.path)


def _unescape(field: str) -> str:
    """A mount point as /proc/mounts writes it (a space as \\040, a tab as \\011, ...)."""
    out = []
    at = 0
    while at < len(field):
        if field[at] == "\\" and field[at + 1:at + 4].isdigit():
            out.append(chr(int(field[at + 1:at + 4], 8)))
            at += 4
        else:
            out.append(field[at])
            at += 1
    return "".join(out)


def roots(setting: str) -> list[Path]:
    return [Path(part.strip()) for part in setting.split(",") if part.strip()]


def sticks(mount_roots: list[Path], mounts: Path | None = None) -> list[Stick]:
    """The mounted sticks under ``mount_roots``, by path."""
    try:
        lines = (mounts or MOUNTS).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    found: dict[Path, Stick] = {}
    for line in lines:
        fields = line.split()
        if len(fields) < 4 or not fields[0].startswith("/dev/"):
            continue
        point = Path(_unescape(fields[1]))
        if not any(point != root and point.is_relative_to(root) for root in mount_roots):
            continue
        if not point.is_dir():
            continue
        read_only = "ro" in fields[3].split(",") or not os.access(point, os.W_OK)
        found[point] = Stick(point, fields[2], read_only, bundles.free_bytes(point), bundles.returns_in(point))
    return [found[p] for p in sorted(found)]


def stick_at(mount_roots: list[Path], path: str, mounts: Path | None = None) -> Stick | None:
    """The mounted stick at ``path`` (as the page's form sends it back), else None."""
    for stick in sticks(mount_roots, mounts):
        if str(stick.path) == path:
            return stick
    return None
