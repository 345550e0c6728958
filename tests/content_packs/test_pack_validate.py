"""validate(): a valid pack passes, and each kind of broken pack reports its precise problem.

Each case edits the fixture pack one way and names the problem it must cause: file, JSON
pointer (or line) and a fragment of the message. Cases are data so adding one is one line.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from content_packs import validate
from content_packs.testing import edit_json

ITEMS = "items/skill-0000.json"  # item 0 single_choice, 1 multiple, 2 numeric, 3 short_text, 4 ordering, 5 matching


def manifest(change: Callable) -> Callable[[Path], None]:
    return lambda root: edit_json(root / "pack.json", change)


def items(change: Callable) -> Callable[[Path], None]:
    return lambda root: edit_json(root / ITEMS, change)


def _set(path: list, value) -> Callable:
    def change(data):
        for key in path[:-1]:
            data = data[key]
        data[path[-1]] = value
    return change


def _del(path: list) -> Callable:
    def change(data):
        for key in path[:-1]:
            data = data[key]
        del data[path[-1]]
    return change


def _write(rel: str, text: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return change


def _same_size_edit(root: Path) -> None:
    f = root / "resources/en/skill-0000.md"
    text = f.read_text(encoding="utf-8")
    f.write_text(text.replace("A fraction", "B fraction"), encoding="utf-8")


CASES = {
    # name: (mutation, severity, file, where, message fragment)
    "bad-schema": (manifest(_set(["skills", 0, "minutes"], "ten")), "error", "pack.json", "/skills/0/minutes",
                   "must be integer"),
    "unknown-field": (manifest(_set(["skills", 0, "prereqs"], [])), "warning", "pack.json", "/skills/0/prereqs",
                      "unknown field 'prereqs'"),
    "unknown-item-field": (items(_set([2, "choices"], [])), "warning", ITEMS, "/2/choices", "unknown field"),
    "missing-required": (manifest(_del(["license"])), "error", "pack.json", "", "missing required field 'license'"),
    "dangling-prerequisite": (manifest(_set(["skills", 1, "prerequisites"], ["nope"])), "error", "pack.json",
                              "/skills/1/prerequisites/0", "unknown skill 'nope'"),
    "dangling-resource-skill": (manifest(_set(["resources", 1, "skills"], ["ghost"])), "error", "pack.json",
                                "/resources/1/skills/0", "unknown skill 'ghost'"),
    "dangling-item-skill": (items(_set([0, "skill"], "ghost")), "error", ITEMS, "/0/skill", "unknown skill 'ghost'"),
    "dangling-item-file": (manifest(lambda m: m["item_files"].append("items/ghost.json")), "error", "pack.json",
                           "/item_files/3", "file not found: items/ghost.json"),
    "cycle": (manifest(_set(["skills", 0, "prerequisites"], ["skill-0002"])), "error", "pack.json",
              "/skills/0/prerequisites", "prerequisite cycle: skill-0000 -> skill-0002 -> skill-0001 -> skill-0000"),
    "self-prerequisite": (manifest(_set(["skills", 1, "prerequisites"], ["skill-0001"])), "error", "pack.json",
                          "/skills/1/prerequisites", "skill-0001 -> skill-0001"),
    "duplicate-skill": (manifest(_set(["skills", 2, "id"], "skill-0000")), "error", "pack.json", "/skills/2/id",
                        "duplicate skill id 'skill-0000'"),
    "duplicate-item": (items(_set([1, "id"], "skill-0000-000")), "error", ITEMS, "/1/id", "duplicate item id"),
    "duplicate-resource-path": (manifest(_set(["resources", 2, "path"], "resources/EN/skill-0000.md")), "error",
                                "pack.json", "/resources/2/path", "differing only in case"),
    "missing-file": (lambda root: (root / "resources/en/skill-0000.md").unlink(), "error", "pack.json",
                     "/resources/1/path", "file not found: resources/en/skill-0000.md"),
    "extra-file": (_write("notes.txt", "hello"), "error", "notes.txt", "", "not listed in pack.json"),
    "bad-checksum": (_same_size_edit, "error", "pack.json", "/resources/1/sha256", "does not match"),
    "bad-size": (manifest(_set(["resources", 1, "size"], 1)), "error", "pack.json", "/resources/1/size",
                 "size is 1 but"),
    "single-choice-two-correct": (items(_set([0, "choices", 2, "correct"], True)), "error", ITEMS, "/0/choices",
                                  "exactly one correct choice, found 2"),
    "multiple-choice-none-correct": (items(lambda d: [c.update(correct=False, feedback={"en": "x", "es": "x"})
                                                      for c in d[1]["choices"]]), "error", ITEMS, "/1/choices",
                                     "at least one correct"),
    "wrong-choice-no-feedback": (items(_del([0, "choices", 1, "feedback"])), "error", ITEMS, "/0/choices/1",
                                 "needs feedback"),
    "bad-numeric-value": (items(_set([2, "answer", "value"], "3//4")), "error", ITEMS, "/2/answer/value",
                          "'3//4' is not a number"),
    "numeric-not-simplest": (items(_set([2, "answer"], {"value": "2/4", "simplest": True})), "error", ITEMS,
                             "/2/answer/value", "not in simplest form"),
    "numeric-no-exact-form": (items(_set([2, "answer"], {"value": "1/3", "forms": ["decimal"]})), "error", ITEMS,
                              "/2/answer/forms", "no accepted form"),
    "numeric-wrong-equals-right": (items(_set([2, "wrong_answers", 0, "value"], "0.75")), "error", ITEMS,
                                   "/2/wrong_answers/0/value", "equals the correct answer"),
    "short-text-wrong-is-accepted": (items(_set([3, "wrong_answers", 0, "value", "en"], "One half.")), "error", ITEMS,
                                     "/3/wrong_answers/0/value/en", "also an accepted answer"),
    "ordering-not-permutation": (items(_set([4, "answer"], ["p", "p", "r"])), "error", ITEMS, "/4/answer",
                                 "every option id exactly once"),
    "matching-unmapped-left": (items(_del([5, "answer", "l2"])), "error", ITEMS, "/5/answer",
                               "does not match left id 'l2'"),
    "matching-unknown-right": (items(_set([5, "answer", "l2"], "r9")), "error", ITEMS, "/5/answer/l2",
                               "'r9' is not a right id"),
    "missing-language": (items(_del([0, "hints", 0, "es"])), "error", ITEMS, "/0/hints/0", "missing language es"),
    "missing-language-choice": (items(_del([0, "choices", 1, "text", "en"])), "error", ITEMS, "/0/choices/1/text",
                                "missing language en"),
    "missing-language-accepted": (items(_del([3, "answer", "accepted", "es"])), "error", ITEMS,
                                  "/3/answer/accepted", "missing language es"),
    "missing-language-pack-title": (manifest(_del(["title", "es"])), "error", "pack.json", "/title",
                                    "missing language es"),
    "media-missing": (items(_set([0, "stem", "en"], "Look: ![x](media/nothere.svg)")), "error", ITEMS,
                      "/0/stem/en", "not found: no file media/nothere.svg"),
    "media-web-address": (items(_set([0, "stem", "en"], "![x](https://example.org/x.png)")), "error", ITEMS,
                          "/0/stem/en", "not a web address"),
    "media-in-resource-missing": (_write("resources/en/skill-0000.md", "![a](../../media/gone.svg)\n"), "error",
                                  "resources/en/skill-0000.md", "line 1", "not found"),
    "media-unlisted": (lambda root: (_write("media/extra.svg", "<svg/>")(root),
                                     items(_set([0, "stem", "en"], "![x](media/extra.svg)"))(root)),
                       "error", ITEMS, "/0/stem/en", "not listed as a resource"),
    "bad-semver": (manifest(_set(["version"], "1.0")), "error", "pack.json", "/version", "semantic version"),
    "bad-reverse-dns": (manifest(_set(["id"], "Fractions")), "error", "pack.json", "/id", "reverse-DNS"),
    "traversal-path": (manifest(_set(["resources", 1, "path"], "../outside.md")), "error", "pack.json",
                       "/resources/1/path", "'..' in path"),
    "invalid-json": (_write(ITEMS, "[{\n  oops\n]"), "error", ITEMS, "line 2", "invalid JSON"),
    "svg-script": (_write("media/bar.svg", "<svg><script>alert(1)</script></svg>"), "error", "media/bar.svg", "",
                   "packs are data, never code"),
    "language-not-in-pack": (manifest(_set(["resources", 1, "language"], "fr")), "error", "pack.json",
                             "/resources/1/language", "'fr' is not in the pack's languages"),
    "difficulty-out-of-range": (items(_set([0, "difficulty"], 9)), "error", ITEMS, "/0/difficulty", "from -3"),
    "bad-format": (manifest(_set(["format"], 2)), "error", "pack.json", "/format", "format must be 1"),
    "transcript-on-a-text-lesson": (manifest(_set(["resources", 1, "transcript"], "Words.")), "warning",
                                    "pack.json", "/resources/1/transcript", "only audio and video resources"),
    "transcript-without-language": (manifest(lambda m: m["resources"][0].update(kind="video", transcript="Words.")),
                                    "error", "pack.json", "/resources/0/transcript", "needs its `language`"),
    "transcript-picture-missing": (manifest(lambda m: m["resources"][0].update(
        kind="video", language="en", transcript="Look: ![x](media/gone.svg)")), "error", "pack.json",
        "/resources/0/transcript", "not found: no file media/gone.svg"),
    "transcript-too-long": (manifest(_set(["resources", 1, "transcript"], "x" * 20_001)), "error", "pack.json",
                            "/resources/1/transcript", "1 to 20,000 characters"),
}


def test_fixture_pack_is_valid(pack_dir: Path) -> None:
    report = validate(pack_dir)
    assert report.ok and not report.problems, report.format()


@pytest.mark.parametrize("name", sorted(CASES))
def test_broken_pack_reports_its_problem(pack_dir: Path, name: str) -> None:
    mutate, severity, file, where, fragment = CASES[name]
    mutate(pack_dir)
    report = validate(pack_dir)
    hits = [p for p in report if p.file == file and p.where == where and fragment in p.message]
    assert hits, f"expected {file}:{where}: {fragment}\ngot:\n{report.format()}"
    assert hits[0].severity == severity
    assert report.ok == (severity == "warning"), report.format()


def test_every_problem_is_reported_at_once(pack_dir: Path) -> None:
    for name in ("bad-semver", "cycle", "extra-file", "bad-numeric-value", "missing-language"):
        CASES[name][0](pack_dir)
    report = validate(pack_dir)
    wheres = {(p.file, p.where) for p in report.errors}
    assert {("pack.json", "/version"), ("pack.json", "/skills/0/prerequisites"), ("notes.txt", ""),
            (ITEMS, "/2/answer/value"), (ITEMS, "/0/hints/0")} <= wheres, report.format()


def test_symlink_in_folder_is_unsafe(pack_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("hub secrets")
    (pack_dir / "media" / "link.svg").symlink_to(tmp_path / "secret.txt")
    report = validate(pack_dir)
    assert any(p.file == "media/link.svg" and p.code == "unsafe-symlink" for p in report.errors), report.format()
    assert report.unsafe


def test_missing_checksums_warn_in_a_folder(pack_dir: Path) -> None:
    edit_json(pack_dir / "pack.json", lambda m: [r.pop("sha256") for r in m["resources"]])
    report = validate(pack_dir)
    assert report.ok
    assert any("sha256 is not filled in" in p.message for p in report.warnings)


def test_not_a_pack(tmp_path: Path) -> None:
    (tmp_path / "x.zip").write_bytes(b"not a zip")
    assert not validate(tmp_path / "x.zip").ok
    assert not validate(tmp_path / "nothing-here").ok


def test_symlinked_manifest_is_not_followed(pack_dir: Path, tmp_path: Path) -> None:
    real = tmp_path / "elsewhere.json"
    (pack_dir / "pack.json").rename(real)
    (pack_dir / "pack.json").symlink_to(real)
    report = validate(pack_dir)
    assert [(p.file, p.code) for p in report.errors] == [("pack.json", "unsafe-symlink")]


def test_a_quick_look_skips_checksums_and_progress_counts_every_resource(pack_dir: Path) -> None:
    from content_packs.validate import validate_folder

    _same_size_edit(pack_dir)  # the file changes, its size does not: only its sha256 tells
    assert "sha256 does not match" in validate_folder(pack_dir).format()
    assert validate_folder(pack_dir, checksums=False).ok
    sizes: list[int] = []
    validate_folder(pack_dir, progress=sizes.append)
    manifest_sizes = [r["size"] for r in json.loads((pack_dir / "pack.json").read_text())["resources"]]
    assert sorted(sizes) == sorted(manifest_sizes)
