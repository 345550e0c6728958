"""validate(path) -> Report: every problem in a pack folder or .zip, at once.

Item files are read one at a time and dropped, keeping only ids, so checking a 10,000-item pack
needs little memory on a Pi.
"""
from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .graph import find_cycles
from .item_checks import IMAGE_REF, check_answer_key, check_languages, check_media_ref, image_refs
from .report import PackError, Report
from .safe_io import (
    DEFAULT_LIMITS,
    MANIFEST,
    NestedTooDeep,
    fold,
    load_json,
    manifest_paths,
    manifest_too_large,
    scan_folder,
    unsafe_name,
)
from .schema_check import ITEM_SCHEMA, PACK_SCHEMA
from .template_expansion import instances
from .templates import TemplateError, compile_template, stray_placeholders

EXTENSIONS = {
    "text": (".md",), "printable": (".md",), "image": (".svg", ".png", ".jpg", ".jpeg", ".webp"),
    "audio": (".ogg", ".opus", ".mp3", ".m4a"), "video": (".mp4", ".webm"), "pdf": (".pdf",),
    "html5": (".zip",),
}
_SVG_ACTIVE = re.compile(rb"<script|<foreignObject|\son[a-z]+\s*=|javascript:|<iframe|<embed|<object",
                         re.IGNORECASE)


def read_json(path: Path, rel: str, report: Report) -> Any:
    """Parse one JSON file, reporting a missing file, a syntax error with its line, a pack.json
    over its size limit and nesting deeper than MAX_JSON_DEPTH."""
    try:
        if rel == MANIFEST:
            too_large = manifest_too_large(path.stat().st_size, DEFAULT_LIMITS)
            if too_large:
                report.error(rel, "", too_large, "unsafe-bomb")
                return None
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        report.error(rel, "", "file not found", "missing-file")
        return None
    except (UnicodeDecodeError, OSError) as exc:
        report.error(rel, "", f"cannot read file: {exc}", "json")
        return None
    try:
        return load_json(text)
    except NestedTooDeep as exc:
        report.error(rel, "", f"{rel} {exc}", "json")
        return None
    except json.JSONDecodeError as exc:
        report.error(rel, f"line {exc.lineno}", f"invalid JSON: {exc.msg} (column {exc.colno})", "json")
        return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def validate(path: str | os.PathLike) -> Report:
    """Check a pack folder or .zip and return a Report of every problem (never raises PackError).

    A .zip is first extracted safely into a private temporary folder that is removed afterwards;
    a built zip must carry sha256 and size for every resource.
    """
    path = Path(path)
    if path.is_dir():
        return validate_folder(path)
    report = Report()
    if not path.is_file():
        report.error(path.name, "", "no such pack folder or .zip file", "missing-file")
        return report
    if not zipfile.is_zipfile(path):
        report.error(path.name, "", "not a pack folder or a .zip file", "zip")
        return report
    from .safe_io import extract_pack  # local: keeps the import graph one-way and obvious
    with tempfile.TemporaryDirectory(prefix="pack-") as tmp:
        try:
            extract_pack(path, tmp)
        except PackError as exc:
            return exc.report
        return validate_folder(Path(tmp), built=True)


def validate_folder(root: Path, *, manifest: Any = None, built: bool = False, checksums: bool = True,
                    progress: Callable[[int], None] | None = None) -> Report:
    """Check an unpacked pack. `manifest` replaces pack.json on disk (build checks before writing).

    `checksums=False` skips comparing each file with its sha256 (a quick look before a copy
    whose checksums are then verified); `progress`, if given, is called with each resource
    file's size once that file has been checked.
    """
    report = Report()
    if manifest is None:
        if (root / MANIFEST).is_symlink():
            report.error(MANIFEST, "", "symbolic links are not allowed in a pack", "unsafe-symlink")
            return report
        manifest = read_json(root / MANIFEST, MANIFEST, report)
        if manifest is None:
            return report
    found = PACK_SCHEMA.check(manifest, MANIFEST, "", report)
    if not isinstance(manifest, dict):
        return report
    languages = [x for x in manifest.get("languages") or [] if isinstance(x, str)]
    if languages:
        check_languages([f for f in found if not f[1].startswith("/resources/")], languages, MANIFEST, report)
    on_disk = scan_folder(root, report)
    listed = manifest_paths(manifest)
    skills = _check_skills(manifest, report)
    resources = _check_resources(root, manifest, languages, skills, found, set(on_disk), built, report,
                                 checksums, progress or (lambda size: None))
    items_per_skill = _check_item_files(root, manifest, languages, skills, listed, set(on_disk), report)
    _check_listing(listed, on_disk, report)
    for skill_id, index in skills.items():
        if not items_per_skill.get(skill_id):
            report.warning(MANIFEST, f"/skills/{index}", f"skill '{skill_id}' has no items: learners cannot "
                           "practise or master it", "coverage")
        if skill_id not in resources:
            report.warning(MANIFEST, f"/skills/{index}", f"skill '{skill_id}' has no resources to learn from",
                           "coverage")
    return report


