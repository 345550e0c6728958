"""The packs shipped in content_packs/library/ must be valid, and every item answerable by its key."""
from __future__ import annotations

from pathlib import Path

import pytest

from content_packs import Catalogue, grade, load_pack, validate
from content_packs.testing import key_response

LIBRARY = Path(__file__).resolve().parents[2] / "content_packs" / "library"
PACKS = sorted(p.parent for p in LIBRARY.glob("*/pack.json"))


@pytest.mark.skipif(not PACKS, reason="no library packs yet")
@pytest.mark.parametrize("root", PACKS, ids=lambda p: p.name)
def test_library_pack_is_valid_and_answerable(root: Path) -> None:
    report = validate(root)
    assert report.ok, report.format()
    pack = load_pack(root, check=False)
    catalogue = Catalogue([pack])
    assert len(catalogue.topological_order()) == len(pack.skills)
    for item in pack.items:
        for lang in pack.languages:
            assert grade(item, key_response(item, lang), lang).correct, (item.id, lang)
