"""Two hubs of one school share their learners through a link that loses, doubles, replays, cuts
and flips requests and answers: whatever the schedule, once the link heals each hub holds every
event of every learner exactly once, as the district does, and both show the same projections.

Hypothesis draws the schedules: a tenth of ``--schedules`` (50 by default), each with several
syncs of both hubs, so as many requests go through faults as in test_faults.py's schedules."""

from __future__ import annotations

import random
import shutil

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classroom_server.app import create_app
from classroom_server.db import DB_FILENAME, configure, database_path, db
from classroom_server.models import Event, WeeklyGoal
from classroom_server.services import events, hub
from classroom_server.services import sync as hub_sync
from sync.client import SyncError
from sync.district import service
from sync.district.models import Event as DistrictEvent
from sync.district.models import Quarantine
from sync.protocol import BatchSizer
from sync.transport import AppTransport
from tests.sync.conftest import register
from tests.sync.faults import FAULTS, FaultyTransport

SETTINGS = {"TESTING": True, "log_level": "warning", "insecure_fast_hashes": True}
LEARNERS = ["s-1", "s-2", "s-3"]
ROSTER = [
    {"kind": "class", "sourcedId": "c-1", "status": "active", "title": "Class 1"},
    *({"kind": "user", "sourcedId": uid, "status": "active", "role": "student", "givenName": uid,
       "familyName": "Shared"} for uid in LEARNERS),
    *({"kind": "enrollment", "sourcedId": f"e-{uid}", "status": "active", "classSourcedId": "c-1",
       "userSourcedId": uid, "role": "student"} for uid in LEARNERS),
]
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("write"), st.sampled_from(["a", "b"]), st.integers(1, 5)),
        st.tuples(st.just("sync"), st.sampled_from(["a", "b"]),
                  st.lists(st.sampled_from(FAULTS), min_size=1, max_size=6)),
    ),
    min_size=1, max_size=8,
)


def _small() -> BatchSizer:
    return BatchSizer(size=700, step=300, minimum=300, maximum=1500)


def _write(count: int, rng: random.Random) -> None:
    for _ in range(count):
        learner = rng.choice(LEARNERS)
        if rng.random() < 0.6:
            events.record("learner.signed_in", {"method": "picture"}, learner_uid=learner, actor_uid=learner)
        else:
            events.record("goal.set", {"kind": "skills", "target": rng.randint(1, 9), "week_of": "2026-12-07"},
                          learner_uid=learner, actor_uid=learner)


def _learner_log() -> dict[str, tuple[str, int, str]]:
    return {e.event_id: (e.origin, int(e.seq), e.payload_hash) for e in Event.select().where(
        Event.learner_uid.in_(LEARNERS))}


def test_two_hubs_sharing_learners_over_a_bad_link_end_with_one_log(app, district, data_dir, tmp_path,
                                                                    migrated_template, request):
    database = district.extensions["district_database"]
    with database.connection_context():
        service.publish(service.add_school("Hillside Primary"), ROSTER)
    inner = AppTransport(district)
    folders = {"a": data_dir, "b": tmp_path / "hub-b"}
    folders["b"].mkdir()
    shutil.copyfile(migrated_template, folders["b"] / DB_FILENAME)
    create_app(folders["b"], SETTINGS)
    with db.connection_context():
        hub.initialize_identity()

    def use(name: str) -> None:
        configure(database_path(folders[name]))

    for name in ("a", "b"):
        use(name)
        with db.connection_context():
            hub_sync.enrol(inner, "http://district.test", register(district, "Hillside Primary", name), name)
            hub_sync.run(inner, pause=None)

    @settings(max_examples=max(10, request.config.getoption("--schedules") // 10), deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(steps=STEPS, seed=st.integers(0, 2**32 - 1))
    def schedule(steps, seed):  # type: ignore[no-untyped-def]
        rng = random.Random(seed)
        for step, name, argument in steps:
            use(name)
            with db.connection_context():
                if step == "write":
                    _write(argument, rng)
                    continue
                try:
                    hub_sync.run(FaultyTransport(inner, argument, seed=rng.randrange(2**32)), sizer=_small(),
                                 pause=None)
                except SyncError:
                    pass
        logs = {}
        goals = {}
        for name in ("a", "b", "a", "b"):  # the link heals; each hub syncs twice
            use(name)
            with db.connection_context():
                for _ in range(5):
                    try:
                        outcome = hub_sync.run(inner, sizer=_small(), pause=None)
                        break
                    except SyncError as exc:
                        assert exc.retry, exc
                else:
                    raise AssertionError(f"hub {name} could not sync over a healed link")
                assert outcome.waiting == 0
                logs[name] = _learner_log()
                goals[name] = {g.learner_uid: (g.kind, g.target, g.week_of) for g in WeeklyGoal.select()}
        with database.connection_context():
            held = {e.event_id: (e.origin, int(e.seq), e.payload_hash) for e in DistrictEvent.select().where(
                DistrictEvent.learner_uid.in_(LEARNERS))}
            assert Quarantine.select().count() == 0
        assert logs["a"] == logs["b"] == held, "the hubs' logs of the shared learners differ"
        assert goals["a"] == goals["b"]

    schedule()
    use("a")  # the app fixture closes hub A's database
