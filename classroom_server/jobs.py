"""Scheduled jobs, run by APScheduler inside `classroom-server serve`: nightly backup, a nightly
calibration of the learner model's shared terms (a ``model.calibrated`` event), and a nightly
check that every stored projection still equals a rebuild from the event log.

Jobs are registered at every start with fixed ids (no job store: nothing to migrate). A Pi has no
battery clock, so its time may jump when the network sets it; jobs coalesce and have a generous
misfire grace time, so a jump runs a missed job once instead of never or many times.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from classroom_server import clock
from classroom_server.db import database_path, db

log = logging.getLogger("classroom_server.jobs")
BACKUP_GLOB = "classroom-hub-*.sqlite3"


def backup_folder(settings: dict[str, Any]) -> Path:
    return Path(settings["backup_dir"]) if settings["backup_dir"] else Path(settings["data_dir"]) / "backups"


def nightly_backup(settings: dict[str, Any]) -> Path | None:
    """Back up, verify, record the time, and keep only the newest ``backup_keep`` backups."""
    from classroom_server.services import hub

    keep = settings["backup_keep"]
    if keep == 0:
        return None
    folder = backup_folder(settings)
    try:
        written = hub.backup(database_path(settings["data_dir"]), folder)
    except (hub.BackupError, OSError) as exc:
        log.error("nightly backup failed: %s", exc)
        return None
    with db.connection_context():
        hub.set_meta("last_backup", clock.iso())
    for old in sorted(folder.glob(BACKUP_GLOB), key=lambda p: p.name, reverse=True)[keep:]:
        old.unlink(missing_ok=True)
    log.info("nightly backup written and verified: %s", written)
    return written


def projection_check(app: Any) -> list[str]:
    """Rebuild every projection from the log without writing; log any difference with the stored ones."""
    from classroom_server.services import projections

    problems = [p for o in projections.recompute(app.extensions["catalogue"], check=True) for p in o.problems]
    if problems:
        log.warning("the stored projection differs from a rebuild in %d places, e.g. %s; "
                    "run `classroom-server recompute` to rewrite it", len(problems), problems[0])
    else:
        log.info("projection check: the stored projection equals a rebuild")
    return problems


def nightly_calibration(app: Any) -> Any:
    """Fit item difficulties (and guess and slip) on the whole log; record them as an event."""
    from classroom_server.services.learning import calibrate

    try:
        with db.connection_context():
            recorded = calibrate(app.extensions["engine"])
    except Exception:  # noqa: BLE001 - a failed fit must not stop the scheduler; it is logged
        log.exception("nightly calibration failed; the model keeps its current calibration")
        return None
    if recorded is None:
        log.info("calibration: no new answers since the last one")
    else:
        log.info("calibration recorded: %s answers, %s items", json.loads(recorded.payload)["answers"],
                 len(json.loads(recorded.payload)["items"]))
    return recorded


def start(app: Any) -> Any:
    """Start the scheduler with the hub's jobs; the caller shuts it down when serving ends."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger

    settings = app.config["SETTINGS"]
    hour, minute = (int(x) for x in settings["backup_time"].split(":"))
    scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "misfire_grace_time": 6 * 3600,
                                                  "max_instances": 1})
    if settings["backup_keep"]:
        scheduler.add_job(nightly_backup, CronTrigger(hour=hour, minute=minute), args=[settings],
                          id="nightly-backup", replace_existing=True)
    check_minute = (hour * 60 + minute + 30) % (24 * 60)
    scheduler.add_job(projection_check, CronTrigger(hour=check_minute // 60, minute=check_minute % 60),
                      args=[app], id="projection-check", replace_existing=True)
    calibrate_minute = (hour * 60 + minute + 15) % (24 * 60)  # after the backup, before the check
    scheduler.add_job(nightly_calibration, CronTrigger(hour=calibrate_minute // 60, minute=calibrate_minute % 60),
                      args=[app], id="nightly-calibration", replace_existing=True)
    scheduler.start()
    return scheduler
