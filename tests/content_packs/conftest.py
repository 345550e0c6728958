"""Fixtures for content pack tests: a small valid pack built fresh in tmp_path for each test."""
from __future__ import annotations

from pathlib import Path

import pytest

from content_packs.testing import make_pack


@pytest.fixture
def pack_dir(tmp_path: Path) -> Path:
    """Three skills, six items each (one of every type), en + es, checksums filled in."""
    return make_pack(tmp_path / "pack", skills=3, items_per_skill=6)
