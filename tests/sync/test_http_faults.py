"""A real HTTP sync between a hub and a district served by waitress, through a loopback proxy that
breaks connections at random byte offsets: no event is lost or doubled, acknowledgements never
go back, and the hub catches up as soon as the link heals."""

from __future__ import annotations

import random

import pytest

from classroom_server.db import db
from classroom_server.models import Event, SyncAck
from classroom_server.services import events
from classroom_server.services import sync as hub_sync
from sync.client import SyncError
from sync.district.models import Event as DistrictEvent
from sync.district.models import Quarantine
from sync.protocol import BatchSizer
from sync.transport import HttpTransport
from tests.conftest import start_waitress, stop_waitress
from tests.sync.conftest import register
from tests.sync.proxy import BreakingProxy


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1])
def test_a_sync_over_a_breaking_link_loses_and_doubles_nothing(app, school, district, seed):
    server, thread = start_waitress(district)
    proxy = BreakingProxy(("127.0.0.1", server.effective_port), seed=seed)
    rng = random.Random(seed)
    learners = [p.uid for p in school.learners.values()]
    try:
        with db.connection_context():
            hub_sync.enrol(HttpTransport(f"http://127.0.0.1:{server.effective_port}"), "http://district.test",
                           register(district), "Room 4")
            highest: dict[str, int] = {}
            failures = 0
            for _ in range(25):
                for _ in range(rng.randint(1, 40)):
                    events.record("learner.signed_in", {"method": "pin"}, learner_uid=rng.choice(learners))
                transport = HttpTransport(proxy.url, read_timeout=1.0)
                try:
                    hub_sync.run(transport, sizer=BatchSizer(size=1500, step=500, minimum=600, maximum=3000))
                except SyncError as exc:
                    assert exc.retry, exc
                    failures += 1
                finally:
                    transport.close()
                for row in SyncAck.select():
                    assert row.acked >= highest.get(row.origin, 0)
                    highest[row.origin] = row.acked
            proxy.faulty = False
            transport = HttpTransport(proxy.url, read_timeout=5.0)
            for _ in range(3):
                try:
                    outcome = hub_sync.run(transport)
                    break
                except SyncError:
                    continue
            transport.close()
            assert outcome.waiting == 0
            hub = {row.event_id: (row.origin, row.seq, row.payload_hash) for row in Event.select()}
        with district.extensions["district_database"].connection_context():
            held = {row.event_id: (row.origin, row.seq, row.payload_hash) for row in DistrictEvent.select()}
            assert Quarantine.select().count() == 0
        assert held == hub
        assert failures > 0 and {"cut_response", "drop_response"} & set(proxy.applied)
    finally:
        proxy.close()
        stop_waitress(server, thread)
