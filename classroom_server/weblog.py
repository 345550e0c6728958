"""One log line per request, to stdout (journald on a Pi), with a request id and timing.

Only method, path (never the query string), status, duration, role and client address are
logged: never a form field, cookie, password, PIN or secret.

What a client sent (the path, the method, the address) is escaped before it is logged
(``escape``): a newline, another control character, a Unicode line separator, a space or a
backslash becomes a backslash escape, so no request can write a line, or a field, of its own
(``/x%0a127.0.0.1 - admin`` is logged as ``path=/x\\n127.0.0.1\\x20-\\x20admin``). Every other
message of the hub's loggers has its control characters escaped too (tracebacks excepted).
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable

from flask import Flask, Response, g, request

log = logging.getLogger("classroom_server.request")
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # C0, DEL, C1 (NEL too), line/paragraph separators
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def _escape_char(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def escape(value: object) -> str:
    """``value`` as one log field: every character that is not printable (control characters,
    line and paragraph separators, invisible formatting marks), a space or a backslash becomes a
    backslash escape, so the field can neither end the line nor the field."""
    return "".join(c if c.isprintable() and c not in " \\" else _escape_char(c) for c in str(value))


def escape_controls(text: str) -> str:
    """``text`` with its control characters and line separators escaped (spaces kept): for
    messages written by the hub that may quote something from outside."""
    return _CONTROLS.sub(lambda m: _escape_char(m.group()), text)


class OneLineFormatter(logging.Formatter):
    """Each record is one line: its message's control characters are escaped (a traceback,
    appended after the message, keeps its lines)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape_controls(record.message)
        return super().formatMessage(record)


class QueueDepthReport(logging.Filter):
    """Waitress logs "Task queue depth is N" for every request that finds all its threads busy:
    under a class's burst, every request, just when the hub has the least CPU to spare (formatting
    and writing those lines took 3 to 4 % of the CPU of a busy hub, #21). In each ``window`` of
    seconds this lets through only the lines that report a deeper queue than any before them in
    that window: the depth each burst reached is still logged, the thousand lines below it not."""

    def __init__(self, window: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.window, self.clock = window, clock
        self.since, self.deepest = float("-inf"), 0
        self.lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        depth = args[0] if isinstance(args, tuple) and args and isinstance(args[0], int) else None
        if depth is None:  # not the line this is for: let it through
            return True
        now = self.clock()
        with self.lock:
            if now - self.since >= self.window:
                self.since, self.deepest = now, 0
            if depth <= self.deepest:
                return False
            self.deepest = depth
            return True


def configure_logging(level: str = "info") -> None:
    queue = logging.getLogger("waitress.queue")
    if not any(isinstance(f, QueueDepthReport) for f in queue.filters):
        queue.addFilter(QueueDepthReport())
    root = logging.getLogger("classroom_server")
    if not any(getattr(h, "_classroom", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(OneLineFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        handler._classroom = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level.upper())


def init_app(app: Flask, level: str) -> None:
    configure_logging(level)

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex[:12]
        g.started = time.perf_counter()

    @app.after_request
    def _log(response: Response) -> Response:
        started = getattr(g, "started", None)
        millis = (time.perf_counter() - started) * 1000 if started else 0.0
        request_id = getattr(g, "request_id", "-")
        response.headers["X-Request-Id"] = request_id
        person = getattr(g, "person", None)
        log.info(
            "request_id=%s method=%s path=%s status=%s ms=%.1f role=%s client=%s",
            request_id, escape(request.method), escape(request.path), response.status_code, millis,
            person.role if person is not None else "-", escape(request.remote_addr or "-"),
        )
        return response
