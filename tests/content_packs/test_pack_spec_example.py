"""The complete example in SPEC.md must itself be a valid pack, so the docs cannot drift."""
from __future__ import annotations

import json
import re
from pathlib import Path

from content_packs import grade, load_pack, validate, write_checksums
from content_packs.testing import key_response

SPEC = Path(__file__).resolve().parents[2] / "content_packs" / "SPEC.md"


def _spec_blocks() -> list:
    return [json.loads(b) for b in re.findall(r"```json\n(.*?)```", SPEC.read_text(encoding="utf-8"), re.S)]


def _write_spec_pack(root: Path, extra_items: list | None = None) -> Path:
    manifest, items = _spec_blocks()[:2]
    (root / "items").mkdir(parents=True)
    (root / "pack.json").write_text(json.dumps(manifest), encoding="utf-8")
    (root / "items" / "halves.json").write_text(json.dumps(items + (extra_items or [])), encoding="utf-8")
    for rel in ("media/half.svg", "resources/en/halves.md", "resources/es/halves.md"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("<svg xmlns='http://www.w3.org/2000/svg'/>" if rel.endswith(".svg")
                                else "# Halves\n\n![half](../../media/half.svg)\n", encoding="utf-8")
    assert write_checksums(root).ok
    return root


def test_spec_example_is_a_valid_pack(tmp_path: Path) -> None:
    _write_spec_pack(tmp_path)
    report = validate(tmp_path)
    assert report.ok and not report.problems, report.format()
    pack = load_pack(tmp_path)
    assert grade(pack.items[1], "0,5", "es").correct
    assert "divide" in grade(pack.items[1], "1.2", "en").feedback


def test_spec_template_example_expands_as_documented(tmp_path: Path) -> None:
    template = _spec_blocks()[2]
    _write_spec_pack(tmp_path, [template])
    report = validate(tmp_path)
    assert report.ok and not report.problems, report.format()
    made = load_pack(tmp_path).items[2:]
    assert [i.id for i in made] == [f"add-like~{n}" for n in range(1, 13)]
    spec = SPEC.read_text(encoding="utf-8")
    assert f'from "{made[0].stem["en"]}" to "{made[-1].stem["en"]}"' in spec.replace("\n", " ")
    for item in made:
        for lang in ("en", "es"):
            assert grade(item, key_response(item, lang), lang).correct, item.id


def test_spec_template_error_message_is_the_real_one(tmp_path: Path) -> None:
    template = _spec_blocks()[2]
    template["wrong_answers"][0]["value"] = "{frac(2 * (a + c), 2 * b)}"
    _write_spec_pack(tmp_path, [template])
    lines = validate(tmp_path).format().splitlines()
    assert len(lines) == 1 and lines[0].startswith("items/halves.json:/2/wrong_answers/0/value: error: ")
    assert "    " + lines[0] + "\n" in SPEC.read_text(encoding="utf-8")
