"""Verdict tables (#19): the pack's own grading worked out ahead, for feedback without Wi-Fi.

Every entry of every table, for every item of the packs that ship with the server and each of
their languages, must be exactly what `grade` says of the response it stands for, and the
right answer must be in each table as right."""
from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from content_packs import grade, load_pack
from content_packs.testing import key_response
from content_packs.verdicts import _WHITE, MAX_ARRANGEMENTS, MAX_CHOICES, light_key, response_key, verdict_table

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "content_packs" / "library"
PACKS = {p.parent.name: load_pack(p.parent, check=False) for p in sorted(LIBRARY.glob("*/pack.json"))}
CASES = [(name, lang) for name, pack in PACKS.items() for lang in pack.languages]


def test_both_bundled_packs_are_covered():
    assert {"fractions", "numbers"} <= set(PACKS)


@pytest.mark.parametrize(("pack_name", "lang"), CASES)
def test_every_entry_is_the_graders_verdict_and_the_right_answer_is_in_as_right(pack_name, lang):
    for item in PACKS[pack_name].items:
        table = verdict_table(item, lang)
        assert table, item.id
        for key, (response, verdict) in table.items():
            assert response_key(item, response) == key, (item.id, key)
            assert grade(item, response, lang) == verdict, (item.id, key)
            if item.type in ("numeric", "short_text"):  # the browser finds the entry by the key as typed
                typed = grade(item, key, lang)
                assert (typed.correct, typed.feedback, typed.reason) == \
                    (verdict.correct, verdict.feedback, verdict.reason), (item.id, key)
        right = response_key(item, key_response(item, lang))
        assert right in table and table[right][1].correct, (item.id, lang, right)


@pytest.mark.parametrize(("pack_name", "lang"), CASES)
def test_tables_hold_every_answer_a_small_item_can_get_and_every_listed_mistake(pack_name, lang):
    for item in PACKS[pack_name].items:
        table = verdict_table(item, lang)
        if item.type == "single_choice":
            assert set(table) == {c.id for c in item.choices}
        elif item.type == "multiple_choice" and len(item.choices) <= MAX_CHOICES:
            assert len(table) == 2 ** len(item.choices) - 1, item.id
        elif item.type == "ordering" and math.factorial(len(item.options)) <= MAX_ARRANGEMENTS:
            assert len(table) == math.factorial(len(item.options)), item.id
        elif item.type == "matching":
            assert len(table) == math.perm(len(item.right), len(item.left)), item.id
        elif item.type in ("numeric", "short_text"):
            for wrong in item.wrong_answers:
                value = wrong.value if isinstance(wrong.value, str) else wrong.value.pick(lang)
                entry = table[light_key(value)]
                assert not entry[1].correct, (item.id, value)


def test_a_typed_answers_key_is_light():
    assert light_key("  Un\u00a0 Demi \t") == "un demi"
    assert light_key("E\u0301te") == "\u00e9te", "NFC, so a typed accent finds its entry"
    assert light_key("3/4") == "3/4" and light_key(" 1  1/2 ") == "1 1/2"


def test_practice_js_builds_the_key_as_the_table_does():
    """The browser's lightKey uses the same white space and the same steps (static/practice.js)."""
    source = (ROOT / "classroom_server" / "static" / "practice.js").read_text(encoding="utf-8")
    body = re.search(r"function lightKey\(text\) \{(.*?)\n  \}", source, re.S).group(1)
    assert "normalize('NFC')" in body and ".toLowerCase()" in body and "replace(/^ | $/g, '')" in body
    js_class = re.search(r"replace\(/\[([^\]]+)\]\+/g, ' '\)", body).group(1)
    written = re.findall(r"\\u[0-9a-f]{4}|\\[a-z]| ", js_class)
    assert "".join(written) == js_class, "only escapes and spaces in the class"
    assert {w.encode().decode("unicode_escape") for w in written} == set(_WHITE.pattern[1:-2])
