"""Health for IT staff; one log line per request that never carries a secret; one error shape."""

from tests.conftest import LATEST_SCHEMA
import logging
import re

import pytest

from tests.conftest import ADMIN_PASSWORD, post, sign_in_learner, sign_in_staff


def test_healthz_reports_what_it_staff_need(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["schema"] == LATEST_SCHEMA
    assert body["hub_id"] and body["disk_free_bytes"] > 0 and body["last_backup"] is None
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_is_degraded_when_the_disk_is_nearly_full(app, client):
    app.config["SETTINGS"]["min_free_disk_mb"] = 10**9
    body = client.get("/healthz").get_json()
    assert body["status"] == "degraded" and "disk_nearly_full" in body["problems"]


def test_each_request_logs_one_line_with_id_and_timing(client, caplog):
    caplog.set_level(logging.INFO, logger="classroom_server.request")
    response = client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    lines = [r.getMessage() for r in caplog.records if r.name == "classroom_server.request"]
    assert len(lines) == 1
    assert "request_id=abc-123" in lines[0] and "path=/healthz" in lines[0] and "ms=" in lines[0]
    assert response.headers["X-Request-Id"] == "abc-123"


def test_a_hostile_request_id_is_replaced(client):
    response = client.get("/healthz", headers={"X-Request-Id": "bad id;forged=1"})
    assert response.headers["X-Request-Id"] != "bad id;forged=1" and ";" not in response.headers["X-Request-Id"]


def test_logs_never_contain_passwords_pins_or_pictures(client, school, caplog):
    caplog.set_level(logging.DEBUG)
    sign_in_staff(client, "admin", ADMIN_PASSWORD)
    post(client, "/logout")
    sign_in_learner(client, school, "cleo")
    sign_in_staff(client, "admin", "wrong-Password-9")
    text = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (ADMIN_PASSWORD, "wrong-Password-9", "csrf_token"):
        assert secret not in text
    # A 4-digit PIN is a substring of many ids, hashes and times in the SQL debug log: look for it
    # as a value of its own, not inside a run of letters and digits.
    pin = school.secrets["cleo"]
    assert not re.search(rf"(?<![0-9A-Za-z]){pin}(?![0-9A-Za-z])", text), pin


@pytest.mark.parametrize("path, status, code", [
    ("/no/such/page", 404, "not_found"),
    ("/logout", 405, "method_not_allowed"),
])
def test_json_errors_have_one_shape(client, path, status, code):
    response = client.get(path, headers={"Accept": "application/json"})
    assert response.status_code == status
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "field"}
    assert error["code"] == code and error["message"]


def test_html_errors_are_friendly_pages(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "There is nothing here." in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_language_can_be_chosen_and_is_remembered(client):
    client.get("/login?lang=es")
    assert '<html lang="es">' in client.get("/login").get_data(as_text=True)


def test_the_favicon_is_served_not_a_404(client):
    """#19: /favicon.ico was a 404 on every first load."""
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert b"<svg" in response.data
    page = client.get("/login").get_data(as_text=True)
    assert 'rel="icon" href="/static/favicon.svg?v=' in page


def test_a_deep_waitress_queue_is_logged_at_its_peaks_not_at_every_request(app):
    """Waitress warns "Task queue depth is N" for each request that finds every thread busy: the
    hub keeps, in each 10 s, only the lines that go deeper than any before them."""
    from classroom_server.weblog import QueueDepthReport

    queue = logging.getLogger("waitress.queue")
    assert sum(isinstance(f, QueueDepthReport) for f in queue.filters) == 1  # configured once, however many apps
    now = [0.0]
    report = QueueDepthReport(window=10, clock=lambda: now[0])

    def passes(depth: int) -> bool:
        return report.filter(logging.LogRecord("waitress.queue", logging.WARNING, __file__, 1,
                                               "Task queue depth is %d", (depth,), None))

    assert [passes(d) for d in (1, 2, 2, 1, 5, 3, 5)] == [True, True, False, False, True, False, False]
    now[0] = 9.9
    assert not passes(4)
    now[0] = 10.0  # a new window: its first line passes, then its peaks
    assert [passes(d) for d in (2, 1, 3)] == [True, False, True]
    other = logging.LogRecord("waitress.queue", logging.WARNING, __file__, 1, "something else", None, None)
    assert report.filter(other)
