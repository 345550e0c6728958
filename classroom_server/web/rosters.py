"""Rosters from school systems and login cards.

- ``/admin/roster``: an admin uploads a OneRoster export (a zip): classes, learners, teachers.
- ``/teach/classes/<id>/roster``: a teacher uploads one into their class (its students only), or
  a simple list of names (a CSV file or names pasted): ``.../roster/names`` shows what it would
  add, and ``.../roster/names/add`` adds it, sending the list's text back to be read again.
- ``/teach/classes/<id>/cards``: printable login cards (name, colour, pictures or PIN, and a QR
  code that opens the class's sign-in page). Secrets are kept only as hashes, so printing a
  card gives that learner a new secret: the page says so and asks which learners first
  (those who never signed in are ticked).

The import itself is services/roster.py; the parsing, classroom_server/interop/oneroster and
classroom_server/interop/names_csv.py.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from classroom_server.errors import Invalid
from classroom_server.i18n import gettext as _
from classroom_server.i18n import ngettext
from classroom_server.interop import names_csv
from classroom_server.numbers import parse_int
from classroom_server.services import accounts, roster, roster_names, school_admin
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
            return _upload_page(None, error=_(exc.template, **exc.params)), 400
    return _upload_page(None)


@bp.route("/teach/classes/<int:class_id>/roster", methods=["GET", "POST"])
@requires("teacher", "admin")
def class_import(class_id: int) -> ResponseReturnValue:
    """Every student of an export into this class."""
    classroom = accounts.get_class_for(g.person, class_id)
    if request.method == "POST":
        try:
            return _result(_import(classroom), url_for("teacher.class_page", class_id=classroom.id))
        except Invalid as exc:
            return _upload_page(classroom, error=_(exc.template, **exc.params)), 400
    return _upload_page(classroom)


# --- a list of names: read, shown, then added ------------------------------------------------------

NAME_REASON_WORDS = {  # names_csv.REASONS in the teacher's language (tests/test_roster_names.py checks)
    names_csv.EMPTY_NAME: lambda p: _("This row has no name."),
    names_csv.NAME_TOO_LONG: lambda p: _("The name has %(length)d characters; a name can have at most %(max)d.",
                                         **p),
    names_csv.DUPLICATE: lambda p: _("The same name as line %(first)d: two learners with one name could not tell "
                                     "which is theirs when they sign in. Add an initial to one of them.", **p),
    names_csv.UNREADABLE: lambda p: _("The name has characters that could not be read. Save the file as CSV UTF-8 "
                                      "and choose it again."),
    names_csv.BROKEN_QUOTES: lambda p: _("This row runs over several lines: a quotation mark is probably missing."),
    names_csv.UNKNOWN_SIGN_IN: lambda p: _("\"%(value)s\" is not a way to sign in: write picture or PIN, or leave "
                                           "it empty for the class's way.", **p),
    names_csv.CLASS_USES_PICTURES: lambda p: _("Everyone in this class signs in with pictures, so this learner "
                                               "cannot have a PIN."),
    names_csv.CLASS_USES_PIN: lambda p: _("Everyone in this class signs in with a PIN, so this learner cannot have "
                                          "pictures."),
}
NAME_MESSAGE_WORDS = {  # names_csv.PROBLEMS and NOTES
    names_csv.EMPTY: lambda p: _("There are no names in it."),
    names_csv.TOO_BIG: lambda p: _("It is larger than %(max)d KB, and a list of names is much smaller. Is it the "
                                   "right file?", **p),
    names_csv.TOO_MANY: lambda p: _("It has more than %(max)d names. Add one class's learners at a time.", **p),
    names_csv.SPREADSHEET: lambda p: _("This is a spreadsheet file, not CSV. In the spreadsheet, choose Save as (or "
                                       "Download) and CSV, then choose that file."),
    names_csv.NOT_TEXT: lambda p: _("This file is not text. Choose a CSV file, or paste the names instead."),
    names_csv.NO_NAME_COLUMN: lambda p: _("The first row looks like column headings, but none of them is for names. "
                                          "Call the column of names \"name\" (or \"first name\" and \"last "
                                          "name\")."),
    names_csv.WINDOWS_1252: lambda p: _("The file is not UTF-8, so it was read as Windows-1252 (Western European "
                                        "letters). Check that the names look right."),
    names_csv.UNUSED_COLUMN: lambda p: _("The column \"%(column)s\" was not used.", **p),
    names_csv.UNUSED_COLUMN_NUMBER: lambda p: _("Column %(number)d was not used.", **p),
}


def reason_words(rejected: names_csv.Rejected) -> str:
    """Why a row was left out, in the teacher's language."""
    return NAME_REASON_WORDS[rejected.code](rejected.params)


