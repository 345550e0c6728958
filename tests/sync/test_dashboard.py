"""The district dashboard: staff sign in with their own accounts, a school's staff see only their
school, the district's staff register hubs (a code shown once, with its QR code), revoke them and
read bundles carried in on a stick; every form needs its CSRF token and sessions can be ended."""

from __future__ import annotations

import re
import zipfile

import pytest

from classroom_server.db import db
from classroom_server.services import bundles, events
from classroom_server.services import sync as hub_sync
from sync.district import service, staff
from sync.district.models import Hub
from tests.sync.conftest import enrolled, register

PASSWORD = "district-staff-pw"


def _token(client, path: str = "/dashboard/sign-in") -> str:  # type: ignore[no-untyped-def]
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _account(district, username: str, school: str | None = None):  # type: ignore[no-untyped-def]
    with district.extensions["district_database"].connection_context():
        found = None
        if school:
            try:
                found = service.school_named(school)
            except ValueError:
                found = service.add_school(school)
        return staff.add(username, username.title(), PASSWORD, found)


def _signed_in(district, username: str, school: str | None = None):  # type: ignore[no-untyped-def]
    _account(district, username, school)
    client = district.test_client()
    answer = client.post("/dashboard/sign-in", data={"csrf_token": _token(client), "username": username,
                                                     "password": PASSWORD})
    assert answer.status_code == 302 and answer.headers["Location"] == "/dashboard/"
    return client


def _post(client, path: str, data=None, **kwargs):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": _token(client, "/dashboard/"), **(data or {})}, **kwargs)


def test_pages_need_a_signed_in_account_and_a_wrong_password_slows_down(district):
    client = district.test_client()
    answer = client.get("/dashboard/")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/dashboard/sign-in?next=")
    assert client.get("/").headers["Location"] == "/dashboard/"
    _account(district, "maria")
    token = _token(client)
    for _ in range(staff.FREE_FAILURES):
        wrong = client.post("/dashboard/sign-in", data={"csrf_token": token, "username": "maria", "password": "nope"})
        assert wrong.status_code == 401 and "That username and password do not match." in _text(wrong)
        assert 'value="maria"' in _text(wrong)  # what was typed stays
    slowed = client.post("/dashboard/sign-in", data={"csrf_token": token, "username": "maria",
                                                     "password": PASSWORD})
    assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) >= 1
    assert client.post("/dashboard/sign-in", data={"username": "maria", "password": PASSWORD}).status_code == 400
    page = district.test_client().get("/dashboard/sign-in")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"


def test_a_schools_staff_see_only_their_school_and_cannot_act_for_the_district(district, tmp_path):
    register(district, "Hillside Primary", "Room 4")
    register(district, "Riverside School", "Room 9")
    everyone = _signed_in(district, "dana")
    page = _text(everyone.get("/dashboard/"))
    assert "Hillside Primary" in page and "Riverside School" in page and "Room 4" in page and "Room 9" in page
    assert "Register the hub</button>" in page and "Read bundles from a stick" in page

    local = _signed_in(district, "sam", school="Hillside Primary")
    page = _text(local.get("/dashboard/"))
    assert "Hillside Primary" in page and "Room 4" in page
    assert "Riverside School" not in page and "Room 9" not in page
    assert "Register the hub" not in page and "Revoke" not in page
    with district.extensions["district_database"].connection_context():
        other = Hub.get(Hub.name == "Room 9")
        school = service.school_named("Riverside School")
    assert _post(local, "/dashboard/hubs", {"school": school.id, "name": "Sneaky"}).status_code == 403
    assert local.get(f"/dashboard/hubs/{other.id}/revoke").status_code == 403
    assert local.get("/dashboard/bundles").status_code == 403
    assert local.get("/dashboard/returns/1").status_code == 404
    with district.extensions["district_database"].connection_context():
        assert not Hub.get_by_id(other.id).revoked_at and Hub.select().count() == 2


def test_the_district_registers_a_hub_whose_code_is_shown_once_and_works(district, app):
    with district.extensions["district_database"].connection_context():
        school = service.add_school("Hillside Primary")
    client = _signed_in(district, "dana")
    answer = _post(client, "/dashboard/hubs", {"school": school.id, "name": "Room 4"})
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    page = _text(answer)
    code = re.search(r'id="enrolment-code">([A-Z0-9-]+)<', page).group(1)  # type: ignore[union-attr]
    assert len(code) == 14 and '<svg' in page and 'class="qr"' in page
    assert code not in _text(client.get("/dashboard/"))  # never shown again
    from sync.transport import AppTransport

    with db.connection_context():
        assert hub_sync.enrol(AppTransport(district), "http://district.test", code, "Room 4") == "Hillside Primary"
    page = _text(client.get("/dashboard/"))
    assert "Room 4" in page and "enrolled" in page
    empty = _post(client, "/dashboard/hubs", {"school": school.id, "name": "  "}, follow_redirects=True)
    assert "give it a name" in _text(empty)


