"""The sign-in defences as a whole (docs/security.md), and the defects the probe found (#20):

- a guess is counted before its verdict, in one immediate transaction, so concurrent guesses
  under a class's writes are each counted (the probe got 36 checked, 9 counted);
- a guesser elsewhere cannot lock the teacher out of her own device;
- a learner's small secret has a budget of wrong tries across devices, and the teacher lets
  a paused learner in again in one step;
- sessions end for real: sign-out, a new password or secret, a restore; a restore refuses
  another hub's backup and never hands an old cookie's id to someone new;
- the hub's files are for its own user; no open redirect after sign-in.
"""

import os
import sqlite3
import stat
import threading

import pytest
import requests
from click.testing import CliRunner

from classroom_server import db as database
from classroom_server.cli import main
from classroom_server.db import db
from classroom_server.models import GuessBudget, LoginThrottle, Person, WebSession
from classroom_server.services import accounts
from tests.conftest import (
    ADMIN_PASSWORD,
    CSRF_RE,
    TEACHER_PASSWORD,
    post,
    sign_in_learner,
    sign_in_staff,
    start_waitress,
    stop_waitress,
)


# --- every guess counted, even in a burst under load -------------------------------------------

def test_a_burst_of_concurrent_guesses_is_counted_one_by_one_while_a_class_writes(app, school, monkeypatch):
    """24 guesses at once against a real waitress while another writer keeps taking SQLite's
    write lock: no 500, at most the free failures plus one checked, each checked one counted.
    (The throttle's clock stands still here, so no delay runs out during the burst.)"""
    from classroom_server.services import security

    free = app.config["SETTINGS"]["login_free_failures"]
    frozen = security.time.time()
    monkeypatch.setattr(accounts.SignInPolicy, "throttle",
                        lambda self: security.Throttle(self.free_failures, self.max_delay, clock=lambda: frozen))
    classroom, learner = school.classes["pins"], school.learners["cleo"]
    server, thread = start_waitress(app)
    port = server.effective_port
    url = f"http://127.0.0.1:{port}/login/learner/{classroom.id}/{learner.id}"
    stop = threading.Event()

    def class_writing() -> None:  # the class answering: short write transactions, back to back
        con = sqlite3.connect(str(database.database_path(app.config["DATA_DIR"])), timeout=10)
        while not stop.is_set():
            with con:
                con.execute("BEGIN IMMEDIATE")
                con.execute("INSERT OR REPLACE INTO hub_meta (key, value) VALUES ('load', 'x')")
        con.close()

    statuses: list[int] = []
    ready = threading.Barrier(24)

    def guess(n: int) -> None:
        with requests.Session() as browser:
            page = browser.get(url, timeout=30)
            token = CSRF_RE.search(page.text).group(1)
            ready.wait()
            statuses.append(browser.post(url, data={"csrf_token": token, "pin": f"{9000 + n:04d}"}, timeout=60).status_code)

    writer = threading.Thread(target=class_writing)
    writer.start()
    try:
        guessers = [threading.Thread(target=guess, args=(n,)) for n in range(24)]
        for g in guessers:
            g.start()
        for g in guessers:
            g.join()
    finally:
        stop.set()
        writer.join()
        stop_waitress(server, thread)
    assert sorted(set(statuses)) == [400, 429], statuses
    checked = statuses.count(400)
    assert checked <= free + 1
    with db.connection_context():
        row = LoginThrottle.get_by_id(f"acct:learner:{learner.id}")
        assert row.failures == checked  # every guess that was checked is counted
        assert GuessBudget.get_by_id(learner.id).wrong_total == checked


def test_a_guess_is_counted_before_the_secret_is_looked_at(app, school, monkeypatch):
    from classroom_server.services import security

    seen = {}

    def check(stored, kind, value):
        with db.connection_context():
            row = LoginThrottle.get_or_none(LoginThrottle.key == f"acct:learner:{school.learners['cleo'].id}")
            seen["failures"] = row.failures if row else 0
        return False

    monkeypatch.setattr(security, "check_learner_secret", check)
    response = post(app.test_client(), f"/login/learner/{school.classes['pins'].id}/{school.learners['cleo'].id}", {"pin": "1111"})
    assert response.status_code == 400 and seen == {"failures": 1}


