"""Item templates: deterministic expansion, grading of instances, precise errors, hostile input.

The template under test is testing.make_template_item ("What is {a}/{b} + {c}/{b}?"), added as
item 6 of the fixture pack's first item file. Every bad-template case names the file, JSON
pointer and message fragment it must cause, like test_pack_validate.
"""
from __future__ import annotations

import builtins
import copy
import time
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

import pytest

from content_packs import Catalogue, PackInvalid, grade, load_pack, validate
from content_packs.loader import item_from
from content_packs.template_expansion import expand_item
from content_packs.templates import MAX_TRIES, ExprError, TemplateError, compile_template, parse_expression, parse_text
from content_packs.testing import edit_json, key_response, make_template_item

ITEMS = "items/skill-0000.json"
T = 6  # index of the template in ITEMS
PACK_ID = "org.example.generated"


@pytest.fixture
def tpack(pack_dir: Path) -> Path:
    edit_json(pack_dir / ITEMS, lambda items: items.append(make_template_item("add-like", "skill-0000")))
    return pack_dir


def _values(stem: str) -> tuple[int, int, int]:
    """(a, b, c) back from "What is a/b + c/b?"."""
    left, right = stem.removeprefix("What is ").rstrip("?").split(" + ")
    (a, b), (c, b2) = (map(int, left.split("/")), map(int, right.split("/")))
    assert b == b2
    return a, b, c


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


# ---------------------------------------------------------------------------------------------
# Expansion


def test_expansion_is_deterministic_and_pinned() -> None:
    """The same template and pack id give the same items, here and on any machine (pinned values)."""
    items = expand_item(make_template_item("add-like", "s"), PACK_ID)
    assert items == expand_item(make_template_item("add-like", "s"), PACK_ID)
    assert [i["id"] for i in items] == [f"add-like~{n}" for n in range(1, 13)]
    # Pinned: a change of sampling, seeding or formatting changes published questions; it must
    # be deliberate (and needs new template ids in published packs).
    assert [_values(i["stem"]["en"]) for i in items[:4]] == [(1, 12, 5), (2, 6, 2), (2, 12, 2), (4, 12, 3)]
    assert items[0]["answer"]["value"] == "1/2" and items[0]["wrong_answers"][0]["value"] == "1/4"
    assert items[0]["solution"]["es"] == "1/12 + 5/12 = 6/12 = 1/2"
    assert "template" not in items[0]


def test_instances_meet_where_and_differ() -> None:
    items = expand_item(make_template_item("add-like", "s", instances=40), PACK_ID)
    values = [_values(i["stem"]["en"]) for i in items]
    assert all(a + c < b and 1 <= a <= 9 and b % 2 == 0 and c in (1, 2, 3, 5) for a, b, c in values)
    assert len(set(values)) == 40


def test_a_rare_condition_still_gives_every_possible_item_once() -> None:
    """Draws rarely meet this `where`; listing the combinations finds all five, none repeated."""
    item = make_template_item("rare", "s", instances=5)
    item["template"]["params"]["a"] = {"range": [1, 500]}
    item["template"]["where"] = ["a == 1 and c == 1 and a + c < b"]
    values = [_values(i["stem"]["en"]) for i in expand_item(item, PACK_ID)]
    assert sorted(values) == [(1, b, 1) for b in (4, 6, 8, 10, 12)]


def test_more_instances_keep_the_earlier_ones_and_the_seed_matters() -> None:
    twelve = expand_item(make_template_item("add-like", "s", instances=12), PACK_ID)
    twenty = expand_item(make_template_item("add-like", "s", instances=20), PACK_ID)
    assert twenty[:12] == twelve
    other_pack = expand_item(make_template_item("add-like", "s"), "org.example.other")
    other_id = expand_item(make_template_item("add-like-2", "s"), PACK_ID)
    stems = [i["stem"] for i in twelve]
    assert [i["stem"] for i in other_pack] != stems and [i["stem"] for i in other_id] != stems


