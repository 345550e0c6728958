"""Reading hostile .zip packs: every trick is refused before a byte is written outside dest."""
from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from content_packs import Limits, PackInvalid, UnsafePack, build, extract_pack, load_pack, validate


@pytest.fixture
def good_zip(pack_dir: Path, tmp_path: Path) -> Path:
    out = tmp_path / "good.zip"
    build(pack_dir, out)
    return out


def rezip(src: Path, out: Path, extra: list[tuple[zipfile.ZipInfo | str, bytes]] = (),
          drop: set[str] = frozenset()) -> Path:
    """Copy a built zip, dropping some entries and appending hand-made ones."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename not in drop:
                zout.writestr(info, zin.read(info))
        for info, data in extra:
            zout.writestr(info, data)
    return out


def unsafe(zip_path: Path, dest: Path, limits: Limits = Limits()) -> UnsafePack:
    dest.mkdir()
    with pytest.raises(UnsafePack) as caught:
        extract_pack(zip_path, dest, limits)
    assert not any(dest.iterdir()), "nothing may be written when the zip is refused"
    return caught.value


def codes(exc: UnsafePack) -> set[tuple[str, str]]:
    return {(p.file, p.code) for p in exc.report.errors}


def test_good_zip_extracts_and_loads(good_zip: Path, tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    pack = load_pack(good_zip, workdir=tmp_path / "x")
    assert pack.id == "org.example.generated" and len(pack.items) == 18
    assert validate(good_zip).ok


@pytest.mark.parametrize("name, why", [
    ("../evil.txt", "'..' in path"),
    ("media/../../evil.txt", "'..' in path"),
    ("/etc/evil.txt", "absolute path"),
    ("media\\evil.svg", "backslash"),
    ("C:/evil.txt", "drive letter"),
    ("media/./bar.svg", "'.' segment"),
])
def test_path_traversal_is_refused(good_zip: Path, tmp_path: Path, name: str, why: str) -> None:
    exc = unsafe(rezip(good_zip, tmp_path / "bad.zip", [(name, b"x")]), tmp_path / "dest")
    assert any(p.file == name and why in p.message and p.code == "unsafe-path" for p in exc.report.errors)
    assert not (tmp_path / "evil.txt").exists()


def test_symlink_entry_is_refused(good_zip: Path, tmp_path: Path) -> None:
    info = zipfile.ZipInfo("media/link.svg")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    exc = unsafe(rezip(good_zip, tmp_path / "bad.zip", [(info, b"/etc/passwd")]), tmp_path / "dest")
    assert ("media/link.svg", "unsafe-symlink") in codes(exc)


def test_zip_bomb_ratio_is_refused(good_zip: Path, tmp_path: Path) -> None:
    bomb = zipfile.ZipInfo("media/bomb.svg")
    bomb.compress_type = zipfile.ZIP_DEFLATED
    exc = unsafe(rezip(good_zip, tmp_path / "bad.zip", [(bomb, b"\0" * 8 * 1024 * 1024)]), tmp_path / "dest")
    assert any(p.file == "media/bomb.svg" and "compression ratio" in p.message for p in exc.report.errors)


@pytest.mark.parametrize("limits, fragment", [
    (Limits(max_file_bytes=100), "per-file limit"),
    (Limits(max_total_bytes=1000), "uncompressed is more than the limit"),
    (Limits(max_entries=3), "entries is more than the limit"),
])
def test_size_limits(good_zip: Path, tmp_path: Path, limits: Limits, fragment: str) -> None:
    exc = unsafe(good_zip, tmp_path / "dest", limits)
    assert any(fragment in p.message and p.code == "unsafe-bomb" for p in exc.report.errors)


def test_duplicate_names_are_refused(good_zip: Path, tmp_path: Path) -> None:
    with pytest.warns(UserWarning):  # zipfile itself warns about the duplicate
        bad = rezip(good_zip, tmp_path / "bad.zip", [("media/bar.svg", b"<svg/>"), ("MEDIA/Bar.svg", b"<svg/>")])
    exc = unsafe(bad, tmp_path / "dest")
    messages = [p.message for p in exc.report.errors if p.code == "unsafe-duplicate"]
    assert "duplicate entry" in messages
    assert any("once case is ignored" in m for m in messages)


def test_unlisted_file_is_refused(good_zip: Path, tmp_path: Path) -> None:
    exc = unsafe(rezip(good_zip, tmp_path / "bad.zip", [("run.sh", b"rm -rf /")]), tmp_path / "dest")
    assert ("run.sh", "unsafe-unlisted") in codes(exc)


def test_every_unsafe_problem_at_once(good_zip: Path, tmp_path: Path) -> None:
    bad = rezip(good_zip, tmp_path / "bad.zip", [("../a", b""), ("/b", b""), ("extra.txt", b"")])
    report = validate(bad)
    assert {p.file for p in report.errors} >= {"../a", "/b"} and report.unsafe


def test_missing_manifest_names_the_nested_folder(good_zip: Path, tmp_path: Path) -> None:
    bad = rezip(good_zip, tmp_path / "bad.zip", [("pack/pack.json", b"{}")], drop={"pack.json"})
    (tmp_path / "dest").mkdir()
    with pytest.raises(PackInvalid) as caught:
        extract_pack(bad, tmp_path / "dest")
    assert "zip the folder's contents" in caught.value.report.errors[0].message


def test_not_a_zip(tmp_path: Path) -> None:
    (tmp_path / "x.zip").write_bytes(b"PK\x03\x04 truncated")
    (tmp_path / "dest").mkdir()
    with pytest.raises(PackInvalid):
        extract_pack(tmp_path / "x.zip", tmp_path / "dest")


def test_dest_must_be_empty(good_zip: Path, tmp_path: Path) -> None:
    (tmp_path / "dest").mkdir()
    (tmp_path / "dest" / "keep.txt").write_text("mine")
    with pytest.raises(ValueError):
        extract_pack(good_zip, tmp_path / "dest")