# --- the teacher cannot be locked out of her own device ---------------------------------------

def test_a_guesser_elsewhere_cannot_lock_the_teacher_out_of_her_own_device(app, school):
    teacher_laptop = app.test_client()
    assert sign_in_staff(teacher_laptop, "tess", TEACHER_PASSWORD).status_code == 302  # trusted from now on
    post(teacher_laptop, "/logout")
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "192.168.4.66"
    codes = [sign_in_staff(attacker, "tess", f"guess-{n}-wrong").status_code for n in range(12)]
    assert codes[:4] == [400] * 4 and set(codes[4:]) == {429}
    assert sign_in_staff(attacker, "tess", TEACHER_PASSWORD).status_code == 429  # the guesser waits, even when right
    assert sign_in_staff(teacher_laptop, "tess", TEACHER_PASSWORD).status_code == 302  # she does not
    # Her own typos on her own device slow her device only.
    post(teacher_laptop, "/logout")
    for _ in range(4):
        assert sign_in_staff(teacher_laptop, "tess", "typo-typo-typo").status_code == 400
    assert sign_in_staff(teacher_laptop, "tess", TEACHER_PASSWORD).status_code == 429


@pytest.mark.parametrize("odd", ["x" * 300, "short", "bad$chars%in+this-device-token", ""])
def test_an_odd_device_cookie_is_replaced(app, school, odd):
    client = app.test_client()
    client.set_cookie("classroom_device", odd)
    assert sign_in_staff(client, "tess", TEACHER_PASSWORD).status_code == 302
    cookie = client.get_cookie("classroom_device")
    assert cookie is not None and cookie.value != odd and 20 <= len(cookie.value) <= 100


def test_a_device_cookie_trusts_only_for_whom_signed_in_on_it(app, school):
    """Tess's laptop is trusted for Tess, not for Tom: guesses at Tom from it are counted as
    from any stranger's device."""
    laptop = app.test_client()
    assert sign_in_staff(laptop, "tess", TEACHER_PASSWORD).status_code == 302
    post(laptop, "/logout")
    for _ in range(4):
        assert sign_in_staff(laptop, "tom", "not-toms-password").status_code == 400
    assert sign_in_staff(laptop, "tom", "not-toms-password").status_code == 429
    assert sign_in_staff(laptop, "tess", TEACHER_PASSWORD).status_code == 302


# --- a learner's budget of wrong tries, and the teacher's one step ----------------------------

@pytest.fixture
def small_budget(app):
    app.config["SETTINGS"] = {**app.config["SETTINGS"], "learner_wrong_tries": 6, "login_free_failures": 100}
    return app


def test_a_learners_wrong_tries_run_out_across_devices_then_the_teacher_lets_them_in(small_budget, school):
    app = small_budget
    classroom, learner = school.classes["pins"], school.learners["cleo"]
    url = f"/login/learner/{classroom.id}/{learner.id}"
    for n in range(6):  # six devices, one wrong try each: the budget is per learner
        device = app.test_client()
        device.environ_base["REMOTE_ADDR"] = f"10.0.0.{n + 2}"
        assert post(device, url, {"pin": f"{5000 + n}"}).status_code == 400
    child = app.test_client()
    refused = post(child, url, {"pin": school.secrets["cleo"]})  # even the right PIN waits now
    assert refused.status_code == 429
    assert "Ask your teacher" in refused.get_data(as_text=True)

    teacher = app.test_client()
    sign_in_staff(teacher, "tom", TEACHER_PASSWORD)
    page = teacher.get(f"/teach/classes/{classroom.id}").get_data(as_text=True)
    assert "sign-in is paused after 6 wrong tries" in page.replace("&#39;", "'")
    assert post(teacher, f"/teach/classes/{classroom.id}/learners/{learner.id}/sign-in-again").status_code == 302
    assert "sign-in is paused" not in teacher.get(f"/teach/classes/{classroom.id}").get_data(as_text=True)
    assert post(child, url, {"pin": school.secrets["cleo"]}).status_code == 302


