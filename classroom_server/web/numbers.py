"""Numbers in addresses: ``<int:...>`` in every route is a row id, 1 to 2**63 - 1.

Werkzeug's own ``int`` converter matches ``\\d+``, which takes Unicode digits (``²`` then fails
in ``int()``: a 500) and numbers SQLite cannot bind (over 2**63 - 1: another 500). This one
matches ASCII digits without a leading zero, at most 19 of them, and refuses anything above
``MAX_ID``: any other address is simply not found (404). Registered app-wide, in place of the
built-in converter, by ``register_blueprints`` before any route is added.
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

from classroom_server.numbers import MAX_DIGITS, MAX_ID


class IdConverter(IntegerConverter):
    regex = rf"[1-9][0-9]{{0,{MAX_DIGITS - 1}}}"

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        """Takes no options: a row id is always 1 to MAX_ID, never signed or zero-padded."""
        super().__init__(map, min=1, max=MAX_ID)
