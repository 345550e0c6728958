"""Signing in and out: staff with a username and password, learners by class, name and picture or PIN.

The picture password works without JavaScript: each tap posts the pictures chosen so far, and
the third tap signs in. Failures always get the same message and count toward delays.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from classroom_server.errors import Invalid
from classroom_server.i18n import gettext as _
from classroom_server.services import accounts, goals, security, sessions
from classroom_server.web.access import requires

bp = Blueprint("auth", __name__)


def _policy() -> accounts.SignInPolicy:
    settings = current_app.config["SETTINGS"]
    return accounts.SignInPolicy(
        settings["login_free_failures"], settings["login_max_delay_seconds"],
        settings["learner_wrong_tries"], settings["learner_wrong_tries_refill_hours"],
    )


def _device() -> str:
    """This browser's device token (services/sessions.py), made on its first sign-in page visit."""
    token = request.cookies.get(sessions.DEVICE_COOKIE, "")
    if not (20 <= len(token) <= 100) or not token.replace("-", "").replace("_", "").isalnum():
        token = g.get("new_device") or sessions.new_token()
        g.new_device = token
    return token


@bp.after_app_request
def _keep_device(response: Response) -> Response:
    """Give a browser its device token with the sign-in response that first needed it."""
    token = g.get("new_device")
    if token:
        response.set_cookie(
            sessions.DEVICE_COOKIE, token, max_age=sessions.DEVICE_COOKIE_DAYS * 86400, httponly=True,
            samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response


def _start_session(person: accounts.Person) -> None:
    lang = session.get("lang")
    old = session.get("sid")
    session.clear()
    session.permanent = True
    session["sid"] = sessions.start(person, current_app.config["SETTINGS"]["session_hours"], replacing=old)
    session["auth_version"] = person.auth_version
    if lang:
        session["lang"] = lang


def _safe_next(default: str) -> str:
    """Only a path on this hub: no scheme, no host, no backslash or control character that a
    browser would read as the start of another host (``/\\evil``, ``/%09/evil``)."""
    target = request.values.get("next", "")
    if not target.startswith("/") or any(ch == "\\" or ord(ch) < 0x21 or ord(ch) == 0x7F for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return default
    return target


@bp.route("/login")
def choose() -> str:
    return render_template("auth/choose.html", next=request.args.get("next", ""))


@bp.route("/login/staff", methods=["GET", "POST"])
def staff() -> ResponseReturnValue:
    error = None
    status = 200
    if request.method == "POST":
        try:
            person = accounts.sign_in_staff(
                request.form.get("username", ""), request.form.get("password", ""),
                request.remote_addr or "-", _policy(), _device(),
            )
        except Invalid as exc:
            error, status = _(exc.template, **exc.params), 400
        else:
            _start_session(person)
            from classroom_server.web import home_url

            return redirect(_safe_next(home_url(person)))
    return render_template("auth/staff.html", error=error, username=request.form.get("username", "")), status


@bp.route("/login/learner")
def learner_classes() -> str:
    return render_template("auth/learner_classes.html", classes=accounts.all_classes())


@bp.route("/login/learner/<int:class_id>")
def learner_names(class_id: int) -> str:
    classroom = accounts.get_class(class_id)
    return render_template(
        "auth/learner_names.html", classroom=classroom, learners=accounts.learners_in(classroom)
    )


@bp.route("/login/learner/<int:class_id>/<int:learner_id>", methods=["GET", "POST"])
def learner_secret(class_id: int, learner_id: int) -> ResponseReturnValue:
    classroom = accounts.get_class(class_id)
    learner = accounts.get_learner_in(classroom, learner_id)
    error = None
    status = 200
    chosen: list[str] = []
    if request.method == "POST":
        if classroom.login_kind == "picture":
            chosen = [p for p in request.form.get("so_far", "").split(",") if p in security.PICTURES]
            pick = request.form.get("pick", "")
            if pick in security.PICTURES:
                chosen.append(pick)
            chosen = chosen[: security.PICTURE_COUNT]
            secret: str | list[str] = chosen
            ready = len(chosen) == security.PICTURE_COUNT
        else:
            secret = request.form.get("pin", "")
            ready = True
        if ready:
            try:
                person = accounts.sign_in_learner(
                    classroom, learner.id, secret, request.remote_addr or "-", _policy(), _device(),
                    then=_start_session,  # in the sign-in's own transaction: one commit for all
                )
            except Invalid as exc:
                error, status, chosen = _(exc.template, **exc.params), 400, []
            else:
                session["challenge"] = goals.challenge_of(person)  # "How hard?" as they left it
                return redirect(url_for("learner.home"))
    return render_template(
        "auth/learner_secret.html", classroom=classroom, learner=learner, error=error,
        chosen=chosen, pictures=security.PICTURES, needed=security.PICTURE_COUNT,
    ), status


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    # A learner's language goes with them: on a shared tablet the next child starts from the
    # hub's language and chooses their own. Staff keep theirs on their own device.
    person = g.get("person")
    lang = session.get("lang") if person is not None and person.role != "learner" else None
    sessions.end(session.get("sid"))  # a copy of the cookie is signed out too
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You are signed out."))
    response = redirect(url_for("auth.choose"))
    # A shared tablet: the browser forgets the pages it kept for the person signing out (the
    # learner pages' script also drops them from the service worker's cache).
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


@bp.route("/account/password", methods=["GET", "POST"])
@requires("admin", "teacher")
def change_password() -> ResponseReturnValue:
    error_field, error = None, None
    if request.method == "POST":
        new = request.form.get("new_password", "")
        if new != request.form.get("confirm_password", ""):
            error_field, error = "confirm_password", _("The two new passwords are not the same.")
        else:
            try:
                person = accounts.change_own_password(g.person, request.form.get("current_password", ""), new)
            except Invalid as exc:
                error_field, error = exc.field, _(exc.template, **exc.params)
            else:
                _start_session(person)
                flash(_("Your password is changed. Other devices are signed out."))
                from classroom_server.web import home_url

                return redirect(home_url(person))
    return render_template("auth/password.html", error=error, error_field=error_field), (400 if error else 200)


@bp.app_template_global()
def paused_sign_ins(classroom: accounts.Classroom) -> dict[int, int]:
    """For the class page: learners whose sign-in paused after too many wrong tries."""
    return accounts.paused_sign_ins(classroom, _policy())


@bp.route("/teach/classes/<int:class_id>/learners/<int:learner_id>/sign-in-again", methods=["POST"])
@requires("teacher", "admin")
def let_sign_in_again(class_id: int, learner_id: int) -> ResponseReturnValue:
    """The teacher's one step for a learner whose sign-in paused (docs/security.md)."""
    classroom = accounts.get_class_for(g.person, class_id)
    learner = accounts.get_learner_in(classroom, learner_id)
    accounts.let_sign_in_again(classroom, learner, g.person)
    flash(_("%(name)s can sign in again.", name=learner.display_name))
    return redirect(url_for("teacher.class_page", class_id=classroom.id))
