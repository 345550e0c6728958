"""The district server: a Flask app that hubs sync with (``classroom-server district serve``).

Each ``POST /sync/v1/<message>`` is checked in one place before it is acted on: the protocol
version, the hub (known, not revoked), its HMAC signature over the exact bytes received, and
its counter (never used before). Every answer to an identified hub is signed, so a hub believes
an acknowledgement only from its district.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

import classroom_server
from sync import protocol
from sync.district import service
from sync.district.models import connect, district_db
from sync.district.service import Refused

log = logging.getLogger("classroom_server.district")
_PRINTABLE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def create_district_app(database_url: str) -> Flask:
    # The hub's stylesheet and pictures serve the dashboard too (sync/district/web.py).
    app = Flask("classroom_server.district", static_folder=str(Path(classroom_server.__file__).parent / "static"))
    app.config["MAX_CONTENT_LENGTH"] = protocol.MAX_BODY_BYTES
    database = connect(database_url)
    app.extensions["district_database"] = database

    @app.before_request
    def _open() -> None:
        g.started = time.perf_counter()
        database.connect(reuse_if_open=True)

    @app.after_request
    def _log_request(response: Response) -> Response:
        """One line per request: what, from which hub (as it says; the signature is checked
        elsewhere), the status, the bytes each way and the time."""
        hub = request.headers.get("X-Sync-Hub", "")
        log.info("%s %s status=%d hub=%s in=%d out=%s ms=%.1f", request.method, request.path, response.status_code,
                 hub if _PRINTABLE_ID.fullmatch(hub) else "-", request.content_length or 0,
                 response.calculate_content_length() or 0,
                 (time.perf_counter() - g.get("started", time.perf_counter())) * 1000)
        return response

    @app.teardown_request
    def _close(exc: BaseException | None) -> None:
        if not database.is_closed():
            database.close()

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        """Werkzeug's own refusals (404, 405, 413) in the district's one JSON shape."""
        name = (exc.name or "error").lower().replace(" ", "_")
        return _json(exc.code or 500, {"error": name, "message": exc.description or name})

    @app.get("/healthz")
    def healthz() -> Response:
        try:
            counts = service.counts()
        except Exception as exc:  # the database is what this check is for
            log.exception("health check failed")
            return _json(503, {"status": "error", "problem": f"the database cannot be read: {exc}"})
        return _json(200, {"status": "ok", "protocol": protocol.VERSION, **counts})

    @app.get("/openapi.json")
    def openapi() -> Response:
        from sync.district.openapi import description

        return _json(200, description())

    @app.post("/sync/v1/enrol")
    def enrol() -> Response:
        try:
            message = protocol.decode_json(request.get_data(cache=False))
            registration, secret = service.enrol(message.get("code"), message.get("hub_id"), message.get("name"))
        except protocol.ProtocolError as exc:
            return _json(400, {"error": "bad_request", "message": str(exc)})
        except Refused as exc:
            log.warning("enrolment refused: %s", exc.message)
            return _json(exc.status, exc.reply())
        log.info("hub %s enrolled for %s", registration.hub_id, registration.school.name)
        return _json(200, {"hub_id": registration.hub_id, "secret": secret, "school": registration.school.name})

    @app.post("/sync/v1/<message>")
    def signed(message: str) -> Response:
        body = request.get_data(cache=False)
        headers = dict(request.headers)
        try:
            version = int(headers.get("X-Sync-Version", ""))
        except ValueError:
            version = 0
        registration = service.hub_for(headers.get("X-Sync-Hub"))
        counter = protocol.parse_counter(headers)
        problem = protocol.version_problem(version)
        if problem:
            refusal = {"error": "version", "message": problem, "oldest": protocol.OLDEST_COMPATIBLE}
            if registration is not None and registration.secret and counter:
                return _signed(registration, counter, 426, refusal)
            return _json(426, refusal)
        if registration is None or not registration.secret:
            return _json(401, {"error": "unknown_hub", "message": "The district does not know this hub: enrol it."})
        if registration.revoked_at:
            return _signed(registration, counter or 0, 403,
                           {"error": "revoked", "message": "The district revoked this hub's enrolment."})
        if counter is None or not protocol.request_signed_by(registration.secret, "POST", request.path, body, headers):
            log.warning("bad signature from hub %s on %s", registration.hub_id, message)
            return _json(401, {"error": "bad_signature", "message": "The request's signature is wrong."})
        if not service.take_counter(registration, counter, version):
            return _signed(registration, counter, 401, {
                "error": "stale_counter", "message": "This request was seen before (a replay).",
                "last_counter": service.last_counter(registration)})
        extra: dict[str, str] = {}
        try:
            status, reply = _dispatch(registration, message, body, extra)
        except Refused as exc:
            service.note_problem(registration, exc.message)
            log.warning("hub %s %s refused: %s", registration.hub_id, message, exc.message)
            return _signed(registration, counter, exc.status, exc.reply())
        if isinstance(reply, bytes):
            response = _signed_bytes(registration, counter, status, reply,
                                     "application/octet-stream" if message == "pack" else "application/gzip")
            response.headers.update(extra)
            return response
        return _signed(registration, counter, status, reply)

    from sync.district import web

    web.init_app(app)
    return app


def start_recomputing(app: Flask, every_seconds: float) -> Any:
    """Recompute the projections of every hub that pushed since the last time, in the background,
    every ``every_seconds`` (APScheduler; one run at a time, a late run is merged, not repeated).
    Returns the scheduler (``shutdown()`` it when the server stops)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from sync.district import projections

    database = app.extensions["district_database"]

    def run() -> None:
        try:
            with database.connection_context():
                for done in projections.recompute_stale():
                    log.info("recomputed the projections of %s", describe(done))
        except Exception:  # logged and tried again at the next run; the server goes on
            log.exception("recomputing the hubs' projections failed")

    scheduler = BackgroundScheduler(daemon=True)
    scheduler.add_job(run, "interval", seconds=every_seconds, id="recompute", coalesce=True, max_instances=1)
    scheduler.start()
    return scheduler


