"""Grading answers: pure functions from (item, response, language) to a Grade.

No I/O and no state, so the hub, the district and the tests all grade the same way, and a
regrade of the event log gives the same result. Responses of the wrong shape raise BadResponse:
that is a bug in the caller, never a learner's wrong answer.

Response shapes: single_choice str (choice id); multiple_choice a list/tuple/set of choice ids;
numeric and short_text str; ordering a sequence of option ids; matching a mapping left -> right id.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from .model import Item, Localized
from .numbers import accepted_forms, decimal_comma, parse_number
from .report import BadResponse

MAX_TEXT = 1000  # a longer response is not an answer to a school question


@dataclass(frozen=True, slots=True)
class Grade:
    """The verdict. `matched` names what the response matched: the accepted answer, the wrong
    answer or choice whose feedback is given, or None. `reason` is a code the web layer can
    translate when there is no pack feedback: "unreadable", "form", "not_simplest", "incomplete".
    """

    correct: bool
    feedback: str | None
    matched: str | None
    reason: str | None = None


_SPACES = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Trim, NFC, casefold, collapse spaces, drop final punctuation and opening ¿ ¡."""
    text = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())
    text = _SPACES.sub(" ", text).strip()
    while text and unicodedata.category(text[-1]).startswith("P"):
        text = text[:-1].rstrip()
    while text and text[0] in "¿¡":
        text = text[1:].lstrip()
    return text


def _text(value: Localized[str] | None, lang: str) -> str | None:
    return value.pick(lang) if value is not None else None


def _need_str(response: Any) -> str:
    if not isinstance(response, str):
        raise BadResponse(f"expected text, got {type(response).__name__}")
    if len(response) > MAX_TEXT:
        raise BadResponse("response too long")
    return response


def _need_ids(response: Any) -> list[str]:
    if isinstance(response, (str, bytes)) or not isinstance(response, (list, tuple, set, frozenset)):
        raise BadResponse(f"expected a list of ids, got {type(response).__name__}")
    if not all(isinstance(x, str) for x in response):
        raise BadResponse("every id must be text")
    return list(response)


def grade(item: Item, response: Any, lang: str) -> Grade:
    """Grade one response to one item, with feedback in `lang` (falling back to the first language)."""
    kind = item.type
    if kind == "single_choice":
        return _grade_single(item, _need_str(response), lang)
    if kind == "multiple_choice":
        return _grade_multiple(item, _need_ids(response), lang)
    if kind == "numeric":
        return _grade_numeric(item, _need_str(response), lang)
    if kind == "short_text":
        return _grade_short_text(item, _need_str(response), lang)
    if kind == "ordering":
        return _grade_ordering(item, _need_ids(response), lang)
    if kind == "matching":
        return _grade_matching(item, response, lang)
    raise BadResponse(f"unknown item type {kind!r}")


def _grade_single(item: Item, response: str, lang: str) -> Grade:
    for choice in item.choices:
        if choice.id == response:
            if choice.correct:
                return Grade(True, _text(choice.feedback, lang), choice.id)
            return Grade(False, _text(choice.feedback, lang), choice.id)
    raise BadResponse(f"no choice {response!r} in item {item.id}")


def _grade_multiple(item: Item, response: list[str], lang: str) -> Grade:
    chosen = set(response)
    known = {c.id for c in item.choices}
    if not chosen <= known:
        raise BadResponse(f"no choice {sorted(chosen - known)[0]!r} in item {item.id}")
    if chosen == item.correct_choice_ids:
        return Grade(True, None, ",".join(sorted(chosen)))
    for choice in item.choices:  # first wrong pick in choice order names the misconception
        if choice.id in chosen and not choice.correct:
            return Grade(False, _text(choice.feedback, lang), choice.id)
    return Grade(False, None, None, "incomplete")


