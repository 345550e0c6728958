"""Building a pack: checksums in pack.json, then a reproducible .zip.

The same source must give the same bytes (sorted entries, fixed dates and permissions), so a
district can compare hashes to know whether a hub already has a pack, and a rebuild in CI shows
up as "no change". Deflate output depends on the zlib version, so compare zips built by the same
Python build.
"""
from __future__ import annotations

import copy
import json
import os
import zipfile
from pathlib import Path
from typing import Any

from .report import PackInvalid, Report, raise_for
from .safe_io import MANIFEST, manifest_paths, unsafe_name
from .validate import read_json, sha256_of, validate_folder

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644


def dump_manifest(manifest: Any) -> str:
    """pack.json as written by tools: keys in the author's order, 2-space indent, final newline."""
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def _with_checksums(root: Path, manifest: Any, report: Report) -> Any:
    """A copy of the manifest with sha256 and size set from the files (each after "path")."""
    result = copy.deepcopy(manifest)
    if not isinstance(result, dict) or not isinstance(result.get("resources"), list):
        return result
    for i, res in enumerate(result["resources"]):
        path = res.get("path") if isinstance(res, dict) else None
        if not isinstance(path, str) or unsafe_name(path):
            continue
        full = root.joinpath(*path.split("/"))
        if not full.is_file() or full.is_symlink():
            report.error(MANIFEST, f"/resources/{i}/path", f"file not found: {path}", "missing-file")
            continue
        values = {"sha256": sha256_of(full), "size": full.stat().st_size}
        if "sha256" in res and "size" in res:
            res.update(values)
            continue
        rebuilt: dict[str, Any] = {}
        for key, value in res.items():
            if key not in values:
                rebuilt[key] = value
            if key == "path":
                rebuilt.update(values)
        rebuilt.update({k: v for k, v in values.items() if k not in rebuilt})
        result["resources"][i] = rebuilt
    return result


def write_checksums(src_dir: str | os.PathLike) -> Report:
    """Fill sha256 and size of every resource in a source folder's pack.json, in place.

    Keeps key order so diffs stay small; rewrites the file only if something changed. Returns
    the Report of files that could not be read (the manifest is left untouched then).
    """
    root = Path(src_dir)
    report = Report()
    manifest = read_json(root / MANIFEST, MANIFEST, report)
    if manifest is None:
        return report
    updated = _with_checksums(root, manifest, report)
    if report.ok:
        text = dump_manifest(updated)
        if (root / MANIFEST).read_text(encoding="utf-8") != text:
            tmp = root / (MANIFEST + ".tmp")
            tmp.write_text(text, encoding="utf-8", newline="\n")
            os.replace(tmp, root / MANIFEST)
    return report


def build(src_dir: str | os.PathLike, out_zip: str | os.PathLike) -> Report:
    """Checksum, validate and zip a source folder. Raises PackInvalid/UnsafePack if it has errors.

    The source folder is not changed (use write_checksums for that). The zip is written next to
    its final name and renamed into place, so a failed build never leaves half a zip.
    """
    root, out = Path(src_dir), Path(out_zip)
    report = Report()
    manifest = read_json(root / MANIFEST, MANIFEST, report)
    if manifest is not None:
        manifest = _with_checksums(root, manifest, report)
        if report.ok:
            report = validate_folder(root, manifest=manifest, built=True)
    raise_for(report, root.name or str(root))
    if not isinstance(manifest, dict):
        raise PackInvalid("pack.json is not an object", report)
    names = sorted(manifest_paths(manifest))
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        for name in names:
            data = (dump_manifest(manifest).encode("utf-8") if name == MANIFEST
                    else root.joinpath(*name.split("/")).read_bytes())
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = FILE_MODE << 16
            zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    os.replace(tmp, out)
    return report
