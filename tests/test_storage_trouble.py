"""A full or read-only disk under a running hub: the learner gets plain words and a status the
answer queue keeps the answer for (507 or 503, never 500), /healthz tells the admin what is
wrong, and nothing acknowledged is lost (#20: the failed COMMIT was followed by a failed
ROLLBACK that was not recognised, so every answer on a full disk was a 500)."""

import re
import subprocess
import uuid

import pytest
from content_packs.testing import make_pack

from classroom_server.app import create_app
from classroom_server import db as database
from classroom_server.db import db
from classroom_server.errors import storage_problem
from classroom_server.models import Event, Person
from classroom_server.services import accounts, hub, packs
from tests.conftest import ADMIN_PASSWORD, TEACHER_PASSWORD, csrf_token, real_disk
from tests.test_cli import _fill
from tests.test_practice import _answer_form

PACK = "org.example.disk"


def test_a_failed_rollback_after_a_failed_commit_is_still_the_full_disk():
    import sqlite3

    try:
        try:
            raise sqlite3.OperationalError("database or disk is full")
        except sqlite3.OperationalError:
            raise sqlite3.OperationalError("cannot rollback - no transaction is active")  # noqa: B904
    except sqlite3.OperationalError as exc:
        assert storage_problem(exc) == "full"
    assert storage_problem(sqlite3.OperationalError("cannot rollback - no transaction is active")) is None


@pytest.fixture
def disk_hub(tmp_path):
    with real_disk(tmp_path / "disk", "16m") as point:
        data = point / "hub"
        data.mkdir()
        app = create_app(data, {"TESTING": True, "log_level": "warning"})
        with db.connection_context():
            hub.initialize_identity()
        packs.import_pack(data, make_pack(tmp_path / "src", skills=1, items_per_skill=6, pack_id=PACK))
        app.extensions["catalogue"].get()  # loaded before the disk fills
        with db.connection_context():
            admin = accounts.create_staff("admin", "admin", "Ada Admin", ADMIN_PASSWORD)
            teacher = accounts.create_staff("teacher", "tess", "Tess", TEACHER_PASSWORD, admin)
            classroom = accounts.create_class("Sunflowers", "pin", [teacher.id], admin)
            learner = accounts.create_learner(classroom, "Ana", "blue", "1234", teacher)
        client = app.test_client()
        token = csrf_token(client, f"/login/learner/{classroom.id}/{learner.id}")
        signed = client.post(f"/login/learner/{classroom.id}/{learner.id}", data={"csrf_token": token, "pin": "1234"})
        assert signed.status_code == 302
        yield app, client, point


def _answer(app, client, n, token=None):
    """Answer the n-th item, as the answer queue sends it (with the CSRF token of a page it
    opened before, when given); returns the response and the answer's event id."""
    pack = app.extensions["catalogue"].get().catalogue.pack(PACK)
    item = pack.items[n % len(pack.items)]
    url = f"/learn/item/{PACK}/{item.id}"
    if token is None:
        page = client.get(url).get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    event_id = str(uuid.uuid4())
    form = {"csrf_token": token, "event_id": event_id, "started": "0", "duration_ms": "2000",
            **_answer_form(item, right=n % 3 != 0)}
    return client.post(url, data=form, headers={"Accept": "application/json"}), event_id


