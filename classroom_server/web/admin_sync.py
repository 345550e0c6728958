"""The admin's District sync page: enrolment, how syncs went, refused events, and "Sync now"
(run in a background thread; the page polls a small progress endpoint, or refreshes itself
without JavaScript)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from classroom_server.errors import Invalid
from classroom_server.i18n import gettext as _
from classroom_server.i18n import ngettext
from classroom_server.services import pack_fetch, sync_runner
from classroom_server.services import sync as hub_sync
from classroom_server.web.access import requires
from sync.client import SyncError

bp = Blueprint("admin_sync", __name__, url_prefix="/admin/sync")

# What the district's and the sync's English messages mean, for a person, in the page's language.
# The message itself is still shown beside it, for whoever reads the logs.
_PROBLEMS = (
    ("not an enrolment code", lambda: _("That is not an enrolment code: it has 12 letters and digits.")),
    ("not known, or was used already",
     lambda: _("The district does not know that code, or it was used already. Ask the district for a new one.")),
    ("used by another hub", lambda: _("That code was used by another hub. Ask the district for a new one.")),
    ("enrolled already",
     lambda: _("The district has this hub enrolled already. To enrol it again, the district revokes it first.")),
    ("revoked", lambda: _("The district revoked this hub. Ask the district for a new code and enrol again.")),
    ("could not be reached", lambda: _("The district could not be reached. Is the hub connected to the internet?")),
    ("did not answer", lambda: _("The district could not be reached. Is the hub connected to the internet?")),
    ("already running", lambda: _("A sync is already running.")),
    ("not enrolled", lambda: _("This hub is not enrolled with a district yet.")),
    ("upgrade this side", lambda: _("This hub's version is too old for the district: upgrade the hub.")),
    ("upgrade the other side", lambda: _("The district's server is too old for this hub: tell the district.")),
    ("had a problem", lambda: _("The district's server had a problem. The hub will try again later.")),
)

_REASONS = (
    ("holds another event at this place",
     lambda: _("The district holds another event at this place in this hub's log (the hub's data was "
               "probably copied or restored by hand).")),
    ("event id was used for another event", lambda: _("The district holds another event with the same id.")),
    ("belongs to another school", lambda: _("The district has this learner at another school.")),
)

_KINDS = {
    "attempt": lambda: _("an answer"),
    "lesson_viewed": lambda: _("a lesson viewed"),
    "worked_example_viewed": lambda: _("a worked example viewed"),
    "learner.signed_in": lambda: _("a sign-in"),
    "learner.created": lambda: _("a learner added"),
    "goal.set": lambda: _("a goal"),
    "override": lambda: _("a teacher's change"),
}


def problem_in_words(message: str | None) -> str | None:
    """A sync problem (English, from the sync or the district) as the page's language says it."""
    if not message:
        return None
    lowered = message.lower()
    for fragment, words in _PROBLEMS:
        if fragment in lowered:
            return words()
    return message


def reason_in_words(reason: str) -> str:
    for fragment, words in _REASONS:
        if fragment in reason:
            return words()
    return reason


def kind_in_words(kind: str | None) -> str:
    if kind is None:
        return _("an event this hub no longer holds")
    words = _KINDS.get(kind)
    return words() if words else _("an event (%(kind)s)", kind=kind)


def _runner() -> sync_runner.Runner:
    runner: sync_runner.Runner = current_app.extensions["sync_runner"]
    return runner


def _progress_message(progress: sync_runner.Progress) -> str:
    if progress.running:
        if progress.total:
            return _("Sending events to the district: %(done)d of %(total)d.", done=progress.done,
                     total=progress.total)
        return _("Talking to the district…")
    if progress.error:
        return problem_in_words(progress.error) or ""
    if progress.finished_at:
        return (ngettext("Sync finished: %(num)d event sent.", "Sync finished: %(num)d events sent.", progress.pushed)
                + " " + ngettext("%(num)d event waiting.", "%(num)d events waiting.", progress.waiting or 0))
    return ""


def _page(error: str | None = None, error_field: str | None = None, form=None, status: int = 200):
    state = hub_sync.status()
    progress = _runner().progress()
    return render_template(
        "admin/sync.html", state=state, progress=progress, progress_message=_progress_message(progress),
        last_error=problem_in_words(state.last_error), quarantined=hub_sync.quarantined_details(),
        kind_in_words=kind_in_words, reason_in_words=reason_in_words, error=error, error_field=error_field,
        form=form or {}, pack_offers=pack_fetch.offers(),
    ), status


@bp.route("/")
@requires("admin")
def index() -> ResponseReturnValue:
    return _page()


@bp.route("/enrol", methods=["POST"])
@requires("admin")
def enrol() -> ResponseReturnValue:
    try:
        school = sync_runner.enrol(request.form.get("district_url", ""), request.form.get("code", ""))
    except Invalid as exc:
        return _page(_(exc.template, **exc.params), exc.field, request.form, 400)
    except SyncError as exc:
        words = problem_in_words(str(exc))
        return _page(words if words == str(exc) else f"{words} ({exc})", "code", request.form, 400)
    flash(_("This hub is enrolled with the district, for %(school)s.", school=school))
    return redirect(url_for("admin_sync.index"))


@bp.route("/run", methods=["POST"])
@requires("admin")
def run() -> ResponseReturnValue:
    if not hub_sync.status().enrolled:
        return _page(_("This hub is not enrolled with a district yet."), None, None, 400)
    try:
        _runner().start("admin")
    except SyncError:
        flash(_("A sync is already running."))
    return redirect(url_for("admin_sync.index"))


@bp.route("/progress")
@requires("admin")
def progress() -> Response:
    state = _runner().progress()
    response = jsonify({**state.as_dict(), "message": _progress_message(state)})
    response.headers["Cache-Control"] = "no-store"
    return response
