"""Drill-downs under the mastery grid (#18, item 4): a learner's answers one by one, and one
skill across the class.

A teacher opens them for their own classes only (an admin, for every class): each route takes
the class and the learner through ``accounts.get_class_for`` / ``get_learner_in``, so another
class's page is the same 404 as one that does not exist, and a skill the class does not study
is a 404 too. The numbers come from services/drilldown.py; this module only phrases them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from flask import Blueprint, current_app, g, render_template, request
from markupsafe import Markup

from classroom_server.errors import Invalid
from classroom_server.i18n import gettext as _
from classroom_server.numbers import optional_int
from classroom_server.services import accounts, courses, drilldown, teaching
from classroom_server.services.learning import Engine
from classroom_server.web.access import requires
from classroom_server.web.charts import FAINT, STATE_STYLE, SVG_NS
from classroom_server.web.teacher import state_words

bp = Blueprint("drilldown", __name__, url_prefix="/teach/classes/<int:class_id>")
RIGHT_FILL, FEW_FILL = STATE_STYLE["mastered"][0], "#8a8478"


def _engine() -> Engine:
    return current_app.extensions["engine"]


def share_bar(percent: int | None, enough: bool) -> Markup:
    """A small bar of the share of right answers, drawn on the server; the number is written
    beside it, so the bar is hidden from screen readers. Grey when the answers are too few."""
    svg = ET.Element("svg", {"xmlns": SVG_NS, "viewBox": "0 0 100 10", "width": "96", "height": "12",
                             "preserveAspectRatio": "none", "class": "share-bar", "aria-hidden": "true",
                             "focusable": "false"})
    ET.SubElement(svg, "rect", {"x": "0", "y": "0", "width": "100", "height": "10", "fill": "#ffffff",
                                "stroke": FAINT, "stroke-width": "1"})
    if percent:
        ET.SubElement(svg, "rect", {"x": "0", "y": "0", "width": str(percent), "height": "10",
                                    "fill": RIGHT_FILL if enough else FEW_FILL})
    return Markup(ET.tostring(svg, encoding="unicode"))


def duration(ms: int | None) -> str:
    """Time taken on an answer, as a teacher reads it ("42 s", "2 min 5 s"); "—" when unknown."""
    if ms is None:
        return "—"
    seconds = (ms + 500) // 1000
    if seconds < 60:
        return _("%(seconds)d s", seconds=seconds)
    return _("%(minutes)d min %(seconds)d s", minutes=seconds // 60, seconds=seconds % 60)


def share(value: float | int | None) -> str:
    """A percent in the page's language (French puts a no-break space before %)."""
    return "—" if value is None else _("%(percent)d%%", percent=value)


@bp.route("/learners/<int:learner_id>/history")
@requires("teacher", "admin")
def learner_history(class_id: int, learner_id: int) -> str:
    """The learner's answers, newest first, 50 a page: what they answered (in words), right or
    not, hints, time and the misconception a wrong answer revealed."""
    classroom = accounts.get_class_for(g.person, class_id)
    learner = accounts.get_learner_in(classroom, learner_id)
    try:
        page = optional_int(request.args.get("page"), "page", 1) or 1
    except Invalid:
        page = 1
    show = request.args.get("show", "")
    pack_id, skill_id = drilldown.parse_filter(_engine(), classroom, show)
    history = drilldown.learner_history(_engine(), classroom, learner, g.lang, pack_id=pack_id, skill_id=skill_id,
                                        page=page)
    grids = teaching.pack_skills(_engine(), g.lang, courses.courses_of(classroom))
    studied = {(grid.pack_id, s) for grid in grids for s, _title in grid.skills}
    shown = "" if pack_id is None else pack_id if skill_id is None else f"{pack_id}:{skill_id}"
    return render_template("teacher/drill_history.html", classroom=classroom, learner=learner, history=history,
                           grids=grids, studied=studied, show=shown, duration=duration)


@bp.route("/skills/<pack_id>/<skill_id>")
@requires("teacher", "admin")
def skill(class_id: int, pack_id: str, skill_id: str) -> str:
    """One skill across the class: where each learner is, its questions hardest first, and the
    wrong answers given most with the misconception each reveals."""
    classroom = accounts.get_class_for(g.person, class_id)
    overview = drilldown.skill_overview(_engine(), classroom, pack_id, skill_id, g.lang)
    bars = {s.item_id: share_bar(s.percent, s.enough) for s in overview.items}
    return render_template("teacher/drill_skill.html", classroom=classroom, overview=overview, bars=bars,
                           words=state_words(), states=drilldown.STATES, share=share,
                           few=drilldown.FEW_ANSWERS)
