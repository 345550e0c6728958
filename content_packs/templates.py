"""Item templates: parametric items expanded into ordinary items when a pack is loaded.

A template is an item with a "template" field: parameters drawn from ranges or lists, conditions
they must meet ("where"), and a number of instances. Text and answer fields hold placeholders
such as "{a}" or "{frac(a + c, b)}". Loading expands each template into `instances` concrete
items with ids "<template id>~1", "~2", ..., so grading, the catalogue and the hub only ever see
ordinary items.

Expressions are the small, safe language of expressions.py; nothing in a pack is ever handed to
eval, exec, compile or Python's parser.

This module checks a template item and compiles it (compile_template); template_expansion.py
expands a compiled template into its instances.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .expressions import (  # noqa: F401  (re-exported: part of this module's API)
    _LANG,
    _RESERVED,
    FUNCTIONS,
    MAX_CHOICE_TEXT,
    MAX_CHOICES,
    MAX_ENUMERATE,
    MAX_INSTANCES,
    MAX_PARAM_VALUE,
    MAX_PARAMS,
    MAX_PLACEHOLDERS,
    MAX_RANGE_VALUES,
    MAX_TRIES,
    MAX_WHERE,
    PARAM_NAME,
    Expr,
    ExprError,
    TemplateError,
    Text,
    format_value,
    parse_expression,
    parse_text,
    stray_placeholders,
)

# ---------------------------------------------------------------------------------------------
# Templates


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    values: tuple[Any, ...] | None = None   # a choice list
    low: Fraction | None = None             # a range: low, low + step, ... (count values)
    step: Fraction | None = None
    count: int = 0
    expr: Expr | None = None                # a value computed from earlier parameters

    def draw(self, rng: random.Random) -> Any:
        """A random value of a range or choice parameter (uses rng.random() only: stable)."""
        if self.values is not None:
            return self.values[min(int(rng.random() * len(self.values)), len(self.values) - 1)]
        return self.nth(min(int(rng.random() * self.count), self.count - 1))

    def nth(self, k: int) -> Fraction:
        """The k-th value (from 0) of a range parameter."""
        assert self.low is not None and self.step is not None, "a range parameter has low and step"
        return self.low + self.step * k


@dataclass(slots=True)
class Template:
    """A checked template: parameters, conditions and the item with its placeholders parsed."""
    id: str
    params: tuple[Param, ...]
    where: tuple[tuple[str, Expr], ...]   # (pointer, expression)
    instances: int
    body: Any                              # the item without "template"; strings with placeholders are Text
    texts: list[tuple[str, Text]] = field(default_factory=list)  # (pointer, text) of each text with placeholders



def _pointer_part(part: Any) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def _finite_number(value: Any) -> Fraction | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


class _Compiler:
    """Reads a template item, collecting every problem as (severity, pointer, message)."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str, str]] = []
        self.placeholders = 0

    def error(self, pointer: str, message: str) -> None:
        self.problems.append(("error", pointer, message))

    def expression(self, source: Any, pointer: str, known: set[str]) -> Expr | None:
        if not isinstance(source, str):
            return None  # the schema has reported it
        try:
            expr = parse_expression(source)
        except ExprError as exc:
            self.error(pointer, f"bad expression '{source}' at character {exc.offset + 1}: {exc.message}")
            return None
        unknown = sorted(expr.names - known)
        if unknown:
            self.error(pointer, f"unknown parameter{'s' * (len(unknown) > 1)} {', '.join(unknown)} in "
                       f"'{source}' (parameters: {', '.join(sorted(known)) or 'none'})")
            return None
        return expr

    def param(self, name: str, spec: Any, pointer: str, known: set[str]) -> Param | None:
        if not isinstance(spec, dict):
            return None
        kinds = [k for k in ("range", "choice", "value") if k in spec]
        if len(kinds) != 1:
            self.error(pointer, f"parameter '{name}' needs exactly one of range, choice or value"
                       + (f" (found {', '.join(kinds)})" if kinds else ""))
            return None
        if "step" in spec and kinds != ["range"]:
            self.error(f"{pointer}/step", "step goes only with range")
            return None
        if kinds == ["value"]:
            expr = self.expression(spec["value"], f"{pointer}/value", known)
            return Param(name, expr=expr) if expr else None
        if kinds == ["choice"]:
            return self.choice(name, spec["choice"], f"{pointer}/choice")
        return self.range(name, spec, pointer)

    def choice(self, name: str, values: Any, pointer: str) -> Param | None:
        if not isinstance(values, list) or not values or len(values) > MAX_CHOICES:
            self.error(pointer, f"choice must list 1 to {MAX_CHOICES} values")
            return None
        out: list[Any] = []
        for i, value in enumerate(values):
            number = _finite_number(value)
            if isinstance(value, str):
                if not value or len(value) > MAX_CHOICE_TEXT or "{" in value or "}" in value:
                    self.error(f"{pointer}/{i}", f"a text choice must be 1 to {MAX_CHOICE_TEXT} characters "
                               "without braces")
                    return None
                out.append(value)
            elif number is None or abs(number) > MAX_PARAM_VALUE or number.denominator > MAX_PARAM_VALUE:
                self.error(f"{pointer}/{i}", f"a choice must be text or a number from -{MAX_PARAM_VALUE} "
                           f"to {MAX_PARAM_VALUE} with at most 6 decimal places")
                return None
            else:
                out.append(number)
        return Param(name, values=tuple(out))

    def range(self, name: str, spec: dict, pointer: str) -> Param | None:
        bounds = spec["range"]
        if not isinstance(bounds, list) or len(bounds) != 2:
            self.error(f"{pointer}/range", "range must be [lowest, highest]")
            return None
        low, high = (_finite_number(b) for b in bounds)
        step = _finite_number(spec.get("step", 1))
        for i, value in enumerate((low, high)):
            if value is None or abs(value) > MAX_PARAM_VALUE or value.denominator > MAX_PARAM_VALUE:
                self.error(f"{pointer}/range/{i}", f"range bounds must be numbers from -{MAX_PARAM_VALUE} to "
                           f"{MAX_PARAM_VALUE} with at most 6 decimal places")
                return None
        assert low is not None and high is not None  # checked just above
        if step is None or step <= 0 or step.denominator > MAX_PARAM_VALUE:
            self.error(f"{pointer}/step", "step must be a positive number with at most 6 decimal places")
            return None
        if low > high:
            self.error(f"{pointer}/range", f"empty range: {format_value(low)} is greater than {format_value(high)}")
            return None
        count = math.floor((high - low) / step) + 1
        if count > MAX_RANGE_VALUES:
            self.error(f"{pointer}/range", f"range too large: {count} values (at most {MAX_RANGE_VALUES}); "
                       "use a bigger step or a smaller range")
            return None
        return Param(name, low=low, step=step, count=count)

    def body(self, value: Any, pointer: str, lang: str | None, known: set[str], texts: list) -> Any:
        """The item with each string holding placeholders parsed into a Text. A value under a
        language key ("en", "es") is in that language, so decimal() there writes its decimal sign."""
        if isinstance(value, dict):
            return {k: self.body(v, f"{pointer}/{_pointer_part(k)}", k if _LANG.match(k) else lang, known, texts)
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self.body(v, f"{pointer}/{i}", lang, known, texts) for i, v in enumerate(value)]
        if not isinstance(value, str):
            return value
        try:
            text = parse_text(value, lang)
        except ExprError as exc:
            self.error(pointer, f"bad placeholder at character {exc.offset + 1}: {exc.message}")
            return value
        if isinstance(text, str):
            return text
        exprs = [p for p in text.parts if isinstance(p, Expr)]
        self.placeholders += len(exprs)
        bad = False
        for expr in exprs:
            unknown = sorted(expr.names - known)
            if unknown:
                self.error(pointer, f"unknown parameter{'s' * (len(unknown) > 1)} {', '.join(unknown)} in "
                           f"{{{expr.source}}} (parameters: {', '.join(sorted(known)) or 'none'})")
                bad = True
        if not bad:
            texts.append((pointer, text))
        return text


