"""Reports for the teacher (#18, item 7): the class summary, a learner's growth, the family report,
and the class summary and growth as CSV files.

A teacher sees the reports of their own classes only (an admin, every class's): every route
takes the class and learner through ``accounts.get_class_for`` / ``get_learner_in``, so another
class's report is the same 404 as a class that does not exist.

CSV files hold exactly the numbers of their page: both come from the same service call, and the
numbers are written by the same function (``number``). They are UTF-8 with a byte order mark,
so spreadsheet programs (Excel above all, which otherwise assumes the computer's old code page)
read the accents of names and skill titles; comma-separated, a dot for decimals, CRLF line ends
(RFC 4180). A text cell that starts with ``= + - @`` (a learner's name, a skill's title) is
written after an apostrophe, so a spreadsheet shows it as text and never runs it as a formula.

The family report is written in the family's language, chosen on the page (``?language=es``):
its body is rendered with the hub's translations in that language and the pack's own titles and
descriptions in it, while the page around it (the teacher's header and buttons) stays in the
teacher's language.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, Response, current_app, g, render_template, request
from markupsafe import Markup

from classroom_server.errors import Invalid
from classroom_server.i18n import LANGUAGES
from classroom_server.i18n import gettext as _
from classroom_server.services import accounts, reports
from classroom_server.services.learning import Engine
from classroom_server.web import charts
from classroom_server.web.access import requires

bp = Blueprint("reports", __name__, url_prefix="/teach/classes/<int:class_id>/reports")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _engine() -> Engine:
    return current_app.extensions["engine"]


def number(value: int | float | None) -> str:
    """A report's number as the page and the CSV file both write it."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def state_words() -> dict[str, str]:
    """The mastery states in the grid's words (teacher/_states.html), in the current language."""
    return {"mastered": _("Mastered"), "proficient": _("Knows it"), "learning": _("In progress"),
            "needs_review": _("Needs review"), "not_started": _("Not started")}


def _asked_period() -> tuple[reports.Period, str | None]:
    """The period in the address, or the default one and why the asked one was refused."""
    today = reports.today()
    try:
        return reports.period(request.args.get("period"), request.args.get("since"), today), None
    except Invalid as exc:
        return reports.period(None, None, today), _(exc.template, **exc.params)


def _weeks(chosen: reports.Period) -> dict[str, Any]:
    """Numbers the period's words need: the term's and the year's weeks, this period's weeks."""
    return {"term": reports.TERM_WEEKS, "year": reports.SCHOOL_YEAR_WEEKS,
            "now": f"{reports.round_half_up(chosen.weeks, 1):g}"}


def _period_args(chosen: reports.Period) -> dict[str, str]:
    """The address arguments that ask for ``chosen`` again (for links to CSV files and pages)."""
    if chosen.kind == "since":
        return {"period": "since", "since": chosen.first_day.isoformat()}
    return {"period": chosen.kind}


# --- the class summary ------------------------------------------------------------------------------

@bp.route("")
@requires("teacher", "admin")
def summary(class_id: int) -> tuple[str, int]:
    """Per learner their growth over the period; per skill, how many learners are in each state."""
    classroom = accounts.get_class_for(g.person, class_id)
    chosen, error = _asked_period()
    report = reports.class_report(_engine(), classroom, chosen, g.lang)
    words = state_words()
    pack_charts = [charts.skills_chart(
        [(row.title, row.counts) for row in pack.skills], reports.STATES, words, chart_id=f"skills-{n}",
        title=_("%(pack)s: learners in each state, skill by skill", pack=pack.title),
        description=_("One bar per skill, in the order skills are learned; the table below gives the numbers."))
        for n, pack in enumerate(report.packs)]
    return render_template("reports/summary.html", classroom=classroom, report=report, charts=pack_charts,
                           states=reports.STATES, state_words=words, number=number, error=error,
                           period_args=_period_args(chosen), weeks=_weeks(chosen),
                           pace_per_year=reports.round_half_up(report.pace.per_year, 1),
                           expected=reports.round_half_up(report.pace.expected(chosen.days), 1)), 400 if error else 200


@bp.route("/skills.csv")
@requires("teacher", "admin")
def skills_csv(class_id: int) -> Response:
    classroom = accounts.get_class_for(g.person, class_id)
    chosen = reports.period(request.args.get("period"), request.args.get("since"), reports.today())
    report = reports.class_report(_engine(), classroom, chosen, g.lang)
    words = state_words()
    header = [_("Pack"), _("Skill")] + [words[s] for s in reports.STATES]
    rows = [[pack.title, row.title] + [row.counts[s] for s in reports.STATES]
            for pack in report.packs for row in pack.skills]
    return _csv(f"class-{classroom.id}-skills-{chosen.today.isoformat()}.csv", header, rows)


