"""Item templates: parametric items expanded into ordinary items when a pack is loaded.

A template is an item with a "template" field: parameters drawn from ranges or lists, conditions
they must meet ("where"), and a number of instances. Text and answer fields hold placeholders
such as "{a}" or "{frac(a + c, b)}". Loading expands each template into `instances` concrete
items with ids "<template id>~1", "~2", ..., so grading, the catalogue and the hub only ever see
ordinary items.

Expressions are a tiny language with its own tokenizer and parser: numbers, parameter names,
+ - * / // % **, comparisons, and/or/not, parentheses and a fixed list of pure functions.
Nothing in a pack is ever handed to eval, exec, compile or Python's parser. Every limit below
(length, nesting, digits, exponent, range sizes, tries) keeps a hostile pack from hanging the
hub or filling its memory.

Expansion is deterministic: instance n draws from random.Random seeded with the string
"<pack id>/<template id>/<n>" and uses only .random(), whose output for a given seed Python
guarantees across versions and machines; all arithmetic is exact (fractions.Fraction).
"""
from __future__ import annotations

import itertools
import math
import random
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Iterator

from .numbers import MAX_DIGITS, decimal_comma

MAX_EXPRESSION = 200        # characters in one expression
MAX_DEPTH = 20              # nested parentheses, calls, unary signs and powers
MAX_EXPONENT = 64           # |b| in a ** b
MAX_ARGS = 8                # arguments of one function call
MAX_PLACEHOLDERS = 200      # placeholders in one template item
MAX_PARAMS = 20
MAX_WHERE = 20
MAX_INSTANCES = 100
MAX_TRIES = 1000            # draws per instance before listing every combination
MAX_ENUMERATE = 20_000      # combinations of values listed when draws find nothing new
MAX_PARAM_VALUE = 10 ** 6   # bounds of a range and of numbers in a choice list
MAX_RANGE_VALUES = 10 ** 6  # values one range may take
MAX_CHOICES = 100
MAX_CHOICE_TEXT = 100
MAX_PLACES = 10             # decimal(x, places)
_LIMIT = 10 ** MAX_DIGITS   # numerators and denominators stay below this

