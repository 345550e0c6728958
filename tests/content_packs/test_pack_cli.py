"""python -m content_packs: one line per problem, exit 0 only when there are no errors."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from content_packs.__main__ import main
from content_packs.testing import edit_json

PROJECT = Path(__file__).resolve().parents[2]


def test_validate_valid_pack(pack_dir: Path, capsys) -> None:
    assert main(["validate", str(pack_dir)]) == 0
    assert capsys.readouterr().out == ""


def test_validate_prints_each_problem(pack_dir: Path, capsys) -> None:
    edit_json(pack_dir / "pack.json", lambda m: (m.update(version="1"), m["skills"][0].update(colour="red")))
    assert main(["validate", str(pack_dir)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert "pack.json:/version: error: version must be a semantic version" in lines[0]
    assert any(line.startswith("pack.json:/skills/0/colour: warning: unknown field") for line in lines)


def test_a_folder_without_checksums_is_valid_but_told_import_will_refuse_it(pack_dir: Path, capsys) -> None:
    edit_json(pack_dir / "pack.json", lambda m: [(r.pop("sha256"), r.pop("size")) for r in m["resources"]])
    assert main(["validate", str(pack_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(": warning: " in line for line in lines)
    assert all("`classroom-server pack import` will refuse this folder" in line for line in lines)
    assert all("`classroom-server pack build` writes a .zip with checksums" in line for line in lines)


def test_build_and_checksums(pack_dir: Path, tmp_path: Path, capsys) -> None:
    assert main(["checksums", str(pack_dir)]) == 0
    out = tmp_path / "out.zip"
    assert main(["build", str(pack_dir), "-o", str(out)]) == 0 and out.is_file()
    assert main(["validate", str(out)]) == 0
    (pack_dir / "stray.txt").write_text("x")
    assert main(["build", str(pack_dir), "-o", str(tmp_path / "bad.zip")]) == 1
    assert "stray.txt:: error: file not listed" in capsys.readouterr().out


def test_module_entry_point_runs(pack_dir: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "content_packs", "validate", str(pack_dir / "nope")],
                          capture_output=True, text=True, cwd=PROJECT)
    assert done.returncode == 1 and "no such pack folder" in done.stdout
