"""What one request has read already, so that it is not read again within the request (#21).

A learner's page asks "is the engine caught up with the log?" and "has the classes' setup
changed?" three or four times each, from different services. Within one request the first
answer stands, as long as the request itself wrote nothing since: SQLite's ``total_changes``
of the request's connection says so (a write of its own makes the next question go to the
database again). What other connections commit meanwhile is seen at the next request, as if
this one had come a few milliseconds earlier.

The web layer opens a scope for each request (``begin``/``end``); outside one (a command, a
scheduled job, a test calling a service) nothing is remembered and every question is asked.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import Any, TypeVar

from classroom_server.db import db

T = TypeVar("T")
_memo: ContextVar[dict[Any, tuple[int, Any]] | None] = ContextVar("request_memo", default=None)


def begin() -> Token[dict[Any, tuple[int, Any]] | None]:
    return _memo.set({})


def end(token: Token[dict[Any, tuple[int, Any]] | None]) -> None:
    try:
        _memo.reset(token)
    except ValueError:  # ended in another context than it began: forget it all the same
        _memo.set(None)


def _changes() -> int:
    return db.connection().total_changes


def remembered(key: Any, compute: Callable[[], T]) -> T:
    """``compute()`` once per request (again after a write of the request's own)."""
    memo = _memo.get()
    if memo is None:
        return compute()
    hit = memo.get(key)
    if hit is not None and hit[0] == _changes():
        return hit[1]
    value = compute()
    memo[key] = (_changes(), value)
    return value


def done(key: Any) -> bool:
    """Whether ``note(key)`` was said in this request, with no write of its own since."""
    memo = _memo.get()
    return memo is not None and key in memo and memo[key][0] == _changes()


def note(key: Any) -> None:
    memo = _memo.get()
    if memo is not None:
        memo[key] = (_changes(), None)