def _check_skills(manifest: dict, report: Report) -> dict[str, int]:
    skills: dict[str, int] = {}
    entries = raw if isinstance(raw := manifest.get("skills"), list) else []
    for i, skill in enumerate(entries):
        if isinstance(skill, dict) and isinstance(skill.get("id"), str):
            if skill["id"] in skills:
                report.error(MANIFEST, f"/skills/{i}/id", f"duplicate skill id '{skill['id']}' "
                             f"(also /skills/{skills[skill['id']]})", "duplicate")
            else:
                skills[skill["id"]] = i
            _check_grades(skill.get("grades"), f"/skills/{i}/grades", report)
    _check_grades(manifest.get("grades"), "/grades", report)
    prereqs: dict[str, list[str]] = {}
    for i, skill in enumerate(entries):
        if not isinstance(skill, dict) or not isinstance(skill.get("id"), str):
            continue
        wanted = raw if isinstance(raw := skill.get("prerequisites"), list) else []
        for j, pre in enumerate(wanted):
            if isinstance(pre, str) and pre not in skills:
                report.error(MANIFEST, f"/skills/{i}/prerequisites/{j}", f"unknown skill '{pre}'", "dangling")
        prereqs.setdefault(skill["id"], [p for p in wanted if isinstance(p, str) and p in skills])
    for cycle in find_cycles(prereqs):
        report.error(MANIFEST, f"/skills/{skills[cycle[0]]}/prerequisites",
                     "prerequisite cycle: " + " -> ".join(cycle) + " (each needs the next)", "cycle")
    return skills


def _check_grades(grades: Any, pointer: str, report: Report) -> None:
    if isinstance(grades, list) and len(grades) == 2 and all(isinstance(g, int) for g in grades):
        if grades[0] > grades[1]:
            report.error(MANIFEST, pointer, "grades must be [lowest, highest]", "schema")


def _check_resources(root: Path, manifest: dict, languages: list[str], skills: dict[str, int],
                     found: list, on_disk: set[str], built: bool, report: Report, checksums: bool,
                     progress: Callable[[int], None]) -> set[str]:
    """Check each resource; return the skills that have at least one."""
    taught: set[str] = set()
    ids: dict[str, int] = {}
    paths: dict[str, int] = {}
    entries = raw if isinstance(raw := manifest.get("resources"), list) else []
    listed = {r["path"] for r in entries if isinstance(r, dict) and isinstance(r.get("path"), str)}
    for i, res in enumerate(entries):
        if not isinstance(res, dict):
            continue
        ptr = f"/resources/{i}"
        rid = res.get("id")
        if isinstance(rid, str):
            if rid in ids:
                report.error(MANIFEST, f"{ptr}/id", f"duplicate resource id '{rid}' (also /resources/{ids[rid]})",
                             "duplicate")
            ids.setdefault(rid, i)
        for j, sid in enumerate(raw if isinstance(raw := res.get("skills"), list) else []):
            if isinstance(sid, str) and sid not in skills:
                report.error(MANIFEST, f"{ptr}/skills/{j}", f"unknown skill '{sid}'", "dangling")
            taught.add(sid)
        lang = res.get("language")
        if isinstance(lang, str) and lang not in languages:
            report.error(MANIFEST, f"{ptr}/language", f"language '{lang}' is not in the pack's languages", "language")
        title = res.get("title")
        if isinstance(title, dict):
            need = [lang] if isinstance(lang, str) else languages
            missing = [x for x in need if x not in title]
            if missing:
                report.error(MANIFEST, f"{ptr}/title", "missing language " + ", ".join(missing), "language")
        if isinstance(res.get("transcript"), str):
            _check_transcript(res, ptr, listed, on_disk, report)
        path = res.get("path")
        if not isinstance(path, str):
            continue
        why = unsafe_name(path)
        if why:
            report.error(MANIFEST, f"{ptr}/path", why, "unsafe-path")
            continue
        if fold(path) in paths:
            report.error(MANIFEST, f"{ptr}/path", f"path also used by /resources/{paths[fold(path)]} "
                         "(names differing only in case count as the same)", "duplicate")
        paths.setdefault(fold(path), i)
        _check_resource_file(root, res, ptr, path, on_disk, listed, built, report, checksums, progress)
    return taught