def test_loaded_pack_has_the_instances_as_ordinary_items(tpack: Path) -> None:
    report = validate(tpack)
    assert report.ok and not report.problems, report.format()
    pack = load_pack(tpack)
    made = [i for i in pack.items if i.id.startswith("add-like")]
    assert [i.id for i in made] == [f"add-like~{n}" for n in range(1, 13)]
    assert made == [item_from(x) for x in expand_item(make_template_item("add-like", "skill-0000"), PACK_ID)]
    catalogue = Catalogue([pack])
    assert catalogue.item(PACK_ID, "add-like~3") == made[2]
    assert len(catalogue.items_for(PACK_ID, "skill-0000")) == 6 + 12


def test_instances_grade_correctly_with_their_keys(tpack: Path) -> None:
    pack = load_pack(tpack)
    made = [i for i in pack.items if "~" in i.id]
    assert made
    for item in made:
        a, b, c = _values(item.stem["en"])
        assert item.answer.value == str(Fraction(a + c, b)).replace(" ", "")
        for lang in pack.languages:
            assert grade(item, key_response(item, lang), lang).correct, (item.id, lang)
        wrong = grade(item, f"{a + c}/{b + b}", "en")  # added the denominators too
        assert not wrong.correct and wrong.feedback == f"Add only the numerators: the denominator stays {b}."
        other = Fraction(a + c + 1, b)
        assert not grade(item, f"{other.numerator}/{other.denominator}", "en").correct


def test_every_item_type_can_be_a_template() -> None:
    base = {"skill": "s", "stem": {"en": "Order {a}, {b} and {c}."}, "hints": [{"en": "Smallest first."}],
            "solution": {"en": "{min(a, b, c)}, then the others."},
            "template": {"params": {"a": {"range": [1, 3]}, "b": {"range": [4, 6]}, "c": {"range": [7, 9]}},
                         "instances": 3}}
    cases = [
        {"type": "single_choice", "choices": [
            {"id": "x", "text": {"en": "{a + b}"}, "correct": True},
            {"id": "y", "text": {"en": "{a * b}"}, "correct": False, "feedback": {"en": "{a}×{b} is a product."}}]},
        {"type": "multiple_choice", "choices": [
            {"id": "x", "text": {"en": "{a} < {b}"}, "correct": True},
            {"id": "y", "text": {"en": "{c} < {a}"}, "correct": False, "feedback": {"en": "{c} is bigger."}}]},
        {"type": "short_text", "answer": {"accepted": {"en": ["{a + b + c}"]}},
         "wrong_answers": [{"value": {"en": "{a * b * c}"}, "feedback": {"en": "Add, do not multiply."}}]},
        {"type": "ordering", "options": [{"id": "p", "text": {"en": "{a}"}}, {"id": "q", "text": {"en": "{b}"}}],
         "answer": ["p", "q"]},
        {"type": "matching", "left": [{"id": "l", "text": {"en": "{a}/{b}"}}],
         "right": [{"id": "r", "text": {"en": "{decimal(frac(a, b), 2)}"}}], "answer": {"l": "r"}},
    ]
    for n, extra in enumerate(cases):
        template = {**copy.deepcopy(base), "id": f"t{n}", **extra}
        for data in expand_item(template, PACK_ID):
            item = item_from(data)
            assert not [s for s in _strings(data) if "{" in s or "}" in s], data
            assert grade(item, key_response(item, "en"), "en").correct, data


def test_values_are_written_exactly_and_decimals_follow_the_language() -> None:
    item = {"id": "t", "skill": "s", "type": "numeric",
            "template": {"params": {"a": {"choice": [3]}, "b": {"value": "frac(a, 4)"}}, "instances": 1},
            "stem": {"en": "{b} {mixed(b + 1)} {decimal(b)} {decimal(frac(1, 3), 2)} {0.1 + 0.2} {-b}",
                     "es": "{decimal(b)} {decimal(b + 2)}"},
            "hints": [{"en": "h", "es": "h"}], "solution": {"en": "s", "es": "s"},
            "answer": {"value": "{decimal(b)}"}}
    (data,) = expand_item(item, PACK_ID)
    assert data["stem"] == {"en": "3/4 1 3/4 0.75 0.33 3/10 -3/4", "es": "0,75 2,75"}
    assert data["answer"]["value"] == "0.75"  # answer values always use a point


