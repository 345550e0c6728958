"""Scheduled jobs, run by APScheduler inside `classroom-server serve`: nightly backup, a nightly
calibration of the learner model's shared terms (a ``model.calibrated`` event), a nightly
check that every stored projection still equals a rebuild from the event log, and a sync with
the district every few minutes once the hub is enrolled.

Jobs are registered at every start with fixed ids (no job store: nothing to migrate). A Pi has no
battery clock, so its time may jump when the network sets it; jobs coalesce and have a generous
misfire grace time, so a jump runs a missed job once instead of never or many times.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

from classroom_server import clock
from classroom_server.db import database_path, db

log = logging.getLogger("classroom_server.jobs")
BACKUP_GLOB = "classroom-hub-*.sqlite3"
SYNC_BACKOFF_CAP = dt.timedelta(hours=6)
SYNC_REACH_SECONDS = 3.0


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


def in_quiet_hours(quiet_hours: str, moment: dt.datetime) -> bool:
    """Whether ``moment`` (the hub's local time) falls in ``HH:MM-HH:MM``; it may span midnight."""
    if not quiet_hours:
        return False
    start, end = quiet_hours.split("-")
    now = moment.strftime("%H:%M")
    if start < end:
        return start <= now < end
    return now >= start or now < end


def sync_backoff(interval_minutes: int, failures: int) -> dt.timedelta:
    """How long after a failed attempt the next automatic sync waits: the interval, doubled at
    each failure in a row (2, 4, 8 ... intervals), at most ``SYNC_BACKOFF_CAP``."""
    if failures <= 0:
        return dt.timedelta(0)
    return min(SYNC_BACKOFF_CAP, dt.timedelta(minutes=max(1, interval_minutes)) * 2 ** min(failures, 16))


def _parse_time(text: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def scheduled_sync(app: Any) -> str:
    """The schedule's sync; returns what it did in a word or two (for the log and the tests).

    Skipped while not enrolled, in quiet hours, or while backing off after failures. Then a TCP
    connection to the district is tried first (a few seconds at most, nothing sent), so a hub
    whose link is down does not start a sync it cannot finish. Errors are logged and recorded,
    never raised: the scheduler goes on."""
    from classroom_server.services import sync as hub_sync
    from classroom_server.services.sync_runner import Runner
    from sync import client
    from sync.transport import reachable

    settings = app.config["SETTINGS"]
    if app.extensions["sync_runner"].progress().running:
        return "already running"
    now = clock.now()
    if in_quiet_hours(settings["sync_quiet_hours"], now.astimezone()):
        return "quiet hours"
    with db.connection_context():
        status = hub_sync.status()
    if not status.enrolled or not status.district_url:
        return "not enrolled"
    last = _parse_time(status.last_attempt)
    wait = sync_backoff(settings["sync_interval_minutes"], status.failures)
    # A clock set back (a Pi without a battery, before the network sets it) leaves the last
    # attempt in the future: then the wait is not trusted, and the sync goes ahead.
    if last is not None and wait and last <= now < last + wait:
        log.info("sync: waiting after %d failed attempts; next try after %s", status.failures,
                 (last + wait).isoformat(timespec="minutes"))
        return "backing off"
    problem = reachable(status.district_url, SYNC_REACH_SECONDS)
    if problem:
        with db.connection_context():
            hub_sync.note_unreachable(problem)
        log.info("sync: the district is out of reach (%s); trying again later", problem)
        return "unreachable"
    runner: Runner = app.extensions["sync_runner"]
    try:
        runner.run("schedule")
    except (client.SyncError, hub_sync.NotEnrolled) as exc:
        return "already running" if "already running" in str(exc) else "failed"  # logged and recorded
    except Exception:  # noqa: BLE001 - a failed sync must not stop the scheduler; it is logged
        log.exception("the scheduled sync failed")
        return "failed"
    return "synced"


def sync_jitter_seconds(interval_minutes: int) -> int:
    """Random delay added to each scheduled sync (up to a fifth of the interval, at most 5
    minutes), so that a district's hubs, switched on together, do not all call at once."""
    return min(300, interval_minutes * 60 // 5)


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
    interval = settings["sync_interval_minutes"]
    if interval:
        from apscheduler.triggers.interval import IntervalTrigger

        scheduler.add_job(scheduled_sync, IntervalTrigger(minutes=interval, jitter=sync_jitter_seconds(interval)),
                          args=[app], id="district-sync", replace_existing=True)
    scheduler.start()
    return scheduler
