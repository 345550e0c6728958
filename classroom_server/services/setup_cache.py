"""A learner's classes, courses, assignments and accommodations, kept between requests (#21).

Every learner page reads them (the path needs the assignments and accommodations, the pages
the courses, ``base.html`` the accommodations), and they change a few times a day: when a
teacher or the district changes a class, a course, an assignment or an accommodation. The
database counts those changes (``class_setup_generation``, kept by triggers in the writer's
own transaction, whichever process writes: migrations/0011). A value is kept with the count
read *before* it was computed, so a change committed meanwhile only makes it be read again;
it is used while the count is the same. One query a use instead of one to three.

Values kept must not be changed by the caller: tuples, frozen dataclasses, or copied on the
way out (``for_learner``'s ``copy``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from classroom_server import db as database
from classroom_server import request_memo

T = TypeVar("T")
MOST = 2048  # entries kept (four kinds of value for 500 learners); past it the cache starts again

_kept: dict[tuple[Any, ...], tuple[int, Any]] = {}
_lock = threading.Lock()


def generation() -> int:
    """The count of changes to the classes' setup, as this connection sees it now."""
    row = database.db.execute_sql("SELECT n FROM class_setup_generation WHERE id = 1").fetchone()
    return row[0]


def for_learner(kind: str, learner_id: int, compute: Callable[[], T], copy: Callable[[T], T] | None = None) -> T:
    """``compute()``, or what it gave last time for this learner if nothing changed since."""
    now = request_memo.remembered("class setup generation", generation)
    key = (database.configured, kind, learner_id)
    with _lock:
        hit = _kept.get(key)
    if hit is not None and hit[0] == now:
        value = hit[1]
    else:
        value = compute()
        with _lock:
            if len(_kept) >= MOST:
                _kept.clear()
            _kept[key] = (now, value)
    return copy(value) if copy is not None else value
