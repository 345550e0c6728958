"""Admin pages: teachers, classes and the hub's health; a staff account's page (name, a new
password, archive) and a class's (name, teachers, archive), each archive confirmed and undoable."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from classroom_server.errors import ClassroomError, Invalid
from classroom_server.i18n import gettext as _
from classroom_server.numbers import parse_int
from classroom_server.services import accounts, school_admin
from classroom_server.web.access import requires
from classroom_server.web.health import health_report

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _page(error: str | None = None, error_field: str | None = None, form=None, status: int = 200):
    teachers = accounts.staff()
    classes = accounts.all_classes()
    return render_template(
        "admin/home.html", staff=teachers, classes=classes, health=health_report(),
        teachers=[t for t in teachers if t.role == "teacher"], error=error, error_field=error_field,
        form=form or {}, archived_staff=school_admin.archived_staff(),
        archived_classes=school_admin.archived_classes(),
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


def _staff_page(person, error: str | None = None, error_field: str | None = None, status: int = 200):
    return render_template("admin/staff.html", person=person, error=error, error_field=error_field,
                           confirm=request.args.get("confirm") == "archive"), status


@bp.route("/staff/<int:person_id>", methods=["GET", "POST"])
@requires("admin")
def staff_page(person_id: int) -> ResponseReturnValue:
    """One staff account: rename, give a new password (they are signed out everywhere), archive
    (after a confirmation) or restore."""
    person = school_admin.get_staff(person_id)
    if request.method == "GET":
        return _staff_page(person)
    action = request.form.get("action", "")
    try:
        if action == "rename":
            school_admin.rename_staff(g.person, person, request.form.get("display_name", ""))
            message = _("Saved.")
        elif action == "password":
            school_admin.reset_staff_password(g.person, person, request.form.get("password", ""))
            message = _("%(name)s has a new password and is signed out everywhere. Give it to them in person.",
                        name=person.display_name)
        elif action in ("archive", "restore"):
            school_admin.set_staff_archived(g.person, person, action == "archive")
            message = (_("%(name)s's account is archived: they can no longer sign in.", name=person.display_name)
                       if action == "archive" else _("%(name)s's account is back.", name=person.display_name))
        else:
            raise Invalid("Choose one of the actions on the page.", field="action")
    except ClassroomError as exc:
        return _staff_page(person, _(exc.template, **exc.params), exc.field, 400)
    flash(message)
    return redirect(url_for("admin.staff_page", person_id=person.id))


def _class_page(classroom, error: str | None = None, error_field: str | None = None, form=None,
                status: int = 200):
    chosen = ([str(t.id) for t in school_admin.teachers_of(classroom)] if form is None
              else form.getlist("teachers"))
    return render_template(
        "admin/class.html", classroom=classroom, error=error, error_field=error_field,
        teachers=[t for t in accounts.staff() if t.role == "teacher"], chosen=chosen,
        name=classroom.name if form is None else form.get("name", ""),
        confirm=request.args.get("confirm") == "archive"), status


@bp.route("/classes/<int:class_id>", methods=["GET", "POST"])
@requires("admin")
def class_settings(class_id: int) -> ResponseReturnValue:
    """A class's name and teachers, and archiving it at the end of a year (after a confirmation)."""
    classroom = school_admin.get_any_class(g.person, class_id)
    if request.method == "GET":
        return _class_page(classroom)
    action = request.form.get("action", "")
    try:
        if action == "save":
            school_admin.update_class(g.person, classroom, request.form.get("name", ""), _teacher_ids())
            message = _("Saved.")
        elif action in ("archive", "restore"):
            school_admin.set_class_archived(g.person, classroom, action == "archive")
            message = (_("%(name)s is archived. Its learners and their work are kept.", name=classroom.name)
                       if action == "archive" else _("%(name)s is back.", name=classroom.name))
        else:
            raise Invalid("Choose one of the actions on the page.", field="action")
    except ClassroomError as exc:
        return _class_page(classroom, _(exc.template, **exc.params), exc.field,
                           request.form if action == "save" else None, 400)
    flash(message)
    return redirect(url_for("admin.class_settings", class_id=classroom.id))
