"""The expression language of item templates: a tokenizer, a parser and placeholders in text.

Numbers, parameter names, + - * / // % **, comparisons, and/or/not, parentheses and a fixed
list of pure functions. Nothing in a pack is ever handed to eval, exec, compile or Python's
parser. Every limit below and in expression_eval.py (length, nesting, digits, exponent, range
sizes, tries) keeps a hostile pack from hanging the hub or filling its memory. Values are computed
exactly (fractions.Fraction) by expression_eval.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .expression_eval import FUNCTIONS, MAX_ARGS, ExprError, _eval, format_value
from .numbers import MAX_DIGITS

MAX_EXPRESSION = 200        # characters in one expression
MAX_DEPTH = 20              # nested parentheses, calls, unary signs and powers
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


class TemplateError(ValueError):
    """A template cannot be expanded; `where` is a JSON pointer relative to the template item."""

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.where = where


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
