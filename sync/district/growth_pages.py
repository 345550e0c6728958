"""The dashboard's growth pages: every school, a school's classes, a class (its learners' growth,
its skills and its mastery grid) and a learner's competencies, read-only, each with a CSV file
made by the same function as its page (sync/district/growth.py computes them).

Charts are the hub's server-drawn SVG (classroom_server/web/charts.py): no script.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from classroom_server import growth_rules
from classroom_server.errors import Invalid
from classroom_server.i18n import gettext as _
from classroom_server.i18n import ngettext
from classroom_server.web import charts
from classroom_server.web.reports import _csv, number, state_words
from sync.district import classwork, growth, move_pages
from sync.district.web import _scope, bp, signed_in


def _asked_period() -> tuple[growth_rules.Period, str | None]:
    """The period in the address (UTC days at the district), or the default and why the asked
    one was refused."""
    today = growth.today()
    try:
        return growth_rules.period(request.args.get("period"), request.args.get("since"), today, Invalid), None
    except Invalid as exc:
        return growth_rules.period(None, None, today, Invalid), _(exc.template, **exc.params)


def _period_args(chosen: growth_rules.Period) -> dict[str, Any]:
    if chosen.kind == "since":
        return {"period": "since", "since": chosen.first_day.isoformat()}
    return {"period": chosen.kind}


def _weeks(chosen: growth_rules.Period) -> dict[str, Any]:
    return {"term": growth_rules.TERM_WEEKS, "year": growth_rules.SCHOOL_YEAR_WEEKS,
            "now": f"{growth_rules.round_half_up(chosen.weeks, 1):g}"}


def _chart(weeks: Any, chart_id: str, title: str) -> Markup:
    return charts.growth_chart(
        [w.growth for w in weeks], [w.expected for w in weeks], [str(n) for n in range(1, len(weeks) + 1)],
        chart_id=chart_id, title=title,
        description=_("Bars: skills mastered since the start of the period, at the end of each week. Dashed "
                      "line: the growth the packs expect by then. The table below gives the numbers."),
        legend_growth=_("Skills mastered"), legend_expected=_("Expected pace"), axis=_("Weeks"))


def _total(rows: list[growth.GrowthRow], chosen: growth_rules.Period, name: str) -> growth.GrowthRow:
    """The rows summed: every learner of every row, week by week."""
    weeks = len(chosen.week_spans())
    series = [sum(r.at_start for r in rows)] + [sum(r.weeks[n].mastered for r in rows) for n in range(weeks)]
    pace = sum(r.pace for r in rows)
    return growth.growth_row(None, name, sum(r.classes for r in rows), sum(r.learners for r in rows), pace, series,
                             chosen)


def _growth_header() -> list[str]:
    return [_("Learners"), _("First day"), _("Last day"), _("Mastered at the start"), _("Mastered now"), _("Growth"),
            _("Expected growth"), _("Percent of expected")]


def _growth_cells(row: Any, chosen: growth_rules.Period) -> list[Any]:
    return [row.learners, chosen.first_day.isoformat(), chosen.today.isoformat(), row.at_start, row.now, row.growth,
            row.expected, row.percent]


def _page(template: str, chosen: growth_rules.Period, error: str | None, **context: Any) -> ResponseReturnValue:
    return render_template(template, period=chosen, error=error, weeks=_weeks(chosen),
                           period_args=_period_args(chosen), number=number, **context), 400 if error else 200


@bp.route("/growth")
@signed_in()
def growth_home() -> ResponseReturnValue:
    chosen, error = _asked_period()
    rows = growth.schools(_scope(), chosen)
    total = _total(rows, chosen, _("Every school"))
    chart = _chart(total.weeks, "growth-all", _("Every school: skills mastered since %(date)s, week by week",
                                                date=chosen.first_day.isoformat()))
    args = _period_args(chosen)
    return _page("district/growth.html", chosen, error, rows=rows, total=total, chart=chart,
                 link=lambda row: url_for("dashboard.school_growth", school_id=row.key, **args))


@bp.route("/growth.csv")
@signed_in()
def growth_csv() -> ResponseReturnValue:
    chosen, _error = _asked_period()
    rows = growth.schools(_scope(), chosen)
    shown = rows + [_total(rows, chosen, _("Every school"))] if len(rows) > 1 else rows  # the page's total row
    return _csv(f"district-growth-{chosen.today.isoformat()}.csv", [_("School"), _("Classes")] + _growth_header(),
                [[r.name, r.classes] + _growth_cells(r, chosen) for r in shown])


@bp.route("/schools/<int:school_id>/growth")
@signed_in()
def school_growth(school_id: int) -> ResponseReturnValue:
    chosen, error = _asked_period()
    rows = growth.classes_of(_scope(), school_id, chosen)
    if rows is None:
        abort(404)
    school = growth.school_name(school_id)
    total = _total(rows, chosen, school)
    chart = _chart(total.weeks, "growth-school", _("%(name)s: skills mastered since %(date)s, week by week",
                                                   name=school, date=chosen.first_day.isoformat()))
    args = _period_args(chosen)
    return _page("district/school_growth.html", chosen, error, rows=rows, total=total, chart=chart,
                 school=school, school_id=school_id, skills=growth.skills_of(_scope(), school_id, chosen, g.lang),
                 school_packs=classwork.school_packs(school_id, g.lang) if g.staff.school_id is None else [],
                 roster_classes=len(classwork.roster_classes(school_id)),
                 link=lambda row: url_for("dashboard.class_page", registration_id=row.key[0], class_uid=row.key[1],
                                          **args))


@bp.route("/schools/<int:school_id>/growth.csv")
@signed_in()
def school_growth_csv(school_id: int) -> ResponseReturnValue:
    chosen, _error = _asked_period()
    rows = growth.classes_of(_scope(), school_id, chosen)
    if rows is None:
        abort(404)
    shown = rows + [_total(rows, chosen, growth.school_name(school_id))] if len(rows) > 1 else rows
    return _csv(f"school-{school_id}-growth-{chosen.today.isoformat()}.csv", [_("Class"), _("Hub")] + _growth_header(),
                [[r.name, r.hub] + _growth_cells(r, chosen) for r in shown])


@bp.route("/schools/<int:school_id>/courses", methods=["POST"])
@signed_in(district_only=True)
def school_courses(school_id: int) -> ResponseReturnValue:
    """Give every class of the school's roster the same courses (a grade's classes, say)."""
    if not _scope().allows(school_id) or not growth.school_name(school_id):
        abort(404)
    chosen = request.form.getlist("pack")
    bands = {p: (request.form.get(f"from-{p}", ""), request.form.get(f"to-{p}", "")) for p in chosen}
    try:
        done, classes = classwork.give_school_courses(school_id, chosen, bands)
    except Invalid as exc:
        flash(_(exc.template, **exc.params))
    else:
        flash(ngettext("Sent to %(num)d class: its hub gives it these courses at its next sync or USB stick.",
                       "Sent to %(num)d classes: each hub gives them these courses at its next sync or USB stick.",
                       classes) if done.published else _("Nothing changed: every class already has these courses."))
    return redirect(url_for("dashboard.school_growth", school_id=school_id) + "#school-courses")


@bp.route("/schools/<int:school_id>/skills.csv")
@signed_in()
def school_skills_csv(school_id: int) -> ResponseReturnValue:
    chosen, _error = _asked_period()
    rows = growth.skills_of(_scope(), school_id, chosen, g.lang)
    if rows is None:
        abort(404)
    return _csv(f"school-{school_id}-skills-{chosen.today.isoformat()}.csv",
                [_("Pack"), _("Skill"), _("Learners"), _("First day"), _("Last day"), _("Mastered at the start"),
                 _("Mastered now"), _("Growth")],
                [[r.pack, r.title, r.learners, chosen.first_day.isoformat(), chosen.today.isoformat(), r.at_start,
                  r.now, r.growth] for r in rows])


def _class(registration_id: int, class_uid: str, chosen: growth_rules.Period) -> growth.ClassDetail:
    detail = growth.class_detail(_scope(), registration_id, class_uid, chosen, g.lang)
    if detail is None:
        abort(404)
    return detail


@bp.route("/hubs/<int:registration_id>/classes/<class_uid>")
@signed_in()
def class_page(registration_id: int, class_uid: str) -> ResponseReturnValue:
    chosen, error = _asked_period()
    detail = _class(registration_id, class_uid, chosen)
    chart = _chart(detail.summary.weeks, "growth-class", _("%(name)s: skills mastered since %(date)s, week by week",
                                                           name=detail.klass.name, date=chosen.first_day.isoformat()))
    return _page("district/class.html", chosen, error, detail=detail, chart=chart, states=growth.STATES,
                 state_words=state_words(), symbols={s: charts.STATE_STYLE[s][2] for s in growth.STATES},
                 pace_per_year=growth_rules.round_half_up(detail.klass.per_year, 1),
                 work=classwork.classwork_of(detail.klass, g.lang), skill_titles=_skill_titles(detail))


def _skill_titles(detail: growth.ClassDetail) -> dict[str, str]:
    return {row.skill: row.title for row in detail.skills}


def _class_or_404(registration_id: int, class_uid: str) -> Any:
    found = growth.find_class(_scope(), registration_id, class_uid)
    if found is None:
        abort(404)
    return found


def _back_to_class(registration_id: int, class_uid: str, anchor: str) -> ResponseReturnValue:
    return redirect(url_for("dashboard.class_page", registration_id=registration_id, class_uid=class_uid) + anchor)


@bp.route("/hubs/<int:registration_id>/classes/<class_uid>/courses", methods=["POST"])
@signed_in(district_only=True)
def class_courses(registration_id: int, class_uid: str) -> ResponseReturnValue:
    """Give a district class its courses; its hub applies them at its next sync or stick."""
    klass = _class_or_404(registration_id, class_uid)
    chosen = request.form.getlist("pack")
    bands = {p: (request.form.get(f"from-{p}", ""), request.form.get(f"to-{p}", "")) for p in chosen}
    try:
        done = classwork.give_courses(klass, classwork.courses_from(klass, chosen, bands))
    except Invalid as exc:
        flash(_(exc.template, **exc.params))
        return _back_to_class(registration_id, class_uid, "#courses")
    flash(_("Nothing changed: the class already has these courses.") if not done.published else
          _("Sent: %(hub)s gives %(class)s these courses at its next sync or USB stick.", hub=klass.hub.name,
            **{"class": klass.name}))
    return _back_to_class(registration_id, class_uid, "#courses")


@bp.route("/hubs/<int:registration_id>/classes/<class_uid>/assignment", methods=["POST"])
@signed_in(district_only=True)
def class_assignment(registration_id: int, class_uid: str) -> ResponseReturnValue:
    """The skills a district class works on first (none: clear it)."""
    klass = _class_or_404(registration_id, class_uid)
    try:
        done = classwork.give_skills(klass, request.form.getlist("skill"))
    except Invalid as exc:
        flash(_(exc.template, **exc.params))
        return _back_to_class(registration_id, class_uid, "#assignment")
    flash(_("Nothing changed: the class already works on these skills first.") if not done.published else
          _("Sent: %(hub)s gives %(class)s this assignment at its next sync or USB stick.", hub=klass.hub.name,
            **{"class": klass.name}))
    return _back_to_class(registration_id, class_uid, "#assignment")


@bp.route("/hubs/<int:registration_id>/classes/<class_uid>/growth.csv")
@signed_in()
def class_growth_csv(registration_id: int, class_uid: str) -> ResponseReturnValue:
    chosen, _error = _asked_period()
    detail = _class(registration_id, class_uid, chosen)
    header = [_("Learner"), _("First day"), _("Last day"), _("Mastered at the start"), _("Mastered now"), _("Growth"),
              _("Expected growth"), _("Percent of expected")]
    rows = [[r.name, chosen.first_day.isoformat(), chosen.today.isoformat(), r.at_start, r.now, r.growth, r.expected,
             r.percent] for r in detail.learners]
    return _csv(f"class-growth-{chosen.today.isoformat()}.csv", header, rows)


@bp.route("/hubs/<int:registration_id>/classes/<class_uid>/skills.csv")
@signed_in()
def class_skills_csv(registration_id: int, class_uid: str) -> ResponseReturnValue:
    chosen, _error = _asked_period()
    detail = _class(registration_id, class_uid, chosen)
    words = state_words()
    header = [_("Pack"), _("Skill"), _("Mastered at the start")] + [words[s] for s in growth.STATES]
    rows = [[r.pack, r.title, r.at_start] + [r.states[s] for s in growth.STATES] for r in detail.skills]
    return _csv(f"class-skills-{chosen.today.isoformat()}.csv", header, rows)


@bp.route("/hubs/<int:registration_id>/classes/<class_uid>/learners/<learner_uid>")
@signed_in()
def learner_page(registration_id: int, class_uid: str, learner_uid: str) -> ResponseReturnValue:
    chosen, error = _asked_period()
    detail = growth.learner_detail(_scope(), registration_id, class_uid, learner_uid, chosen, g.lang)
    if detail is None:
        abort(404)
    chart = _chart(detail.growth.weeks, "growth-learner", _(
        "%(name)s: skills mastered since %(date)s, week by week", name=detail.growth.name,
        date=chosen.first_day.isoformat()))
    # The district's staff may move the learner to another school (sync/district/move_pages.py).
    move = move_pages.move_form(registration_id, class_uid, learner_uid) if g.staff.school_id is None else None
    return _page("district/learner.html", chosen, error, detail=detail, chart=chart, state_words=state_words(),
                 symbols={s: charts.STATE_STYLE[s][2] for s in growth.STATES}, move=move, back=url_for(
                     "dashboard.class_page", registration_id=registration_id, class_uid=class_uid,
                     **_period_args(chosen)))