def test_the_budget_refills_slowly_and_a_right_secret_gives_its_try_back(small_budget, school):
    app = small_budget
    classroom, learner = school.classes["pins"], school.learners["cleo"]
    url = f"/login/learner/{classroom.id}/{learner.id}"
    client = app.test_client()
    assert post(client, url, {"pin": school.secrets["cleo"]}).status_code == 302
    with db.connection_context():
        assert GuessBudget.get_or_none(GuessBudget.person_id == learner.id) is None  # nothing spent
    for n in range(6):
        post(app.test_client(), url, {"pin": f"{5000 + n}"})
    assert post(app.test_client(), url, {"pin": school.secrets["cleo"]}).status_code == 429
    refill = app.config["SETTINGS"]["learner_wrong_tries_refill_hours"] * 3600
    with db.connection_context():
        GuessBudget.update(updated_at=GuessBudget.updated_at - refill).execute()  # one refill's time passed
    assert post(app.test_client(), url, {"pin": school.secrets["cleo"]}).status_code == 302


def test_another_teacher_cannot_let_a_learner_in(app, school):
    tess = app.test_client()
    sign_in_staff(tess, "tess", TEACHER_PASSWORD)
    response = post(tess, f"/teach/classes/{school.classes['pins'].id}/learners/{school.learners['cleo'].id}/sign-in-again")
    assert response.status_code in (403, 404)


# --- sessions the hub can end -------------------------------------------------------------------

@pytest.mark.parametrize("who", ["tess", "ana"])
def test_a_copied_cookie_is_signed_out_with_its_owner(app, school, who):
    owner = app.test_client()
    if who == "tess":
        sign_in_staff(owner, "tess", TEACHER_PASSWORD)
        home = "/teach/"
    else:
        sign_in_learner(owner, school, "ana")
        home = "/learn/"
    copy = app.test_client()
    copy.set_cookie("classroom_session", owner.get_cookie("classroom_session").value)
    assert copy.get(home).status_code == 200
    post(owner, "/logout")
    assert copy.get(home).status_code == 302  # signed out on the hub, not only in the owner's browser


def test_a_new_pin_signs_the_learner_out_everywhere(app, school):
    child = app.test_client()
    sign_in_learner(child, school, "cleo")
    teacher = app.test_client()
    sign_in_staff(teacher, "tom", TEACHER_PASSWORD)
    classroom, learner = school.classes["pins"], school.learners["cleo"]
    assert post(teacher, f"/teach/classes/{classroom.id}/learners/{learner.id}/secret").status_code == 200
    assert child.get("/learn/").status_code == 302
    with db.connection_context():
        assert WebSession.select().where(WebSession.person_id == learner.id).count() == 0


def test_an_archived_account_is_signed_out(app, school):
    child = app.test_client()
    sign_in_learner(child, school, "ana")
    assert child.get("/learn/").status_code == 200
    with db.connection_context():
        Person.update(active=False).where(Person.id == school.learners["ana"].id).execute()
    assert child.get("/learn/").status_code == 302


def test_a_cookie_from_before_ended_sessions_is_signed_out(app, school):
    client = app.test_client()
    with client.session_transaction() as session:  # what every cookie held before migration 0008
        session["person_id"] = school.teachers["tess"].id
        session["auth_version"] = 1
    assert client.get("/teach/").status_code == 302


# --- restore ------------------------------------------------------------------------------------

def _init(path, password="first-admin-pw"):
    result = CliRunner().invoke(main, ["init", "--data", str(path), "--admin-password", password])
    assert result.exit_code == 0, result.output
    database.db.close_all()


def test_restore_refuses_another_hubs_backup_unless_asked(tmp_path):
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    _init(ours)
    _init(theirs)
    runner = CliRunner()
    assert runner.invoke(main, ["backup", "--data", str(theirs), "--to", str(tmp_path / "theirs.sqlite3")]).exit_code == 0
    database.db.close_all()
    before = database.database_path(ours).read_bytes()
    refused = runner.invoke(main, ["restore", "--data", str(ours), str(tmp_path / "theirs.sqlite3"), "--yes"])
    assert refused.exit_code == 1 and "backup of another hub" in refused.output and "--other-hub" in refused.output
    assert database.database_path(ours).read_bytes() == before
    moved = runner.invoke(main, ["restore", "--data", str(ours), str(tmp_path / "theirs.sqlite3"), "--yes", "--other-hub"])
    assert moved.exit_code == 0, moved.output


