"""Fixtures for content pack tests: a small valid pack built fresh in tmp_path for each test."""
from __future__ import annotations

from pathlib import Path

import pytest

from content_packs.testing import make_pack


@pytest.fixture
def pack_dir(tmp_path: Path) -> Path:
    """Three skills, six items each (one of every type), en + es, checksums filled in."""
    return make_pack(tmp_path / "pack", skills=3, items_per_skill=6)


def handmade_zip(path: Path, entries: list[tuple[str, bytes]], declared: dict[str, int] | None = None) -> Path:
    """Write a .zip by hand: each entry deflated once however often its bytes repeat (a zip bomb
    of a thousand files costs one compression), and `declared` sizes that may lie in its headers."""
    import struct
    import zlib

    cache: dict[int, tuple[bytes, int]] = {}
    local, central = bytearray(), bytearray()
    for name, data in entries:
        if id(data) not in cache:
            squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
            cache[id(data)] = (squeeze.compress(data) + squeeze.flush(), zlib.crc32(data))
        packed, crc = cache[id(data)]
        size = (declared or {}).get(name, len(data))
        raw = name.encode()
        offset = len(local)
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(packed), size, len(raw), 0)
        local += raw + packed
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | 20, 20, 0, 8, 0, 0x21, crc,
                               len(packed), size, len(raw), 0, 0, 0, 0, 0o100644 << 16, offset)
        central += raw
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(local), 0)
    path.write_bytes(bytes(local + central + end))
    return path


def zero_bomb(pack_dir: Path, out: Path, files: int = 1000, size: int = 1024**2) -> Path:
    """The security probe's zip (issue #20): a valid pack plus `files` resources of `size` zero bytes,
    each listed in pack.json with its checksum (so only the size limits can refuse it)."""
    import hashlib
    import json

    zeros = bytes(size)
    digest = hashlib.sha256(zeros).hexdigest()
    manifest = json.loads((pack_dir / "pack.json").read_text())
    names = [f"media/zero-{n:04d}.pdf" for n in range(files)]
    manifest["resources"] += [{"id": f"zero-{n:04d}", "skills": [], "kind": "pdf", "path": name,
                               "title": {"en": "Zeros", "es": "Ceros"}, "sha256": digest, "size": size}
                              for n, name in enumerate(names)]
    entries = [("pack.json", json.dumps(manifest).encode())]
    entries += [(p.relative_to(pack_dir).as_posix(), p.read_bytes()) for p in sorted(pack_dir.rglob("*"))
                if p.is_file() and p.name != "pack.json"]
    entries += [(name, zeros) for name in names]
    return handmade_zip(out, entries)
