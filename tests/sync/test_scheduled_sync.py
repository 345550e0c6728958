"""The schedule's sync: every `sync_interval_minutes` with jitter, skipped when not enrolled or in
quiet hours, backing off after failures, and a cheap connectivity check before it starts."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from classroom_server import clock, jobs
from classroom_server.config import ConfigError, load_settings
from classroom_server.db import db
from classroom_server.services import hub, sync_runner
from classroom_server.services import sync as hub_sync
from tests.sync.conftest import free_port, register

MOMENT = dt.datetime(2026, 3, 9, 10, 30, tzinfo=dt.UTC)


@pytest.fixture
def enrolled_hub(app, school, district, district_server):  # type: ignore[no-untyped-def]
    with db.connection_context():
        sync_runner.enrol(district_server, register(district), "Room 4")
    return app


def _meta(**values: str) -> None:
    with db.connection_context():
        for key, value in values.items():
            hub.set_meta(f"sync.{key}", value)


def _status() -> hub_sync.Status:
    with db.connection_context():
        return hub_sync.status()


@pytest.mark.parametrize("failures, minutes", [(0, 0), (1, 20), (2, 40), (3, 80), (5, 320), (6, 360), (50, 360)])
def test_the_wait_after_failures_doubles_up_to_six_hours(failures, minutes):
    assert jobs.sync_backoff(10, failures) == dt.timedelta(minutes=minutes)


@pytest.mark.parametrize("quiet, at, inside", [
    ("08:00-15:00", "07:59", False), ("08:00-15:00", "08:00", True), ("08:00-15:00", "14:59", True),
    ("08:00-15:00", "15:00", False), ("22:00-06:00", "23:30", True), ("22:00-06:00", "05:59", True),
    ("22:00-06:00", "06:00", False), ("22:00-06:00", "12:00", False), ("", "10:00", False),
])
def test_quiet_hours(quiet, at, inside):
    hour, minute = (int(x) for x in at.split(":"))
    assert jobs.in_quiet_hours(quiet, dt.datetime(2026, 3, 9, hour, minute)) is inside


@pytest.mark.parametrize("environ, fragment", [
    ({"CLASSROOM_SYNC_QUIET_HOURS": "8-15"}, "HH:MM-HH:MM"),
    ({"CLASSROOM_SYNC_QUIET_HOURS": "08:00-25:00"}, "HH:MM-HH:MM"),
    ({"CLASSROOM_SYNC_QUIET_HOURS": "08:00-08:00"}, "start and end at the same time"),
    ({"CLASSROOM_SYNC_INTERVAL_MINUTES": "-1"}, "between 0 and 1440"),
    ({"CLASSROOM_SYNC_BANDWIDTH_KBIT": "fast"}, "Setting 'sync_bandwidth_kbit'"),
])
def test_bad_sync_settings_are_named(tmp_path, environ, fragment):
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, environ=environ)
    assert fragment in str(caught.value)


def test_sync_settings_have_safe_defaults_and_are_normalised(tmp_path):
    defaults = load_settings(tmp_path, environ={})
    assert (defaults["sync_interval_minutes"], defaults["sync_quiet_hours"],
            defaults["sync_bandwidth_kbit"]) == (10, "", 0)
    set_ = load_settings(tmp_path, environ={"CLASSROOM_SYNC_QUIET_HOURS": " 8:00-15:5 "})
    assert set_["sync_quiet_hours"] == "08:00-15:05"


def test_the_scheduler_syncs_every_interval_with_jitter_and_not_at_all_when_off(app):
    app.config["SETTINGS"]["sync_interval_minutes"] = 15
    scheduler = jobs.start(app)
    try:
        job = scheduler.get_job("district-sync")
        assert job.trigger.interval == dt.timedelta(minutes=15) and job.trigger.jitter == 180
    finally:
        scheduler.shutdown(wait=False)
    app.config["SETTINGS"]["sync_interval_minutes"] = 0
    scheduler = jobs.start(app)
    try:
        assert scheduler.get_job("district-sync") is None
    finally:
        scheduler.shutdown(wait=False)
    assert jobs.sync_jitter_seconds(10) == 120 and jobs.sync_jitter_seconds(240) == 300


def test_a_hub_that_is_not_enrolled_does_nothing(app):
    assert jobs.scheduled_sync(app) == "not enrolled"
    assert _status().last_attempt is None


def test_a_scheduled_sync_pushes_and_is_recorded(enrolled_hub):
    assert _status().waiting > 0
    assert jobs.scheduled_sync(enrolled_hub) == "synced"
    state = _status()
    assert state.waiting == 0 and state.last_success and state.last_error is None
    progress = enrolled_hub.extensions["sync_runner"].progress()
    assert not progress.running and progress.started_by == "schedule" and progress.pushed > 0


def test_no_sync_in_quiet_hours(enrolled_hub):
    local = MOMENT.astimezone()
    start, end = (local - dt.timedelta(hours=1)).strftime("%H:%M"), (local + dt.timedelta(hours=1)).strftime("%H:%M")
    enrolled_hub.config["SETTINGS"]["sync_quiet_hours"] = f"{start}-{end}"
    with clock.pretend(MOMENT):
        assert jobs.scheduled_sync(enrolled_hub) == "quiet hours"
    assert _status().last_attempt is None
    later = (local + dt.timedelta(hours=2)).strftime("%H:%M")
    enrolled_hub.config["SETTINGS"]["sync_quiet_hours"] = f"{end}-{later}"
    with clock.pretend(MOMENT):
        assert jobs.scheduled_sync(enrolled_hub) == "synced"


def test_an_unreachable_district_is_noted_without_counting_a_failure(enrolled_hub):
    port = free_port()
    _meta(district_url=f"http://127.0.0.1:{port}")
    assert jobs.scheduled_sync(enrolled_hub) == "unreachable"
    state = _status()
    assert state.failures == 0 and state.last_attempt
    assert state.last_error == (f"The district could not be reached: nothing is listening at 127.0.0.1:{port} "
                                "(connection refused).")


def test_after_failures_the_schedule_waits_longer(enrolled_hub):
    interval = enrolled_hub.config["SETTINGS"]["sync_interval_minutes"]
    with clock.pretend(MOMENT):
        _meta(failures="2", last_attempt=clock.iso(MOMENT - dt.timedelta(minutes=4 * interval - 1)))
        assert jobs.scheduled_sync(enrolled_hub) == "backing off"
        _meta(last_attempt=clock.iso(MOMENT - dt.timedelta(minutes=4 * interval + 1)))
        assert jobs.scheduled_sync(enrolled_hub) == "synced"
    assert _status().failures == 0


def test_a_last_attempt_ahead_of_the_clock_does_not_stop_syncing(enrolled_hub):
    """A Pi's clock set back (no battery) must not make the hub wait for days."""
    _meta(failures="6", last_attempt=clock.iso(clock.now() + dt.timedelta(days=30)))
    assert jobs.scheduled_sync(enrolled_hub) == "synced"