def test_restore_ends_every_session_and_never_reuses_a_persons_id(tmp_path):
    from classroom_server.app import create_app

    data = tmp_path / "hub"
    _init(data)
    runner = CliRunner()
    assert runner.invoke(main, ["backup", "--data", str(data), "--to", str(tmp_path / "old.sqlite3")]).exit_code == 0
    app = create_app(data, {"TESTING": True, "log_level": "warning"})
    with db.connection_context():
        admin = Person.get(Person.username == "admin")
        teacher = accounts.create_staff("teacher", "tess", "Tess", TEACHER_PASSWORD, admin)
        classroom = accounts.create_class("Sunflowers", "pin", [teacher.id], admin)
        learner = accounts.create_learner(classroom, "Ana", "blue", "1234", teacher)
    child = app.test_client()
    assert post(child, f"/login/learner/{classroom.id}/{learner.id}", {"pin": "1234"}).status_code == 302
    admin_browser = app.test_client()
    assert sign_in_staff(admin_browser, "admin", "first-admin-pw").status_code == 302
    database.db.close_all()

    restored = runner.invoke(main, ["restore", "--data", str(data), str(tmp_path / "old.sqlite3"), "--yes"])
    assert restored.exit_code == 0, restored.output
    app = create_app(data, {"TESTING": True, "log_level": "warning"})
    with db.connection_context():
        admin = Person.get(Person.username == "admin")
        newcomer = accounts.create_staff("teacher", "tom", "Tom", TEACHER_PASSWORD, admin)
        assert newcomer.id > learner.id  # the old learner's id stays unused
        assert WebSession.select().count() == 0
    for browser, home in ((child, "/learn/"), (admin_browser, "/admin/")):
        browser.application = app
        assert browser.get(home).status_code == 302  # everyone signs in again


# --- files and redirects --------------------------------------------------------------------------

def test_the_database_and_backups_are_for_the_hubs_user_alone(tmp_path):
    data = tmp_path / "hub"
    old = os.umask(0o022)
    try:
        _init(data)
        result = CliRunner().invoke(main, ["backup", "--data", str(data), "--to", str(tmp_path / "b.sqlite3")])
        assert result.exit_code == 0, result.output
    finally:
        os.umask(old)
    for path in (database.database_path(data), tmp_path / "b.sqlite3"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    database.db.close_all()


def test_a_world_readable_database_is_made_private_when_the_hub_opens_it(tmp_path):
    data = tmp_path / "hub"
    _init(data)
    path = database.database_path(data)
    path.chmod(0o644)
    database.configure(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("target", [
    "/%09/evil.example", "//evil.example", "/\\evil.example", "/%5Cevil.example", "https://evil.example",
    "/%0d%0a/evil.example", "/\t/evil.example",
])
def test_no_open_redirect_after_staff_sign_in(app, school, target):
    client = app.test_client()
    page = client.get("/login/staff").get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    response = client.post(f"/login/staff?next={target}", data={"csrf_token": token, "username": "tess",
                                                                  "password": TEACHER_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/teach/"


def test_a_path_on_the_hub_is_still_followed_after_sign_in(app, school):
    client = app.test_client()
    token = CSRF_RE.search(client.get("/login/staff").get_data(as_text=True)).group(1)
    response = client.post("/login/staff?next=/account/password", data={"csrf_token": token, "username": "tess",
                                                                          "password": TEACHER_PASSWORD})
    assert response.headers["Location"] == "/account/password"


# --- a shared tablet ------------------------------------------------------------------------------

def test_a_learners_language_leaves_with_them_on_a_shared_tablet(app, school):
    """#19: the language one learner chose stayed on a shared device for the next child."""
    tablet = app.test_client()
    tablet.get("/login?lang=fr")
    sign_in_learner(tablet, school, "ana")
    assert 'lang="fr"' in tablet.get("/learn/").get_data(as_text=True)
    post(tablet, "/logout")
    assert 'lang="en"' in tablet.get("/login").get_data(as_text=True)


def test_staff_keep_their_language_on_their_own_device(app, school):
    laptop = app.test_client()
    laptop.get("/login?lang=es")
    sign_in_staff(laptop, "tess", TEACHER_PASSWORD)
    post(laptop, "/logout")
    assert 'lang="es"' in laptop.get("/login").get_data(as_text=True)
