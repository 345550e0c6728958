"""grade() and parse_response() for every item type, good and bad answers, malformed responses."""
from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from content_packs import BadResponse, Grade, grade, normalize_text, parse_number, parse_response
from content_packs.loader import item_from
from content_packs.testing import make_item


def item(kind: str, n: int = 2, **changes):
    data = make_item("i-1", "s", kind, n)  # n=2: the shaded fraction is 3/4
    data.update(changes)
    return item_from(data)


SINGLE, MULTI, NUMERIC, SHORT, ORDER, MATCH = (item(k) for k in (
    "single_choice", "multiple_choice", "numeric", "short_text", "ordering", "matching"))


def test_single_choice() -> None:
    assert grade(SINGLE, "a", "en") == Grade(True, None, "a")
    wrong = grade(SINGLE, "b", "es")
    assert not wrong.correct and wrong.matched == "b" and wrong.feedback.startswith("Así cuentas")


def test_multiple_choice() -> None:
    assert grade(MULTI, ["c", "a"], "en").correct
    assert grade(MULTI, {"a", "c"}, "en").correct
    wrong = grade(MULTI, ["a", "b", "c"], "en")
    assert not wrong.correct and wrong.matched == "b" and "unshaded" in wrong.feedback
    assert grade(MULTI, ["a"], "en") == Grade(False, None, None, "incomplete")


@pytest.mark.parametrize("answer, correct, reason", [
    ("3/4", True, None), ("6/8", True, None), (" 3 / 4 ", True, None), ("0.75", True, None),
    (".75", True, None), ("0.750", True, None), ("0.7", False, None), ("3/5", False, None),
    ("0 3/4", False, "form"), ("1 1/2", False, None), ("three quarters", False, "unreadable"), ("", False, "unreadable"),
    ("3/0", False, "unreadable"), ("__import__('os')", False, "unreadable"), ("9" * 400, False, "unreadable"),
])
def test_numeric(answer: str, correct: bool, reason: str | None) -> None:
    result = grade(NUMERIC, answer, "en")
    assert (result.correct, result.reason) == (correct, reason)


def test_numeric_wrong_answer_feedback_matches_by_text_then_value() -> None:
    assert grade(NUMERIC, "4/3", "en").matched == "4/3"
    assert "unshaded" in grade(NUMERIC, "8/6", "en").feedback  # same value as the known wrong answer


def test_numeric_simplest_forms_and_tolerance() -> None:
    simplest = item("numeric", answer={"value": "3/2", "forms": ["fraction", "mixed"], "simplest": True},
                    wrong_answers=[{"value": "6/4", "feedback": {"en": "Simplify.", "es": "Simplifica."}}])
    assert grade(simplest, "3/2", "en").correct and grade(simplest, "1 1/2", "en").correct
    assert grade(simplest, "1½", "en").correct
    assert grade(simplest, "6/4", "en") == Grade(False, "Simplify.", "6/4", "not_simplest")
    assert grade(simplest, "1.5", "en").reason == "form"
    approx = item("numeric", answer={"value": "3.14", "tolerance": 0.01, "forms": ["decimal"]})
    assert grade(approx, "3.15", "en").correct and not grade(approx, "3.16", "en").correct
    whole = item("numeric", answer={"value": "7", "forms": ["decimal"]})
    assert grade(whole, "7", "en").correct and grade(whole, "7.0", "en").correct


def test_numeric_decimal_comma_depends_on_language() -> None:
    assert grade(NUMERIC, "0,75", "es").correct
    assert grade(NUMERIC, "0,75", "en").reason == "unreadable"


def test_short_text_normalises() -> None:
    for said in ("one half", "  One   HALF. ", "a half!", "ONE HALF"):
        assert grade(SHORT, said, "en").correct, said
    assert grade(SHORT, "¡La mitad!", "es").correct
    assert grade(SHORT, "la mitad", "en") == Grade(False, None, None)
    wrong = grade(SHORT, "Two", "en")
    assert not wrong.correct and wrong.matched == "two" and wrong.feedback


def test_normalize_text_unicode() -> None:
    assert normalize_text("Cafe\u0301") == normalize_text("CAFÉ") == "café"
    assert normalize_text("STRASSE") == normalize_text("straße")
    assert normalize_text("¿Qué?  ") == "qué"


