"""kill -9 of the hub or the district in the middle of syncs, again and again: when both run
again, the district holds exactly the hub's events, none lost, none twice."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from classroom_server.db import db
from classroom_server.models import Event
from classroom_server.services import events
from classroom_server.services import sync as hub_sync
from sync.district.models import Event as DistrictEvent
from sync.district.models import Quarantine, open_database
from sync.transport import HttpTransport
from tests.sync.conftest import register

DISTRICT = """
import sys
from waitress import serve
from sync.district.app import create_district_app
serve(create_district_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), threads=2, _quiet=True)
"""

SYNCER = """
import sys
from classroom_server.app import create_app
from classroom_server.db import db
from classroom_server.services import sync as hub_sync
from sync.client import SyncError
from sync.protocol import BatchSizer
from sync.transport import HttpTransport

create_app(sys.argv[1], {"TESTING": True, "log_level": "error", "insecure_fast_hashes": True})
while True:  # sync over and over, in small batches, until killed
    with db.connection_context():
        try:
            hub_sync.run(HttpTransport(sys.argv[2], read_timeout=5.0),
                         sizer=BatchSizer(size=2000, step=500, minimum=1000, maximum=4000))
        except SyncError:
            pass
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(code: str, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _kill(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGKILL)
    if process is not None:
        process.wait()


def _wait_until(condition, seconds: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("the condition was not met in time")


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.mark.slow
def _kill_again_and_again(rounds: int, procs: dict[str, subprocess.Popen[bytes] | None], data_dir: Path,
                          url: str, district_url: str, port: int, progress: Callable[[], int],
                          rng: random.Random, step: int, cap: int) -> dict[str, int]:
    """``rounds`` times: a hub syncs over and over in its own process until ``progress()`` has
    moved by up to ``step`` (or reached ``cap``, where it ends), then the hub or the district is
    killed -9 (the district is started again). ``procs`` holds the live processes, for the
    caller's clean-up."""
    kills = {"hub": 0, "district": 0}
    for _ in range(rounds):
        procs["syncer"] = syncer = _start(SYNCER, str(data_dir), url)
        target = min(cap, progress() + rng.randint(1, step))
        _wait_until(lambda t=target, p=syncer: progress() >= t or p.poll() is not None)
        victim = rng.choice(["hub", "district"])
        _kill(syncer if victim == "hub" else procs["server"])
        kills[victim] += 1
        if victim == "district":
            procs["server"] = _start(DISTRICT, district_url, str(port))
            _wait_until(lambda: _listening(port))
        _kill(syncer)
        procs["syncer"] = None
    return kills


def _heal(url: str):  # type: ignore[no-untyped-def]
    """Sync until one sync finishes over a link that works again (an earlier answer may still be
    in the way once)."""
    for _ in range(5):
        try:
            return hub_sync.run(HttpTransport(url))
        except hub_sync.client.SyncError:
            continue
    raise AssertionError("the hub could not sync once both sides ran again")


def test_kill_9_of_either_side_at_any_moment_loses_and_doubles_nothing(app, school, district, district_url,
                                                                          data_dir):
    rng = random.Random(9)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    district.extensions["district_database"].close()
    reader = open_database(district_url)
    learners = [p.uid for p in school.learners.values()]

    def held() -> int:
        with reader.connection_context():
            return int(reader.execute_sql("SELECT COUNT(*) FROM event").fetchone()[0])

    procs: dict[str, subprocess.Popen[bytes] | None] = {"server": _start(DISTRICT, district_url, str(port)),
                                                        "syncer": None}
    try:
        _wait_until(lambda: _listening(port))
        with db.connection_context():
            hub_sync.enrol(HttpTransport(url), url, register(district), "Room 4")
            for _ in range(800):
                events.record("learner.signed_in", {"method": "pin"}, learner_uid=rng.choice(learners))
            total = Event.select().count()
        db.close_all()
        kills = _kill_again_and_again(8, procs, data_dir, url, district_url, port,
                                      held, rng, step=300, cap=total)
        with db.connection_context():
            outcome = _heal(url)
            assert outcome.waiting == 0
            mine = {r.event_id: (r.origin, r.seq, r.payload_hash) for r in Event.select()}
        with reader.connection_context():
            at_district = {r.event_id: (r.origin, r.seq, r.payload_hash) for r in DistrictEvent.select()}
            assert Quarantine.select().count() == 0
        assert at_district == mine
        assert kills["hub"] and kills["district"]
    finally:
        _kill(procs["syncer"])
        _kill(procs["server"])
        reader.close()


def test_kill_9_during_a_pull_applies_every_district_change_once(app, school, district, district_url, data_dir):
    """A long roster coming down in small batches, the hub or the district killed again and
    again: in the end the hub holds the district's roster exactly, each change applied once."""
    from classroom_server.models import Enrollment, HubMeta, Person
    from classroom_server.services import district_changes
    from sync.district import service

    rng = random.Random(16)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    roster: list[dict[str, object]] = [{"kind": "class", "sourcedId": "c-big", "status": "active", "title": "Big"}]
    for n in range(300):
        roster += [{"kind": "user", "sourcedId": f"s-{n}", "status": "active", "role": "student",
                    "givenName": f"Learner {n}", "familyName": "Roster"},
                   {"kind": "enrollment", "sourcedId": f"e-{n}", "status": "active", "classSourcedId": "c-big",
                    "userSourcedId": f"s-{n}", "role": "student"}]
    database = district.extensions["district_database"]
    with database.connection_context():
        code = register(district)
        service.publish(service.school_named("Hillside Primary"), roster)
        head = service.pull_head(int(service.school_named("Hillside Primary").id))
    database.close()

    def cursor() -> int:
        with db.connection_context():
            row = HubMeta.get_or_none(HubMeta.key == district_changes.KEY_CURSOR)
            return int(row.value) if row else 0

    procs: dict[str, subprocess.Popen[bytes] | None] = {"server": _start(DISTRICT, district_url, str(port)),
                                                        "syncer": None}
    try:
        _wait_until(lambda: _listening(port))
        with db.connection_context():
            hub_sync.enrol(HttpTransport(url), url, code, "Room 4")
        db.close_all()
        kills = _kill_again_and_again(6, procs, data_dir, url, district_url, port,
                                      cursor, rng, step=120, cap=head)
        with db.connection_context():
            outcome = _heal(url)
            assert outcome.waiting == 0 and district_changes.cursor() == head
            people = {p.uid: p.display_name for p in Person.select().where(Person.source == "district")}
            assert people == {f"s-{n}": f"Learner {n} Roster" for n in range(300)}
            assert Enrollment.select().join(Person).where(Person.source == "district").count() == 300
            created = [e.learner_uid for e in Event.select().where(Event.kind == "learner.created",
                                                                   Event.actor_uid == "district")]
            assert len(created) == len(set(created)) == 300  # each change applied once
        assert kills["hub"] + kills["district"] == 6
    finally:
        _kill(procs["syncer"])
        _kill(procs["server"])