def _growth_header() -> list[str]:
    return [_("First day"), _("Last day"), _("Mastered at the start"), _("Mastered now"), _("Growth"),
            _("Expected growth"), _("Percent of expected")]


@bp.route("/growth.csv")
@requires("teacher", "admin")
def growth_csv(class_id: int) -> Response:
    classroom = accounts.get_class_for(g.person, class_id)
    chosen = reports.period(request.args.get("period"), request.args.get("since"), reports.today())
    report = reports.class_report(_engine(), classroom, chosen, g.lang)
    rows = [[row.learner.display_name, chosen.first_day.isoformat(), chosen.today.isoformat(), row.at_start,
             row.now, row.growth, row.expected, row.percent] for row in report.growth]
    return _csv(f"class-{classroom.id}-growth-{chosen.today.isoformat()}.csv", [_("Learner")] + _growth_header(),
                rows)


# --- one learner's growth ---------------------------------------------------------------------------

@bp.route("/learners/<int:learner_id>")
@requires("teacher", "admin")
def learner(class_id: int, learner_id: int) -> tuple[str, int]:
    """Skills mastered week by week since the period's start, against the expected pace."""
    classroom = accounts.get_class_for(g.person, class_id)
    person = accounts.get_learner_in(classroom, learner_id)
    chosen, error = _asked_period()
    pace, growth = reports.learner_report(_engine(), classroom, person, chosen)
    chart = charts.growth_chart(
        [w.growth for w in growth.weeks], [w.expected for w in growth.weeks],
        [str(n) for n in range(1, len(growth.weeks) + 1)], chart_id="growth",
        title=_("%(name)s: skills mastered since %(date)s, week by week", name=person.display_name,
                date=chosen.first_day.isoformat()),
        description=_("Bars: skills mastered since the start of the period, at the end of each week. Dashed "
                      "line: the growth the packs expect by then. The table below gives the numbers."),
        legend_growth=_("Skills mastered"), legend_expected=_("Expected pace"), axis=_("Weeks"))
    return render_template("reports/learner.html", classroom=classroom, learner=person, pace=pace, growth=growth,
                           period=chosen, chart=chart, number=number, error=error, period_args=_period_args(chosen),
                           languages_offered=LANGUAGES, weeks=_weeks(chosen),
                           pace_per_year=reports.round_half_up(pace.per_year, 1)), 400 if error else 200


@bp.route("/learners/<int:learner_id>/growth.csv")
@requires("teacher", "admin")
def learner_csv(class_id: int, learner_id: int) -> Response:
    classroom = accounts.get_class_for(g.person, class_id)
    person = accounts.get_learner_in(classroom, learner_id)
    chosen = reports.period(request.args.get("period"), request.args.get("since"), reports.today())
    _pace, growth = reports.learner_report(_engine(), classroom, person, chosen)
    header = [_("Week"), _("First day"), _("Last day"), _("Mastered skills"), _("Growth"), _("Expected growth")]
    rows = [[n, w.first_day.isoformat(), w.last_day.isoformat(), w.mastered, w.growth, w.expected]
            for n, w in enumerate(growth.weeks, 1)]
    return _csv(f"class-{classroom.id}-learner-{person.id}-growth-{chosen.today.isoformat()}.csv", header, rows)


# --- the family report ------------------------------------------------------------------------------

@contextmanager
def _speaking(lang: str) -> Iterator[None]:
    """Translate in ``lang`` for a while (the family's language), then in the page's again."""
    before = g.lang
    g.lang = lang
    try:
        yield
    finally:
        g.lang = before


@bp.route("/learners/<int:learner_id>/family")
@requires("teacher", "admin")
def family(class_id: int, learner_id: int) -> str:
    """A one-page report for the learner's family, in their language: what the learner can do,
    what they are working on, and how to help at home. Competencies only, nobody else in it."""
    classroom = accounts.get_class_for(g.person, class_id)
    person = accounts.get_learner_in(classroom, learner_id)
    asked = request.args.get("language")
    language = asked if asked in LANGUAGES else g.lang
    with _speaking(language):
        content = reports.family_report(_engine(), classroom, person, language)
        body = render_template("reports/family_body.html", classroom=classroom, learner=person, report=content,
                               state_words=state_words(), today=reports.today())
    return render_template("reports/family.html", classroom=classroom, learner=person, body=Markup(body),
                           language=language, languages_offered=LANGUAGES)


# --- CSV files --------------------------------------------------------------------------------------

def _cell(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    return number(value)


def _csv(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    out = io.StringIO()
    out.write("\ufeff")  # the byte order mark: spreadsheet programs then read UTF-8
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_cell(h) for h in header])
    writer.writerows([_cell(v) for v in row] for row in rows)
    response = Response(out.getvalue().encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
