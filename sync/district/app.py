"""The district server: a Flask app that hubs sync with (``classroom-server district serve``).

Each ``POST /sync/v1/<message>`` is checked in one place before it is acted on: the protocol
version, the hub (known, not revoked), its HMAC signature over the exact bytes received, and
its counter (never used before). Every answer to an identified hub is signed, so a hub believes
an acknowledgement only from its district.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, cast

from flask import Flask, Response, request

from sync import protocol
from sync.district import service
from sync.district.models import connect, district_db
from sync.district.service import Refused

log = logging.getLogger("classroom_server.district")


def create_district_app(database_url: str) -> Flask:
    app = Flask("classroom_server.district")
    app.config["MAX_CONTENT_LENGTH"] = protocol.MAX_BODY_BYTES
    database = connect(database_url)
    app.extensions["district_database"] = database

    @app.before_request
    def _open() -> None:
        database.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc: BaseException | None) -> None:
        if not database.is_closed():
            database.close()

    @app.get("/healthz")
    def healthz() -> Response:
        try:
            counts = service.counts()
        except Exception as exc:  # the database is what this check is for
            log.exception("health check failed")
            return _json(503, {"status": "error", "problem": f"the database cannot be read: {exc}"})
        return _json(200, {"status": "ok", "protocol": protocol.VERSION, **counts})

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
        # Werkzeug's headers: a case-insensitive mapping, all that the protocol's checks use of it
        headers = cast("Mapping[str, str]", request.headers)
        try:
            version = int(headers.get("X-Sync-Version", ""))
        except ValueError:
            version = 0
        problem = protocol.version_problem(version)
        if problem:
            return _json(426, {"error": "version", "message": problem, "oldest": protocol.OLDEST_COMPATIBLE})
        registration = service.hub_for(headers.get("X-Sync-Hub"))
        if registration is None or not registration.secret:
            return _json(401, {"error": "unknown_hub", "message": "The district does not know this hub: enrol it."})
        counter = protocol.parse_counter(headers)
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
        try:
            status, reply = _dispatch(registration, message, body)
        except Refused as exc:
            service.note_problem(registration, exc.message)
            log.warning("hub %s %s refused: %s", registration.hub_id, message, exc.message)
            return _signed(registration, counter, exc.status, exc.reply())
        if isinstance(reply, bytes):
            return _signed_bytes(registration, counter, status, reply, "application/gzip")
        return _signed(registration, counter, status, reply)

    return app


def _dispatch(registration: Any, message: str, body: bytes) -> tuple[int, dict[str, Any] | bytes]:
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
