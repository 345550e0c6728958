"""Time in one place, so that tests and the demo can move it."""

from __future__ import annotations

import datetime as dt


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def iso(moment: dt.datetime | None = None) -> str:
    return (moment or now()).astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")
