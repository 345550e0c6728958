"""The admin's District sync page: state in words, enrolment, "Sync now" in the background with
its progress, refused events a person can read, translations, and admins only."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Mapping

import pytest

from classroom_server import clock
from classroom_server.db import db
from classroom_server.services import hub, sync_runner
from classroom_server.services import sync as hub_sync
from classroom_server.web.dates import in_words
from sync.client import Response
from sync.transport import AppTransport
from tests.conftest import ADMIN_PASSWORD, TEACHER_PASSWORD, csrf_token, post, sign_in_learner, sign_in_staff
from tests.sync.conftest import enrolled, free_port, register

PAGE = "/admin/sync/"


class BlockingTransport:
    """Into the district in this process, but each request waits until the test releases it."""

    def __init__(self, district) -> None:  # type: ignore[no-untyped-def]
        self.inner = AppTransport(district)
        self.entered = threading.Event()
        self.release = threading.Event()

    def post(self, path: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Response:
        self.entered.set()
        if not self.release.wait(20):
            raise OSError("the test never let the request go")
        return self.inner.post(path, body, headers, timeout)


@pytest.fixture
def admin(client, school):  # type: ignore[no-untyped-def]
    sign_in_staff(client, "admin", ADMIN_PASSWORD)
    return client


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_a_hub_not_yet_enrolled_says_so_and_offers_the_form(admin):
    page = _text(admin.get(PAGE))
    assert "District sync" in page and "Not yet: enrol the hub below" in page
    assert 'name="district_url"' in page and 'name="code"' in page and 'name="csrf_token"' in page
    assert "Last successful sync</dt><dd>never" in page
    assert "Sync now</button>" not in page
    home = _text(admin.get("/admin/"))
    assert "District sync</dt><dd>not enrolled" in home and 'href="/admin/sync/"' in home


def test_an_admin_enrols_syncs_now_and_sees_it_in_words(admin, app, district, district_server):
    code = register(district)
    response = post(admin, "/admin/sync/enrol", {"district_url": district_server, "code": code.lower()})
    assert response.status_code == 302
    page = _text(admin.get(PAGE))
    assert "This hub is enrolled with the district, for Hillside Primary." in page
    assert "Yes, for Hillside Primary" in page and district_server in page
    with db.connection_context():
        waiting = hub_sync.status().waiting
    assert f"Events waiting to be sent</dt><dd>{waiting}" in page and waiting > 0
    assert post(admin, "/admin/sync/run").status_code == 302
    runner = app.extensions["sync_runner"]
    assert runner.wait(20)
    progress = admin.get("/admin/sync/progress").get_json()
    assert progress["running"] is False and progress["error"] is None and progress["pushed"] == waiting
    assert progress["message"].startswith(f"Sync finished: {waiting} events sent.")
    page = _text(admin.get(PAGE))
    assert "Events waiting to be sent</dt><dd>0" in page
    assert re.search(r'Last successful sync</dt><dd><time datetime="[^"]+" title="[^"]+">just now</time>', page)
    assert "Last problem</dt><dd>none" in page
    home = _text(admin.get("/admin/"))
    assert "last successful sync: <time" in home


@pytest.mark.parametrize("form, field, words", [
    ({"district_url": "district.example.org", "code": "ABCD-EFGH-JKMN"}, "district_url", "starts with https://"),
    ({"district_url": "https://district.example.org", "code": " - "}, "code", "Type the one-time code"),
])
def test_bad_enrolment_input_is_explained(admin, form, field, words):
    response = post(admin, "/admin/sync/enrol", form)
    assert response.status_code == 400
    page = _text(response)
    assert words in page and f'aria-describedby="{field.replace("_", "-")}-error"' in page
    assert f'value="{form["district_url"]}"' in page  # what was typed is kept


def test_a_wrong_code_is_explained(admin, district, district_server):
    register(district)
    response = post(admin, "/admin/sync/enrol", {"district_url": district_server, "code": "ABCD-EFGH-JKMN"})
    assert response.status_code == 400
    assert "The district does not know that code, or it was used already." in _text(response)
    with db.connection_context():
        assert not hub_sync.status().enrolled


def test_an_unreachable_district_is_explained(admin):
    port = free_port()
    response = post(admin, "/admin/sync/enrol", {"district_url": f"http://127.0.0.1:{port}", "code": "ABCD-EFGH-JKMN"})
    assert response.status_code == 400
    page = _text(response)
    assert "The district could not be reached. Is the hub connected to the internet?" in page
    assert f"nothing is listening at 127.0.0.1:{port}" in page


def test_sync_now_before_enrolment_is_refused(admin, app):
    response = post(admin, "/admin/sync/run")
    assert response.status_code == 400 and "not enrolled with a district yet" in _text(response)
    assert not app.extensions["sync_runner"].progress().started_at


def test_sync_now_runs_in_the_background_shows_progress_and_refuses_a_second(admin, app, district, monkeypatch):
    enrolled(app, district)
    blocking = BlockingTransport(district)
    monkeypatch.setattr(sync_runner, "make_transport", lambda url, max_kbit=0: blocking)
    runner = app.extensions["sync_runner"]
    try:
        assert post(admin, "/admin/sync/run").status_code == 302
        assert blocking.entered.wait(10)  # the sync is under way, in its own thread
        progress = admin.get("/admin/sync/progress")
        assert progress.headers["Cache-Control"] == "no-store"
        assert progress.get_json()["running"] is True and progress.get_json()["message"] == "Talking to the district…"
        page = _text(admin.get(PAGE))
        assert 'data-running="1"' in page and '<meta http-equiv="refresh" content="3">' in page
        assert "Sync now</button>" in page and " disabled>" in page
        again = post(admin, "/admin/sync/run", follow_redirects=True)
        assert "A sync is already running." in _text(again)
    finally:
        blocking.release.set()
        assert runner.wait(20)
    state = admin.get("/admin/sync/progress").get_json()
    assert state["running"] is False and state["error"] is None and state["started_by"] == "admin"
    assert 'data-running="0"' in _text(admin.get(PAGE))


def test_a_failed_sync_shows_its_problem_in_plain_words(admin, app, district):
    enrolled(app, district)
    port = free_port()
    with db.connection_context():
        hub.set_meta(hub_sync.KEY_URL, f"http://127.0.0.1:{port}")
    post(admin, "/admin/sync/run")
    assert app.extensions["sync_runner"].wait(20)
    page = _text(admin.get(PAGE))
    assert "Last problem</dt><dd>The district could not be reached. Is the hub connected to the internet?" in page
    assert f"The district did not answer: nothing is listening at 127.0.0.1:{port}" in page
    assert admin.get("/admin/sync/progress").get_json()["message"].startswith("The district could not be reached")


def test_refused_events_are_listed_for_a_person(admin, app, school):
    with db.connection_context():
        row = [e for e in hub_sync.canonical_events() if e["learner_uid"] == school.learners["ana"].uid][0]
        store = hub_sync.Store()
        store.quarantine(row["origin"], row["seq"], row["event_id"], "the learner belongs to another school")
        store.quarantine(row["origin"], 9999, "00000000-0000-0000-0000-000000000000",
                         "conflict: the district holds another event at this place in the log")
    page = _text(admin.get(PAGE))
    assert "2 events the district refused" in page
    assert "The district has this learner at another school." in page
    assert "The district holds another event at this place in this hub&#39;s log" in page
    assert "<td>Ana</td>" in page and "an event this hub no longer holds" in page
    assert f'{row["origin"]} #{row["seq"]}' in page


def test_the_page_speaks_spanish_and_french(admin):
    spanish = _text(admin.get(PAGE + "?lang=es"))
    french = _text(admin.get(PAGE + "?lang=fr"))
    assert "Sincronización con el distrito" in spanish and "nunca" in spanish
    assert "Synchronisation avec le district" in french and "jamais" in french


@pytest.mark.parametrize("seconds, words", [
    (5, "just now"), (120, "2 minutes ago"), (3 * 3600, "3 hours ago"), (3 * 86400, "3 days ago"),
    (90 * 86400, "on 2025-12-09"),
])
def test_times_in_words(app, seconds, words):
    now = dt.datetime(2026, 3, 9, 12, 0, tzinfo=dt.UTC).astimezone()
    moment = now - dt.timedelta(seconds=seconds)
    with app.test_request_context("/"):
        assert in_words(clock.iso(moment), now) == words
        assert in_words(None, now) == "never"
        assert in_words(clock.iso(now + dt.timedelta(hours=1)), now).startswith("2026-03-09 at ")


@pytest.mark.parametrize("path", [PAGE, "/admin/sync/progress"])
def test_a_teacher_and_a_learner_are_refused(client, school, path):
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    assert client.get(path).status_code == 403
    token = csrf_token(client, "/teach/")
    assert client.post("/admin/sync/run", data={"csrf_token": token}).status_code == 403
    assert client.post("/admin/sync/enrol", data={"csrf_token": token, "district_url": "http://x", "code": "y"}
                       ).status_code == 403
    learner = client.application.test_client()
    sign_in_learner(learner, school, "ana")
    assert learner.get(path).status_code == 403
    assert learner.post("/admin/sync/run").status_code in (400, 403)


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_forms_need_their_csrf_token(admin, app):
    assert admin.post("/admin/sync/run").status_code == 400
    assert admin.post("/admin/sync/enrol", data={"district_url": "http://x", "code": "y"}).status_code == 400
    assert not app.extensions["sync_runner"].progress().started_at


def _mounted(tmp_path, monkeypatch, app, *names: str):  # type: ignore[no-untyped-def]
    """Sticks mounted under a folder of the test's, as the kernel's mount list would say."""
    from classroom_server.services import usb

    root = tmp_path / "media"
    sticks = []
    lines = ["proc /proc proc rw 0 0", f"/dev/mmcblk0p2 {tmp_path} ext4 rw 0 0"]
    for n, name in enumerate(names):
        stick = root / name
        stick.mkdir(parents=True)
        sticks.append(stick)
        lines.append(f"/dev/sd{'abc'[n]}1 {str(stick).replace(' ', chr(92) + '040')} vfat rw,nosuid 0 0")
    mounts = tmp_path / "mounts"
    mounts.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(usb, "MOUNTS", mounts)
    monkeypatch.setitem(app.config["SETTINGS"], "usb_mount_roots", str(root))
    return sticks


def test_an_admin_writes_a_bundle_to_a_stick_and_reads_the_districts_answer(admin, app, school, district, tmp_path,
                                                                             monkeypatch):
    from sync.district import bundles as district_bundles

    enrolled(app, district)
    page = _text(admin.get(PAGE))
    assert "USB stick" in page and "No USB stick found" in page
    [stick] = _mounted(tmp_path, monkeypatch, app, "KINGSTON 8GB")
    page = _text(admin.get(PAGE))
    assert "KINGSTON 8GB" in page and "Write a bundle for the district</button>" in page
    assert "No answer from the district for this hub on this stick yet." in page
    runner = app.extensions["sync_runner"]
    assert post(admin, "/admin/sync/usb/export", {"stick": str(stick)}).status_code == 302
    assert runner.wait(20)
    state = admin.get("/admin/sync/progress").get_json()
    assert state["error"] is None and state["kind"] == "export" and state["pushed"] > 0
    assert state["message"].startswith(f"Bundle written to the stick: {state['pushed']} events")
    [written] = stick.glob("hub-*.bundle")
    page = _text(admin.get(PAGE))
    assert written.name in page and "Last bundle written</dt><dd>never" not in page

    with district.extensions["district_database"].connection_context():
        [result], _ = district_bundles.import_bundles([written])
    assert result.taken == state["pushed"]
    page = _text(admin.get(PAGE))
    assert "Read the district's answer (1 file)</button>" in page
    assert post(admin, "/admin/sync/usb/import", {"stick": str(stick)}).status_code == 302
    assert runner.wait(20)
    state = admin.get("/admin/sync/progress").get_json()
    assert state["error"] is None and state["kind"] == "import" and state["waiting"] == 0
    assert state["message"] == "The district's answer was read: 0 changes applied. 0 events waiting."
    with db.connection_context():
        assert hub_sync.status().waiting == 0


def test_usb_forms_refuse_a_stick_that_is_not_there_or_has_no_answer(admin, app, school, district, tmp_path,
                                                                     monkeypatch):
    enrolled(app, district)
    [stick] = _mounted(tmp_path, monkeypatch, app, "stick")
    gone = post(admin, "/admin/sync/usb/export", {"stick": str(tmp_path / "elsewhere")})
    assert gone.status_code == 400 and "not there any more" in _text(gone)
    empty = post(admin, "/admin/sync/usb/import", {"stick": str(stick)})
    assert empty.status_code == 400 and "no answer from the district for this hub" in _text(empty)
    assert admin.post("/admin/sync/usb/export", data={"stick": str(stick)}).status_code == 400  # no CSRF token
    assert not app.extensions["sync_runner"].progress().started_at
    assert not list(stick.iterdir())


def test_a_full_stick_is_said_in_words_on_the_page(admin, app, school, district, tmp_path, monkeypatch):
    import errno

    from classroom_server.services import bundles

    enrolled(app, district)
    [stick] = _mounted(tmp_path, monkeypatch, app, "full")
    real = bundles.export

    def full(folder, **options):  # type: ignore[no-untyped-def]
        def opener(path):  # type: ignore[no-untyped-def]
            raise OSError(errno.ENOSPC, "No space left on device")

        return real(folder, **options, opener=opener)

    monkeypatch.setattr(bundles, "export", full)
    post(admin, "/admin/sync/usb/export", {"stick": str(stick)})
    assert app.extensions["sync_runner"].wait(20)
    state = admin.get("/admin/sync/progress").get_json()
    assert state["message"].startswith("The USB stick is full")
    assert not list(stick.iterdir())