def message_words(message: names_csv.Message) -> str:
    return NAME_MESSAGE_WORDS[message.code](message.params)


def _upload_page(classroom: Any, error: str | None = None, names_error: str | None = None,
                 names: names_csv.Names | None = None, text: str = "", text_format: str = "lines") -> str:
    """The upload page: the OneRoster form, and (for a class) the list-of-names form with what
    was typed and what was wrong with it."""
    problems = [message_words(m) for m in names.problems] if names is not None else []
    return render_template("rosters/upload.html", classroom=classroom, error=error, names_error=names_error,
                           names_problems=problems, names_text=text, names_format=text_format)


def _text_format() -> str:
    return "csv" if request.form.get("names_format") == "csv" else "lines"


@bp.route("/teach/classes/<int:class_id>/roster/names", methods=["GET", "POST"])
@requires("teacher", "admin")
def names_preview(class_id: int) -> ResponseReturnValue:
    """Read a list of names and show what adding it would do; nothing changes yet."""
    classroom = accounts.get_class_for(g.person, class_id)
    if request.method == "GET":  # a language switched on the preview, a bookmark: the form again
        return redirect(url_for("rosters.class_import", class_id=classroom.id) + "#names")
    upload = request.files.get("names_file")
    text, text_format = request.form.get("names_text", ""), _text_format()
    chosen = upload is not None and bool(upload.filename)
    if chosen and text.strip():
        return _upload_page(classroom, names_error=_("Choose a file or paste names, not both."), text=text,
                            text_format=text_format), 400
    if not chosen and not text.strip():
        return _upload_page(classroom, names_error=_("Choose a CSV file of names, or paste names."), text=text,
                            text_format=text_format), 400
    if upload is not None and chosen:
        names = roster_names.read_names(classroom, upload.read(names_csv.MAX_BYTES + 1))
        read_as, text_format = "csv", "lines"  # a file is not typed: nothing of it goes back in the box
    else:
        names = roster_names.read_names(classroom, text, pasted=text_format == "lines")
        read_as = text_format
    try:
        plan = roster_names.plan_names(classroom, names)
    except Invalid as exc:
        return _upload_page(classroom, names_error=_(exc.template, **exc.params), text=text,
                            text_format=text_format), 400
    if not names.readable:
        return _upload_page(classroom, names_error=_("Nothing could be read from the list:"), names=names,
                            text=text, text_format=text_format), 400
    return render_template("rosters/names_preview.html", classroom=classroom, plan=plan,
                           notes=[message_words(m) for m in names.notes],
                           rejected=[(r, reason_words(r)) for r in plan.rejected],
                           text_format=read_as)


@bp.route("/teach/classes/<int:class_id>/roster/names/add", methods=["GET", "POST"])
@requires("teacher", "admin")
def names_add(class_id: int) -> ResponseReturnValue:
    """Add the list the preview showed, read again from its text: in one transaction, skipping
    the names already in the class, so a second tap adds nothing."""
    classroom = accounts.get_class_for(g.person, class_id)
    if request.method == "GET":
        return redirect(url_for("rosters.class_import", class_id=classroom.id) + "#names")
    text, text_format = request.form.get("names_text", ""), _text_format()
    names = roster_names.read_names(classroom, text, pasted=text_format == "lines")
    try:
        outcome = roster_names.add_names(classroom, names, g.person)
    except Invalid as exc:
        return _upload_page(classroom, names_error=_(exc.template, **exc.params), text=text,
                            text_format=text_format), 400
    if not names.readable:
        return _upload_page(classroom, names_error=_("Nothing could be read from the list:"), names=names,
                            text=text, text_format=text_format), 400
    cards = [_card(person, classroom, outcome.secrets[person.id]) for person in outcome.people]
    heading = ngettext("%(num)d learner added", "%(num)d learners added", len(outcome.people))
    return render_template("rosters/names_result.html", classroom=classroom, outcome=outcome, cards=cards,
                           heading=heading, rejected=[(r, reason_words(r)) for r in outcome.rejected])


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