def test_a_failed_sync_is_counted_and_the_scheduler_goes_on(enrolled_hub, district):
    from sync.district import service

    with district.extensions["district_database"].connection_context():
        service.revoke(service.hubs()[0])
    assert jobs.scheduled_sync(enrolled_hub) == "failed"
    state = _status()
    assert state.failures == 1 and "revoked" in (state.last_error or "")
    progress = enrolled_hub.extensions["sync_runner"].progress()
    assert not progress.running and "revoked" in (progress.error or "")


def test_the_schedule_leaves_a_running_sync_alone(enrolled_hub, district, monkeypatch):
    from tests.sync.test_admin_sync import BlockingTransport

    blocking = BlockingTransport(district)
    monkeypatch.setattr(sync_runner, "make_transport", lambda url, max_kbit=0: blocking)
    runner = enrolled_hub.extensions["sync_runner"]
    runner.start("admin")
    try:
        assert blocking.entered.wait(10)
        assert jobs.scheduled_sync(enrolled_hub) == "already running"
    finally:
        blocking.release.set()
        assert runner.wait(10)
    assert runner.progress().error is None and _status().waiting == 0


def test_the_lock_is_released_for_the_next_sync_after_a_failure(enrolled_hub):
    _meta(district_url=f"http://127.0.0.1:{free_port()}")
    with db.connection_context():
        with pytest.raises(hub_sync.client.SyncError):
            sync_runner.sync_now(enrolled_hub.config["SETTINGS"])
    done = threading.Event()

    def again() -> None:
        with db.connection_context():
            with pytest.raises(hub_sync.client.SyncError, match="did not answer"):
                sync_runner.sync_now(enrolled_hub.config["SETTINGS"])
        done.set()

    worker = threading.Thread(target=again)
    worker.start()
    worker.join(20)
    assert done.is_set()
