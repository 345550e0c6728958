"""Whole numbers typed or sent by users: the one way a form field, query argument or JSON value
becomes an int.

Python's ``int()`` is too kind for input from the network: it takes ``"٣"`` (Arabic-Indic 3) or
``"①"``-like digits that ``str.isdigit`` vouches for and then refuses (a 500), and since Python
3.11 it raises on numbers of more than 4300 digits. Here a number is ASCII digits only (an
optional ``-`` where negatives make sense), at most ``MAX_DIGITS`` of them, in a stated range;
anything else is ``Invalid`` naming the field. Pure: the web layer and the services both use it.
"""

from __future__ import annotations

import re

from classroom_server.errors import Invalid

MAX_ID = 2**63 - 1  # SQLite's largest integer: every row id and stored number fits
MAX_DIGITS = 19  # len(str(MAX_ID))
_WHOLE = re.compile(rf"[ \t]*(-?[0-9]{{1,{MAX_DIGITS}}})[ \t]*")


def parse_int(value: object, field: str, low: int = 0, high: int = MAX_ID) -> int:
    """``value`` (a str from a form or query, or an int from JSON) as an int from ``low`` to ``high``.

    Raises ``Invalid`` with ``field`` set for anything else: an empty value, a sign or digit
    outside ASCII, a fraction, a bool, too many digits, or a number out of range.
    """
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        match = _WHOLE.fullmatch(value)
        number = int(match.group(1)) if match else None
    if number is None or not low <= number <= high:
        raise Invalid("The field %(name)s must be a whole number from %(low)s to %(high)s.",
                      field=field, name=field, low=low, high=high)
    return number


def optional_int(value: object, field: str, low: int = 0, high: int = MAX_ID) -> int | None:
    """Like ``parse_int``, but a missing or blank value is None (not given), not an error."""
    if value is None or (isinstance(value, str) and not value.strip(" \t")):
        return None
    return parse_int(value, field, low, high)