def describe(done: Any) -> str:
    """One recomputation in words, for the log and the command line."""
    if done.problem:
        return f"hub registration {done.hub_id}: not recomputed: {done.problem}"
    seconds = sum(done.seconds.values())
    missing = f"; {done.missing} events below the hub's marks are missing here" if done.missing else ""
    return (f"hub registration {done.hub_id}: {done.events} events folded, {done.mastery_rows} mastery rows "
            f"in {seconds:.2f} s{missing}")


def _dispatch(registration: Any, message: str, body: bytes,
              headers: dict[str, str]) -> tuple[int, dict[str, Any] | bytes]:
    """Act on one checked message; ``headers`` takes any the answer carries besides its signature."""
    if message == "push":
        result = service.push(registration, body)
        return (409 if result.quarantined else 200), result.reply()
    try:
        decoded = protocol.decode_json(body)
    except protocol.ProtocolError as exc:
        raise Refused(400, "bad_request", str(exc)) from None
    if message == "hello":
        return 200, service.hello(registration, decoded)
    if message == "fetch":
        batch = service.fetch(registration, decoded)
        return (204, b"") if batch is None else (200, batch)
    if message == "manifests":
        return 200, service.manifests(registration, decoded)
    if message == "changes":
        return 200, protocol.encode_json_gzip(service.changes_since(registration, decoded))
    if message == "shared":
        return 200, protocol.encode_json_gzip(service.shared(registration, decoded))
    if message == "pack":
        data, offset, size = service.pack_piece(registration, decoded)
        headers["Content-Range"] = f"bytes {offset}-{offset + len(data) - 1}/{size}"  # as HTTP Range answers
        return 206, data
    raise Refused(404, "unknown_message", f"The district does not know the message {message!r}.")


def _json(status: int, payload: dict[str, Any]) -> Response:
    return Response(protocol.encode_json(payload), status=status, mimetype="application/json")


def _signed(registration: Any, counter: int, status: int, payload: dict[str, Any]) -> Response:
    return _signed_bytes(registration, counter, status, protocol.encode_json(payload), "application/json")


def _signed_bytes(registration: Any, counter: int, status: int, body: bytes, mimetype: str) -> Response:
    response = Response(body, status=status, mimetype=mimetype)
    response.headers["X-Sync-Signature"] = protocol.sign_response(registration.secret, counter, status, body)
    return response


__all__ = ["create_district_app", "district_db"]