def compile_template(item: dict) -> tuple[Template | None, list[tuple[str, str, str]]]:
    """Check a template item: (template or None, [(severity, pointer, message), ...]).

    Pointers are relative to the item. The template is None when there is any error.
    """
    c = _Compiler()
    spec = item.get("template")
    if not isinstance(spec, dict):
        return None, []  # the schema reports it
    params: list[Param] = []
    known: set[str] = set()
    raw_params = raw if isinstance(raw := spec.get("params"), dict) else {}
    if len(raw_params) > MAX_PARAMS:
        c.error("/template/params", f"at most {MAX_PARAMS} parameters")
        raw_params = {}
    for name, pspec in raw_params.items():
        pointer = f"/template/params/{_pointer_part(name)}"
        if not PARAM_NAME.match(name) or name in FUNCTIONS or name in _RESERVED or name in ("and", "or", "not"):
            c.error(pointer, f"'{name}' cannot be a parameter name: use a-z, 0-9 and '_', starting with a letter, "
                    "and not a function name")
            continue
        param = c.param(name, pspec, pointer, set(known))
        if param:
            params.append(param)
        known.add(name)  # known even when broken, so one mistake is reported once
    where: list[tuple[str, Expr]] = []
    raw_where = raw if isinstance(raw := spec.get("where"), list) else []
    for i, source in enumerate(raw_where[:MAX_WHERE]):
        expr = c.expression(source, f"/template/where/{i}", known)
        if expr:
            where.append((f"/template/where/{i}", expr))
    instances = spec.get("instances")
    if not isinstance(instances, int) or isinstance(instances, bool) or not 1 <= instances <= MAX_INSTANCES:
        instances = 0  # the schema reports it
    texts: list[tuple[str, Text]] = []
    body = c.body({k: v for k, v in item.items() if k != "template"}, "", None, known, texts)
    if c.placeholders > MAX_PLACEHOLDERS:
        c.error("", f"too many placeholders ({c.placeholders}; at most {MAX_PLACEHOLDERS})")
    used: set[str] = set()
    for p in params:
        used |= p.expr.names if p.expr else set()
    for _, expr in where:
        used |= expr.names
    for _, text in texts:
        for part in text.parts:
            if isinstance(part, Expr):
                used |= part.names
    for name in raw_params:
        if name in known and name not in used and PARAM_NAME.match(name):
            c.problems.append(("warning", f"/template/params/{_pointer_part(name)}",
                               f"parameter '{name}' is never used"))
    if any(sev == "error" for sev, _, _ in c.problems) or not instances or not isinstance(item.get("id"), str):
        return None, c.problems
    return Template(item["id"], tuple(params), tuple(where), instances, body, texts), c.problems

