"""Verdict tables: the pack's own grading, worked out ahead for the answers an item can get, so a
learner's browser can give feedback without Wi-Fi and without a second grader in JavaScript.

A table maps the *key* of a response to the Grade `grading.grade` gives it. The browser works
out the key of the answer in the form (static/practice.js, `responseKey`) and looks it up; an
answer whose key is not in the table gets no verdict on the device, only "the hub will check it".
The hub grades every answer again when it arrives, and its verdict is the one recorded.

Keys (item ids are [a-z0-9_-], so ',' and '=' never occur in them):
  single_choice    the choice id
  multiple_choice  the chosen ids in the item's choice order, joined by ','
  ordering         the option ids in the order given, joined by ','
  matching         'left=right' for each left id in the item's order, joined by ','
  numeric, short_text   the text in light form (`light_key`: NFC, runs of white space made one
                   space, trimmed, lower case), which the browser applies identically

What a table holds:
  single_choice    every choice
  multiple_choice  every non-empty set of choices, when there are at most MAX_CHOICES choices
                   (else the right set and each wrong choice alone)
  ordering         every order, when there are at most MAX_ARRANGEMENTS (else the right one)
  matching         every way of matching each left to a different right, when there are at
                   most MAX_ARRANGEMENTS (else the right one)
  numeric          the key's value as written and in each accepted form that writes it exactly
                   (a decimal also with a comma, in a language that writes one), the same
                   fraction unsimplified, and the pack's listed wrong answers
  short_text       the accepted answers and the pack's listed wrong answers in the language
Every verdict is `grading.grade`'s, never a guess: a form the table leaves out waits for the hub.
"""
from __future__ import annotations

import itertools
import math
import re
import unicodedata
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

from .grading import Grade, grade
from .model import Item, Localized
from .numbers import accepted_forms, decimal_comma, exact_in_forms, parse_number

MAX_CHOICES = 8  # 255 sets of choices at most
MAX_ARRANGEMENTS = 120  # 5 options in order, or 5 pairs to match
_WHITE = re.compile("[ \t\n\r\f\v\u00a0\u202f]+")  # the same class as practice.js's lightKey


def light_key(text: str) -> str:
    """A typed answer's key: NFC, white space runs made one space, trimmed, lower case.

    Lighter than grading's own normalisation on purpose: two answers with one key always get
    one verdict from `grade` (numbers ignore case and spacing runs; short texts are compared
    casefolded and collapsed), so a table entry is right for every answer that finds it."""
    return _WHITE.sub(" ", unicodedata.normalize("NFC", text)).strip(" ").lower()


def response_key(item: Item, response: Any) -> str:
    """The key of a response in the shape `grade` takes, as the browser builds it from the form."""
    if item.type == "single_choice":
        return str(response)
    if item.type == "multiple_choice":
        chosen = set(response)
        return ",".join(c.id for c in item.choices if c.id in chosen)
    if item.type in ("numeric", "short_text"):
        return light_key(str(response))
    if item.type == "ordering":
        return ",".join(response)
    if item.type == "matching":
        return ",".join(f"{o.id}={response[o.id]}" for o in item.left if o.id in response)
    raise ValueError(f"unknown item type {item.type!r}")


def _decimal(value: Fraction) -> str | None:
    """`value` as a finite decimal, or None when it has none (1/3)."""
    if not exact_in_forms(value, ("decimal",)):
        return None
    with localcontext() as ctx:
        ctx.prec = 40
        text = format(Decimal(value.numerator) / Decimal(value.denominator), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _numeric_forms(item: Item, lang: str) -> list[str]:
    key = item.answer
    written = [key.value]
    target = parse_number(key.value)
    if target is None:
        return written
    value, forms = target.value, accepted_forms(key.forms)
    sign = "-" if value < 0 else ""
    size = abs(value)
    if value.denominator == 1:
        written.append(str(value.numerator))
    decimal = _decimal(value)
    if decimal is not None and value.denominator != 1:
        written.append(decimal)
        if decimal_comma(lang):
            written.append(decimal.replace(".", ","))
    if value.denominator != 1:
        written.append(f"{sign}{size.numerator}/{size.denominator}")
        written.append(f"{sign}{size.numerator * 2}/{size.denominator * 2}")  # right value, not simplest
        if size > 1:
            whole, part = divmod(size.numerator, size.denominator)
            written.append(f"{sign}{whole} {part}/{size.denominator}")
    elif "fraction" in forms:
        written.append(f"{value.numerator}/1")
    written += [str(w.value) for w in item.wrong_answers]
    return written


def _short_texts(item: Item, lang: str) -> list[str]:
    written = list(item.answer.pick(lang) or ())
    for wrong in item.wrong_answers:
        value = wrong.value.pick(lang) if isinstance(wrong.value, Localized) else wrong.value
        if value:
            written.append(value)
    return written


def _matchings(item: Item) -> list[dict[str, str]]:
    lefts, rights = [o.id for o in item.left], [o.id for o in item.right]
    if len(rights) < len(lefts) or math.perm(len(rights), len(lefts)) > MAX_ARRANGEMENTS:
        return [dict(item.answer)]
    return [dict(zip(lefts, picked, strict=True)) for picked in itertools.permutations(rights, len(lefts))]


def responses(item: Item, lang: str) -> list[Any]:
    """The responses a table covers, in the shape `grade` takes, the right one among them."""
    if item.type == "single_choice":
        return [c.id for c in item.choices]
    if item.type == "multiple_choice":
        ids = [c.id for c in item.choices]
        if len(ids) > MAX_CHOICES:
            return [[i for i in ids if i in item.correct_choice_ids]] + [[i] for i in ids]
        return [list(chosen) for size in range(1, len(ids) + 1) for chosen in itertools.combinations(ids, size)]
    if item.type == "numeric":
        return _numeric_forms(item, lang)
    if item.type == "short_text":
        return _short_texts(item, lang)
    if item.type == "ordering":
        if math.factorial(len(item.options)) > MAX_ARRANGEMENTS:
            return [list(item.answer)]
        return [list(order) for order in itertools.permutations(o.id for o in item.options)]
    if item.type == "matching":
        return _matchings(item)
    return []


def verdict_table(item: Item, lang: str) -> dict[str, tuple[Any, Grade]]:
    """Key -> (the response, its Grade in `lang`), for the responses `responses` lists. Where two
    responses share a key, the first listed stands for it (their verdicts are the same)."""
    table: dict[str, tuple[Any, Grade]] = {}
    for response in responses(item, lang):
        key = response_key(item, response)
        if key and key not in table:
            table[key] = (response, grade(item, response, lang))
    return table
