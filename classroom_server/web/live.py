"""The live class view: a page for the teacher during class, and the cards it refreshes.

The page works without JavaScript (a plain Refresh link). With it, static/live.js asks for
``/live/now`` every POLL_SECONDS with the ETag it holds; the hub answers 304 when nothing
changed, after one indexed query (services/live.py says why this polls rather than streams).
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, current_app, g, make_response, render_template, request
from markupsafe import Markup, escape

from classroom_server import clock
from classroom_server.i18n import gettext as _
from classroom_server.services import accounts, live
from classroom_server.services.learning import Engine
from classroom_server.web.access import requires
from classroom_server.web.dates import in_words

bp = Blueprint("live", __name__, url_prefix="/teach")
POLL_SECONDS = 10


def _engine() -> Engine:
    return current_app.extensions["engine"]


def _etag(classroom: accounts.Classroom, now: dt.datetime) -> str:
    """The cards depend on the class's events, the minute, and the teacher's language."""
    return f"live.{live.version(classroom, now)}.{g.lang}"


def idle_words(value: str | None) -> Markup:
    """Since when a learner has done nothing: "Idle since 10:32" today, "Last active 3 days ago"
    before (in the hub's local time, the exact time in the tooltip)."""
    if not value:
        return escape(_("Nothing yet"))
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return escape(_("Nothing yet"))
    moment = (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone()
    if moment.date() == clock.now().astimezone().date():
        words = _("Idle since %(time)s", time=moment.strftime("%H:%M"))
    else:
        words = _("Last active %(when)s", when=in_words(value))
    return Markup('<time datetime="{}" title="{}">{}</time>').format(value, moment.strftime("%Y-%m-%d %H:%M"), words)


def _render(classroom: accounts.Classroom, now: dt.datetime, fragment: bool, etag: str) -> str:
    view = live.class_now(_engine(), classroom, g.lang, now)
    return render_template("teacher/live.html", classroom=classroom, view=view, fragment=fragment,
                           etag=etag, poll_seconds=POLL_SECONDS, idle_words=idle_words)


@bp.route("/classes/<int:class_id>/live")
@requires("teacher", "admin")
def page(class_id: int) -> str:
    """What each learner is doing now, who needs help and why, who is ready to move on."""
    classroom = accounts.get_class_for(g.person, class_id)
    now = clock.now()
    return _render(classroom, now, False, _etag(classroom, now))


@bp.route("/classes/<int:class_id>/live/now")
@requires("teacher", "admin")
def cards(class_id: int) -> Response:
    """The page's cards as an HTML fragment, with an ETag; 304 when the client's is current.

    The ETag is computed before the cards are built: an answer recorded meanwhile makes the next
    poll rebuild, never a stale fragment under a new tag.
    """
    classroom = accounts.get_class_for(g.person, class_id)
    now = clock.now()
    etag = _etag(classroom, now)
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        response = make_response(_render(classroom, now, True, etag))
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = "private, no-cache"
    return response