def _grade_numeric(item: Item, response: str, lang: str) -> Grade:
    key = item.answer
    number = parse_number(response, comma=decimal_comma(lang))
    if number is None:
        return Grade(False, None, None, "unreadable")
    target = parse_number(key.value)
    if target is None:
        raise BadResponse(f"item {item.id} has no readable answer")
    close = abs(number.value - target.value) <= key.tolerance
    reason = None
    if close:
        if number.form not in accepted_forms(key.forms):
            reason = "form"
        elif key.simplest and not number.simplest:
            reason = "not_simplest"
        else:
            return Grade(True, None, key.value)
    written = " ".join(response.split())
    by_value = None
    for wrong in item.wrong_answers:
        value = cast(str, wrong.value)  # a numeric item's wrong answers are plain strings
        w = parse_number(value)
        if " ".join(value.split()) == written:
            return Grade(False, _text(wrong.feedback, lang), value, reason)
        if by_value is None and w is not None and w.value == number.value:
            by_value = wrong
    if by_value is not None:
        return Grade(False, _text(by_value.feedback, lang), cast(str, by_value.value), reason)
    return Grade(False, None, None, reason)


def _grade_short_text(item: Item, response: str, lang: str) -> Grade:
    said = normalize_text(response)
    accepted = item.answer.pick(lang) or ()
    for text in accepted:
        if normalize_text(text) == said:
            return Grade(True, None, text)
    for wrong in item.wrong_answers:
        value = cast("Localized[str]", wrong.value).pick(lang)  # a short_text item's are Localized
        if value is not None and normalize_text(value) == said:
            return Grade(False, _text(wrong.feedback, lang), value)
    return Grade(False, None, None)


def _grade_ordering(item: Item, response: list[str], lang: str) -> Grade:
    if sorted(response) != sorted(o.id for o in item.options):
        raise BadResponse(f"ordering response must list each option of {item.id} once")
    if tuple(response) == item.answer:
        return Grade(True, None, ",".join(response))
    return Grade(False, _text(item.feedback_wrong, lang), None)


def _grade_matching(item: Item, response: Any, lang: str) -> Grade:
    if not isinstance(response, Mapping):
        raise BadResponse(f"expected a mapping of left id to right id, got {type(response).__name__}")
    left = {o.id for o in item.left}
    right = {o.id for o in item.right}
    if set(response) != left or not all(isinstance(v, str) and v in right for v in response.values()):
        raise BadResponse(f"matching response must map every left id of {item.id} to a right id")
    if dict(item.answer) == dict(response):
        return Grade(True, None, None)
    return Grade(False, _text(item.feedback_wrong, lang), None)


def _values(form: Any, name: str) -> list[str]:
    if hasattr(form, "getlist"):  # werkzeug MultiDict and friends
        values = form.getlist(name)
    else:
        raw = form.get(name)
        values = [] if raw is None else list(raw) if isinstance(raw, (list, tuple)) else [raw]
    if not all(isinstance(v, str) for v in values):
        raise BadResponse(f"form field {name!r} must be text")
    return values


def parse_response(item: Item, form_data: Mapping[str, Any]) -> Any:
    """Turn plain HTML form fields into the response shape `grade` expects.

    Fields: `answer` (radio, text box, or repeated checkboxes / ordered ids); for ordering
    without script, `rank.<option id>` = "1".."n"; for matching, `match.<left id>` = right id.
    A missing or malformed field raises BadResponse so the page can ask again.
    """
    kind = item.type
    answers = _values(form_data, "answer")
    if kind in ("single_choice", "numeric", "short_text"):
        if len(answers) != 1 or (kind != "single_choice" and not answers[0].strip()):
            raise BadResponse("please give one answer")
        return answers[0]
    if kind == "multiple_choice":
        if not answers:
            raise BadResponse("please choose at least one answer")
        return answers
    if kind == "ordering":
        if answers:
            return answers
        ranks = []
        for pos, option in enumerate(item.options):
            raw = _values(form_data, f"rank.{option.id}")
            if len(raw) != 1 or not raw[0].strip().isdigit():
                raise BadResponse("please give every option a position")
            ranks.append((int(raw[0]), pos, option.id))
        if sorted(r for r, _, _ in ranks) != list(range(1, len(ranks) + 1)):
            raise BadResponse("use each position once")
        return [oid for _, _, oid in sorted(ranks)]
    if kind == "matching":
        result = {}
        for option in item.left:
            raw = _values(form_data, f"match.{option.id}")
            if len(raw) != 1 or not raw[0]:
                raise BadResponse("please match every item")
            result[option.id] = raw[0]
        return result
    raise BadResponse(f"unknown item type {kind!r}")