def test_revoking_asks_first_and_stops_the_hub(district, app, school, tmp_path):
    transport = enrolled(app, district)
    client = _signed_in(district, "dana")
    with district.extensions["district_database"].connection_context():
        registration = Hub.get()
    confirm = client.get(f"/dashboard/hubs/{registration.id}/revoke")
    assert confirm.status_code == 200 and "Revoke the hub Room 4?" in _text(confirm)
    assert client.post(f"/dashboard/hubs/{registration.id}/revoke").status_code == 400  # no CSRF token
    done = _post(client, f"/dashboard/hubs/{registration.id}/revoke", follow_redirects=True)
    assert "is revoked: it can no longer sync" in _text(done)
    with db.connection_context(), pytest.raises(hub_sync.client.SyncError, match="revoked"):
        hub_sync.run(transport)


def test_a_stick_is_read_on_the_dashboard_and_its_answer_downloaded(district, app, school, tmp_path):
    enrolled(app, district)
    with db.connection_context():
        events.record("learner.signed_in", {"method": "pin"}, learner_uid=school.learners["cleo"].uid)
        exported = bundles.export(tmp_path)
    [path] = exported.paths
    client = _signed_in(district, "dana")
    # A bundle is larger than any sync request may be (the API's limit, made small here).
    district.config["MAX_CONTENT_LENGTH"] = path.stat().st_size // 2
    with path.open("rb") as handle:
        answer = _post(client, "/dashboard/bundles", {"bundles": (handle, path.name)},
                       content_type="multipart/form-data")
    page = _text(answer)
    assert answer.status_code == 200 and f"{exported.events} events taken" in page
    link = re.search(r'href="(/dashboard/returns/\d+)"', page).group(1)  # type: ignore[union-attr]
    download = client.get(link)
    assert download.status_code == 200 and download.headers["Cache-Control"] == "no-store"
    assert "attachment" in download.headers["Content-Disposition"]
    answer_file = tmp_path / "back" / re.search(r'filename=([^;]+)', download.headers["Content-Disposition"]
                                                 ).group(1).strip('"')  # type: ignore[union-attr]
    answer_file.parent.mkdir()
    answer_file.write_bytes(download.data)
    with db.connection_context():
        bundles.read_back(answer_file)
        assert hub_sync.status().waiting == 0
    home = _text(client.get("/dashboard/"))
    assert "by USB stick" in home and "Answer bundle for its stick" in home

    damaged = tmp_path / "damaged.bundle"
    damaged.write_bytes(path.read_bytes()[:100])
    with damaged.open("rb") as handle:
        refused = _post(client, "/dashboard/bundles", {"bundles": (handle, "hub-x.bundle")},
                        content_type="multipart/form-data")
    assert "half-copied" in _text(refused) and "<strong>hub-x.bundle</strong>" in _text(refused)  # its own name
    nothing = _post(client, "/dashboard/bundles", {})
    assert nothing.status_code == 400 and "Choose the bundles" in _text(nothing)
    assert zipfile.is_zipfile(answer_file)


def test_sessions_end_when_the_account_is_disabled_or_signs_out_everywhere(district):
    client = _signed_in(district, "dana")
    other = district.test_client()
    assert other.post("/dashboard/sign-in", data={"csrf_token": _token(other), "username": "dana",
                                                  "password": PASSWORD}).status_code == 302
    assert client.get("/dashboard/").status_code == 200 and other.get("/dashboard/").status_code == 200
    assert _post(client, "/dashboard/sign-out-everywhere").status_code == 302
    assert other.get("/dashboard/").status_code == 302  # its session ended too
    again = _signed_in(district, "erin")
    with district.extensions["district_database"].connection_context():
        staff.disable(staff.by_username("erin"))
    assert again.get("/dashboard/").status_code == 302
    refused = again.post("/dashboard/sign-in", data={"csrf_token": _token(again), "username": "erin",
                                                     "password": PASSWORD})
    assert refused.status_code == 401


def test_the_dashboard_speaks_spanish_and_french(district):
    client = _signed_in(district, "dana")
    assert "Escuelas y servidores" in _text(client.get("/dashboard/?lang=es"))
    assert "Écoles et serveurs" in _text(client.get("/dashboard/?lang=fr"))


def test_the_csv_file_has_the_pages_numbers(district, app, school, tmp_path):
    import csv
    import io

    transport = enrolled(app, district)
    with db.connection_context():
        events.record("learner.signed_in", {"method": "pin"}, learner_uid=school.learners["cleo"].uid)
        hub_sync.run(transport)
    register(district, "Hillside Primary", "Room 5")
    register(district, "Riverside School", "Library")
    client = _signed_in(district, "dana")
    page = client.get("/dashboard/").get_data(as_text=True)
    cells = [re.sub(r"<[^>]+>", " ", c) for c in re.findall(r"<td>(.*?)</td>", page, re.S)]
    on_page = [[" ".join(c.split()) for c in cells[i:i + 6]] for i in range(0, len(cells), 6)]
    answer = client.get("/dashboard/hubs.csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["School", "Hub", "State"]
    assert len(rows) - 1 == len(on_page) == 3
    for row, shown in zip(rows[1:], on_page, strict=True):
        assert shown[0].startswith(row[1])  # the hub's name
        assert (row[5], row[6] or "–") == (shown[2], shown[3].split(" ")[0])  # events held, waiting
        assert (row[8] or "–") == shown[4]  # protocol
    local = _signed_in(district, "sam", school="Riverside School")
    mine = list(csv.reader(io.StringIO(local.get("/dashboard/hubs.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert {r[0] for r in mine[1:]} == {"Riverside School"}
