"""Checks that need more than a schema: answer keys, languages and media in Markdown.

A schema can say that "correct" is a boolean; only code can say that a single_choice item has
exactly one correct choice, or that "3/4" is a number. Every function here tolerates malformed
input (the schema check has already reported it) and only adds problems to the Report.
"""
from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from typing import Any

from .grading import normalize_text
from .numbers import accepted_forms, exact_in_forms, parse_number
from .report import Report

IMAGE_REF = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'(][^)]*)?\)")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:|^//")


def check_languages(found: Iterable[tuple[str, str, Any]], languages: list[str], file: str,
                    report: Report) -> None:
    """Every localized string needs every pack language: a learner must never see a blank."""
    wanted = set(languages)
    for _, pointer, value in found:
        if not isinstance(value, dict):
            continue
        missing = [lang for lang in languages if lang not in value]
        if missing:
            report.error(file, pointer, "missing language " + ", ".join(missing), "language")
        extra = sorted(set(value) - wanted)
        if extra:
            report.warning(file, pointer, f"language {', '.join(extra)} is not in the pack's languages",
                           "language")


def image_refs(found: Iterable[tuple[str, str, Any]]) -> Iterable[tuple[str, str]]:
    """(pointer, path) for each ![alt](path) in the Markdown strings found by the schema walk."""
    for kind, pointer, value in found:
        if kind != "markdown" or not isinstance(value, dict):
            continue
        for lang, text in value.items():
            if isinstance(text, str):
                for m in IMAGE_REF.finditer(text):
                    yield f"{pointer}/{lang}", m.group(1)


def check_media_ref(ref: str, base: str, file: str, pointer: str, listed: set[str],
                    exists: set[str], report: Report) -> None:
    """An image must be a listed file inside the pack: the hub is offline and checksums every file."""
    if _SCHEME.match(ref):
        report.error(file, pointer, f"image '{ref}' must be a file inside the pack, not a web address "
                     "(the hub works offline)", "media")
        return
    target = posixpath.normpath(posixpath.join(base, ref.split("#")[0].split("?")[0]))
    if target.startswith("../") or target == ".." or ref.startswith("/"):
        report.error(file, pointer, f"image '{ref}' points outside the pack", "media")
    elif target not in listed:
        if target in exists:
            report.error(file, pointer, f"image '{ref}' ({target}) is not listed as a resource in pack.json",
                         "media")
        else:
            report.error(file, pointer, f"image '{ref}' not found: no file {target}", "media")


def _ids(entries: Any, file: str, pointer: str, what: str, report: Report) -> list[str]:
    ids: list[str] = []
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            if entry["id"] in ids:
                report.error(file, f"{pointer}/{i}/id", f"duplicate {what} id '{entry['id']}'", "duplicate")
            ids.append(entry["id"])
    return ids


def check_answer_key(item: dict, file: str, ptr: str, report: Report) -> None:
    """The answer key must fit the item type, or the item can never be answered right."""
    kind = item.get("type")
    if kind in ("single_choice", "multiple_choice"):
        _check_choices(item, kind, file, ptr, report)
    elif kind == "numeric":
        _check_numeric(item, file, ptr, report)
    elif kind == "short_text":
        _check_short_text(item, file, ptr, report)
    elif kind == "ordering":
        _check_ordering(item, file, ptr, report)
    elif kind == "matching":
        _check_matching(item, file, ptr, report)


def _check_choices(item: dict, kind: str, file: str, ptr: str, report: Report) -> None:
    choices = item.get("choices")
    if not isinstance(choices, list):
        return
    _ids(choices, file, f"{ptr}/choices", "choice", report)
    correct = [c for c in choices if isinstance(c, dict) and c.get("correct") is True]
    if kind == "single_choice" and len(correct) != 1:
        report.error(file, f"{ptr}/choices", f"single_choice needs exactly one correct choice, found {len(correct)}",
                     "answer-key")
    if kind == "multiple_choice" and not correct:
        report.error(file, f"{ptr}/choices", "multiple_choice needs at least one correct choice", "answer-key")
    for i, choice in enumerate(choices):
        if isinstance(choice, dict) and choice.get("correct") is False and "feedback" not in choice:
            report.error(file, f"{ptr}/choices/{i}", "wrong choice needs feedback that names the misconception",
                         "feedback")


