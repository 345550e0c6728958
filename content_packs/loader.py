"""load_pack: a checked pack folder or .zip becomes an immutable Pack.

Loading trusts nothing it has not validated: by default the pack is validated first and any
error raises PackInvalid or UnsafePack with the full Report, so a half-good pack never reaches
learners. Item templates are expanded here into ordinary items (see templates.py), so nothing
after loading knows they were templates.
"""
from __future__ import annotations

import json
import os
import sys
import zipfile
from fractions import Fraction
from pathlib import Path
from typing import Any

from .model import Choice, Item, Localized, NumericAnswer, Option, Pack, Resource, Skill, WrongAnswer
from .report import PackNotFound, Report, raise_for
from .safe_io import MANIFEST, extract_pack
from .template_expansion import expand_item
from .templates import TemplateError
from .validate import validate_folder

_intern = sys.intern


def _loc(value: Any) -> Localized[str] | None:
    return Localized(value) if isinstance(value, dict) else None


def _grades(value: Any) -> tuple[int, int] | None:
    return (value[0], value[1]) if isinstance(value, list) and len(value) == 2 else None


def _options(entries: Any) -> tuple[Option, ...]:
    return tuple(Option(_intern(o["id"]), Localized(o["text"])) for o in entries or ())


def skill_from(data: dict) -> Skill:
    return Skill(
        id=_intern(data["id"]), title=Localized(data["title"]), description=_loc(data.get("description")),
        prerequisites=tuple(_intern(p) for p in data.get("prerequisites", ())),
        standards=tuple(data.get("standards", ())), minutes=data.get("minutes"),
        grades=_grades(data.get("grades")))


def resource_from(data: dict) -> Resource:
    return Resource(
        id=_intern(data["id"]), skills=tuple(_intern(s) for s in data["skills"]), kind=_intern(data["kind"]),
        language=data.get("language"), title=Localized(data["title"]), path=data["path"],
        sha256=data.get("sha256"), size=data.get("size"), duration_minutes=data.get("duration_minutes"),
        transcript=data.get("transcript"))


def item_from(data: dict) -> Item:
    """Build an Item from one validated item object."""
    kind = data["type"]
    extra: dict[str, Any] = {}
    if kind in ("single_choice", "multiple_choice"):
        extra["choices"] = tuple(
            Choice(_intern(c["id"]), Localized(c["text"]), c["correct"], _loc(c.get("feedback")))
            for c in data["choices"])
    elif kind == "numeric":
        a = data["answer"]
        extra["answer"] = NumericAnswer(a["value"], Fraction(str(a.get("tolerance", 0))),
                                        tuple(a.get("forms", ())), bool(a.get("simplest", False)))
        extra["wrong_answers"] = tuple(WrongAnswer(w["value"], Localized(w["feedback"]))
                                       for w in data.get("wrong_answers", ()))
    elif kind == "short_text":
        extra["answer"] = Localized({k: tuple(v) for k, v in data["answer"]["accepted"].items()})
        extra["wrong_answers"] = tuple(WrongAnswer(Localized(w["value"]), Localized(w["feedback"]))
                                       for w in data.get("wrong_answers", ()))
    elif kind == "ordering":
        extra["options"] = _options(data["options"])
        extra["answer"] = tuple(_intern(x) for x in data["answer"])
        if "prompt_order" in data:
            extra["prompt_order"] = tuple(_intern(x) for x in data["prompt_order"])
    elif kind == "matching":
        extra["left"] = _options(data["left"])
        extra["right"] = _options(data["right"])
        extra["answer"] = tuple((_intern(k), _intern(v)) for k, v in data["answer"].items())
    if kind in ("ordering", "matching"):
        extra["feedback_wrong"] = _loc(data.get("feedback_wrong"))
    return Item(
        id=_intern(data["id"]), skill=_intern(data["skill"]), type=_intern(kind),
        stem=Localized(data["stem"]), hints=tuple(Localized(h) for h in data["hints"]),
        solution=Localized(data["solution"]), difficulty=data.get("difficulty"),
        check=bool(data.get("check", False)), audio=_loc(data.get("audio")), **extra)


def _expand(entry: dict, pack_id: str, rel: str, index: int) -> list[dict]:
    """A template's concrete items, in order; their ids are "<template id>~1", "~2", ..."""
    try:
        return expand_item(entry, pack_id)
    except TemplateError as exc:
        report = Report()
        report.error(rel, f"/{index}{exc.where}", exc.message, "template")
        raise_for(report, rel)
        raise  # pragma: no cover (raise_for always raises for an error)


def _sharing_hook():
    """A json object hook that keeps one copy of each repeated string value for this load.

    Hints, feedback and choice texts ("1/2") repeat across thousands of items; sharing them
    saves megabytes, and the table is dropped when loading ends.
    """
    table: dict[str, str] = {}
    share = table.setdefault

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        return {k: share(v, v) if type(v) is str else v for k, v in pairs}
    return hook


def load_pack(path: str | os.PathLike, *, workdir: str | os.PathLike | None = None,
              check: bool = True) -> Pack:
    """Load a pack folder, or a .zip extracted safely into the empty folder `workdir`.

    With check=True (the default) the pack is validated first and any error raises PackInvalid
    or UnsafePack. check=False is for packs this hub validated when it imported them.
    """
    path = Path(path)
    if path.is_file() and zipfile.is_zipfile(path):
        if workdir is None:
            raise ValueError("loading a .zip needs a workdir to extract it into")
        root = extract_pack(path, workdir)
        built = True
    elif path.is_dir():
        root, built = path, False
    else:
        raise PackNotFound(f"{path.name}: not a pack folder or .zip file")
    if check:
        raise_for(validate_folder(root, built=built), path.name)
    hook = _sharing_hook()
    data = json.loads((root / MANIFEST).read_text(encoding="utf-8"), object_pairs_hook=hook)
    items: list[Item] = []
    for rel in data["item_files"]:
        with open(root.joinpath(*rel.split("/")), encoding="utf-8") as f:
            entries = json.load(f, object_pairs_hook=hook)
        for i, entry in enumerate(entries):
            if "template" in entry:
                items.extend(item_from(x) for x in _expand(entry, data["id"], rel, i))
            else:
                items.append(item_from(entry))
    return Pack(
        id=data["id"], version=data["version"], languages=tuple(data["languages"]),
        title=Localized(data["title"]), description=Localized(data["description"]),
        license=data["license"], authors=tuple(a["name"] for a in data["authors"]),
        framework=(data.get("framework") or {}).get("name"), grades=_grades(data.get("grades")),
        skills=tuple(skill_from(s) for s in data["skills"]),
        resources=tuple(resource_from(r) for r in data["resources"]),
        items=tuple(items), root=str(root))
