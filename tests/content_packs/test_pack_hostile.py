"""Hostile packs found by the security probe (issue #20), refused by the loader with plain words:
zip bombs of many small files, headers that lie, JSON nested too deeply, Markdown that is not
UTF-8 and a pack.json over its own limit."""
from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

from content_packs import Limits, PackInvalid, UnsafePack, build, extract_pack, load_pack, validate
from content_packs.build import write_checksums
from content_packs.report import Report
from content_packs.safe_io import MAX_JSON_DEPTH, NestedTooDeep, load_json, peek_manifest, scan_folder
from tests.content_packs.conftest import handmade_zip, zero_bomb


def _written(dest: Path) -> int:
    return sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())


# --- (9) zip bombs ------------------------------------------------------------------------------------

def test_a_thousand_files_of_a_mib_of_zeros_is_refused_before_a_byte_is_written(pack_dir: Path, tmp_path: Path) -> None:
    bomb = zero_bomb(pack_dir, tmp_path / "bomb.zip")
    assert bomb.stat().st_size < 1.2 * 1024**2  # the probe's 1.15 MB zip that expanded to 1 GiB
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(UnsafePack) as caught:
        extract_pack(bomb, dest)
    assert any("would expand to" in p.message and p.code == "unsafe-bomb" for p in caught.value.report.errors)
    assert not any(dest.iterdir())
    assert peek_manifest(bomb) is None
    assert not validate(bomb).ok


def test_many_files_over_the_limit_are_refused(pack_dir: Path, tmp_path: Path) -> None:
    zipped = zero_bomb(pack_dir, tmp_path / "many.zip", files=30, size=10)
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(UnsafePack) as caught:
        extract_pack(zipped, dest, Limits(max_entries=20))
    assert "entries is more than the limit of 20" in caught.value.report.errors[0].message
    report = Report()
    scan_folder(pack_dir, report, Limits(max_entries=5))
    assert any("more than 5 files and folders" in p.message for p in report.errors)
    report = Report()
    scan_folder(pack_dir, report, Limits(max_total_bytes=100))
    assert any("more than the limit of 100 bytes" in p.message for p in report.errors)


def test_headers_that_understate_sizes_get_no_more_bytes_than_they_declare(pack_dir: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.zip"
    build(pack_dir, good)
    with zipfile.ZipFile(good) as zf:
        entries = [(i.filename, zf.read(i)) for i in zf.infolist()]
    declared = {name: len(data) for name, data in entries}
    entries = [(name, bytes(64 * 1024**2) if name == "media/bar.svg" else data) for name, data in entries]
    liar = handmade_zip(tmp_path / "liar.zip", entries, declared)
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(PackInvalid) as caught:  # 64 MiB of zeros said to be 158 bytes
        extract_pack(liar, dest)
    assert "damaged" in str(caught.value)
    assert _written(dest) <= sum(declared.values())


def test_the_total_written_stays_within_the_limit(pack_dir: Path, tmp_path: Path) -> None:
    zipped = zero_bomb(pack_dir, tmp_path / "some.zip", files=40, size=64 * 1024)
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(UnsafePack) as caught:
        extract_pack(zipped, dest, Limits(max_total_bytes=1024**2))
    assert "uncompressed is more than the limit" in caught.value.report.errors[0].message
    assert _written(dest) == 0


# --- (8) nesting ---------------------------------------------------------------------------------------

def _nest(depth: int) -> str:
    return "[" * depth + '"deep"' + "]" * depth


def test_load_json_refuses_deep_nesting_without_a_recursion_error() -> None:
    assert load_json(_nest(MAX_JSON_DEPTH)) is not None
    with pytest.raises(NestedTooDeep):
        load_json(_nest(MAX_JSON_DEPTH + 1))
    with pytest.raises(NestedTooDeep):
        load_json("[" * 100_000 + "]" * 100_000)  # Python's own parser gives up here


@pytest.mark.parametrize("depth", [200, 100_000])
def test_a_deeply_nested_pack_json_is_refused_in_plain_words(pack_dir: Path, tmp_path: Path, depth: int) -> None:
    text = (pack_dir / "pack.json").read_text()
    (pack_dir / "pack.json").write_text(text.replace('"format": ', '"deep": ' + "[" * depth + "]" * depth
                                                     + ', "format": ', 1))
    report = validate(pack_dir)
    assert [p.message for p in report.errors] == [f"pack.json is nested too deeply (more than {MAX_JSON_DEPTH} "
                                                  "levels of arrays and objects)"]
    with zipfile.ZipFile(tmp_path / "deep.zip", "w") as zf:
        for path in sorted(pack_dir.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(pack_dir).as_posix())
    (tmp_path / "dest").mkdir()
    with pytest.raises(PackInvalid) as caught:
        extract_pack(tmp_path / "deep.zip", tmp_path / "dest")
    assert "pack.json is nested too deeply" in caught.value.report.errors[0].message


def test_a_deeply_nested_item_file_is_refused_in_plain_words(pack_dir: Path) -> None:
    items = pack_dir / "items" / "skill-0000.json"
    items.write_text("[" + _nest(5_000) + "]")
    write_checksums(pack_dir)
    report = validate(pack_dir)
    assert any(p.file == "items/skill-0000.json" and "nested too deeply" in p.message for p in report.errors)
    with pytest.raises(PackInvalid):
        load_pack(pack_dir)


# --- (7) Markdown that is not UTF-8 ------------------------------------------------------------------

def test_a_lesson_that_is_not_utf8_is_refused_naming_the_file(pack_dir: Path) -> None:
    lesson = pack_dir / "resources" / "en" / "skill-0000.md"
    lesson.write_bytes(b"# Fractions\n\nCaf\xe9 latin-1 text\n")
    write_checksums(pack_dir)  # the checksums follow the new bytes: only the encoding is wrong
    report = validate(pack_dir)
    messages = [p.format() for p in report.errors]
    assert messages == ["resources/en/skill-0000.md:: error: resources/en/skill-0000.md is not UTF-8 text "
                        "(byte 16 cannot be read): save it as UTF-8"]
    with pytest.raises(PackInvalid):
        load_pack(pack_dir)


# --- (13) pack.json over its own limit -----------------------------------------------------------------

def test_a_pack_json_over_its_limit_says_so(pack_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = tmp_path / "good.zip"
    build(pack_dir, good)
    (tmp_path / "dest").mkdir()
    with pytest.raises(UnsafePack) as caught:
        extract_pack(good, tmp_path / "dest", Limits(max_manifest_bytes=1024))
    message = caught.value.report.errors[0].message
    assert "more than the limit of 1 KiB for pack.json" in message and "larger than it says" not in message
    monkeypatch.setattr(sys.modules["content_packs.validate"], "DEFAULT_LIMITS", Limits(max_manifest_bytes=1024))
    assert "more than the limit of 1 KiB for pack.json" in validate(pack_dir).errors[0].message
