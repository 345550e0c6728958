"""The dashboard's roster page (the district's staff only): upload a zip of a school system's
OneRoster CSV files for a chosen school and see what was published and every row left out, with
its file and line (sync/district/rosters.py does the work; ``district roster import`` is the same
from a terminal). A school's own staff import nothing here (403): on the dashboard they read, and
the district's staff act.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from flask import g, render_template, request, session
from flask.typing import ResponseReturnValue

from classroom_server.i18n import gettext as _
from sync.district import rosters, service, staff
from sync.district.models import School
from sync.district.web import bp, signed_in

MAX_ROSTER_BYTES = 32 * 1024 * 1024  # a zip of CSV files: a large school's export is a few MB
ENDPOINT = "dashboard.roster_import"


@bp.before_app_request
def _roster_upload_limit() -> ResponseReturnValue | None:
    """An export is larger than a sync request (the app's limit), and the dashboard reads the
    form for its CSRF token before any page sees it: so the limit is raised here, first, for the
    district's staff only (no one else may send a large body), and a body larger still is refused
    in words before it is read."""
    if request.endpoint != ENDPOINT or request.method != "POST":
        return None
    account = staff.current(session.get("staff"), session.get("v"))
    if account is None or account.school_id is not None:
        return None
    if request.content_length is not None and request.content_length > MAX_ROSTER_BYTES:
        g.staff = account
        return render_template("district/message.html", title=_("Too large"),
                               message=_("That file is larger than a school's roster export should be (at most "
                                         "%(size)d MB).", size=MAX_ROSTER_BYTES // 2**20)), 413
    request.max_content_length = MAX_ROSTER_BYTES
    return None


@bp.route("/rosters", methods=["GET", "POST"])
@signed_in(district_only=True)
def roster_import() -> ResponseReturnValue:
    schools = service.schools()
    chosen = request.values.get("school", type=int)
    if request.method == "GET":
        return _page(schools, chosen)
    school = School.get_or_none(School.id == chosen) if chosen is not None else None
    if school is None:
        return _page(schools, chosen, error=_("Choose the school whose roster this is.")), 400
    upload = request.files.get("roster")
    if upload is None or not upload.filename:
        return _page(schools, chosen, error=_("Choose the zip file of the school's OneRoster export.")), 400
    with tempfile.TemporaryDirectory(prefix="district-roster-") as folder:
        path = Path(folder) / "roster.zip"
        upload.save(path)
        if path.stat().st_size == 0:
            return _page(schools, chosen, error=_("That file is empty. Choose the zip file of the export.")), 400
        if not zipfile.is_zipfile(path):
            return _page(schools, chosen, error=_("That file is not a zip file. Put the export's CSV files "
                                                  "(users.csv, classes.csv, enrollments.csv and the others) in "
                                                  "one zip file and choose it.")), 400
        result = rosters.import_roster(path, school)
    return _page(schools, chosen, result=result), 200 if result.readable else 400


def _page(schools: list[School], chosen: int | None, result: rosters.Imported | None = None,
          error: str | None = None) -> str:
    return render_template("district/roster_import.html", schools=schools, chosen=chosen, result=result,
                           error=error, max_mb=MAX_ROSTER_BYTES // 2**20)
