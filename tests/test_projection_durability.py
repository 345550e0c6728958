"""Stored projections never lag the log: after a kill -9 mid-answer, in a backup taken while a
class answers, and once a full disk is freed, `recompute --check` passes straight away (not only
after the hub's next start), and no acknowledged answer is lost."""

import os
import random
import select
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from content_packs.testing import make_pack

from classroom_server import db as database
from classroom_server.cli import main
from classroom_server.db import db
from classroom_server.models import Event
from classroom_server.services import hub, packs, practice
from tests.conftest import real_disk

ROOT = Path(__file__).resolve().parents[1]
PACK = "org.example.durable"

ANSWERING = textwrap.dedent("""
    import sys, threading, uuid
    sys.path.insert(0, sys.argv[2])
    from classroom_server.app import create_app
    from classroom_server.db import db
    from classroom_server.models import Person
    from classroom_server.services import practice
    from tests.test_practice import _answer_response

    app = create_app(sys.argv[1], {"log_level": "warning"})
    engine = app.extensions["engine"]
    out = threading.Lock()

    def answer(offset):
        with db.connection_context():
            learners = list(Person.select().where(Person.role == "learner").order_by(Person.id))
            pack = engine.catalogue_store.get().catalogue.packs[0]
            n = offset
            while True:
                item = pack.items[n % len(pack.items)]
                event_id = str(uuid.uuid4())
                practice.record_attempt(engine, learners[n % len(learners)], pack.id, item.id,
                                        _answer_response(item, right=n % 3 != 0), event_id=event_id)
                with out:
                    print(event_id, flush=True)
                n += 1

    threads = [threading.Thread(target=answer, args=(k,), daemon=True) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
""")


def _check(data_dir):
    result = CliRunner().invoke(main, ["recompute", "--check", "--data", str(data_dir)])
    return result.exit_code, result.output


@pytest.fixture
def hub_with_class(app, data_dir, school, tmp_path):
    packs.import_pack(data_dir, make_pack(tmp_path / "src", skills=2, items_per_skill=6, pack_id=PACK))
    return data_dir


@pytest.mark.slow
def test_recompute_check_passes_right_after_a_kill_9_mid_answer(hub_with_class, tmp_path):
    script = tmp_path / "answering.py"
    script.write_text(ANSWERING)
    database.db.close_all()
    rng = random.Random(15)
    acknowledged: list[str] = []
    for _round in range(3):
        process = subprocess.Popen([sys.executable, str(script), str(hub_with_class), str(ROOT)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wanted = len(acknowledged) + rng.randint(5, 40)
        deadline = time.monotonic() + 120
        try:
            while len(acknowledged) < wanted and time.monotonic() < deadline:
                ready, _, _ = select.select([process.stdout], [], [], 1.0)
                if ready:
                    line = process.stdout.readline()
                    if not line:
                        break
                    acknowledged.append(line.strip())
        finally:
            os.kill(process.pid, signal.SIGKILL)
            _out, err = process.communicate(timeout=30)
        assert len(acknowledged) >= wanted, err
        code, output = _check(hub_with_class)
        assert code == 0, output
    with db.connection_context():
        stored = {e.event_id for e in Event.select(Event.event_id).where(Event.event_id.in_(acknowledged))}
    assert stored == set(acknowledged)  # no acknowledged answer lost


def test_a_backup_taken_while_a_class_answers_holds_equal_projections(app, hub_with_class, school, tmp_path):
    from tests.test_practice import _answer_response

    engine = app.extensions["engine"]
    learners = list(school.learners.values())
    pack = engine.catalogue_store.get().catalogue.pack(PACK)
    done = threading.Event()
    errors: list[BaseException] = []

    def answering(offset):
        try:
            with db.connection_context():
                for n in range(offset, offset + 400):
                    if done.is_set():
                        return
                    item = pack.items[n % len(pack.items)]
                    practice.record_attempt(engine, learners[n % len(learners)], PACK, item.id,
                                            _answer_response(item, right=n % 4 != 0), event_id=str(uuid.uuid4()))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=answering, args=(k * 7,)) for k in range(2)]
    for thread in threads:
        thread.start()
    backups = []
    try:
        for n in range(3):
            with db.connection_context():
                while Event.select().where(Event.kind == "attempt").count() < 20 * (n + 1):
                    if not any(t.is_alive() for t in threads):
                        break
                    time.sleep(0.01)  # polling a condition: the answers under way
            backups.append(hub.backup(database.database_path(hub_with_class), tmp_path / f"backup-{n}.sqlite3"))
    finally:
        done.set()
        for thread in threads:
            thread.join()
    assert errors == []
    for n, backup in enumerate(backups):
        restored = tmp_path / f"restored-{n}"
        restored.mkdir()
        shutil.copy(backup, database.database_path(restored))
        code, output = _check(restored)
        assert code == 0, output
        assert "attempt" in output or "mastery" in output


@pytest.fixture
def small_disk(tmp_path):
    """A real 16 MB disk (tmpfs): room for a hub and a pack, then filled up."""
    with real_disk(tmp_path / "small-disk", "16m") as point:
        yield point


def test_recompute_check_passes_once_a_full_disk_is_freed(small_disk, tmp_path):
    from classroom_server.app import create_app
    from classroom_server.services import accounts
    from tests.test_cli import _fill
    from tests.test_practice import _answer_response

    data = small_disk / "hub"
    result = CliRunner().invoke(main, ["init", "--data", str(data), "--admin-password", "first-admin-pw"])
    assert result.exit_code == 0, result.output
    app = create_app(data, {"log_level": "warning", "TESTING": True})
    packs.import_pack(data, make_pack(tmp_path / "src", skills=1, items_per_skill=4, pack_id=PACK))
    engine = app.extensions["engine"]
    with db.connection_context():
        from classroom_server.models import Person

        admin = Person.get(Person.username == "admin")
        teacher = accounts.create_staff("teacher", "tess", "Tess", "teacher-password-1", admin)
        classroom = accounts.create_class("Sunflowers", "pin", [teacher.id], admin)
        learner = accounts.create_learner(classroom, "Ana", "blue", "1234", teacher)
        pack = engine.catalogue_store.get().catalogue.pack(PACK)
        acknowledged, refused = [], 0
        _fill(small_disk)
        for n in range(400):
            item = pack.items[n % len(pack.items)]
            event_id = str(uuid.uuid4())
            try:
                practice.record_attempt(engine, learner, PACK, item.id, _answer_response(item, right=n % 3 != 0),
                                        event_id=event_id)
                acknowledged.append(event_id)
            except Exception as exc:  # the disk is full: SQLite's own error, as the web layer sees it
                assert "full" in str(exc).lower() or "disk" in str(exc).lower() or "space" in str(exc).lower(), exc
                refused += 1
                if refused >= 5:
                    break
        assert refused >= 5
    (small_disk / "filler").unlink()
    code, output = _check(data)
    assert code == 0, output
    with db.connection_context():
        stored = {e.event_id for e in Event.select(Event.event_id).where(Event.kind == "attempt")}
        assert set(acknowledged) <= stored
        # The hub answers again, and memory agrees with the log.
        item = pack.items[0]
        practice.record_attempt(engine, learner, PACK, item.id, _answer_response(item), event_id=str(uuid.uuid4()))
        with engine.reading() as snap:
            attempts = snap.state.peek(learner.uid, f"{PACK}:{item.skill}").attempts
        assert attempts == Event.select().where(Event.kind == "attempt").count()
    code, output = _check(data)
    assert code == 0, output