def _check_numeric(item: dict, file: str, ptr: str, report: Report) -> None:
    answer = item.get("answer")
    if not isinstance(answer, dict) or not isinstance(answer.get("value"), str):
        return
    number = parse_number(answer["value"])
    if number is None:
        report.error(file, f"{ptr}/answer/value", f"'{answer['value']}' is not a number: write an integer (7), "
                     "decimal (0.75), fraction (3/4) or mixed number (1 1/2)", "answer-key")
        return
    forms = raw if isinstance(raw := answer.get("forms"), list) else None
    simplest = answer.get("simplest") is True
    if simplest and not number.simplest:
        report.error(file, f"{ptr}/answer/value", f"'{answer['value']}' is not in simplest form but "
                     "\"simplest\" is set", "answer-key")
    tolerance = answer.get("tolerance", 0)
    if forms and not tolerance and not exact_in_forms(number.value, list(accepted_forms(forms))):
        report.error(file, f"{ptr}/answer/forms", f"no accepted form can write {answer['value']} exactly; "
                     "accept fractions or give a tolerance", "answer-key")
    for i, wrong in enumerate(item.get("wrong_answers") or []):
        if not isinstance(wrong, dict) or not isinstance(wrong.get("value"), str):
            continue
        w = parse_number(wrong["value"])
        where = f"{ptr}/wrong_answers/{i}/value"
        if w is None:
            report.error(file, where, f"'{wrong['value']}' is not a number", "answer-key")
        elif w.value == number.value and not (simplest and not w.simplest):
            report.error(file, where, f"wrong answer '{wrong['value']}' equals the correct answer", "answer-key")


def _check_short_text(item: dict, file: str, ptr: str, report: Report) -> None:
    answer = item.get("answer")
    accepted = answer.get("accepted") if isinstance(answer, dict) else None
    if not isinstance(accepted, dict):
        return
    for lang, texts in accepted.items():
        if isinstance(texts, list) and texts and not any(isinstance(t, str) and normalize_text(t) for t in texts):
            report.error(file, f"{ptr}/answer/accepted/{lang}", "accepted answers are empty after normalising",
                         "answer-key")
    for i, wrong in enumerate(item.get("wrong_answers") or []):
        value = wrong.get("value") if isinstance(wrong, dict) else None
        if not isinstance(value, dict):
            continue
        for lang, text in value.items():
            good = raw if isinstance(raw := accepted.get(lang), list) else []
            good_texts = {normalize_text(t) for t in good if isinstance(t, str)}
            if isinstance(text, str) and normalize_text(text) in good_texts:
                report.error(file, f"{ptr}/wrong_answers/{i}/value/{lang}",
                             f"wrong answer '{text}' is also an accepted answer", "answer-key")


def _check_ordering(item: dict, file: str, ptr: str, report: Report) -> None:
    ids = _ids(item.get("options"), file, f"{ptr}/options", "option", report)
    for field in ("answer", "prompt_order"):
        order = item.get(field)
        if isinstance(order, list) and ids and sorted(map(str, order)) != sorted(ids):
            report.error(file, f"{ptr}/{field}", f"{field} must list every option id exactly once "
                         f"(options: {', '.join(ids)})", "answer-key")
    if item.get("prompt_order") is not None and item.get("prompt_order") == item.get("answer"):
        report.warning(file, f"{ptr}/prompt_order", "prompt_order shows the options already in the right order",
                       "answer-key")


def _check_matching(item: dict, file: str, ptr: str, report: Report) -> None:
    left = _ids(item.get("left"), file, f"{ptr}/left", "left", report)
    right = _ids(item.get("right"), file, f"{ptr}/right", "right", report)
    answer = item.get("answer")
    if not isinstance(answer, dict):
        return
    for lid in left:
        if lid not in answer:
            report.error(file, f"{ptr}/answer", f"answer does not match left id '{lid}' to anything", "answer-key")
    for lid, rid in answer.items():
        if lid not in left:
            report.error(file, f"{ptr}/answer/{lid}", f"'{lid}' is not a left id", "answer-key")
        if isinstance(rid, str) and right and rid not in right:
            report.error(file, f"{ptr}/answer/{lid}", f"'{rid}' is not a right id", "answer-key")
