"""A calibration fitted at the district on every school's answers: the same fit as a hub's own on
the same answers, a draft until staff send it, then a ``model.calibrated`` event on every hub,
which keeps it rather than fitting its own. Only the district's staff reach it."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from classroom_server import clock
from classroom_server.db import db
from classroom_server.learning.adapter import canonical_key, engine_event
from classroom_server.learning.calibration import fit_calibration
from classroom_server.models import CANONICAL_ORDER, Event
from classroom_server.services import learning, packs
from classroom_server.services import sync as hub_sync
from sync.district import calibrate
from sync.district.models import DistrictCalibration
from tests.conftest import study
from tests.sync.conftest import enrolled
from tests.sync.test_dashboard import _post
from tests.sync.test_district_growth import _staff_client
from tests.sync.test_district_projections import _practise
from tests.sync.test_pull import LIBRARY


@pytest.fixture
def practised(app, school, data_dir):
    packs.import_pack(data_dir, LIBRARY / "fractions")
    study(school)
    moment = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).replace(hour=7, minute=0, second=0, microsecond=0)
    assert _practise(app, moment, days=2, seed=4) > 0
    return app


def _hubs_own_fit(app) -> dict:
    """What the hub's calibrate() would fit on its answers (before any calibration in its log)."""
    with db.connection_context():
        rows = list(Event.select().where(Event.kind.in_(calibrate.KINDS)).order_by(*CANONICAL_ORDER).dicts())
        app.extensions["engine"].catch_up()
        catalog = app.extensions["engine"].catalog
        return fit_calibration((engine_event(r) for r in rows), catalog)


def test_the_district_fits_what_the_hub_would_and_sends_it_to_the_hub(practised, district):
    transport = enrolled(practised, district)
    with db.connection_context():
        hub_sync.run(transport)
    database = district.extensions["district_database"]
    with database.connection_context():
        # Read a page at a time, in the log's canonical order, each event once.
        paged = list(calibrate.stored_events(page=7))
        assert paged == list(calibrate.stored_events()) == sorted(paged, key=canonical_key) and len(paged) > 14
        row = calibrate.start()
        with pytest.raises(calibrate.Busy):
            calibrate.start()
        calibrate.fit(row, every=50)
        found = DistrictCalibration.get_by_id(row.id)
        assert found.status == "draft" and found.events == found.total > 0 and found.hubs == 1
        body = json.loads(found.body)
    expected = _hubs_own_fit(practised)
    assert body["items"] == expected["items"] and body["skills"] == expected["skills"]
    assert body["guess_slip"] == expected["guess_slip"] and body["answers"] > 0
    with database.connection_context():
        review = calibrate.review(row.id)
        assert review.previous is None and review.items == len(body["items"]) and review.moved
        assert calibrate.send(row.id, "dana") == f"district-fit-{row.id}"
        with pytest.raises(ValueError):
            calibrate.send(row.id, "dana")  # sent once
    with db.connection_context():
        hub_sync.run(transport)
        fitted = [json.loads(e.payload) for e in Event.select().where(Event.kind == "model.calibrated")]
        assert [(f["source"], f["items"]) for f in fitted] == [("district", body["items"])]
        assert learning.calibrate(practised.extensions["engine"], min_new_answers=0) is None  # the hub keeps it


def test_staff_fit_review_and_discard_on_the_dashboard(practised, district):
    transport = enrolled(practised, district)
    with db.connection_context():
        hub_sync.run(transport)
    client = _staff_client(district, "dana")
    assert "No calibration fitted here yet." in client.get("/dashboard/calibrations").get_data(as_text=True)
    started = _post(client, "/dashboard/calibrations", follow_redirects=True)
    assert "Fitting started" in started.get_data(as_text=True)
    database = district.extensions["district_database"]
    deadline = time.monotonic() + 60
    while True:  # the fit runs in the background: wait for it to finish
        with database.connection_context():
            status = DistrictCalibration.select().order_by(DistrictCalibration.id.desc()).first().status
        if status != "fitting" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert status == "draft"
    with database.connection_context():
        row = DistrictCalibration.select().order_by(DistrictCalibration.id.desc()).first()
    review = client.get(f"/dashboard/calibrations/{row.id}").get_data(as_text=True)
    assert "Send to every hub" in review and "The items with the most answers" in review
    assert "Discarded" in _post(client, f"/dashboard/calibrations/{row.id}/discard",
                                follow_redirects=True).get_data(as_text=True)
    assert "Only a finished draft can be sent." in _post(client, f"/dashboard/calibrations/{row.id}/send",
                                                         follow_redirects=True).get_data(as_text=True)
    local = _staff_client(district, "hana", "Hillside Primary")
    assert local.get("/dashboard/calibrations").status_code == 403
    assert _post(local, "/dashboard/calibrations").status_code == 403
    with database.connection_context():
        assert DistrictCalibration.select().count() == 1


def test_a_fit_that_stopped_moving_is_marked_failed_when_the_next_starts(district):
    database = district.extensions["district_database"]
    with database.connection_context():
        old = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(timespec="seconds")
        stuck = DistrictCalibration.create(status="fitting", started_at=old, updated_at=old, total=10)
        fresh = calibrate.start()
        assert DistrictCalibration.get_by_id(stuck.id).status == "failed"
        assert fresh.status == "fitting"
        with clock.pretend(dt.datetime.now(dt.UTC)):
            calibrate.fit(fresh)  # no answers at all: an empty fit, still a draft to look at
        assert DistrictCalibration.get_by_id(fresh.id).status == "draft"
