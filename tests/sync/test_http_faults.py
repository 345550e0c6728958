"""A real HTTP sync between a hub and a district served by waitress, through a loopback proxy that
breaks connections at random byte offsets: no event is lost or doubled, acknowledgements never
go back, and the hub catches up as soon as the link heals."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

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


def _sync_through_breaks(proxy: BreakingProxy, highest: dict[str, int]) -> int:
    """One sync of the hub in use through the breaking proxy, with small batches; 1 if the link
    broke it (a failure the hub will retry), else 0. No acknowledgement may ever go back:
    ``highest`` keeps each origin's highest seen so far."""
    transport = HttpTransport(proxy.url, read_timeout=1.0)
    failed = 0
    try:
        hub_sync.run(transport, sizer=BatchSizer(size=1500, step=500, minimum=600, maximum=3000))
    except SyncError as exc:
        assert exc.retry, exc
        failed = 1
    finally:
        transport.close()
    for row in SyncAck.select():
        assert row.acked >= highest.get(row.origin, 0)
        highest[row.origin] = row.acked
    return failed


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
                failures += _sync_through_breaks(proxy, highest)
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


@pytest.mark.slow
def test_two_hubs_sharing_a_learner_over_a_breaking_link_end_with_one_log_of_them(app, district, data_dir, tmp_path,
                                                                                   migrated_template):
    """The ``shared`` step through real HTTP and the breaking proxy: a learner on two hubs (the
    district's roster puts them in a class on each), both hubs writing about them and syncing
    while the link breaks; once it heals, each hub holds every event about the learner once,
    as the district does, and no hub's acknowledgements or scan places ever went back."""
    from classroom_server.app import create_app
    from classroom_server.db import DB_FILENAME
    from classroom_server.models import FollowedLearner
    from classroom_server.services import hub
    from sync.district import service
    from tests.sync.test_two_hubs import ROSTER, SCHOOL, SETTINGS, use

    server, thread = start_waitress(district)
    direct = f"http://127.0.0.1:{server.effective_port}"
    proxy = BreakingProxy(("127.0.0.1", server.effective_port), seed=5)
    rng = random.Random(5)
    database = district.extensions["district_database"]
    folders = [data_dir, tmp_path / "hub-b"]
    folders[1].mkdir()
    shutil.copyfile(migrated_template, folders[1] / DB_FILENAME)
    create_app(folders[1], SETTINGS)
    with db.connection_context():
        hub.initialize_identity()
    try:
        with database.connection_context():
            service.publish(service.add_school(SCHOOL), ROSTER[:6])  # s-1 and s-2 in class 4A, on hub A
        for folder in folders:
            use(folder)
            with db.connection_context():
                hub_sync.enrol(HttpTransport(direct), "http://district.test", register(district, SCHOOL, folder.name),
                               folder.name)
                hub_sync.run(HttpTransport(direct))
        with database.connection_context():  # the maths club meets on hub B: s-1 is on both hubs now
            service.publish(service.school_named(SCHOOL), [ROSTER[1], ROSTER[6]])
        writers = {folders[0]: ["s-1", "s-2"], folders[1]: ["s-1"]}
        highest: dict[Path, dict[str, int]] = {}
        failures = 0
        for _ in range(12):
            for folder in folders:
                use(folder)
                with db.connection_context():
                    for _ in range(rng.randint(1, 25)):
                        events.record("learner.signed_in", {"method": "pin"}, learner_uid=rng.choice(writers[folder]))
                    failures += _sync_through_breaks(proxy, highest.setdefault(folder, {}))
                    for origin, place in hub_sync.Store().shared_state()[0].items():
                        assert place >= highest[folder].get("scan " + origin, 0)
                        highest[folder]["scan " + origin] = place
        proxy.faulty = False
        logs = {}
        for folder in folders + folders:  # twice round: each then has what the other sent
            use(folder)
            with db.connection_context():
                transport = HttpTransport(proxy.url, read_timeout=5.0)
                for _ in range(3):
                    try:
                        assert hub_sync.run(transport).waiting == 0
                        break
                    except SyncError:
                        continue
                transport.close()
                rows = [e.event_id for e in Event.select().where(Event.learner_uid == "s-1")]
                assert len(rows) == len(set(rows)), "an event about the learner twice on a hub"
                logs[folder] = set(rows)
                assert "s-1" in {f.uid for f in FollowedLearner.select()}
        with database.connection_context():
            held = [e.event_id for e in DistrictEvent.select().where(DistrictEvent.learner_uid == "s-1")]
            assert Quarantine.select().count() == 0
        assert len(held) == len(set(held))
        assert logs[folders[0]] == logs[folders[1]] == set(held) and len(held) > 12
        assert failures > 0
    finally:
        use(data_dir)
        proxy.close()
        stop_waitress(server, thread)
