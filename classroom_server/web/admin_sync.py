"""The admin's District sync page: enrolment, how syncs went, refused events, and "Sync now"
(run in a background thread; the page polls a small progress endpoint, or refreshes itself
without JavaScript)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from classroom_server.errors import Invalid
from classroom_server.i18n import gettext as _
from classroom_server.i18n import ngettext
from classroom_server.services import bundles, pack_fetch, sync_runner, usb
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
    ("is full", lambda: _("The USB stick is full: make room on it, or use another stick, and write the bundle "
                          "again.")),
    ("read-only", lambda: _("The USB stick is read-only (locked?): unlock it or use another one.")),
    ("stopped answering", lambda: _("The USB stick stopped answering (was it pulled out?): put it back and try "
                                    "again.")),
    ("not a whole sync bundle", lambda: _("A file on the stick is incomplete (was the stick pulled out before it "
                                          "was ejected?). Ask the district to write it again.")),
    ("valid signature", lambda: _("A file on the stick was altered, or comes from another district: nothing in "
                                  "it was used.")),
    ("answer to another hub", lambda: _("The district's answer on the stick is for another hub: read it on that "
                                        "hub.")),
    ("no answer from the district", lambda: _("There is no answer from the district for this hub on that stick.")),
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
    if progress.kind == "export":
        if progress.running:
            return _("Writing the bundle: %(done)d of %(total)d events.", done=progress.done, total=progress.total)
        if progress.error:
            return problem_in_words(progress.error) or ""
        return (ngettext("Bundle written to the stick: %(num)d event for the district.",
                         "Bundle written to the stick: %(num)d events for the district.", progress.pushed)
                + " " + _("Eject the stick safely before you pull it out."))
    if progress.kind == "import":
        if progress.running:
            return _("Reading the district's answer: %(done)d of %(total)d files.", done=progress.done,
                     total=progress.total)
        if progress.error:
            return problem_in_words(progress.error) or ""
        return (ngettext("The district's answer was read: %(num)d change applied.",
                         "The district's answer was read: %(num)d changes applied.", progress.pulled)
                + " " + ngettext("%(num)d event waiting.", "%(num)d events waiting.", progress.waiting or 0))
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
        form=form or {}, pack_offers=pack_fetch.offers(), sticks=_sticks() if state.enrolled else [],
        last_export=bundles.last_export(), last_import=bundles.last_import(),
    ), status


def _roots() -> list[Path]:
    return usb.roots(current_app.config["SETTINGS"]["usb_mount_roots"])


def _sticks() -> list[usb.Stick]:
    return usb.sticks(_roots())


def _bundle_job(kind: str) -> ResponseReturnValue:
    if not hub_sync.status().enrolled:
        return _page(_("This hub is not enrolled with a district yet."), None, None, 400)
    stick = usb.stick_at(_roots(), request.form.get("stick", ""))
    if stick is None:
        return _page(_("That USB stick is not there any more. Put it back in and try again."), None, None, 400)
    if kind == "export" and stick.read_only:
        return _page(_("The USB stick is read-only (locked?): unlock it or use another one."), None, None, 400)
    if kind == "import" and not stick.returns:
        return _page(_("There is no answer from the district for this hub on that stick."), None, None, 400)
    try:
        _runner().start_bundle(kind, stick.path)
    except SyncError:
        flash(_("A sync is already running."))
    return redirect(url_for("admin_sync.index") + "#sync-now")


@bp.route("/usb/export", methods=["POST"])
@requires("admin")
def usb_export() -> ResponseReturnValue:
    return _bundle_job("export")


@bp.route("/usb/import", methods=["POST"])
@requires("admin")
def usb_import() -> ResponseReturnValue:
    return _bundle_job("import")


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
