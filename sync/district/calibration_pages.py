"""The dashboard's calibration pages (the district's staff only): fit a calibration of the learner
model on every school's answers, review a draft, send it to every hub or discard it
(sync/district/calibrate.py does the work). A fit runs in the background; its page shows how far
it has come and reloads itself while it runs (a meta refresh: no script)."""

from __future__ import annotations

import logging
import threading

from flask import abort, current_app, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from classroom_server.i18n import gettext as _
from sync.district import calibrate
from sync.district.web import bp, signed_in

log = logging.getLogger("classroom_server.district")


@bp.route("/calibrations")
@signed_in(district_only=True)
def calibrations() -> ResponseReturnValue:
    rows = calibrate.listed()
    return render_template("district/calibrations.html", rows=rows,
                           fitting=any(r.status == "fitting" for r in rows))


@bp.route("/calibrations", methods=["POST"])
@signed_in(district_only=True)
def calibration_start() -> ResponseReturnValue:
    try:
        row = calibrate.start()
    except calibrate.Busy:
        flash(_("A calibration is being fitted already: wait for it to finish."))
        return redirect(url_for("dashboard.calibrations"))
    database = current_app.extensions["district_database"]

    def run() -> None:
        with database.connection_context():
            try:
                calibrate.fit(row)
            except Exception:  # the row says "failed" and why; the log keeps the whole story
                log.exception("the district's calibration %s could not be fitted", row.id)

    threading.Thread(target=run, name=f"district-calibration-{row.id}", daemon=True).start()
    flash(_("Fitting started. This page shows its progress."))
    return redirect(url_for("dashboard.calibrations"))


@bp.route("/calibrations/<int:calibration_id>")
@signed_in(district_only=True)
def calibration_review(calibration_id: int) -> ResponseReturnValue:
    found = calibrate.review(calibration_id)
    if found is None:
        abort(404)
    return render_template("district/calibration.html", review=found)


@bp.route("/calibrations/<int:calibration_id>/send", methods=["POST"])
@signed_in(district_only=True)
def calibration_send(calibration_id: int) -> ResponseReturnValue:
    try:
        calibrate.send(calibration_id, g.staff.username)
    except ValueError:
        flash(_("Only a finished draft can be sent."))
    else:
        flash(_("Sent: every hub takes this calibration at its next sync or USB stick."))
    return redirect(url_for("dashboard.calibrations"))


@bp.route("/calibrations/<int:calibration_id>/discard", methods=["POST"])
@signed_in(district_only=True)
def calibration_discard(calibration_id: int) -> ResponseReturnValue:
    try:
        calibrate.discard(calibration_id, g.staff.username)
    except ValueError:
        flash(_("Only a draft can be discarded."))
    else:
        flash(_("Discarded: the hubs keep the calibration they have."))
    return redirect(url_for("dashboard.calibrations"))
