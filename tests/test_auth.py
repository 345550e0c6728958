"""Signing in and out, for staff and learners, including the bad inputs."""

import pytest

from classroom_server.db import db
from classroom_server.models import Event, LoginThrottle
from classroom_server.services.security import Throttle
from tests.conftest import ADMIN_PASSWORD, TEACHER_PASSWORD, post, sign_in_learner, sign_in_staff


def test_staff_sign_in_goes_to_their_home(client, school):
    response = sign_in_staff(client, "tess", TEACHER_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/teach/"
    assert client.get("/teach/").status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_message(client, school):
    wrong = sign_in_staff(client, "tess", "not-the-password")
    unknown = sign_in_staff(client, "nobody", "whatever-password")
    assert wrong.status_code == unknown.status_code == 400
    for response in (wrong, unknown):
        assert "That did not match. Please try again." in response.get_data(as_text=True)


def test_session_cookie_is_httponly_and_samesite(client, school):
    response = sign_in_staff(client, "admin", ADMIN_PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_form_without_csrf_token_is_refused(client, school):
    response = client.post("/login/staff", data={"username": "tess", "password": TEACHER_PASSWORD})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_repeated_failures_are_throttled_with_retry_after(client, school, app):
    free = app.config["SETTINGS"]["login_free_failures"]
    for _ in range(free + 1):
        sign_in_staff(client, "tess", "wrong-password")
    response = sign_in_staff(client, "tess", TEACHER_PASSWORD)  # even the right password waits
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1


def test_throttle_delays_in_database(app):
    now = [1000.0]
    throttle = Throttle(free_failures=2, max_delay=10, clock=lambda: now[0])
    waits = []
    with db.connection_context():
        for _ in range(7):
            throttle.failed("acct:x")
            row = LoginThrottle.get_by_id("acct:x")
            waits.append(max(0, row.locked_until - now[0]))
    assert waits == [0, 0, 2, 4, 8, 10, 10]


def test_success_clears_the_account_delay(client, school):
    sign_in_staff(client, "tess", "wrong-password")
    assert sign_in_staff(client, "tess", TEACHER_PASSWORD).status_code == 302
    with db.connection_context():
        assert LoginThrottle.get_or_none(LoginThrottle.key == "acct:staff:tess") is None


def test_learner_signs_in_with_three_pictures(client, school):
    response = sign_in_learner(client, school, "ana")
    assert response.status_code == 302 and response.headers["Location"] == "/learn/"
    assert "Hello, Ana!" in client.get("/learn/").get_data(as_text=True)
    with db.connection_context():
        assert Event.select().where(Event.kind == "learner.signed_in", Event.learner_uid == school.learners["ana"].uid).exists()


def test_picture_password_in_the_wrong_order_fails(client, school):
    school.secrets["ana"] = list(reversed(school.secrets["ana"]))
    response = sign_in_learner(client, school, "ana")
    assert response.status_code == 400
    assert "That did not match" in response.get_data(as_text=True)


def test_learner_signs_in_with_a_pin(client, school):
    assert sign_in_learner(client, school, "cleo").status_code == 302


@pytest.mark.parametrize("pin", ["0000", "12", "abcd", "12345", ""])
def test_wrong_or_malformed_pin_fails_generically(client, school, pin):
    classroom, learner = school.classes["pins"], school.learners["cleo"]
    response = post(client, f"/login/learner/{classroom.id}/{learner.id}", {"pin": pin})
    assert response.status_code == 400
    assert "That did not match" in response.get_data(as_text=True)


def test_a_learner_cannot_sign_in_through_another_class(client, school):
    other_class, learner = school.classes["pins"], school.learners["ana"]
    assert client.get(f"/login/learner/{other_class.id}/{learner.id}").status_code == 404


def test_sign_out(client, school):
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    response = post(client, "/logout")
    assert response.status_code == 302
    assert client.get("/teach/").status_code == 302  # back to sign in


def test_password_change_signs_out_other_sessions(app, school):
    first, second = app.test_client(), app.test_client()
    sign_in_staff(first, "tess", TEACHER_PASSWORD)
    sign_in_staff(second, "tess", TEACHER_PASSWORD)
    response = post(first, "/account/password", {
        "current_password": TEACHER_PASSWORD, "new_password": "brand-new-pass", "confirm_password": "brand-new-pass",
    })
    assert response.status_code == 302
    assert first.get("/teach/").status_code == 200
    assert second.get("/teach/").status_code == 302
    assert sign_in_staff(app.test_client(), "tess", "brand-new-pass").status_code == 302


@pytest.mark.parametrize("form, message", [
    ({"current_password": "wrong-one", "new_password": "abcdefgh9", "confirm_password": "abcdefgh9"}, "current password is not right"),
    ({"current_password": TEACHER_PASSWORD, "new_password": "short", "confirm_password": "short"}, "at least 8"),
    ({"current_password": TEACHER_PASSWORD, "new_password": "abcdefgh9", "confirm_password": "abcdefgh0"}, "not the same"),
])
def test_password_change_bad_inputs(client, school, form, message):
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    response = post(client, "/account/password", form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_failures_from_one_address_are_throttled_with_growing_delays(client, school, app):
    """Guessing across many accounts from one device: the 17th failure waits, and waits longer."""
    from classroom_server.services.security import ADDRESS_ALLOWANCE_FACTOR

    allowance = app.config["SETTINGS"]["login_free_failures"] * ADDRESS_ALLOWANCE_FACTOR
    assert allowance == 15  # with the default settings: 15 free, the 16th starts the delays
    for n in range(allowance + 1):  # a different account each time: only the address adds up
        assert sign_in_staff(client, f"guess{n}", "wrong-password").status_code == 400
    refused = sign_in_staff(client, "tess", TEACHER_PASSWORD)  # the 17th try, even a right one
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 3
    assert "Too many tries" in refused.get_data(as_text=True)

    other_device = app.test_client()
    other_device.environ_base["REMOTE_ADDR"] = "192.168.4.77"
    assert sign_in_staff(other_device, "tess", TEACHER_PASSWORD).status_code == 302

    delays = []
    with db.connection_context():
        for n in range(3):
            row = LoginThrottle.get_by_id("addr:127.0.0.1")
            delays.append(round(row.locked_until - row.updated_at))
            LoginThrottle.update(locked_until=0).where(LoginThrottle.key == row.key).execute()  # waited it out
            assert sign_in_staff(client, f"later{n}", "wrong-password").status_code == 400
        row = LoginThrottle.get_by_id("addr:127.0.0.1")
        delays.append(round(row.locked_until - row.updated_at))
    assert delays == [2, 4, 8, 16]
    assert sign_in_staff(client, "tess", TEACHER_PASSWORD).status_code == 429
