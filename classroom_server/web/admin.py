"""Admin pages: teachers, classes and the hub's health."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from classroom_server.errors import ClassroomError, Invalid
from classroom_server.i18n import gettext as _
from classroom_server.numbers import parse_int
from classroom_server.services import accounts
from classroom_server.web.access import requires
from classroom_server.web.health import health_report

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _page(error: str | None = None, error_field: str | None = None, form=None, status: int = 200):
    teachers = accounts.staff()
    classes = accounts.all_classes()
    return render_template(
        "admin/home.html", staff=teachers, classes=classes, health=health_report(),
        teachers=[t for t in teachers if t.role == "teacher"], error=error, error_field=error_field,
        form=form or {},
    ), status


@bp.route("/")
@requires("admin")
def home():
    return _page()


@bp.route("/staff", methods=["POST"])
@requires("admin")
def add_staff():
    try:
        person = accounts.create_staff(
            request.form.get("role", "teacher"), request.form.get("username", ""),
            request.form.get("display_name", ""), request.form.get("password", ""), actor=g.person,
        )
    except ClassroomError as exc:
        return _page(_(exc.template, **exc.params), exc.field, request.form, 400)
    flash(_("Account %(username)s created.", username=person.username))
    return redirect(url_for("admin.home"))


def _teacher_ids() -> list[int]:
    try:
        return [parse_int(t, "teachers", 1) for t in request.form.getlist("teachers")]
    except Invalid:
        raise Invalid("Choose teachers from the list.", field="teachers") from None


@bp.route("/classes", methods=["POST"])
@requires("admin")
def add_class() -> ResponseReturnValue:
    try:
        teacher_ids = _teacher_ids()
        classroom = accounts.create_class(
            request.form.get("name", ""), request.form.get("login_kind", ""), teacher_ids, g.person
        )
    except ClassroomError as exc:
        return _page(_(exc.template, **exc.params), exc.field, request.form, 400)
    flash(_("Class %(name)s created.", name=classroom.name))
    return redirect(url_for("admin.home"))