def _check_transcript(res: dict, ptr: str, listed: set[str], on_disk: set[str], report: Report) -> None:
    """A transcript is the words of a recording, shown under its player: only audio and video
    have one, in the resource's one language; its pictures are the pack's, like an item's."""
    if res.get("kind") not in ("audio", "video"):
        report.warning(MANIFEST, f"{ptr}/transcript", f"only audio and video resources have a transcript; "
                       f"this {res.get('kind')} resource's is ignored", "transcript")
        return
    if not isinstance(res.get("language"), str):
        report.error(MANIFEST, f"{ptr}/transcript", "a resource with a transcript needs its `language`: "
                     "the language of its words", "language")
    for m in IMAGE_REF.finditer(res["transcript"]):
        check_media_ref(m.group(1), "", MANIFEST, f"{ptr}/transcript", listed, on_disk, report)


def _check_resource_file(root: Path, res: dict, ptr: str, path: str, on_disk: set[str], listed: set[str],
                         built: bool, report: Report, checksums: bool = True,
                         progress: Callable[[int], None] = lambda size: None) -> None:
    kind = res.get("kind")
    if kind in EXTENSIONS and not path.lower().endswith(EXTENSIONS[kind]):
        report.warning(MANIFEST, f"{ptr}/path", f"a {kind} resource is expected to end with "
                       + " or ".join(EXTENSIONS[kind]), "extension")
    if path not in on_disk:
        report.error(MANIFEST, f"{ptr}/path", f"file not found: {path}", "missing-file")
        return
    full = root.joinpath(*path.split("/"))
    size = full.stat().st_size
    for field in ("sha256", "size"):
        if field not in res:
            if built:
                report.error(MANIFEST, ptr, f"{field} is not filled in: build the pack with `classroom-server "
                             "pack build` (or `python -m content_packs checksums` to fill it in here)", "checksum")
            else:
                report.warning(MANIFEST, ptr, f"{field} is not filled in, so `classroom-server pack import` "
                               "will refuse this folder: `classroom-server pack build` writes a .zip with "
                               "checksums filled in (or `python -m content_packs checksums` fills them in "
                               "here)", "checksum")
    if isinstance(res.get("size"), int) and res["size"] != size:
        report.error(MANIFEST, f"{ptr}/size", f"size is {res['size']} but {path} has {size} bytes", "size")
    if checksums and isinstance(res.get("sha256"), str) and res["sha256"] != sha256_of(full):
        report.error(MANIFEST, f"{ptr}/sha256", f"sha256 does not match the contents of {path}", "checksum")
    progress(size)
    if path.lower().endswith(".svg") and _SVG_ACTIVE.search(full.read_bytes()):
        report.error(path, "", "SVG contains script, event handlers or embedded content: packs are data, "
                     "never code", "unsafe-svg")
    if path.lower().endswith(".md"):
        try:
            text = full.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            report.error(path, "", f"{path} is not UTF-8 text (byte {exc.start} cannot be read): save it as "
                         "UTF-8", "encoding")
            return
    if kind in ("text", "printable") and path.endswith(".md"):
        base = posixpath.dirname(path)
        for line_no, line in enumerate(text.splitlines(), 1):
            for m in IMAGE_REF.finditer(line):
                check_media_ref(m.group(1), base, path, f"line {line_no}", listed, on_disk, report)


