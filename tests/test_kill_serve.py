"""kill -9 of a real `classroom-server serve` while learners answer over HTTP, again and again
(20 times by default; `--kills 200` for a longer run). After every round the learners' devices
send again what got no answer, as the answer queue does. In the end every answer the hub
acknowledged is stored exactly once, the hub's event numbers have no gap, SQLite's
integrity_check says ok, and `recompute --check` finds every projection equal to a rebuild."""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from content_packs.testing import make_pack

from classroom_server import db as database
from classroom_server.cli import main
from classroom_server.db import db
from classroom_server.models import Person
from classroom_server.services import accounts, packs
from tests.test_practice import _answer_form

ROOT = Path(__file__).resolve().parents[1]
PACK = "org.example.killed"
LEARNERS = 4
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def hub(tmp_path):
    """A hub made by the command line (real hashes), a pack, a class of learners with PINs."""
    from classroom_server.app import create_app

    data = tmp_path / "hub"
    result = CliRunner().invoke(main, ["init", "--data", str(data), "--admin-password", "first-admin-pw"])
    assert result.exit_code == 0, result.output
    app = create_app(data, {"log_level": "warning", "TESTING": True})
    packs.import_pack(data, make_pack(tmp_path / "src", skills=2, items_per_skill=6, pack_id=PACK))
    items = app.extensions["catalogue"].get().catalogue.pack(PACK).items
    with db.connection_context():
        admin = Person.get(Person.username == "admin")
        teacher = accounts.create_staff("teacher", "tess", "Tess", "teacher-password-1", admin)
        classroom = accounts.create_class("Sunflowers", "pin", [teacher.id], admin)
        learners = [accounts.create_learner(classroom, f"L{n}", "blue", f"{1000 + n}", teacher).id
                    for n in range(LEARNERS)]
    database.db.close_all()
    return data, classroom.id, learners, items


class Device:
    """One learner's browser: signs in once (the session outlives the hub's restarts), answers
    items, and keeps an answer that got no reply to send it again, with the same event id."""

    def __init__(self, base: str, class_id: int, learner_id: int, pin: str, items, rng: random.Random) -> None:
        self.base, self.class_id, self.learner_id, self.pin = base, class_id, learner_id, pin
        self.items, self.rng = items, rng
        self.http = requests.Session()
        self.signed_in = False
        self.pending: tuple[str, dict[str, str]] | None = None  # (url, form) sent without a reply
        self.acknowledged: list[str] = []
        self.error: Exception | None = None
        self.resent = 0  # answers sent again after a kill left them without a reply

    def _token(self, path: str) -> str:
        page = self.http.get(self.base + path, timeout=10)
        page.raise_for_status()
        return CSRF.search(page.text).group(1)

    def _sign_in(self) -> None:
        path = f"/login/learner/{self.class_id}/{self.learner_id}"
        response = self.http.post(self.base + path, data={"csrf_token": self._token(path), "pin": self.pin},
                                  timeout=10, allow_redirects=False)
        assert response.status_code == 302, response.text
        self.signed_in = True

    def _send(self, url: str, form: dict[str, str]) -> None:
        self.pending = (url, form)
        response = self.http.post(self.base + url, data=form, headers={"Accept": "application/json"},
                                  timeout=10, allow_redirects=False)
        assert response.status_code == 200, (response.status_code, response.text[:300])
        self.acknowledged.append(form["event_id"])
        self.pending = None

    def run(self, stop: threading.Event) -> None:
        """Answer until the hub goes away (or ``stop``); never raise for a dropped connection."""
        try:
            if not self.signed_in:
                self._sign_in()
            if self.pending:  # what the last round sent without an answer: the same event id again
                url, form = self.pending
                form = {**form, "csrf_token": self._token(url)}
                self.resent += 1
                self._send(url, form)
            while not stop.is_set():
                item = self.rng.choice(self.items)
                url = f"/learn/item/{PACK}/{item.id}"
                form = {"csrf_token": self._token(url), "event_id": str(uuid.uuid4()), "duration_ms": "1500",
                        **_answer_form(item, right=self.rng.random() < 0.7)}
                self._send(url, form)
        except requests.RequestException:
            return  # killed (refused, reset, or cut mid-answer): what was pending stays pending
        except Exception as exc:  # a wrong answer from the hub: the test fails with it
            self.error = exc


def _serve(data: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", "from classroom_server.cli import main; main()", "serve", "--data", str(data),
         "--port", str(port), "--host", "127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )


def _wait_until_up(base: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited: {process.stderr.read()}")
        try:
            if requests.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.05)  # polling for a condition (the port opening), not waiting a fixed time
    raise AssertionError("serve did not answer /healthz in time")


@pytest.mark.slow
def test_kill_9_again_and_again_while_learners_answer_loses_and_doubles_nothing(hub, request):
    data, class_id, learner_ids, items = hub
    kills = request.config.getoption("--kills")
    rng = random.Random(20)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    devices = [Device(base, class_id, lid, f"{1000 + n}", items, random.Random(n)) for n, lid in enumerate(learner_ids)]
    for _round in range(kills):
        process = _serve(data, port)
        try:
            _wait_until_up(base, process)
            stop = threading.Event()
            before = sum(len(d.acknowledged) for d in devices)
            threads = [threading.Thread(target=d.run, args=(stop,)) for d in devices]
            for t in threads:
                t.start()
            wanted = before + rng.randint(1, 25)  # a random moment: after some answers, mid-request
            deadline = time.monotonic() + 60
            while sum(len(d.acknowledged) for d in devices) < wanted and time.monotonic() < deadline:
                if not any(t.is_alive() for t in threads):
                    break
                time.sleep(0.002)
        finally:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
            process.stderr.close()
        for t in threads:
            t.join(timeout=30)
        assert not [d.error for d in devices if d.error], [repr(d.error) for d in devices if d.error]
        assert sum(len(d.acknowledged) for d in devices) >= wanted, "the learners could not answer"
    # The devices send what is still pending once the hub is back, as the answer queue does.
    process = _serve(data, port)
    try:
        _wait_until_up(base, process)
        stop = threading.Event()
        stop.set()
        for d in devices:
            d.run(stop)
            assert d.error is None and d.pending is None, d.error
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        process.stderr.close()

    acknowledged = [e for d in devices for e in d.acknowledged]
    assert len(acknowledged) == len(set(acknowledged))
    con = sqlite3.connect(str(database.database_path(data)))
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = [r[0] for r in con.execute("SELECT event_id FROM event WHERE kind = 'attempt'")]
        assert sorted(stored) == sorted(acknowledged)  # each acknowledged answer once, nothing else
        for origin, low, high, count in con.execute(
            "SELECT origin, min(seq), max(seq), count(*) FROM event GROUP BY origin"
        ):
            assert (low, high) == (1, count), f"a gap in {origin}'s events"
    finally:
        con.close()
    result = CliRunner().invoke(main, ["recompute", "--check", "--data", str(data)])
    assert result.exit_code == 0, result.output
    print(f"kills={kills} acknowledged={len(acknowledged)} resent={sum(d.resent for d in devices)} "
          f"stored={len(stored)} integrity=ok recompute_check=equal")
