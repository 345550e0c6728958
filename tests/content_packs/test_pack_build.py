"""build() and write_checksums(): reproducible zips and tidy, stable pack.json files."""
from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

import pytest

from content_packs import PackInvalid, build, validate, write_checksums
from content_packs.testing import edit_json


def test_building_twice_gives_identical_bytes(pack_dir: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    build(pack_dir, first)
    for f in pack_dir.rglob("*"):  # a fresh checkout has other timestamps
        os.utime(f, (1_700_000_000, 1_700_000_000))
    build(pack_dir, second)
    assert first.read_bytes() == second.read_bytes()


def test_zip_entries_are_sorted_dated_and_plain(pack_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.zip"
    build(pack_dir, out)
    with zipfile.ZipFile(out) as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        assert names == sorted(names) and "pack.json" in names
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in infos)
        assert all(i.external_attr >> 16 == 0o100644 and i.compress_type == zipfile.ZIP_DEFLATED for i in infos)
        manifest = json.loads(zf.read("pack.json"))
    assert all(len(r["sha256"]) == 64 and r["size"] > 0 for r in manifest["resources"])
    assert validate(out).ok


def test_build_fills_checksums_without_touching_the_source(pack_dir: Path, tmp_path: Path) -> None:
    edit_json(pack_dir / "pack.json", lambda m: [(r.pop("sha256"), r.pop("size")) for r in m["resources"]])
    before = (pack_dir / "pack.json").read_bytes()
    build(pack_dir, tmp_path / "p.zip")
    assert (pack_dir / "pack.json").read_bytes() == before
    assert validate(tmp_path / "p.zip").ok


def test_build_refuses_an_invalid_pack_and_writes_nothing(pack_dir: Path, tmp_path: Path) -> None:
    edit_json(pack_dir / "pack.json", lambda m: m.update(version="one"))
    with pytest.raises(PackInvalid) as caught:
        build(pack_dir, tmp_path / "p.zip")
    assert any(p.where == "/version" for p in caught.value.report.errors)
    assert not list(tmp_path.glob("p.zip*"))


def test_write_checksums_in_place_keeps_order_and_format(pack_dir: Path) -> None:
    def strip(m: dict) -> None:
        for r in m["resources"]:
            r.pop("sha256"), r.pop("size")
    edit_json(pack_dir / "pack.json", strip)
    (pack_dir / "media" / "bar.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>\n")
    assert write_checksums(pack_dir).ok
    text = (pack_dir / "pack.json").read_text(encoding="utf-8")
    assert text.endswith("}\n") and text.startswith('{\n  "format": 1,')
    res = json.loads(text)["resources"][0]
    assert list(res)[list(res).index("path") + 1:][:2] == ["sha256", "size"]
    assert res["sha256"] == hashlib.sha256((pack_dir / "media" / "bar.svg").read_bytes()).hexdigest()
    stat_before = (pack_dir / "pack.json").stat().st_mtime_ns
    assert write_checksums(pack_dir).ok  # nothing changed: file untouched
    assert (pack_dir / "pack.json").stat().st_mtime_ns == stat_before
    assert validate(pack_dir).ok


def test_write_checksums_reports_missing_files(pack_dir: Path) -> None:
    (pack_dir / "media" / "bar.svg").unlink()
    before = (pack_dir / "pack.json").read_bytes()
    report = write_checksums(pack_dir)
    assert [(p.where, p.code) for p in report.errors] == [("/resources/0/path", "missing-file")]
    assert (pack_dir / "pack.json").read_bytes() == before
