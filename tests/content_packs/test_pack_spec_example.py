"""The complete example in SPEC.md must itself be a valid pack, so the docs cannot drift."""
from __future__ import annotations

import json
import re
from pathlib import Path

from content_packs import grade, load_pack, validate, write_checksums

SPEC = Path(__file__).resolve().parents[2] / "content_packs" / "SPEC.md"


def test_spec_example_is_a_valid_pack(tmp_path: Path) -> None:
    blocks = re.findall(r"```json\n(.*?)```", SPEC.read_text(encoding="utf-8"), re.S)
    manifest, items = (json.loads(b) for b in blocks[:2])
    (tmp_path / "items").mkdir()
    (tmp_path / "pack.json").write_text(json.dumps(manifest), encoding="utf-8")
    (tmp_path / "items" / "halves.json").write_text(json.dumps(items), encoding="utf-8")
    for rel in ("media/half.svg", "resources/en/halves.md", "resources/es/halves.md"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("<svg xmlns='http://www.w3.org/2000/svg'/>" if rel.endswith(".svg")
                                    else "# Halves\n\n![half](../../media/half.svg)\n", encoding="utf-8")
    assert write_checksums(tmp_path).ok
    report = validate(tmp_path)
    assert report.ok and not report.problems, report.format()
    pack = load_pack(tmp_path)
    assert grade(pack.items[1], "0,5", "es").correct
    assert "divide" in grade(pack.items[1], "1.2", "en").feedback
