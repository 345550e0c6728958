"""Blueprints by audience, plus the hub-wide pieces they share: who is signed in, roles, errors."""

from __future__ import annotations

from flask import Flask, Response, g, jsonify, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from classroom_server.errors import ClassroomError, Throttled
from classroom_server.i18n import gettext as _
from classroom_server.models import Person


def _load_person() -> None:
    """Put the signed-in person on ``g``; a changed password or removed account ends the session."""
    g.person = None
    person_id = session.get("person_id")
    if person_id is None:
        return
    person = Person.get_or_none(Person.id == person_id, Person.active == True)  # noqa: E712
    if person is None or person.auth_version != session.get("auth_version"):
        session.clear()
        return
    g.person = person


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz" or (
        request.accept_mimetypes.best == "application/json"
    )


def _error_response(status: int, code: str, message: str, field: str | None = None) -> Response:
    if _wants_json():
        response = jsonify({"error": {"code": code, "message": message, "field": field}})
    else:
        response = Response(
            render_template("error.html", status=status, message=message), mimetype="text/html"
        )
    response.status_code = status
    return response


def register_blueprints(app: Flask) -> None:
    from classroom_server.web import admin, admin_packs, auth, content, health, learner, practice, teacher
    from classroom_server.web.content import url_for_file

    app.before_request(_load_person)
    app.jinja_env.globals["content_url"] = url_for_file
    for module in (health, auth, learner, practice, teacher, admin, admin_packs, content):
        app.register_blueprint(module.bp)

    @app.errorhandler(ClassroomError)
    def _classroom_error(exc: ClassroomError) -> Response:
        response = _error_response(exc.status, exc.code, _(exc.template, **exc.params), exc.field)
        if isinstance(exc, Throttled):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> Response:
        response = _error_response(
            400, "csrf", _("This form has expired or did not come from this hub. Go back, reload the page and try again.")
        )
        response.headers["X-Error-Code"] = "csrf"  # the answer queue keeps answers refused for this
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        messages = {
            404: _("There is nothing here."),
            405: _("That action is not allowed here."),
            413: _("That upload is too large."),
        }
        code = (exc.name or "error").lower().replace(" ", "_")
        return _error_response(exc.code or 500, code, messages.get(exc.code or 0, exc.description or ""))

    @app.route("/")
    def index() -> Response:
        person = g.person
        if person is None:
            return redirect(url_for("auth.choose"))
        return redirect(home_url(person))


def home_url(person: Person) -> str:
    return {
        "admin": url_for("admin.home"),
        "teacher": url_for("teacher.home"),
        "learner": url_for("learner.home"),
    }[person.role]
