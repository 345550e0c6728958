"""Packs the district offers, fetched onto the hub a piece at a time, checked, then installed.

A pull notes each offer (``pack_offer``, services/district_changes.py); the sync then asks the
district for the file's bytes from where the hub's copy ends (sync/client.py), so a fetch cut by
the link goes on at the next sync from the last piece written. Pieces are written to
``DATA/downloads/<sha256>.part`` and flushed to disk one by one. A whole file is checked against
the SHA-256 the district published before anything reads it; a file that does not match is
deleted and fetched again from the start. A good file is installed with the same code as
``pack import`` (services/packs.py: extracted, verified, switched in at once, ``pack.installed``
recorded), then deleted.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from classroom_server import clock
from classroom_server.db import db
from classroom_server.models import PackOffer

log = logging.getLogger("classroom_server.sync")

DOWNLOADS_DIR = "downloads"
SPARE_FACTOR = 3  # a pack's file, its extracted copy, and room to spare


def data_dir() -> Path:
    return Path(db.database).parent


def _part(sha256: str) -> Path:
    folder = data_dir() / DOWNLOADS_DIR
    folder.mkdir(exist_ok=True)
    return folder / f"{sha256}.part"


def waiting() -> list[dict[str, Any]]:
    """The offers still to fetch and install, smallest first (the quickest to be of use)."""
    return [{"pack_id": o.pack_id, "version": o.version, "sha256": o.sha256, "size": o.size}
            for o in PackOffer.select().where(PackOffer.state == "waiting").order_by(PackOffer.size, PackOffer.pack_id)]


def offers() -> list[dict[str, Any]]:
    """Every pack the district offered, with how much of a waiting one is fetched (admin page)."""
    return [{"pack_id": o.pack_id, "version": o.version, "title": o.title or o.pack_id, "state": o.state,
             "problem": o.problem, "size": o.size, "have": have(o.sha256) if o.state == "waiting" else 0}
            for o in PackOffer.select().order_by(PackOffer.pack_id)]


def have(sha256: str) -> int:
    """How many bytes of the file the hub holds."""
    path = _part(sha256)
    return path.stat().st_size if path.exists() else 0


def room_for(size: int) -> str | None:
    """Why the disk cannot take a pack of ``size`` bytes, or None."""
    free = shutil.disk_usage(data_dir()).free
    needed = size * SPARE_FACTOR
    if free < needed:
        return f"not enough free disk space to fetch it ({free // 2**20} MB free, {needed // 2**20} MB needed)"
    return None


def write(sha256: str, offset: int, data: bytes) -> None:
    """Write a piece at ``offset`` (the end of what the hub holds) and flush it to disk."""
    path = _part(sha256)
    with open(path, "r+b" if path.exists() else "wb") as handle:
        handle.truncate(offset)  # a piece sent again after a lost answer replaces what it held
        handle.seek(offset)
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def note_problem(pack_id: str, problem: str) -> None:
    PackOffer.update(problem=problem, updated_at=clock.iso()).where(PackOffer.pack_id == pack_id).execute()


def finish(offer: dict[str, Any]) -> str:
    """Check the whole file and install it; returns what happened, in plain words."""
    from classroom_server.services import packs

    path = _part(offer["sha256"])
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    name = f"{offer['pack_id']} {offer['version']}"
    if digest.hexdigest() != offer["sha256"]:
        path.unlink(missing_ok=True)
        problem = "the fetched file did not match its checksum; it is fetched again from the start"
        note_problem(offer["pack_id"], problem)
        log.warning("pack %s: %s", name, problem)
        return f"The pack {name} arrived damaged: {problem}."
    ready = path.with_suffix(".zip")
    os.replace(path, ready)
    try:
        result = packs.import_pack(data_dir(), ready, upgrade=True)  # the district's offer is the decision
    except packs.ImportFailed as exc:
        problem = f"it could not be installed: {exc}"
        PackOffer.update(state="failed", problem=problem, updated_at=clock.iso()).where(
            PackOffer.pack_id == offer["pack_id"]).execute()
        log.warning("pack %s: %s", name, problem)
        return f"The pack {name} from the district {problem}."
    finally:
        ready.unlink(missing_ok=True)
    PackOffer.update(state="installed", problem=None, updated_at=clock.iso()).where(
        PackOffer.pack_id == offer["pack_id"]).execute()
    log.info("pack %s from the district installed", name)
    if result.already_installed:
        return f"The pack {name} from the district was installed already."
    return f"The pack {name} from the district is installed."
