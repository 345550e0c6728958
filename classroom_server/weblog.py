"""One log line per request, to stdout (journald on a Pi), with a request id and timing.

Only method, path (never the query string), status, duration, role and client address are
logged: never a form field, cookie, password, PIN or secret.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import Flask, Response, g, request

log = logging.getLogger("classroom_server.request")
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def configure_logging(level: str = "info") -> None:
    root = logging.getLogger("classroom_server")
    if not any(getattr(h, "_classroom", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
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
            request_id, request.method, request.path, response.status_code, millis,
            person.role if person is not None else "-", request.remote_addr,
        )
        return response
