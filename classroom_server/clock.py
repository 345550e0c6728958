"""Time in one place, so that the demo can simulate past days and tests can move it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

_fixed: list[dt.datetime] = []


def now() -> dt.datetime:
    if _fixed:
        return _fixed[-1]
    return dt.datetime.now(dt.UTC)


def iso(moment: dt.datetime | None = None) -> str:
    return (moment or now()).astimezone(dt.UTC).isoformat(timespec="milliseconds")


@contextmanager
def pretend(moment: dt.datetime) -> Iterator[None]:
    """Run a block as if it were ``moment`` (single-threaded setup only, e.g. the demo's history)."""
    _fixed.append(moment)
    try:
        yield
    finally:
        _fixed.pop()