def test_ordering() -> None:
    assert grade(ORDER, ["p", "q", "r"], "en").correct
    wrong = grade(ORDER, ("q", "p", "r"), "es")
    assert not wrong.correct and wrong.feedback.startswith("Mismo")


def test_matching() -> None:
    assert grade(MATCH, {"l1": "r1", "l2": "r2"}, "en").correct
    assert grade(MATCH, {"l1": "r2", "l2": "r1"}, "en").feedback == "Divide the top by the bottom."


@pytest.mark.parametrize("target, response", [
    (SINGLE, ["a"]), (SINGLE, "z"), (SINGLE, None), (MULTI, "a"), (MULTI, ["a", 3]), (MULTI, ["zz"]),
    (NUMERIC, 0.75), (NUMERIC, ["3/4"]), (SHORT, {"en": "x"}), (SHORT, "x" * 5000),
    (ORDER, ["p", "q"]), (ORDER, ["p", "p", "q"]), (ORDER, "pqr"),
    (MATCH, {"l1": "r1"}), (MATCH, {"l1": "r1", "l2": "nope"}), (MATCH, [("l1", "r1")]),
])
def test_malformed_responses_raise_bad_response(target, response) -> None:
    with pytest.raises(BadResponse):
        grade(target, response, "en")


def test_parse_response_from_plain_html_forms() -> None:
    assert parse_response(SINGLE, {"answer": "b"}) == "b"
    assert parse_response(MULTI, {"answer": ["a", "c"]}) == ["a", "c"]
    assert parse_response(NUMERIC, {"answer": "3/4"}) == "3/4"
    assert parse_response(ORDER, {"answer": ["r", "p", "q"]}) == ["r", "p", "q"]
    assert parse_response(ORDER, {"rank.p": "2", "rank.q": "3", "rank.r": "1"}) == ["r", "p", "q"]
    assert parse_response(MATCH, {"match.l1": "r2", "match.l2": "r1"}) == {"l1": "r2", "l2": "r1"}

    class MultiDict(dict):
        def getlist(self, name):
            return self.get(name, [])
    assert parse_response(MULTI, MultiDict(answer=["a"])) == ["a"]
    for target, form in [(NUMERIC, {}), (NUMERIC, {"answer": "  "}), (SINGLE, {"answer": ["a", "b"]}),
                         (MULTI, {}), (ORDER, {"rank.p": "1", "rank.q": "1", "rank.r": "2"}),
                         (ORDER, {"rank.p": "x"}), (MATCH, {"match.l1": "r1"}), (SHORT, {"answer": 3})]:
        with pytest.raises(BadResponse):
            parse_response(target, form)


fractions_ = st.fractions(min_value=-50, max_value=50, max_denominator=60)


@settings(max_examples=200, deadline=None)
@given(value=fractions_, k=st.integers(min_value=1, max_value=12))
def test_any_equivalent_fraction_is_accepted(value: Fraction, k: int) -> None:
    target = item("numeric", answer={"value": f"{value.numerator}/{value.denominator}", "forms": ["fraction"]})
    written = f"{value.numerator * k}/{value.denominator * k}"
    assert grade(target, written, "en").correct


@settings(max_examples=200, deadline=None)
@given(value=fractions_, k=st.integers(min_value=2, max_value=12))
def test_simplest_rejects_unreduced_and_accepts_reduced(value: Fraction, k: int) -> None:
    target = item("numeric", answer={"value": f"{value.numerator}/{value.denominator}", "simplest": True,
                                     "forms": ["fraction"]})
    assert grade(target, f"{value.numerator}/{value.denominator}", "en").correct
    if value.numerator:
        assert grade(target, f"{value.numerator * k}/{value.denominator * k}", "en").reason == "not_simplest"


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_parse_number_never_crashes_and_round_trips(text: str) -> None:
    number = parse_number(text)
    if number is not None:
        assert parse_number(str(number.value)).value == number.value


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_grading_any_text_never_crashes(text: str) -> None:
    for target in (NUMERIC, SHORT):
        assert isinstance(grade(target, text, "en"), Grade)