PARAM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_TOKEN = re.compile(r"\s*(?:(?P<num>[0-9]+(?:\.[0-9]+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                    r"|(?P<op>\*\*|//|<=|>=|==|!=|[-+*/%<>(),]))")
_STRAY = re.compile(r"\{[^{}\n]{1,200}\}")
# Words of the host language and others that are not part of this one: refused by name.
_RESERVED = frozenset({
    "lambda", "if", "else", "for", "in", "is", "import", "from", "as", "def", "class", "return", "yield",
    "await", "async", "with", "while", "try", "except", "finally", "raise", "del", "global", "nonlocal",
    "assert", "pass", "break", "continue", "none", "true", "false", "exec", "eval", "open", "print",
})
_BAD_CHARS = {
    ".": "'.' (attribute access) is not allowed; write decimals with a digit before the point",
    "[": "indexing and lists are not allowed", "]": "indexing and lists are not allowed",
    "'": "text in quotes is not allowed", '"': "text in quotes is not allowed",
    "{": "placeholders cannot be nested", "}": "placeholders cannot be nested",
    "=": "'=' is not allowed; compare with '=='", ":": "':' is not allowed (no lambdas or slices)",
    "@": "'@' is not allowed", "&": "use 'and'", "|": "use 'or'", "~": "'~' is not allowed",
    "^": "'^' is not allowed; write powers with '**'", ";": "one expression only",
}


class ExprError(ValueError):
    """A bad expression, or one that fails on some values; `offset` is 0-based in the expression."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


class TemplateError(ValueError):
    """A template cannot be expanded; `where` is a JSON pointer relative to the template item."""

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.where = where


# ---------------------------------------------------------------------------------------------
# Values and functions


def _number(x: Any, what: str, pos: int) -> Fraction:
    if isinstance(x, Fraction):
        return x
    if isinstance(x, bool):
        raise ExprError(f"{what} needs a number, not a condition", pos)
    raise ExprError(f"{what} needs a number, not text", pos)


def _whole(x: Any, what: str, pos: int) -> int:
    x = _number(x, what, pos)
    if x.denominator != 1:
        raise ExprError(f"{what} needs whole numbers, not {x}", pos)
    return x.numerator


def _bounded(x: Fraction, pos: int) -> Fraction:
    if abs(x.numerator) >= _LIMIT or x.denominator >= _LIMIT:
        raise ExprError(f"result too large (more than {MAX_DIGITS} digits)", pos)
    return x


def format_value(x: Any) -> str:
    """How a value is written into text: 7, -3/4 (lowest terms), or the text itself."""
    if isinstance(x, bool):
        raise ExprError("a condition (true/false) cannot be written into text")
    if isinstance(x, Fraction):
        return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"
    return str(x)


def _decimal(x: Fraction, places: int | None, lang: str | None, pos: int) -> str:
    if places is None:
        den, places = x.denominator, 0
        twos = fives = 0
        while den % 2 == 0:
            den //= 2
            twos += 1
        while den % 5 == 0:
            den //= 5
            fives += 1
        if den != 1:
            raise ExprError(f"{format_value(x)} has no exact decimal; give the places: decimal(x, 2)", pos)
        places = max(twos, fives)
    scaled = math.floor(abs(x) * 10 ** places + Fraction(1, 2))  # round half away from zero
    sign = "-" if x < 0 and scaled else ""
    digits = str(scaled).rjust(places + 1, "0")
    if not places:
        return sign + digits
    point = "," if decimal_comma(lang) else "."
    return f"{sign}{digits[:-places]}{point}{digits[-places:]}"


def _mixed(x: Fraction) -> str:
    if x.denominator == 1 or abs(x) < 1:
        return format_value(x)
    whole, rest = divmod(abs(x.numerator), x.denominator)
    return f"{'-' if x < 0 else ''}{whole} {rest}/{x.denominator}"


def _f_decimal(args: list, pos: int, lang: str | None) -> str:
    places = None
    if len(args) == 2:
        places = _whole(args[1], "decimal()", pos)
        if not 0 <= places <= MAX_PLACES:
            raise ExprError(f"decimal() places must be 0 to {MAX_PLACES}", pos)
    return _decimal(_number(args[0], "decimal()", pos), places, lang, pos)


def _f_frac(args: list, pos: int, lang: str | None) -> Fraction:
    a, b = (_number(v, "frac()", pos) for v in args)
    if b == 0:
        raise ExprError("division by zero in frac()", pos)
    return a / b


def _f_gcd(args: list, pos: int, lang: str | None) -> Fraction:
    return Fraction(math.gcd(*(_whole(v, "gcd()", pos) for v in args)))


def _f_lcm(args: list, pos: int, lang: str | None) -> Fraction:
    result = 1
    for v in args:
        result = math.lcm(result, _whole(v, "lcm()", pos))
        if abs(result) >= _LIMIT:
            raise ExprError(f"result too large (more than {MAX_DIGITS} digits)", pos)
    return Fraction(result)


def _nums(name: str, pick: Callable) -> Callable:
    return lambda args, pos, lang: pick(_number(v, f"{name}()", pos) for v in args)


# name: (fewest arguments, most arguments, function(args, position, language))
FUNCTIONS: dict[str, tuple[int, int, Callable[[list, int, str | None], Any]]] = {
    "abs": (1, 1, lambda args, pos, lang: abs(_number(args[0], "abs()", pos))),
    "min": (2, MAX_ARGS, _nums("min", min)),
    "max": (2, MAX_ARGS, _nums("max", max)),
    "gcd": (2, MAX_ARGS, _f_gcd),
    "lcm": (2, MAX_ARGS, _f_lcm),
    "frac": (2, 2, _f_frac),
    "num": (1, 1, lambda args, pos, lang: Fraction(_number(args[0], "num()", pos).numerator)),
    "den": (1, 1, lambda args, pos, lang: Fraction(_number(args[0], "den()", pos).denominator)),
    "mixed": (1, 1, lambda args, pos, lang: _mixed(_number(args[0], "mixed()", pos))),
    "decimal": (1, 2, _f_decimal),
}


# ---------------------------------------------------------------------------------------------
# Tokenizer and parser. Nodes are tuples: (kind, position, ...).


def _tokens(src: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if not m:
            at = len(src) - len(src[pos:].lstrip())
            if at >= len(src):
                break
            ch = src[at]  # reported when the parser gets here, so problems come left to right
            out.append(("bad", _BAD_CHARS.get(ch, f"unexpected character {ch!r}"), at))
            return out
        kind = m.lastgroup or "op"
        out.append((kind, m.group(kind), m.start(kind)))
        pos = m.end()
    out.append(("end", "", len(src)))
    return out


class _Parser:
    _COMPARE = ("<", "<=", ">", ">=", "==", "!=")

    def __init__(self, src: str) -> None:
        self.tokens = _tokens(src)
        self.i = 0
        self.names: set[str] = set()

    def peek(self) -> tuple[str, str, int]:
        kind, text, pos = tok = self.tokens[self.i]
        if kind == "bad":
            raise ExprError(text, pos)
        return tok

    def take(self) -> tuple[str, str, int]:
        tok = self.peek()
        self.i += 1
        return tok

    @staticmethod
    def unexpected(text: str, pos: int) -> ExprError:
        if text.lower() in _RESERVED:
            return ExprError(f"{text!r} is not allowed", pos)
        return ExprError(f"unexpected {text!r}", pos)

    def at(self, *texts: str) -> bool:
        kind, text, _ = self.peek()
        return kind in ("op", "name") and text in texts

    def expect(self, text: str) -> None:
        kind, got, pos = self.take()
        if got.lower() in _RESERVED:
            raise self.unexpected(got, pos)
        if got != text or kind != "op":
            raise ExprError(f"expected '{text}'" + (f", found {got!r}" if got else " before the end"), pos)

    def parse(self) -> tuple:
        node = self.or_(0)
        kind, text, pos = self.peek()
        if kind != "end":
            raise self.unexpected(text, pos)
        return node

    def nest(self, depth: int, pos: int) -> int:
        if depth >= MAX_DEPTH:
            raise ExprError(f"expression is nested too deeply (at most {MAX_DEPTH} levels)", pos)
        return depth + 1

    def or_(self, depth: int) -> tuple:
        parts = [self.and_(depth)]
        pos = self.peek()[2]
        while self.at("or"):
            self.take()
            parts.append(self.and_(depth))
        return ("or", pos, parts) if len(parts) > 1 else parts[0]

    def and_(self, depth: int) -> tuple:
        parts = [self.not_(depth)]
        pos = self.peek()[2]
        while self.at("and"):
            self.take()
            parts.append(self.not_(depth))
        return ("and", pos, parts) if len(parts) > 1 else parts[0]

    def not_(self, depth: int) -> tuple:
        if self.at("not"):
            pos = self.take()[2]
            return ("not", pos, self.not_(self.nest(depth, pos)))
        return self.compare(depth)

    def compare(self, depth: int) -> tuple:
        first = self.sum(depth)
        ops: list[tuple[str, int]] = []
        rest: list[tuple] = []
        while self.peek()[0] == "op" and self.peek()[1] in self._COMPARE:
            _, op, pos = self.take()
            ops.append((op, pos))
            rest.append(self.sum(depth))
        return ("cmp", ops[0][1], first, ops, rest) if ops else first

    def sum(self, depth: int) -> tuple:
        node = self.term(depth)
        while self.peek()[0] == "op" and self.peek()[1] in ("+", "-"):
            _, op, pos = self.take()
            node = ("bin", pos, op, node, self.term(depth))
        return node

    def term(self, depth: int) -> tuple:
        node = self.unary(depth)
        while self.peek()[0] == "op" and self.peek()[1] in ("*", "/", "//", "%"):
            _, op, pos = self.take()
            node = ("bin", pos, op, node, self.unary(depth))
        return node

    def unary(self, depth: int) -> tuple:
        if self.peek()[0] == "op" and self.peek()[1] in ("+", "-"):
            _, op, pos = self.take()
            return ("neg" if op == "-" else "pos", pos, self.unary(self.nest(depth, pos)))
        return self.power(depth)

    def power(self, depth: int) -> tuple:
        base = self.atom(depth)
        if self.peek()[0] == "op" and self.peek()[1] == "**":
            pos = self.take()[2]
            return ("bin", pos, "**", base, self.unary(self.nest(depth, pos)))
        return base

    def atom(self, depth: int) -> tuple:
        kind, text, pos = self.take()
        if kind == "num":
            if sum(ch.isdigit() for ch in text) > MAX_DIGITS:
                raise ExprError(f"number too long (more than {MAX_DIGITS} digits)", pos)
            return ("num", pos, Fraction(text))
        if kind == "name":
            if text.startswith("_"):
                raise ExprError(f"names starting with '_' are not allowed: {text!r}", pos)
            if text.lower() in _RESERVED or text in ("and", "or", "not"):
                raise ExprError(f"{text!r} is not allowed" + (" here" if text in ("and", "or", "not") else ""), pos)
            if self.peek()[1] == "(" and self.peek()[0] == "op":
                return self.call(text, pos, depth)
            if text in FUNCTIONS:
                raise ExprError(f"{text} is a function: write {text}(...)", pos)
            self.names.add(text)
            return ("name", pos, text)
        if kind == "op" and text == "(":
            node = self.or_(self.nest(depth, pos))
            self.expect(")")
            return node
        if kind == "end":
            raise ExprError("expression ends too early" if pos else "empty expression", pos)
        raise self.unexpected(text, pos)

    def call(self, name: str, pos: int, depth: int) -> tuple:
        if name not in FUNCTIONS:
            raise ExprError(f"unknown function '{name}' (functions: {', '.join(sorted(FUNCTIONS))})", pos)
        depth = self.nest(depth, pos)
        self.take()  # (
        args: list[tuple] = []
        if not self.at(")"):
            while True:
                args.append(self.or_(depth))
                if len(args) > MAX_ARGS:
                    raise ExprError(f"{name}() takes at most {MAX_ARGS} arguments", pos)
                if not self.at(","):
                    break
                self.take()
        self.expect(")")
        low, high, _ = FUNCTIONS[name]
        if not low <= len(args) <= high:
            want = str(low) if low == high else f"{low} to {high}"
            raise ExprError(f"{name}() takes {want} argument{'s' * (want != '1')}, not {len(args)}", pos)
        return ("call", pos, name, args)


@dataclass(frozen=True, slots=True)
class Expr:
    """A parsed expression: its source, its tree and the parameter names it uses."""
    source: str
    tree: tuple
    names: frozenset[str]

    def evaluate(self, env: dict[str, Any], lang: str | None = None) -> Any:
        return _eval(self.tree, env, lang)


def parse_expression(source: str) -> Expr:
    """Parse one expression; raise ExprError (with a 0-based offset) if it is not allowed."""
    if len(source) > MAX_EXPRESSION:
        raise ExprError(f"expression too long ({len(source)} characters, at most {MAX_EXPRESSION})", 0)
    parser = _Parser(source)
    tree = parser.parse()
    return Expr(source, tree, frozenset(parser.names))


def _compare(op: str, a: Any, b: Any, pos: int) -> bool:
    if op in ("==", "!="):
        same = type(a) is type(b) and a == b
        return same if op == "==" else not same
    a, b = _number(a, f"'{op}'", pos), _number(b, f"'{op}'", pos)
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _condition(x: Any, what: str, pos: int) -> bool:
    if not isinstance(x, bool):
        raise ExprError(f"{what} needs conditions such as a < b", pos)
    return x


def _eval(node: tuple, env: dict[str, Any], lang: str | None) -> Any:
    kind, pos = node[0], node[1]
    if kind == "num":
        return node[2]
    if kind == "name":
        try:
            return env[node[2]]
        except KeyError:
            raise ExprError(f"unknown parameter '{node[2]}'", pos) from None
    if kind == "bin":
        op = node[2]
        a = _number(_eval(node[3], env, lang), f"'{op}'", pos)
        b = _number(_eval(node[4], env, lang), f"'{op}'", pos)
        if op == "+":
            return _bounded(a + b, pos)
        if op == "-":
            return _bounded(a - b, pos)
        if op == "*":
            return _bounded(a * b, pos)
        if op == "**":
            return _power(a, b, pos)
        if b == 0:
            raise ExprError(f"division by zero ('{op}')", pos)
        if op == "/":
            return _bounded(a / b, pos)
        if op == "//":
            return _bounded(Fraction(a // b), pos)
        return _bounded(a % b, pos)
    if kind == "neg":
        return -_number(_eval(node[2], env, lang), "'-'", pos)
    if kind == "pos":
        return _number(_eval(node[2], env, lang), "'+'", pos)
    if kind == "cmp":
        left = _eval(node[2], env, lang)
        for (op, at), right_node in zip(node[3], node[4]):
            right = _eval(right_node, env, lang)
            if not _compare(op, left, right, at):
                return False
            left = right
        return True
    if kind == "not":
        return not _condition(_eval(node[2], env, lang), "'not'", pos)
    if kind in ("and", "or"):
        for part in node[2]:
            value = _condition(_eval(part, env, lang), f"'{kind}'", pos)
            if value == (kind == "or"):
                return value
        return kind == "and"
    if kind == "call":
        _, _, fn = FUNCTIONS[node[2]]
        return fn([_eval(arg, env, lang) for arg in node[3]], pos, lang)
    raise ExprError(f"unknown expression node {kind!r}", pos)  # pragma: no cover


def _power(a: Fraction, b: Fraction, pos: int) -> Fraction:
    if b.denominator != 1:
        raise ExprError("the exponent of '**' must be a whole number", pos)
    e = b.numerator
    if abs(e) > MAX_EXPONENT:
        raise ExprError(f"exponent too large ({e}; at most {MAX_EXPONENT})", pos)
    if a == 0 and e < 0:
        raise ExprError("division by zero ('**')", pos)
    bits = max(abs(a.numerator).bit_length(), a.denominator.bit_length())
    if abs(a) != 1 and a != 0 and (bits - 1) * abs(e) > MAX_DIGITS * 3.33:
        raise ExprError(f"result too large (more than {MAX_DIGITS} digits)", pos)
    return _bounded(a ** e, pos)


# ---------------------------------------------------------------------------------------------
# Text with placeholders


@dataclass(frozen=True, slots=True)
class Text:
    """A string with placeholders: literal parts and expressions, in order."""
    parts: tuple[str | Expr, ...]
    lang: str | None

    def render(self, env: dict[str, Any]) -> str:
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            else:
                try:
                    out.append(format_value(part.evaluate(env, self.lang)))
                except ExprError as exc:
                    raise ExprError(f"{{{part.source}}}: {exc.message}", exc.offset) from None
        return "".join(out)


def parse_text(text: str, lang: str | None = None) -> Text | str:
    """Split text at placeholders; plain text comes back unchanged. Raises ExprError with a
    0-based offset in `text`."""
    if "{" not in text and "}" not in text:
        return text
    parts: list[str | Expr] = []
    pos = 0
    while pos < len(text):
        start = text.find("{", pos)
        close = text.find("}", pos)
        if close != -1 and (start == -1 or close < start):
            raise ExprError("'}' without a matching '{' (braces in text always mark a placeholder)", close)
        if start == -1:
            parts.append(text[pos:])
            break
        if start > pos:
            parts.append(text[pos:start])
        end = text.find("}", start + 1)
        inner = text.find("{", start + 1)
        if end == -1:
            raise ExprError("placeholder '{' is never closed with '}'", start)
        if inner != -1 and inner < end:
            raise ExprError("placeholders cannot be nested", inner)
        source = text[start + 1:end]
        try:
            parts.append(parse_expression(source))
        except ExprError as exc:
            raise ExprError(f"{{{source}}}: {exc.message}", start + 1 + exc.offset) from None
        pos = end + 1
    return Text(tuple(parts), lang)


def stray_placeholders(text: str) -> list[str]:
    """Things like "{a}" in the text of an item that is not a template (shown as written)."""
    return _STRAY.findall(text)


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
        return self.low + self.step * min(int(rng.random() * self.count), self.count - 1)


@dataclass(slots=True)
class Template:
    """A checked template: parameters, conditions and the item with its placeholders parsed."""
    id: str
    params: tuple[Param, ...]
    where: tuple[tuple[str, Expr], ...]   # (pointer, expression)
    instances: int
    body: Any                              # the item without "template"; strings with placeholders are Text
    texts: list[tuple[str, Text]] = field(default_factory=list)  # (pointer, text) of each text with placeholders


@dataclass(slots=True)
class Instance:
    """One expansion: its number, the values drawn and the item made with them."""
    n: int
    env: dict[str, Any]
    item: dict[str, Any] | None = None
    repeats: int | None = None            # the earlier instance with the same values, if any

    @property
    def label(self) -> str:
        shown = ", ".join(f"{k}={str(v).lower() if isinstance(v, bool) else format_value(v)}"
                          for k, v in self.env.items())
        return f"({shown})" if shown else ""


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
    raw_params = spec.get("params") if isinstance(spec.get("params"), dict) else {}
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
    raw_where = spec.get("where") if isinstance(spec.get("where"), list) else []
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


def _render(value: Any, env: dict[str, Any], pointer: str = "") -> Any:
    if isinstance(value, Text):
        try:
            return value.render(env)
        except ExprError as exc:
            raise TemplateError(exc.message, pointer) from None
    if isinstance(value, dict):
        return {k: _render(v, env, f"{pointer}/{_pointer_part(k)}") for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v, env, f"{pointer}/{i}") for i, v in enumerate(value)]
    return value


class _Sampler:
    """Draws the values of each instance in turn, remembering those already used.

    Draws are rejection sampling: draw every parameter, keep the values if every `where` holds
    and no earlier instance has them. When MAX_TRIES draws find nothing new (a rare condition,
    or few possible values), every combination is listed once, if there are at most
    MAX_ENUMERATE, and the instance takes an unused one, or repeats one when all are used.
    """

    def __init__(self, template: Template, pack_id: str) -> None:
        self.template = template
        self.pack_id = pack_id
        self.used: dict[tuple, int] = {}
        self.pool: list[dict[str, Any]] | None = None
        self.space = 1
        for p in template.params:
            if p.expr is None:
                self.space = min(self.space * (len(p.values) if p.values is not None else p.count),
                                 MAX_ENUMERATE + 1)

    def _complete(self, env: dict[str, Any], n: int, drawn: Callable[[Param], Any]) -> bool:
        """Fill env parameter by parameter; True if every `where` condition holds."""
        t = self.template
        for p in t.params:
            try:
                env[p.name] = p.expr.evaluate(env) if p.expr is not None else drawn(p)
            except ExprError as exc:
                raise TemplateError(f"instance {t.id}~{n} {Instance(n, env).label}: parameter '{p.name}': "
                                    f"{exc.message}", f"/template/params/{_pointer_part(p.name)}/value") from None
        for pointer, expr in t.where:
            try:
                if not _condition(expr.evaluate(env), "where", 0):
                    return False
            except ExprError as exc:
                raise TemplateError(f"instance {t.id}~{n} {Instance(n, env).label}: '{expr.source}': "
                                    f"{exc.message}", pointer) from None
        return True

    @staticmethod
    def _key(env: dict[str, Any]) -> tuple:
        return tuple((k, type(v).__name__, v) for k, v in env.items())

    def _take(self, n: int, env: dict[str, Any]) -> Instance:
        key = self._key(env)
        if key in self.used:
            return Instance(n, env, repeats=self.used[key])
        self.used[key] = n
        return Instance(n, env)

    def _enumerate(self, n: int) -> list[dict[str, Any]]:
        params = self.template.params
        lists = [p.values if p.values is not None else [p.low + p.step * k for k in range(p.count)]
                 for p in params if p.expr is None]
        pool = []
        for combo in itertools.product(*lists):
            values = iter(combo)
            env: dict[str, Any] = {}
            if self._complete(env, n, lambda p: next(values)):
                pool.append(env)
        return pool

    def draw(self, n: int) -> Instance:
        t = self.template
        rng = random.Random(f"{self.pack_id}/{t.id}/{n}")
        if self.pool is None:
            repeat: dict[str, Any] | None = None
            for _ in range(MAX_TRIES):
                env: dict[str, Any] = {}
                if self._complete(env, n, lambda p: p.draw(rng)):
                    if self._key(env) not in self.used:
                        return self._take(n, env)
                    repeat = repeat or env
            if self.space > MAX_ENUMERATE:
                if repeat is not None:
                    return self._take(n, repeat)
                raise TemplateError(f"no values meeting where found in {MAX_TRIES} draws for {t.id}~{n}: "
                                    "widen the ranges or relax the conditions", "/template/where")
            self.pool = self._enumerate(n)
        if not self.pool:
            raise TemplateError(f"no values satisfy where (none of the {self.space} combinations of values "
                                "does)", "/template/where")
        fresh = [env for env in self.pool if self._key(env) not in self.used] or self.pool
        return self._take(n, dict(fresh[min(int(rng.random() * len(fresh)), len(fresh) - 1)]))


def instances(template: Template, pack_id: str) -> Iterator[Instance]:
    """Expand a checked template: one Instance per n = 1..instances, each with its item dict.

    Raises TemplateError (with a pointer into the template item) when an instance cannot be made.
    """
    sampler = _Sampler(template, pack_id)
    for n in range(1, template.instances + 1):
        inst = sampler.draw(n)
        try:
            item = _render(template.body, inst.env)
        except TemplateError as exc:
            raise TemplateError(f"instance {template.id}~{n} {inst.label}: {exc.message}", exc.where) from None
        item["id"] = f"{template.id}~{n}"
        inst.item = item
        yield inst


def expand_item(item: dict, pack_id: str) -> list[dict]:
    """The concrete items of one template item (for the loader). Raises TemplateError."""
    template, problems = compile_template(item)
    if template is None:
        first = next((p for p in problems if p[0] == "error"), ("error", "/template", "invalid template"))
        raise TemplateError(first[2], first[1])
    return [inst.item for inst in instances(template, pack_id)]
