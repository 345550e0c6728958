"""Requests being handled in this process right now, so that background work (a sync's push)
does its share of the CPU in the gaps between them instead of in the middle of a learner's
answer (Python runs one thread at a time, and a Pi has one core, or four slow ones).

``Counting`` wraps the WSGI app: it counts a request from the moment the app is called until it
returns its response. A streamed body (the teacher's live view) is sent after that and is not
counted, so a page held open never holds background work back. ``wait_until_quiet`` is what the
background work calls between two small steps."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

_quiet = threading.Condition()
_in_flight = [0]


def enter() -> None:
    with _quiet:
        _in_flight[0] += 1


def leave() -> None:
    with _quiet:
        _in_flight[0] -= 1
        if _in_flight[0] <= 0:
            _in_flight[0] = 0
            _quiet.notify_all()


def in_flight() -> int:
    return _in_flight[0]


def wait_until_quiet(most_seconds: float, clock: Callable[[], float] = time.monotonic) -> float:
    """Wait until no request is being handled here, at most ``most_seconds`` (so that a hub kept
    busy without a break still gets its background work done, slowly). Returns the seconds
    waited."""
    started = clock()
    with _quiet:
        while _in_flight[0] > 0:
            left = most_seconds - (clock() - started)
            if left <= 0:
                break
            _quiet.wait(left)
    return clock() - started


class Counting:
    """WSGI middleware: ``app.wsgi_app = Counting(app.wsgi_app)``."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        enter()
        try:
            return self.app(environ, start_response)
        finally:
            leave()
