"""Teacher pages: my classes, the class list, adding, editing and removing learners (with undo)."""

from __future__ import annotations

import secrets

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for

from classroom_server.errors import Invalid
from classroom_server.i18n import gettext as _
from classroom_server.models import Classroom
from classroom_server.services import accounts, security
from classroom_server.web.access import requires

bp = Blueprint("teacher", __name__, url_prefix="/teach")


def new_secret(classroom: Classroom) -> list[str] | str:
    """A fresh random picture sequence or PIN, shown once to the teacher to give the learner."""
    rng = secrets.SystemRandom()
    if classroom.login_kind == "picture":
        return [rng.choice(security.PICTURES) for _ in range(security.PICTURE_COUNT)]
    return f"{rng.randrange(10000):04d}"


@bp.route("/")
@requires("teacher", "admin")
def home() -> str:
    return render_template("teacher/home.html", classes=accounts.classes_for(g.person))


@bp.route("/classes/<int:class_id>")
@requires("teacher", "admin")
def class_page(class_id: int) -> str:
    classroom = accounts.get_class_for(g.person, class_id)
    return render_template(
        "teacher/class.html", classroom=classroom, learners=accounts.learners_in(classroom),
        colours=accounts.AVATAR_COLOURS, error=None, form={},
    )


@bp.route("/classes/<int:class_id>/learners", methods=["POST"])
@requires("teacher", "admin")
def add_learner(class_id: int) -> Response | tuple[str, int]:
    classroom = accounts.get_class_for(g.person, class_id)
    secret = new_secret(classroom)
    try:
        learner = accounts.create_learner(
            classroom, request.form.get("display_name", ""), request.form.get("avatar", ""), secret, g.person
        )
    except Invalid as exc:
        return render_template(
            "teacher/class.html", classroom=classroom, learners=accounts.learners_in(classroom),
            colours=accounts.AVATAR_COLOURS, error=_(exc.template, **exc.params), error_field=exc.field, form=request.form,
        ), 400
    return render_template("teacher/secret_card.html", classroom=classroom, learner=learner, secret=secret), 201


@bp.route("/classes/<int:class_id>/learners/<int:learner_id>", methods=["GET", "POST"])
@requires("teacher", "admin")
def edit_learner(class_id: int, learner_id: int) -> Response | str | tuple[str, int]:
    classroom = accounts.get_class_for(g.person, class_id)
    learner = accounts.get_learner_in(classroom, learner_id)
    if request.method == "POST":
        try:
            accounts.update_learner(
                classroom, learner, request.form.get("display_name", ""), request.form.get("avatar", ""), g.person
            )
        except Invalid as exc:
            return render_template(
                "teacher/learner.html", classroom=classroom, learner=learner,
                colours=accounts.AVATAR_COLOURS, error=_(exc.template, **exc.params), form=request.form,
            ), 400
        flash(_("Saved."))
        return redirect(url_for("teacher.class_page", class_id=classroom.id))
    return render_template(
        "teacher/learner.html", classroom=classroom, learner=learner, colours=accounts.AVATAR_COLOURS,
        error=None, form={"display_name": learner.display_name, "avatar": learner.avatar},
    )


@bp.route("/classes/<int:class_id>/learners/<int:learner_id>/secret", methods=["POST"])
@requires("teacher", "admin")
def reset_secret(class_id: int, learner_id: int) -> str:
    classroom = accounts.get_class_for(g.person, class_id)
    learner = accounts.get_learner_in(classroom, learner_id)
    secret = new_secret(classroom)
    accounts.reset_learner_secret(classroom, learner, secret, g.person)
    return render_template("teacher/secret_card.html", classroom=classroom, learner=learner, secret=secret)


@bp.route("/classes/<int:class_id>/learners/<int:learner_id>/remove", methods=["GET", "POST"])
@requires("teacher", "admin")
def remove_learner(class_id: int, learner_id: int) -> Response | str:
    classroom = accounts.get_class_for(g.person, class_id)
    learner = accounts.get_learner_in(classroom, learner_id)
    if request.method == "GET":
        return render_template("teacher/confirm_remove.html", classroom=classroom, learner=learner)
    accounts.remove_from_class(classroom, learner, g.person)
    flash(_("%(name)s was taken off the class list. Their work is kept.", name=learner.display_name))
    return redirect(url_for("teacher.class_page", class_id=classroom.id, undo=learner.id))


@bp.route("/classes/<int:class_id>/learners/<int:learner_id>/restore", methods=["POST"])
@requires("teacher", "admin")
def restore_learner(class_id: int, learner_id: int) -> Response:
    classroom = accounts.get_class_for(g.person, class_id)
    learner = accounts.restore_to_class(classroom, learner_id, g.person)
    flash(_("%(name)s is back on the class list.", name=learner.display_name))
    return redirect(url_for("teacher.class_page", class_id=classroom.id))
