"""Signing in and out: staff with a username and password, learners by class, name and picture or PIN.

The picture password works without JavaScript: each tap posts the pictures chosen so far, and
the third tap signs in. Failures always get the same message and count toward delays.
"""

from __future__ import annotations

from flask import (
    Blueprint,
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
from classroom_server.services import accounts, security
from classroom_server.web.access import requires

bp = Blueprint("auth", __name__)


def _policy() -> accounts.SignInPolicy:
    settings = current_app.config["SETTINGS"]
    return accounts.SignInPolicy(settings["login_free_failures"], settings["login_max_delay_seconds"])


def _start_session(person: accounts.Person) -> None:
    lang = session.get("lang")
    session.clear()
    session.permanent = True
    session["person_id"] = person.id
    session["auth_version"] = person.auth_version
    if lang:
        session["lang"] = lang


def _safe_next(default: str) -> str:
    target = request.values.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else default


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
                request.remote_addr or "-", _policy(),
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
                    classroom, learner.id, secret, request.remote_addr or "-", _policy()
                )
            except Invalid as exc:
                error, status, chosen = _(exc.template, **exc.params), 400, []
            else:
                _start_session(person)
                return redirect(url_for("learner.home"))
    return render_template(
        "auth/learner_secret.html", classroom=classroom, learner=learner, error=error,
        chosen=chosen, pictures=security.PICTURES, needed=security.PICTURE_COUNT,
    ), status


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    lang = session.get("lang")
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
