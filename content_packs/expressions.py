"""The expression language of item templates: a tokenizer, a parser and an exact evaluator.

Numbers, parameter names, + - * / // % **, comparisons, and/or/not, parentheses and a fixed
list of pure functions. Nothing in a pack is ever handed to eval, exec, compile or Python's
parser. Every limit below (length, nesting, digits, exponent, range sizes, tries) keeps a hostile
pack from hanging the hub or filling its memory. All arithmetic is exact (fractions.Fraction).
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

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
        for (op, at), right_node in zip(node[3], node[4], strict=True):
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
