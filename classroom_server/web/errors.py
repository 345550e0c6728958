"""Every error the hub answers with is rendered here, in one shape.

JSON clients (``/api/``, ``/healthz``, ``Accept: application/json`` or a JSON request body) get
``{"error": {"code", "message", "field"}}``; everyone else gets the friendly, translated error
page. The errors: the hub's own tree (``classroom_server.errors``: 400, 401, 403, 404, 409, 429,
507), a form without a valid CSRF token (400), werkzeug's HTTP errors (404, 405, 413, ...), and a
full disk under the database, found by SQLite in the middle of a request (507).
"""

from __future__ import annotations

import json
import logging

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from classroom_server.errors import ClassroomError, StorageFull, StorageUnavailable, Throttled, storage_problem
from classroom_server.i18n import gettext as _
from classroom_server.services import hub

log = logging.getLogger("classroom_server.storage")


def wants_json() -> bool:
    return (
        request.path.startswith("/api/")
        or request.path == "/healthz"
        or request.is_json
        or request.accept_mimetypes.best == "application/json"
    )


def error_response(status: int, code: str, message: str, field: str | None = None) -> Response:
    """The one error shape: JSON for JSON clients, the friendly page for people."""
    if wants_json():
        response = jsonify({"error": {"code": code, "message": message, "field": field}})
    else:
        response = Response(
            render_template("error.html", status=status, message=message), mimetype="text/html"
        )
    response.status_code = status
    return response


def classroom_error(exc: ClassroomError) -> Response:
    response = error_response(exc.status, exc.code, _(exc.template, **exc.params), exc.field)
    if isinstance(exc, Throttled):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def csrf_error(exc: CSRFError) -> Response:
    response = error_response(
        400, "csrf", _("This form has expired or did not come from this hub. Go back, reload the page and try again.")
    )
    response.headers["X-Error-Code"] = "csrf"  # the answer queue keeps answers refused for this
    return response


def http_error(exc: HTTPException) -> Response:
    messages = {
        404: _("There is nothing here."),
        405: _("That action is not allowed here."),
        413: _("That upload is too large."),
    }
    code = (exc.name or "error").lower().replace(" ", "_")
    response = error_response(exc.code or 500, code, messages.get(exc.code or 0, exc.description or ""))
    allowed = dict(exc.get_headers()).get("Allow")
    if allowed:
        response.headers["Allow"] = allowed  # a 405 names the methods that would work
    return response


def storage_error(exc: Exception) -> Response:
    """A full or read-only disk during a request is a 507 or 503 with plain words, not a 500.

    SQLite rolls the failed transaction back, so what was saved before stays saved; the learner's
    answer queue keeps answers refused so and sends them again later. /healthz tells the admin
    (services/hub.py remembers the trouble). Any other database error stays an error.
    """
    problem = storage_problem(exc)
    if problem is None:
        raise exc
    hub.note_storage_trouble(current_app.extensions.setdefault("storage_trouble", {}), problem, exc)
    log.error("The disk holding %s %s: %s", current_app.config["DATA_DIR"],
              "is full or failing" if problem == "full" else "cannot be written", exc)
    if problem == "full":
        response = classroom_error(
            StorageFull("The hub's disk is full, so it cannot save anything right now. Please tell the hub's admin.")
        )
    else:
        response = classroom_error(StorageUnavailable(
            "The hub cannot write to its disk right now, so nothing can be saved. Please tell the hub's admin."
        ))
    if request.endpoint == "health.healthz":  # a monitor reads status and problems, as on a good day
        body = response.get_json()
        body.update(status="failing", problems=["disk_full" if problem == "full" else "disk_read_only"])
        response.set_data(json.dumps(body))
    return response


def init_app(app: Flask) -> None:
    app.register_error_handler(ClassroomError, classroom_error)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(HTTPException, http_error)
    for error in hub.STORAGE_ERRORS:  # the database's own errors: peewee's and sqlite3's
        app.register_error_handler(error, storage_error)
