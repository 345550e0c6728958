"""Tomorrow's plan for a class (services/plan.py): groups proposed by the hub, moved by the
teacher on the page, each assigned with one click, the whole printed on one page."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from classroom_server import clock
from classroom_server.errors import Invalid
from classroom_server.i18n import gettext as _
from classroom_server.numbers import parse_int
from classroom_server.services import accounts, plan, teaching
from classroom_server.services.learning import Engine
from classroom_server.web.access import requires

bp = Blueprint("plan", __name__, url_prefix="/teach")


def _engine() -> Engine:
    engine: Engine = current_app.extensions["engine"]
    return engine


def _arrangement() -> dict[int, str]:
    """The teacher's moves from the form: ``move-<learner id>`` = a qualified skill."""
    found: dict[int, str] = {}
    for key, value in request.form.items():
        if key.startswith("move-") and value:
            try:
                found[parse_int(key[5:], "move", 1)] = value
            except Invalid:
                continue
    return found


@bp.route("/classes/<int:class_id>/plan", methods=["GET", "POST"])
@requires("teacher", "admin")
def tomorrow(class_id: int) -> ResponseReturnValue:
    classroom = accounts.get_class_for(g.person, class_id)
    arrangement = _arrangement() if request.method == "POST" else None
    proposed = plan.propose(_engine(), classroom, g.lang, arrangement)
    error = error_field = None
    if request.method == "POST" and request.form.get("assign"):
        skill = request.form["assign"]
        group = next((grp for grp in proposed.groups if grp.skill == skill), None)
        try:
            if group is None:
                raise Invalid("Choose one of the groups on the page.", field="assign")
            due = teaching.parse_due(request.form.get("due"), clock.now().astimezone().date())
            plan.assign_group(_engine(), g.person, classroom, skill, [e.learner.id for e in group.members], due)
        except Invalid as exc:
            error, error_field = _(exc.template, **exc.params), exc.field
        else:
            flash(_("%(skill)s is assigned to %(names)s.", skill=group.title,
                    names=", ".join(e.learner.display_name for e in group.members)))
            return redirect(url_for("plan.tomorrow", class_id=classroom.id))
    return render_template("teacher/plan.html", classroom=classroom, plan=proposed, error=error,
                           error_field=error_field, due=request.form.get("due", ""),
                           today=clock.now().astimezone().date().isoformat()), 400 if error else 200
