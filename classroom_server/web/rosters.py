"""Rosters from school systems and login cards.

- ``/admin/roster``: an admin uploads a OneRoster export (a zip): classes, learners, teachers.
- ``/teach/classes/<id>/roster``: a teacher uploads one into their class (its students only).
- ``/teach/classes/<id>/cards``: printable login cards (name, colour, pictures or PIN, and a QR
  code that opens the class's sign-in page). Secrets are kept only as hashes, so printing a
  card gives that learner a new secret: the page says so and asks which learners first
  (those who never signed in are ticked).

The import itself is services/roster.py; the parsing, classroom_server/interop/oneroster.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, g, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from classroom_server.errors import Invalid
from classroom_server.i18n import gettext as _
from classroom_server.numbers import parse_int
from classroom_server.services import accounts, roster, school_admin
from classroom_server.web.access import requires

bp = Blueprint("rosters", __name__)


def _upload_to_folder() -> Path | None:
    """The uploaded zip (or CSV files) in a private temporary folder; None when nothing came."""
    files = [f for f in request.files.getlist("roster") if f and f.filename]
    if not files:
        return None
    folder = Path(tempfile.mkdtemp(prefix="roster-upload-"))  # private: the hub's umask is 077
    if len(files) == 1 and str(files[0].filename).lower().endswith(".zip"):
        target = folder / "roster.zip"
        files[0].save(target)
        return target
    for upload in files:
        name = Path(str(upload.filename)).name  # the file's own name only: never a path the browser sent
        if name.lower().endswith(".csv"):
            upload.save(folder / name)
    return folder


def _import(into: Any) -> roster.Outcome:
    source = _upload_to_folder()
    if source is None:
        raise Invalid("Choose the roster's zip file (or its CSV files).", field="roster")
    try:
        return roster.import_roster(source, g.person, into)
    finally:
        shutil.rmtree(source.parent if source.suffix == ".zip" else source, ignore_errors=True)


def _result(outcome: roster.Outcome, back: str) -> tuple[str, int]:
    cards = [_card(person, classroom, secret) for person, classroom, secret in roster.secret_owners(outcome)]
    return render_template("rosters/result.html", outcome=outcome, cards=cards, back=back), \
        200 if outcome.readable else 400


@bp.route("/admin/roster", methods=["GET", "POST"])
@requires("admin")
def admin_import() -> ResponseReturnValue:
    """The whole roster: classes with their students and teachers."""
    if request.method == "POST":
        try:
            return _result(_import(None), url_for("admin.home"))
        except Invalid as exc:
            return render_template("rosters/upload.html", classroom=None, error=_(exc.template, **exc.params)), 400
    return render_template("rosters/upload.html", classroom=None, error=None)


@bp.route("/teach/classes/<int:class_id>/roster", methods=["GET", "POST"])
@requires("teacher", "admin")
def class_import(class_id: int) -> ResponseReturnValue:
    """Every student of an export into this class."""
    classroom = accounts.get_class_for(g.person, class_id)
    if request.method == "POST":
        try:
            return _result(_import(classroom), url_for("teacher.class_page", class_id=classroom.id))
        except Invalid as exc:
            return render_template("rosters/upload.html", classroom=classroom,
                                   error=_(exc.template, **exc.params)), 400
    return render_template("rosters/upload.html", classroom=classroom, error=None)


# --- login cards ----------------------------------------------------------------------------------

def _qr(url: str) -> Markup:
    """A QR code of ``url`` as inline SVG (segno: pure Python, no dependencies)."""
    import segno

    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=3, border=2, xmldecl=False, svgclass="qr",
                                     lineclass=None, title=url)
    return Markup(out.getvalue().decode("utf-8"))  # segno's own SVG: no text of ours in it but the URL


def _card(person: Any, classroom: Any, secret: Any) -> dict[str, Any]:
    url = request.host_url.rstrip("/") + url_for("auth.learner_names", class_id=classroom.id)
    return {"person": person, "classroom": classroom, "secret": secret, "qr": _qr(url), "url": url}


@bp.route("/teach/classes/<int:class_id>/cards", methods=["GET", "POST"])
@requires("teacher", "admin")
def cards(class_id: int) -> ResponseReturnValue:
    classroom = accounts.get_class_for(g.person, class_id)
    learners = accounts.learners_in(classroom)
    if request.method == "GET":
        never = school_admin.never_signed_in(learners)
        return render_template("rosters/cards_choose.html", classroom=classroom, learners=learners, never=never,
                               error=None)
    try:
        chosen_ids = {parse_int(v, "learners", 1) for v in request.form.getlist("learners")}
    except Invalid:
        chosen_ids = set()
    chosen = [p for p in learners if p.id in chosen_ids]
    if not chosen:
        return render_template("rosters/cards_choose.html", classroom=classroom, learners=learners,
                               never=set(chosen_ids), error=_("Tick at least one learner.")), 400
    printed = []
    for learner in chosen:
        secret = roster.new_secret(classroom.login_kind)
        accounts.reset_learner_secret(classroom, learner, secret, g.person)
        printed.append(_card(learner, classroom, secret))
    return render_template("rosters/cards.html", classroom=classroom, cards=printed)
