"""Reading numbers the way learners write them: 7, 0.75, 3/4, 1 1/2.

Parsing goes through regular expressions and fractions.Fraction only (never eval), so a typed
answer can never run code. Values stay exact: 0.1 + 0.2 really is 3/10 here.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction
from math import gcd

FORMS = ("integer", "decimal", "fraction", "mixed")

_INTEGER = re.compile(r"([+-]?)([0-9]+)")
_DECIMAL = re.compile(r"([+-]?)([0-9]*)\.([0-9]+)")
_FRACTION = re.compile(r"([+-]?)([0-9]+) ?/ ?([0-9]+)")
_MIXED = re.compile(r"([+-]?)([0-9]+) ([0-9]+) ?/ ?([0-9]+)")
_COMMA_DECIMAL = re.compile(r"[+-]?[0-9]*,[0-9]+")
# Languages that write 0.5 (most others write 0,5). Used only to read a decimal comma.
DOT_DECIMAL_LANGUAGES = frozenset({"en", "zh", "ja", "ko", "th", "hi", "he", "ur", "ms", "tl", "sw"})
_MINUS_SIGNS = {"\u2212": "-", "\u2013": "-", "\u2044": "/", "\u2215": "/", "\uff0f": "/"}
MAX_DIGITS = 30  # longer numbers are not answers, they are attempts to make the server slow


@dataclass(frozen=True, slots=True)
class Number:
    """A written number: its exact value, the form it was written in, and if that form is simplest."""

    value: Fraction
    form: str
    simplest: bool


def _ascii_digits(text: str) -> str:
    out = []
    for ch in text:
        if ch.isdigit() and not ("0" <= ch <= "9"):
            d = unicodedata.decimal(ch, None)
            out.append(str(d) if d is not None else ch)
        elif unicodedata.category(ch) == "No" and unicodedata.numeric(ch, 0) % 1:
            out.append(" " + unicodedata.normalize("NFKC", ch))  # "1½" -> "1 1⁄2"
        else:
            out.append(_MINUS_SIGNS.get(ch, ch))
    return "".join(out)


def decimal_comma(lang: str | None) -> bool:
    """Whether a comma in a decimal number is read as the decimal point for this language."""
    return bool(lang and lang.split("-")[0].lower() not in DOT_DECIMAL_LANGUAGES)


def parse_number(text: str, *, comma: bool = False) -> Number | None:
    """Parse one number in integer, decimal, fraction or mixed form; None if it is not one.

    `comma=True` reads "0,75" as 0.75 (for languages that write decimals that way). Thousands
    separators are never accepted, so "1,000" is not read as one thousand by accident.
    """
    text = unicodedata.normalize("NFKC", _ascii_digits(text)).strip()
    text = re.sub(r"\s+", " ", text)
    text = "".join(_MINUS_SIGNS.get(ch, ch) for ch in text)  # NFKC leaves U+2212 and U+2044
    if sum(ch.isdigit() for ch in text) > MAX_DIGITS:
        return None
    if comma and _COMMA_DECIMAL.fullmatch(text):
        text = text.replace(",", ".")
    m = _INTEGER.fullmatch(text)
    if m:
        return Number(Fraction(int(m[2])) * (-1 if m[1] == "-" else 1), "integer", True)
    m = _DECIMAL.fullmatch(text)
    if m:
        return Number(Fraction(text.replace("+", "")), "decimal", True)
    m = _FRACTION.fullmatch(text)
    if m:
        num, den = int(m[2]), int(m[3])
        if den == 0:
            return None
        sign = -1 if m[1] == "-" else 1
        return Number(sign * Fraction(num, den), "fraction", gcd(num, den) == 1)
    m = _MIXED.fullmatch(text)
    if m:
        whole, num, den = int(m[2]), int(m[3]), int(m[4])
        if den == 0 or num == 0:
            return None
        sign = -1 if m[1] == "-" else 1
        return Number(sign * (whole + Fraction(num, den)), "mixed", num < den and gcd(num, den) == 1)
    return None


def exact_in_forms(value: Fraction, forms: tuple[str, ...] | list[str]) -> bool:
    """Whether some accepted form can write `value` exactly (1/3 has no exact decimal)."""
    if value.denominator == 1:
        return True
    if "fraction" in forms or ("mixed" in forms and abs(value) > 1):
        return True
    if "decimal" in forms:
        den = value.denominator
        for p in (2, 5):
            while den % p == 0:
                den //= p
        return den == 1
    return False


def accepted_forms(forms: tuple[str, ...] | list[str] | None) -> frozenset[str]:
    """The written forms an answer may take. A whole number is a decimal too, so decimal admits it."""
    chosen = set(forms or FORMS)
    if "decimal" in chosen:
        chosen.add("integer")
    return frozenset(chosen)
