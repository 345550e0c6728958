"""Evaluating the expressions of item templates: exact values, the functions and the tree walk.

expressions.py parses an expression into a tree of tuples; this module computes its value. All
arithmetic is exact (fractions.Fraction), and every result is bounded (digits, exponent, decimal
places) so a hostile pack cannot hang the hub or fill its memory.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from .numbers import MAX_DIGITS, decimal_comma

MAX_EXPONENT = 64           # |b| in a ** b
MAX_ARGS = 8                # arguments of one function call
MAX_PLACES = 10             # decimal(x, places)
_LIMIT = 10 ** MAX_DIGITS   # numerators and denominators stay below this


class ExprError(ValueError):
    """A bad expression, or one that fails on some values; `offset` is 0-based in the expression."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


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
# Evaluation of a parsed tree. Nodes are tuples: (kind, position, ...).


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