def _token(app, client):
    pack = app.extensions["catalogue"].get().catalogue.pack(PACK)
    page = client.get(f"/learn/item/{PACK}/{pack.items[0].id}").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_answers_on_a_truly_full_disk_are_507_and_none_acknowledged_is_lost(disk_hub):
    app, client, disk = disk_hub
    acknowledged = []
    for n in range(3):
        response, event_id = _answer(app, client, n)
        assert response.status_code == 200, response.get_data(as_text=True)
        acknowledged.append(event_id)
    token = _token(app, client)
    _fill(disk)
    statuses = []
    for n in range(3, 40):
        response, event_id = _answer(app, client, n, token)
        statuses.append(response.status_code)
        if response.status_code == 200:
            acknowledged.append(event_id)
        else:
            assert response.status_code == 507, response.get_data(as_text=True)
            assert response.get_json()["error"]["code"] == "storage_full"
    assert statuses.count(507) >= 5, statuses
    health = client.get("/healthz")
    if health.status_code == 200:  # the read went through: the report names the trouble
        assert "disk_writes_failing" in health.get_json()["problems"]
    else:
        assert health.status_code == 507
    (disk / "filler").unlink()
    report = client.get("/healthz").get_json()
    assert report["storage_trouble"]["problem"] == "full"  # remembered for a while after a failed write
    response, event_id = _answer(app, client, 41)
    assert response.status_code == 200
    acknowledged.append(event_id)
    with db.connection_context():
        stored = [e.event_id for e in Event.select(Event.event_id).where(Event.kind == "attempt")]
    assert sorted(stored) == sorted(acknowledged)  # each acknowledged answer once, no other


def test_a_read_only_disk_is_503_with_plain_words_and_healthz_says_so(disk_hub):
    app, client, disk = disk_hub
    response, _ = _answer(app, client, 0)
    assert response.status_code == 200
    token = _token(app, client)
    database.close_all()  # pooled connections hold the file open: the remount needs it closed
    remount = subprocess.run(["mount", "-o", "remount,ro", str(disk)], capture_output=True, text=True)
    assert remount.returncode == 0, remount.stderr
    try:
        response, _ = _answer(app, client, 1, token)
        assert response.status_code in (503, 507), response.get_data(as_text=True)
        assert response.status_code == 503
        assert "cannot write to its disk" in response.get_json()["error"]["message"]
        page = client.post(f"/learn/item/{PACK}/x", data={"csrf_token": "x"})  # a person's page: plain words too
        assert page.status_code in (400, 503)
        health = client.get("/healthz")
        assert health.status_code == 503 and health.get_json()["status"] == "failing"
        assert health.get_json()["problems"] == ["disk_read_only"]
    finally:
        database.close_all()
        subprocess.run(["mount", "-o", "remount,rw", str(disk)], capture_output=True)
    with db.connection_context():
        assert Person.select().count() == 3


def test_a_class_answering_under_waitress_while_the_disk_fills_gets_no_500(disk_hub):
    """Six devices answering at once through a real waitress while the disk fills up under them:
    every answer is a 200 or a 507, never a 500, and the acknowledged ones are stored once."""
    import threading

    import requests

    from tests.conftest import start_waitress, stop_waitress

    app, client, disk = disk_hub
    token = _token(app, client)
    cookie = client.get_cookie("classroom_session").value
    pack = app.extensions["catalogue"].get().catalogue.pack(PACK)
    server, thread = start_waitress(app)
    base = f"http://127.0.0.1:{server.effective_port}"
    statuses: list[int] = []
    acknowledged: list[str] = []
    lock = threading.Lock()

    def device(k: int) -> None:
        with requests.Session() as http:
            http.cookies.set("classroom_session", cookie)
            for n in range(120):
                item = pack.items[(n + k) % len(pack.items)]
                event_id = str(uuid.uuid4())
                response = http.post(f"{base}/learn/item/{PACK}/{item.id}", headers={"Accept": "application/json"},
                                     data={"csrf_token": token, "event_id": event_id, "duration_ms": "900",
                                           **_answer_form(item, right=n % 2 == 0)}, timeout=30)
                with lock:
                    statuses.append(response.status_code)
                    if response.status_code == 200:
                        acknowledged.append(event_id)

    def fill() -> None:
        _fill(disk)

    devices = [threading.Thread(target=device, args=(k,)) for k in range(6)]
    try:
        for d in devices:
            d.start()
        filler = threading.Thread(target=fill)
        filler.start()
        for d in devices:
            d.join()
        filler.join()
    finally:
        stop_waitress(server, thread)
    assert set(statuses) <= {200, 507}, sorted(set(statuses))
    assert statuses.count(507) > 0
    (disk / "filler").unlink()
    with db.connection_context():
        stored = [e.event_id for e in Event.select(Event.event_id).where(Event.kind == "attempt")]
    assert sorted(stored) == sorted(acknowledged)