# ---------------------------------------------------------------------------------------------
# Bad templates: each names its precise problem


def tmpl(change: Callable[[dict], Any]) -> Callable[[Path], None]:
    return lambda root: edit_json(root / ITEMS, lambda items: change(items[T]))


def _set(path: list, value: Any) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        for key in path[:-1]:
            data = data[key]
        data[path[-1]] = value
    return change


def _param(name: str, spec: Any) -> Callable[[dict], None]:
    return _set(["template", "params", name], spec)


P = f"/{T}"
CASES = {
    # name: (change to the template, severity, where, message fragment)
    "syntax-error": (_set(["stem", "en"], "What is {a +* b}?"), "error", f"{P}/stem/en",
                     "bad placeholder at character 13: {a +* b}: unexpected '*'"),
    "unknown-parameter": (_set(["hints", 0, "es"], "Mira {d}."), "error", f"{P}/hints/0/es",
                          "unknown parameter d in {d} (parameters: a, b, c)"),
    "unknown-function": (_set(["solution", "en"], "{pow(a, 2)}"), "error", f"{P}/solution/en",
                         "unknown function 'pow'"),
    "bad-where-expression": (_set(["template", "where"], ["a <> b"]), "error", f"{P}/template/where/0",
                             "bad expression 'a <> b' at character 4: unexpected '>'"),
    "unknown-name-in-where": (_set(["template", "where"], ["a < z"]), "error", f"{P}/template/where/0",
                              "unknown parameter z in 'a < z'"),
    "where-not-a-condition": (_set(["template", "where"], ["a + c"]), "error", f"{P}/template/where/0",
                              "instance add-like~1 (a=1, b=12, c=5): 'a + c': where needs conditions such as a < b"),
    "where-never-met": (_set(["template", "where"], ["a > 9"]), "error", f"{P}/template/where",
                        "no values satisfy where (none of the 216 combinations of values does)"),
    "where-never-met-large": (lambda t: (_param("a", {"range": [1, 100000]})(t),
                                         _set(["template", "where"], ["a > 100000"])(t)), "error",
                              f"{P}/template/where",
                              f"no values meeting where found in {MAX_TRIES} draws for add-like~1"),
    "empty-range": (_param("a", {"range": [9, 1]}), "error", f"{P}/template/params/a/range",
                    "empty range: 9 is greater than 1"),
    "range-out-of-bounds": (_param("a", {"range": [1, 10 ** 12]}), "error", f"{P}/template/params/a/range/1",
                            "range bounds must be numbers from -1000000 to 1000000"),
    "range-too-many-values": (_param("a", {"range": [0, 1000], "step": 0.0001}), "error",
                              f"{P}/template/params/a/range", "range too large: 10000001 values"),
    "range-not-a-pair": (_param("a", {"range": [1]}), "error", f"{P}/template/params/a/range",
                         "range must be [lowest, highest]"),
    "zero-step": (_param("b", {"range": [2, 12], "step": 0}), "error", f"{P}/template/params/b/step",
                  "step must be a positive number"),
    "two-kinds": (_param("c", {"range": [1, 2], "choice": [1, 2]}), "error", f"{P}/template/params/c",
                  "needs exactly one of range, choice or value (found range, choice)"),
    "step-without-range": (_param("c", {"choice": [1, 2], "step": 2}), "error", f"{P}/template/params/c/step",
                           "step goes only with range"),
    "empty-choice": (_param("c", {"choice": []}), "error", f"{P}/template/params/c/choice",
                     "choice must list 1 to 100"),
    "choice-with-braces": (_param("c", {"choice": [1, "{a}"]}), "error", f"{P}/template/params/c/choice/1",
                           "without braces"),
    "value-uses-later-param": (_param("a", {"value": "b + 1"}), "error", f"{P}/template/params/a/value",
                               "unknown parameter b in 'b + 1' (parameters: none)"),
    "bad-param-name": (lambda t: t["template"]["params"].update({"Big": {"range": [1, 2]}}), "error",
                       f"{P}/template/params/Big", "cannot be a parameter name"),
    "function-as-param-name": (lambda t: t["template"]["params"].update({"gcd": {"range": [1, 2]}}), "error",
                               f"{P}/template/params/gcd", "cannot be a parameter name"),
    "no-params": (_set(["template", "params"], {}), "error", f"{P}/template/params", "params must be an object"),
    "zero-instances": (_set(["template", "instances"], 0), "error", f"{P}/template/instances",
                       "instances must be a whole number from 1 to 100"),
    "too-many-instances": (_set(["template", "instances"], 10 ** 6), "error", f"{P}/template/instances",
                           "instances must be a whole number from 1 to 100"),
    "unknown-template-field": (_set(["template", "count"], 3), "warning", f"{P}/template/count",
                               "unknown field 'count'"),
    "unused-param": (_param("d", {"range": [1, 2]}), "warning", f"{P}/template/params/d",
                     "parameter 'd' is never used"),
    "unclosed-placeholder": (_set(["stem", "es"], "¿Cuánto es {a/{b}?"), "error", f"{P}/stem/es",
                             "bad placeholder at character 15: placeholders cannot be nested"),
    "never-closed": (_set(["stem", "en"], "What is {a"), "error", f"{P}/stem/en",
                     "bad placeholder at character 9: placeholder '{' is never closed"),
    "stray-close-brace": (_set(["hints", 0, "en"], "Add } the numerators."), "error", f"{P}/hints/0/en",
                          "bad placeholder at character 5: '}' without a matching '{'"),
    "placeholder-in-id": (_set(["id"], "add-{a}"), "error", f"{P}/id", "id must use only"),
    "answer-not-a-number": (_set(["answer", "value"], "{a + c} parts"), "error", f"{P}/answer/value",
                            "instance add-like~1 (a=1, b=12, c=5): '6 parts' is not a number"),
    "wrong-equals-right": (_set(["wrong_answers", 0, "value"], "{frac(2 * (a + c), 2 * b)}"), "error",
                           f"{P}/wrong_answers/0/value",
                           "instance add-like~1 (a=1, b=12, c=5): wrong answer '1/2' equals the correct "
                           "answer (and in 11 more instances)"),
    "wrong-equals-right-sometimes": (_set(["wrong_answers", 0, "value"], "{frac(1, 2)}"), "error",
                                     f"{P}/wrong_answers/0/value", "instance add-like~1 (a=1, b=12, c=5): wrong "
                                     "answer '1/2' equals the correct answer (and in 1 more instance)"),
    "not-simplest-instance": (_set(["answer"], {"value": "{a + c}/{b}", "simplest": True}), "error",
                              f"{P}/answer/value", "instance add-like~1 (a=1, b=12, c=5): '6/12' is not in "
                              "simplest form"),
    "no-exact-form-instance": (_set(["answer", "forms"], ["decimal"]), "error", f"{P}/answer/forms",
                               "instance add-like~2 (a=2, b=6, c=2): no accepted form can write 2/3 exactly"),
    "division-by-zero": (_set(["answer", "value"], "{frac(a, b - b)}"), "error", f"{P}/answer/value",
                         "instance add-like~1 (a=1, b=12, c=5): {frac(a, b - b)}: division by zero in frac()"),
    "division-by-zero-in-value": (_param("d", {"value": "a // (b - b)"}), "error", f"{P}/template/params/d/value",
                                  "parameter 'd': division by zero ('//')"),
    "text-in-arithmetic": (lambda t: (_param("c", {"choice": ["one", "two"]})(t),
                                      _set(["template", "where"], [])(t)), "error", f"{P}/solution/en",
                           "(a=1, b=12, c=two): {a + c}: '+' needs a number, not text"),
    "condition-into-text": (_set(["solution", "en"], "{a < b}"), "error", f"{P}/solution/en",
                            "a condition (true/false) cannot be written into text"),
    "result-too-large": (_set(["solution", "en"], "{b ** 40}"), "error", f"{P}/solution/en",
                         "result too large (more than 30 digits)"),
    "missing-language": (_set(["stem"], {"en": "What is {a}/{b}?"}), "error", f"{P}/stem",
                         "missing language es"),
    "media-from-placeholder": (_set(["stem", "en"], "![bar](media/bar{a}.svg)"), "error", f"{P}/stem/en",
                               "instance add-like~1 (a=1, b=12, c=5): image 'media/bar1.svg' not found"),
    "repeats": (lambda t: (_set(["template", "params"], {"a": {"range": [1, 2]}, "b": {"choice": [4]},
                                                         "c": {"choice": [1]}})(t),
                           _set(["template", "instances"], 5)(t)), "warning", f"{P}/template/instances",
                "3 of 5 instances repeat others"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_template_reports_its_problem(tpack: Path, name: str) -> None:
    change, severity, where, fragment = CASES[name]
    tmpl(change)(tpack)
    report = validate(tpack)
    hits = [p for p in report if p.file == ITEMS and p.where == where and fragment in p.message]
    assert hits, f"expected {ITEMS}:{where}: {fragment}\ngot:\n{report.format()}"
    assert hits[0].severity == severity
    assert report.ok == (severity == "warning"), report.format()
    if severity == "error":
        with pytest.raises(PackInvalid):
            load_pack(tpack)


def test_text_in_arithmetic_names_the_problem() -> None:
    item = make_template_item("t", "s")
    item["template"] = {"params": {"a": {"choice": ["one"]}, "b": {"range": [2, 3]}, "c": {"range": [1, 1]}},
                        "instances": 1}
    with pytest.raises(TemplateError) as caught:
        expand_item(item, PACK_ID)
    assert caught.value.where == "/solution/en"
    assert caught.value.message.endswith("{a + c}: '+' needs a number, not text")


def test_every_problem_of_a_template_is_reported_at_once(tpack: Path) -> None:
    for name in ("syntax-error", "unknown-function", "empty-range", "bad-where-expression"):
        tmpl(CASES[name][0])(tpack)
    report = validate(tpack)
    wheres = {p.where for p in report.errors}
    assert {f"{P}/stem/en", f"{P}/solution/en", f"{P}/template/params/a/range",
            f"{P}/template/where/0"} <= wheres, report.format()


def test_loading_without_checking_still_refuses_a_bad_template(tpack: Path) -> None:
    tmpl(_set(["template", "where"], ["a > 9"]))(tpack)
    with pytest.raises(PackInvalid) as caught:
        load_pack(tpack, check=False)
    assert caught.value.report.errors[0].where == f"{P}/template/where"


def test_placeholder_in_an_ordinary_item_warns(pack_dir: Path) -> None:
    edit_json(pack_dir / ITEMS, lambda items: items[0]["stem"].update(en="What is {a}/{b}?"))
    report = validate(pack_dir)
    assert report.ok
    assert [(p.where, p.severity) for p in report if "looks like a template placeholder" in p.message] == [
        ("/0/stem/en", "warning")], report.format()


# ---------------------------------------------------------------------------------------------
# Hostile expressions: refused by the parser or stopped by limits, never run


def _refusal(source: str, env: dict | None = None) -> str:
    """The message refusing `source` (parse or evaluation); fails the test if it was accepted."""
    try:
        expr = parse_expression(source)
        value = expr.evaluate(env if env is not None else {"a": Fraction(2), "b": Fraction(3)})
    except ExprError as exc:
        return exc.message
    pytest.fail(f"{source!r} was accepted and gave {value!r}")


HOSTILE = [
    ("__import__('os').system('touch CANARY')", "names starting with '_' are not allowed"),
    ("a.__class__", "'.' (attribute access) is not allowed"),
    ("a.real", "'.' (attribute access) is not allowed"),
    ("(lambda: 1)()", "'lambda' is not allowed"),
    ("[x for x in (1, 2)]", "indexing and lists are not allowed"),
    ("(x for x in (1, 2))", "'for' is not allowed"),
    ("a if a else b", "'if' is not allowed"),
    ("open('/etc/passwd')", "'open' is not allowed"),
    ("eval('1')", "'eval' is not allowed"),
    ("getattr(a, 'real')", "unknown function 'getattr'"),
    ("globals()", "unknown function 'globals'"),
    ("'x' * 1000000000", "text in quotes is not allowed"),
    ("a; b", "one expression only"),
    ("a := 1", "':' is not allowed"),
    ("9**9**9", "exponent too large"),
    ("2**64**2", "exponent too large"),
    ("10**20 * 10**20", "result too large"),
    ("7**40", "result too large"),
    ("frac(1, 10**20) ** 2", "result too large"),
    ("lcm(99999989, 99999971, 99999959, 99999941)", "result too large"),
    ("9" * 31, "number too long"),
    ("a" + " + a" * 60, "expression too long"),
    ("(" * 25 + "1" + ")" * 25, "nested too deeply"),
    ("-" * 30 + "1", "nested too deeply"),
    ("abs(" * 25 + "1" + ")" * 25, "nested too deeply"),
    ("2" + "**2" * 25, "nested too deeply"),
    ("1/0", "division by zero"),
    ("a % 0", "division by zero"),
    ("0 ** -1", "division by zero"),
    ("2 ** frac(1, 2)", "whole number"),
    ("min(" + ",".join("1" * 9) + ")", "at most 8 arguments"),
]


@pytest.mark.parametrize("source, fragment", HOSTILE, ids=[h[0][:30] for h in HOSTILE])
def test_hostile_expression_is_refused(source: str, fragment: str) -> None:
    assert fragment in _refusal(source)


def test_nothing_is_ever_executed(tpack: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Expansion and checking never reach eval, exec or compile, and a payload cannot run."""
    canary = tmp_path / "CANARY"
    calls: list[str] = []
    # The pack schema's validators are compiled (fastjsonschema: exec) once, when first used: here
    # before the watch begins, so the test does not depend on what ran before it in this process.
    validate(tpack)
    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, lambda *a, _n=name, **k: calls.append(_n))
    payload = f"{{__import__('os').system('touch {canary}')}}"
    tmpl(_set(["stem", "en"], payload))(tpack)
    edit_json(tpack / ITEMS, lambda items: items.append(make_template_item("add-like-ok", "skill-0000")))
    report = validate(tpack)
    assert any(p.where == f"{P}/stem/en" and "not allowed" in p.message for p in report.errors), report.format()
    assert len(expand_item(make_template_item("t", "s"), PACK_ID)) == 12
    for source, _ in HOSTILE:
        _refusal(source)
    assert calls == [] and not canary.exists()


def test_hostile_input_is_refused_quickly() -> None:
    started = time.perf_counter()
    for source, _ in HOSTILE:
        _refusal(source)
    with pytest.raises(ExprError):
        parse_text("{" + "(" * 10_000 + "}")
    with pytest.raises(ExprError):
        parse_text("x" * 100_000 + "{a.b}")
    slow = make_template_item("t", "s", instances=100)
    slow["template"]["where"] = ["a == 1 and c == 1 and b == 12"]  # one set of values: 99 repeats
    _, problems = compile_template(slow)
    assert not problems
    assert len(expand_item(slow, PACK_ID)) == 100
    assert time.perf_counter() - started < 20  # milliseconds normally: this catches a blow-up, on any machine


def test_huge_ranges_and_values_are_refused(tpack: Path) -> None:
    for spec, fragment in [({"range": [0, 1e308]}, "range bounds"), ({"range": [-1e400, 1]}, "range bounds"),
                           ({"range": [0, 1], "step": 1e-300}, "step must be a positive number"),
                           ({"range": [0, 10 ** 6], "step": 0.5}, "range too large"),
                           ({"choice": [10 ** 40]}, "a choice must be text or a number"),
                           ({"range": [True, 3]}, "range bounds")]:
        item = make_template_item("t", "s")
        item["template"]["params"]["a"] = spec
        template, problems = compile_template(item)
        assert template is None and any(fragment in m for _, _, m in problems), (spec, problems)
