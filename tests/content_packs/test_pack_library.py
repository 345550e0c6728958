"""The packs shipped in content_packs/library/ must be valid, complete and answerable by their keys."""
from __future__ import annotations

import importlib.util
import json
import re
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from content_packs import Catalogue, Item, Pack, grade, load_pack, validate
from content_packs.testing import key_response

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "content_packs" / "library"
PACKS = sorted(p.parent for p in LIBRARY.glob("*/pack.json"))
LESSON_KINDS = {"text", "printable", "audio", "video", "pdf", "html5"}  # an image alone is no lesson


def _load_make_audio():
    """scripts/packs/make_audio.py as a module: its --check needs only the standard library."""
    spec = importlib.util.spec_from_file_location("make_audio", ROOT / "scripts" / "packs" / "make_audio.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_audio = _load_make_audio()


@pytest.fixture(scope="module")
def fractions() -> Pack:
    return load_pack(LIBRARY / "fractions", check=False)


@pytest.fixture(scope="module")
def numbers() -> Pack:
    return load_pack(LIBRARY / "numbers", check=False)


def _items_by_skill(pack: Pack) -> dict[str, list[Item]]:
    found: dict[str, list[Item]] = defaultdict(list)
    for item in pack.items:
        found[item.skill].append(item)
    return found


def _item(pack: Pack, item_id: str) -> Item:
    return next(i for i in pack.items if i.id == item_id)


@pytest.mark.skipif(not PACKS, reason="no library packs yet")
@pytest.mark.parametrize("root", PACKS, ids=lambda p: p.name)
def test_library_pack_is_valid_and_answerable(root: Path) -> None:
    report = validate(root)
    assert report.ok, report.format()
    pack = load_pack(root, check=False)
    catalogue = Catalogue([pack])
    assert len(catalogue.topological_order()) == len(pack.skills)
    for item in pack.items:
        for lang in pack.languages:
            assert grade(item, key_response(item, lang), lang).correct, (item.id, lang)


@pytest.mark.parametrize("root", PACKS, ids=lambda p: p.name)
def test_pack_grade_band_covers_every_skill(root: Path) -> None:
    pack = load_pack(root, check=False)
    manifest = json.loads((root / "pack.json").read_text(encoding="utf-8"))
    low, high = manifest["grades"]
    for skill in pack.skills:
        assert skill.grades is not None, skill.id
        assert low <= skill.grades[0] <= skill.grades[1] <= high, (skill.id, skill.grades, [low, high])


# --- content minimums -------------------------------------------------------------------------

def test_fractions_has_enough_skills_in_english_spanish_and_french(fractions: Pack) -> None:
    assert set(fractions.languages) == {"en", "es", "fr"}
    assert len(fractions.skills) >= 10


def test_fractions_every_skill_has_two_lessons_in_two_modalities_with_a_printable(fractions: Pack) -> None:
    for skill in fractions.skills:
        for lang in fractions.languages:
            lessons = [r for r in fractions.resources
                       if skill.id in r.skills and r.kind in LESSON_KINDS and r.language == lang]
            kinds = {r.kind for r in lessons}
            assert len(lessons) >= 2 and len(kinds) >= 2 and "printable" in kinds, (skill.id, lang, kinds)


def test_fractions_every_skill_has_twelve_items_of_three_types_and_check_items(fractions: Pack) -> None:
    by_skill = _items_by_skill(fractions)
    for skill in fractions.skills:
        items = by_skill[skill.id]
        assert len(items) >= 12, (skill.id, len(items))
        assert len({i.type for i in items}) >= 3, skill.id
        assert any(i.check for i in items), f"{skill.id} has no check item"


def _misconception_feedback(item: Item) -> list:
    if item.type in ("single_choice", "multiple_choice"):
        wrong = [c for c in item.choices if not c.correct]
        return [c.feedback for c in wrong] if wrong and all(c.feedback for c in wrong) else []
    if item.type in ("numeric", "short_text"):
        return [w.feedback for w in item.wrong_answers]
    return [item.feedback_wrong] if item.feedback_wrong else []


def test_fractions_every_item_has_hints_misconception_feedback_and_a_worked_solution(fractions: Pack) -> None:
    for item in fractions.items:
        feedback = _misconception_feedback(item)
        assert item.hints and feedback, item.id
        for lang in fractions.languages:
            assert all((h.get(lang) or "").strip() for h in item.hints), (item.id, lang)
            assert all((f.get(lang) or "").strip() for f in feedback), (item.id, lang)
            assert (item.solution.get(lang) or "").strip(), (item.id, lang)


def test_numbers_has_enough_skills_in_english_french_and_spanish(numbers: Pack) -> None:
    assert set(numbers.languages) == {"en", "fr", "es"}
    assert len(numbers.skills) >= 8


def test_numbers_every_item_has_an_audio_prompt_in_each_language(numbers: Pack) -> None:
    audio = {r.path: r for r in numbers.resources if r.kind == "audio"}
    for item in numbers.items:
        assert item.audio is not None, item.id
        for lang in numbers.languages:
            path = item.audio.get(lang)
            assert path in audio, (item.id, lang, path)
            assert audio[path].language == lang, (item.id, lang)
            assert (LIBRARY / "numbers" / path).stat().st_size == audio[path].size, path


# --- audio prompts: made from the current item texts ------------------------------------------

@pytest.mark.parametrize("root", PACKS, ids=lambda p: p.name)
def test_audio_made_from_text_says_what_the_pack_says_now(root: Path) -> None:
    """What `python scripts/packs/make_audio.py --check` checks (no espeak-ng needed): every
    prompt says its item's text, every audio lesson its transcript."""
    assert make_audio.stale(root) == []


def test_matching_prompts_read_the_number_names(numbers: Pack) -> None:
    """A child who cannot read yet must hear the names to match them with the numerals."""
    prompts = make_audio.audio_prompts(LIBRARY / "numbers")
    for item_id in ("n20-04", "c120-08"):
        item = _item(numbers, item_id)
        for lang in numbers.languages:
            text = prompts[item.audio[lang]]["text"]
            for option in item.left:
                assert option.text[lang] in text, (item_id, lang, option.text[lang])
            for option in item.right:  # the numerals are what the child reads: saying them would answer it
                assert option.text[lang] not in text.replace(item.stem[lang], ""), (item_id, lang)


def test_check_reports_a_prompt_whose_item_text_changed(tmp_path: Path) -> None:
    pack_dir = tmp_path / "numbers"
    shutil.copytree(LIBRARY / "numbers", pack_dir)
    shutil.copy(make_audio.manifest_path(LIBRARY / "numbers"), make_audio.manifest_path(pack_dir))
    items_file = pack_dir / "items" / "numbers-to-20.json"
    items = json.loads(items_file.read_text(encoding="utf-8"))
    item = next(i for i in items if i["id"] == "n20-04")
    item["left"][0]["text"]["fr"] = "douze"
    items_file.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    (pack_dir / "media" / "audio" / "en" / "c120-01.opus").write_bytes(b"not the made file")

    problems = make_audio.stale(pack_dir)

    assert len(problems) == 2, problems
    assert problems[0].startswith("media/audio/en/c120-01.opus ") and "not the one made" in problems[0]
    assert problems[1].startswith("media/audio/fr/n20-04.opus ") and "text changed" in problems[1]
    assert make_audio.main(["--check", str(pack_dir)]) == 1


def test_check_reports_a_lesson_whose_transcript_or_duration_changed(tmp_path: Path) -> None:
    pack_dir = tmp_path / "fractions"
    shutil.copytree(LIBRARY / "fractions", pack_dir)
    shutil.copy(make_audio.manifest_path(LIBRARY / "fractions"), make_audio.manifest_path(pack_dir))
    manifest = json.loads((pack_dir / "pack.json").read_text(encoding="utf-8"))
    lessons = {r["id"]: r for r in manifest["resources"]}
    lessons["equal-parts-listen-fr"]["transcript"] += "\nUne phrase de plus.\n"
    lessons["add-unlike-listen-en"]["duration_minutes"] = 9
    (pack_dir / "pack.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")

    problems = make_audio.stale(pack_dir)

    assert len(problems) == 2, problems
    assert problems[0].startswith("resources/en/add-unlike.opus (add-unlike-listen-en, en): duration_minutes is 9")
    assert problems[1] == ("resources/fr/equal-parts.opus (equal-parts-listen-fr, fr): the transcript changed "
                           "since the audio was made")


# --- a second way to learn every skill: audio lessons (#19) -------------------------------------

LEARNER_KINDS = {"text", "audio", "video", "pdf", "html5"}  # a printable is the teacher's plan


@pytest.mark.parametrize("root", PACKS, ids=lambda p: p.name)
def test_every_skill_has_two_learner_modalities_in_english_spanish_and_french(root: Path) -> None:
    """So the remediation ladder's "learn it another way" is another way, not the same lesson."""
    pack = load_pack(root, check=False)
    prompts = {path for item in pack.items if item.audio for path in item.audio.values()}
    for skill in pack.skills:
        for lang in ("en", "es", "fr"):
            kinds = {r.kind for r in pack.resources if skill.id in r.skills and r.language == lang
                     and r.kind in LEARNER_KINDS and r.path not in prompts}
            assert len(kinds) >= 2, (root.name, skill.id, lang, kinds)


def _shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"[^\W\d_]+|\d+", text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


@pytest.mark.parametrize("root", PACKS, ids=lambda p: p.name)
def test_audio_lessons_are_another_explanation_spoken_in_about_a_minute(root: Path) -> None:
    pack = load_pack(root, check=False)
    lessons = [r for r in pack.resources if r.kind == "audio" and r.transcript]
    assert len(lessons) == 3 * len(pack.skills)
    for lesson in lessons:
        skill = lesson.skills[0]
        assert lesson.id == f"{skill}-listen-{lesson.language}" and len(lesson.skills) == 1, lesson.id
        seconds = make_audio.opus_seconds(root / lesson.path)
        assert 45 <= seconds <= 95 and lesson.duration_minutes == make_audio.minutes(seconds), (lesson.id, seconds)
        assert "/" not in lesson.transcript, f"{lesson.id}: fractions in words, as they are said"
        if root.name == "fractions":
            assert not re.search(r"\d", lesson.transcript), f"{lesson.id}: numbers in words"
        text = next(r for r in pack.resources if r.kind == "text" and skill in r.skills
                    and r.language == lesson.language)
        written = (root / text.path).read_text(encoding="utf-8")
        spoken = _shingles(lesson.transcript)
        shared = len(spoken & _shingles(written)) / len(spoken)
        assert shared < 0.25, f"{lesson.id}: {shared:.0%} of it is the text lesson read aloud"


# --- answer keys the audit found too lenient, graded by the real grading code -----------------

@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("item_id, right, same_values, denominator", [
    ("cs-012", "5/6", ("10/12", "15/18"), "6"),
    ("wn-009", "3/1", ("6/2", "9/3", "3"), "1"),
])
def test_the_asked_denominator_is_required(fractions: Pack, lang: str, item_id: str, right: str,
                                           same_values: tuple[str, ...], denominator: str) -> None:
    item = _item(fractions, item_id)
    assert grade(item, right, lang).correct
    for same_value in same_values:
        verdict = grade(item, same_value, lang)
        assert not verdict.correct and verdict.feedback and denominator in verdict.feedback, same_value


@pytest.mark.parametrize("lang", ["en", "es"])
def test_mx001_wants_a_mixed_number(fractions: Pack, lang: str) -> None:
    item = _item(fractions, "mx-001")
    assert grade(item, "1 3/4", lang).correct
    assert grade(item, "1 6/8", lang).correct  # still a mixed number, of the same amount
    improper = grade(item, "7/4", lang)
    # Right amount in the wrong form: the hub says "Right number, but write it the way the question asks."
    assert not improper.correct and improper.reason == "form"
    assert not grade(item, "7/8", lang).correct
