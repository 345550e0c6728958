"""Blueprints by audience, plus the hub-wide pieces they share: who is signed in, and (in
web/errors.py) the one error handler."""

from __future__ import annotations

from flask import Flask, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask.typing import ResponseReturnValue

from classroom_server.services import accounts, sessions


def is_background(req=None) -> bool:
    """A request the browser makes on its own (keeping the next items ready, the service worker
    keeping pages for offline use), not one the learner made."""
    req = req or request
    return bool(req.headers.get("X-Prefetch") or req.headers.get("Sec-Purpose", "").startswith("prefetch"))


class SessionCookies(SecureCookieSessionInterface):
    """Flask sends the session cookie again on every response to keep it from expiring. A
    background request that left the session as it was must not: it started with the cookie of
    its time, and a page the learner opened meanwhile may have changed the session (the note
    "continue where I stopped"); the late, older cookie would overwrite it."""

    def should_set_cookie(self, app: Flask, session) -> bool:
        if not session.modified and is_background():
            return False
        return super().should_set_cookie(app, session)


def _load_person() -> None:
    """Put the signed-in person on ``g``. The session must still be on the hub's list (signing
    out, a new password or secret, an archived account and a restore take it off), and its
    ``auth_version`` current."""
    g.person = None
    token = session.get("sid")
    if token is None:
        if "person_id" in session:  # a cookie from before sessions could be ended: sign in again
            session.clear()
        return
    person = sessions.person_for(token)
    if person is None or person.auth_version != session.get("auth_version"):
        session.clear()
        return
    g.person = person


def register_blueprints(app: Flask) -> None:
    from classroom_server.web import (
        admin,
        admin_packs,
        admin_sync,
        auth,
        content,
        drilldown,
        errors,
        headers,
        health,
        learner,
        live,
        openapi,
        plan,
        practice,
        reports,
        rosters,
        teacher,
    )
    from classroom_server.web.content import url_for_file
    from classroom_server.web.dates import time_tag
    from classroom_server.web.numbers import IdConverter

    app.url_map.converters["int"] = IdConverter  # every <int:...> is a row id; set before any route
    app.session_interface = SessionCookies()
    app.before_request(_load_person)
    app.jinja_env.globals["content_url"] = url_for_file
    app.jinja_env.filters["when"] = time_tag
    for module in (health, openapi, auth, learner, practice, teacher, live, plan, rosters, admin, admin_packs,
                   admin_sync, content, reports, drilldown):
        app.register_blueprint(module.bp)
    errors.init_app(app)
    headers.init_app(app)

    @app.route("/")
    def index() -> ResponseReturnValue:
        person = g.person
        if person is None:
            return redirect(url_for("auth.choose"))
        return redirect(home_url(person))


def home_url(person: accounts.Person) -> str:
    return {
        "admin": url_for("admin.home"),
        "teacher": url_for("teacher.home"),
        "learner": url_for("learner.home"),
    }[person.role]