def _check_item_files(root: Path, manifest: dict, languages: list[str], skills: dict[str, int],
                      listed: set[str], on_disk: set[str], report: Report) -> dict[str, int]:
    """Check every item in every item file; return the number of items per skill."""
    per_skill: dict[str, int] = {}
    seen: dict[str, str] = {}
    pack_id = raw if isinstance(raw := manifest.get("id"), str) else ""
    audio = {r["path"] for r in manifest.get("resources") or []
             if isinstance(r, dict) and r.get("kind") == "audio" and isinstance(r.get("path"), str)}
    files = raw if isinstance(raw := manifest.get("item_files"), list) else []
    for n, rel in enumerate(files):
        if not isinstance(rel, str) or unsafe_name(rel):
            if isinstance(rel, str):
                report.error(MANIFEST, f"/item_files/{n}", unsafe_name(rel) or "", "unsafe-path")
            continue
        if rel not in on_disk:
            report.error(MANIFEST, f"/item_files/{n}", f"file not found: {rel}", "missing-file")
            continue
        items = read_json(root.joinpath(*rel.split("/")), rel, report)
        if items is None:
            continue
        if not isinstance(items, list):
            report.error(rel, "", "an item file must be a JSON array of items", "schema")
            continue
        for i, item in enumerate(items):
            errors_before = len(report.errors)
            found = ITEM_SCHEMA.check(item, rel, f"/{i}", report)
            if not isinstance(item, dict):
                continue
            schema_ok = len(report.errors) == errors_before
            template = "template" in item
            iid, sid = item.get("id"), item.get("skill")
            if isinstance(iid, str):
                if iid in seen:
                    report.error(rel, f"/{i}/id", f"duplicate item id '{iid}' (also in {seen[iid]})", "duplicate")
                seen.setdefault(iid, rel)
            if isinstance(sid, str):
                if sid not in skills:
                    report.error(rel, f"/{i}/skill", f"unknown skill '{sid}'", "dangling")
                per_skill[sid] = per_skill.get(sid, 0) + 1
            if template:
                _check_template(item, pack_id, rel, f"/{i}", schema_ok, listed, on_disk, report)
            else:
                check_answer_key(item, rel, f"/{i}", report)
            if languages:
                check_languages(found, languages, rel, report)
            if not template:
                for pointer, ref in image_refs(found):
                    check_media_ref(ref, "", rel, pointer, listed, on_disk, report)
                _warn_stray_placeholders(found, rel, report)
            if isinstance(item.get("audio"), dict):
                for lang, path in item["audio"].items():
                    if isinstance(path, str) and path not in audio:
                        report.error(rel, f"/{i}/audio/{lang}", f"'{path}' is not listed as an audio resource",
                                     "media")
    return per_skill


def _warn_stray_placeholders(found: list, file: str, report: Report) -> None:
    for kind, pointer, value in found:
        if kind in ("text", "markdown") and isinstance(value, dict):
            for lang, text in value.items():
                stray = stray_placeholders(text) if isinstance(text, str) else []
                if stray:
                    report.warning(file, f"{pointer}/{lang}", f"'{stray[0]}' looks like a template placeholder, "
                                   "but the item has no \"template\": it is shown as written", "template")


def _check_template(item: dict, pack_id: str, file: str, ptr: str, schema_ok: bool, listed: set[str],
                    on_disk: set[str], report: Report) -> None:
    """Check a template item and every item it expands to (images in texts are checked per instance).

    A problem found in several instances is reported once, at the template's field, naming the
    first instance and its values.
    """
    template, problems = compile_template(item)
    for severity, where, message in problems:
        (report.error if severity == "error" else report.warning)(file, ptr + where, message, "template")
    if template is None:
        return
    found_in: dict[tuple[str, str, str], list] = {}  # (severity, where, code) -> [message, other instances]
    repeats = []
    try:
        for inst in instances(template, pack_id):
            assert inst.item is not None  # instances() fills it before yielding
            if inst.repeats is not None:
                repeats.append(inst)
            sub = Report()
            # the "~n" of an instance id is the format's own, so check the id as the author wrote it
            found = ITEM_SCHEMA.check({**inst.item, "id": template.id}, file, ptr, sub if schema_ok else Report())
            check_answer_key(inst.item, file, ptr, sub)
            for pointer, ref in image_refs(found):
                check_media_ref(ref, "", file, pointer, listed, on_disk, sub)
            for p in sub:
                if p.code == "unknown-field":
                    continue  # reported for the template itself
                key = (p.severity, p.where, p.code)
                if key in found_in:
                    found_in[key][1] += 1
                else:
                    found_in[key] = [f"instance {inst.item['id']} {inst.label}: {p.message}", 0]
    except TemplateError as exc:
        report.error(file, ptr + exc.where, exc.message, "template")
    for (severity, where, code), (message, more) in found_in.items():
        if more:
            message += f" (and in {more} more instance{'s' * (more > 1)})"
        (report.error if severity == "error" else report.warning)(file, where, message, code)
    if repeats:
        first = repeats[0]
        assert first.item is not None  # instances() fills it before yielding
        report.warning(file, f"{ptr}/template/instances", f"{len(repeats)} of {template.instances} instances repeat "
                       f"others ({first.item['id']} has the values of {template.id}~{first.repeats}): the "
                       "parameters allow fewer different items; widen the ranges or ask for fewer instances",
                       "template")


def _check_listing(listed: set[str], on_disk: list[str], report: Report) -> None:
    folded: dict[str, str] = {}
    for rel in on_disk:
        key = fold(rel)
        if key in folded:
            report.error(rel, "", f"same name as '{folded[key]}' once case is ignored", "unsafe-duplicate")
        folded[key] = rel
        if rel not in listed:
            report.error(rel, "", "file not listed in pack.json (list it as a resource or remove it)", "extra-file")
