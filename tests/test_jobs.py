"""Nightly jobs: a verified backup that keeps the newest N, the calibration, and the projection check."""

import logging
import sqlite3

import pytest

from classroom_server import jobs
from classroom_server.config import ConfigError, load_settings
from classroom_server.db import db
from classroom_server.models import MasteryRow
from classroom_server.services import hub


def test_nightly_backup_writes_verifies_records_and_prunes(app, data_dir, tmp_path):
    settings = dict(app.config["SETTINGS"], backup_dir=str(tmp_path / "usb"), backup_keep=2)
    folder = tmp_path / "usb"
    folder.mkdir()
    for stamp in ("20260101-023000", "20260102-023000", "20260103-023000"):
        (folder / f"classroom-hub-{stamp}.sqlite3").write_bytes(b"old")
    written = jobs.nightly_backup(settings)
    assert written is not None and written.exists()
    con = sqlite3.connect(written)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    con.close()
    kept = sorted(p.name for p in folder.glob(jobs.BACKUP_GLOB))
    assert len(kept) == 2 and written.name in kept
    with db.connection_context():
        assert hub.get_meta("last_backup")


def test_nightly_backup_can_be_turned_off(app):
    assert jobs.nightly_backup(dict(app.config["SETTINGS"], backup_keep=0)) is None


def test_a_failing_backup_is_logged_not_raised(app, tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    settings = dict(app.config["SETTINGS"], backup_dir=str(blocker / "sub"))
    with caplog.at_level(logging.ERROR, logger="classroom_server.jobs"):
        assert jobs.nightly_backup(settings) is None
    assert "nightly backup failed" in caplog.text


def test_projection_check_finds_a_tampered_projection(app, caplog):
    assert jobs.projection_check(app) == []
    with db.connection_context():
        MasteryRow.insert(learner_uid="x", skill="p:s", state="mastered", p_fresh=1.0, attempts=1,
                          needs_help=False, algorithm="forged", event_id=1).execute()
    with caplog.at_level(logging.WARNING, logger="classroom_server.jobs"):
        assert jobs.projection_check(app)
    assert "differs from a rebuild" in caplog.text


def test_the_scheduler_registers_both_jobs_at_the_set_time(app):
    app.config["SETTINGS"]["backup_time"] = "23:45"
    scheduler = jobs.start(app)
    try:
        found = {job.id: str(job.trigger) for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)
    assert "hour='23', minute='45'" in found["nightly-backup"]
    assert "hour='0', minute='15'" in found["projection-check"]
    assert "hour='0', minute='0'" in found["nightly-calibration"]


def test_nightly_calibration_records_an_event_only_when_there_is_something_new(app, school, data_dir, tmp_path):
    """The fit becomes a model.calibrated event; the stored projections still equal a rebuild."""
    import json
    import uuid

    from content_packs.testing import make_pack

    from classroom_server.models import Event
    from classroom_server.services import packs, practice
    from classroom_server.services.projections import recompute
    from tests.test_practice import _answer_response

    assert jobs.nightly_calibration(app) is None  # no answers yet
    packs.import_pack(data_dir, make_pack(tmp_path / "src", skills=1, items_per_skill=4, pack_id="org.example.cal"))
    engine = app.extensions["engine"]
    pack = engine.catalogue_store.get().catalogue.pack("org.example.cal")
    with db.connection_context():
        for n, item in enumerate(pack.items * 2):
            practice.record_attempt(engine, school.learners["ana"], pack.id, item.id,
                                    _answer_response(item, right=n % 3 != 0), event_id=str(uuid.uuid4()))
    recorded = jobs.nightly_calibration(app)
    assert recorded is not None
    payload = json.loads(recorded.payload)
    assert payload["answers"] == 8 and payload["source"] == "hub"
    assert set(payload["items"]) == {f"org.example.cal:{i.id}" for i in pack.items}
    assert jobs.nightly_calibration(app) is None  # nothing new since
    with db.connection_context():
        assert Event.select().where(Event.kind == "model.calibrated").count() == 1
    assert all(not o.problems for o in recompute(app.extensions["catalogue"], check=True))


@pytest.mark.parametrize("value", ["25:00", "2.30", "noon", "02:61"])
def test_a_bad_backup_time_names_the_setting(tmp_path, value):
    with pytest.raises(ConfigError, match="backup_time"):
        load_settings(tmp_path, environ={"CLASSROOM_BACKUP_TIME": value})
