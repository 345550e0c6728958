"""The command line of district sync: on the hub (`sync enrol|run|status`) and at the district
(`district school|hub ...`, `district serve`), against a real district over HTTP."""

from __future__ import annotations

import fcntl
import json
import re
import subprocess
import sys
import urllib.request

import pytest
from click.testing import CliRunner

from classroom_server import db as database
from classroom_server.cli import main
from classroom_server.cli.district import shown_url
from sync.district import service
from sync.district.models import Event as DistrictEvent
from tests.sync.conftest import free_port, register

CODE_RE = re.compile(r"One-time enrolment code: ([A-Z0-9-]+)")


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def hub_dir(tmp_path, runner):
    data = tmp_path / "hub"
    result = runner.invoke(main, ["init", "--data", str(data), "--admin-password", "first-admin-pw"])
    assert result.exit_code == 0, result.output
    yield data
    if not database.db.is_closed():
        database.db.close_all()


def _plain(result) -> str:  # type: ignore[no-untyped-def]
    """The output of a command that failed as it should: exit 1, one plain line, no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    return str(result.output)


def _rebind(district) -> None:  # type: ignore[no-untyped-def]
    """Point the district's models back at the test district's database: a district command
    run in this process bound them to the database it opened."""
    from sync.district.models import district_db

    district_db.initialize(district.extensions["district_database"])


def test_a_hub_enrols_syncs_and_reports_from_the_command_line(hub_dir, runner, district, district_server):
    code = register(district)
    status = runner.invoke(main, ["sync", "status", "--data", str(hub_dir)])
    assert status.exit_code == 0 and "enrolled:          no" in status.output
    spaced = " ".join(code.lower().split("-"))  # typed as three words, in lower case
    enrolled = runner.invoke(main, ["sync", "enrol", "--data", str(hub_dir), "--district", district_server + "/",
                                    *spaced.split()])
    assert enrolled.exit_code == 0, enrolled.output
    assert f"Enrolled with the district at {district_server}, for Hillside Primary." in enrolled.output
    ran = runner.invoke(main, ["sync", "run", "--data", str(hub_dir)])
    assert ran.exit_code == 0, ran.output
    assert "Synced with the district (Hillside Primary)." in ran.output
    assert re.search(r"pushed:\s+\d+ events?\n", ran.output) and "waiting:  0 events" in ran.output
    assert re.search(r"requests: \d+", ran.output) and re.search(r"bytes:\s+\d+ bytes sent", ran.output)
    with district.extensions["district_database"].connection_context():
        assert DistrictEvent.select().count() > 0
    status = runner.invoke(main, ["sync", "status", "--data", str(hub_dir)])
    assert status.exit_code == 0
    for line in ("enrolled:          yes", f"district:          {district_server}",
                 "school:            Hillside Primary", "last error:        none", "events waiting:    0",
                 "quarantined:       0"):
        assert line in status.output
    assert re.search(r"last success:\s+\d{4}-\d\d-\d\d \d\d:\d\d.*\(just now\)", status.output)


def test_sync_run_before_enrolment_says_what_to_do(hub_dir, runner):
    output = _plain(runner.invoke(main, ["sync", "run", "--data", str(hub_dir)]))
    assert "not enrolled with a district yet" in output and "classroom-server sync enrol" in output


@pytest.mark.parametrize("url, words", [
    ("ftp://district.example.org", "starts with https://"),
    ("district.example.org", "starts with https://"),
    ("http://127.0.0.1:port", "port that is not a number"),
    ("https://user:pw@district.example.org", "without ?, # or a password"),
])
def test_enrol_refuses_an_address_that_cannot_be_right(hub_dir, runner, url, words):
    assert words in _plain(runner.invoke(main, ["sync", "enrol", "--data", str(hub_dir), "--district", url,
                                                "ABCD-EFGH-JKMN"]))


def test_enrol_with_an_unreachable_district_is_a_plain_error(hub_dir, runner):
    port = free_port()
    output = _plain(runner.invoke(main, ["sync", "enrol", "--data", str(hub_dir), "--district",
                                         f"http://127.0.0.1:{port}", "ABCD-EFGH-JKMN"]))
    assert output.strip() == (f"Error: This hub is not enrolled. The district did not answer: nothing is listening "
                              f"at 127.0.0.1:{port} (connection refused).")


def test_enrol_with_a_wrong_code_says_so(hub_dir, runner, district, district_server):
    register(district)
    wrong = _plain(runner.invoke(main, ["sync", "enrol", "--data", str(hub_dir), "--district", district_server,
                                        "ABCD-EFGH-JKMN"]))
    assert "not known, or was used already" in wrong
    short = _plain(runner.invoke(main, ["sync", "enrol", "--data", str(hub_dir), "--district", district_server,
                                        "ABCD"]))
    assert "not an enrolment code" in short
    blank = _plain(runner.invoke(main, ["sync", "enrol", "--data", str(hub_dir), "--district", district_server,
                                        "--", "-"]))
    assert "Type the one-time code" in blank


def test_a_sync_that_cannot_reach_the_district_fails_plainly_and_is_recorded(hub_dir, runner, district,
                                                                              district_server):
    code = register(district)
    assert runner.invoke(main, ["sync", "enrol", "--data", str(hub_dir), "--district", district_server,
                                code]).exit_code == 0
    port = free_port()
    con = __import__("sqlite3").connect(database.database_path(hub_dir))
    with con:
        con.execute("UPDATE hub_meta SET value=? WHERE key='sync.district_url'", (f"http://127.0.0.1:{port}",))
    con.close()
    output = _plain(runner.invoke(main, ["sync", "run", "--data", str(hub_dir)]))
    assert f"The district did not answer: nothing is listening at 127.0.0.1:{port}" in output
    assert "Nothing is lost" in output
    status = runner.invoke(main, ["sync", "status", "--data", str(hub_dir)])
    assert "failures in a row: 1" in status.output and "nothing is listening" in status.output


def test_a_second_sync_while_one_runs_is_refused(hub_dir, runner, district, district_server):
    code = register(district)
    runner.invoke(main, ["sync", "enrol", "--data", str(hub_dir), "--district", district_server, code])
    with open(hub_dir / "sync.lock", "a+") as held:  # as a running hub holds it during its sync
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        output = _plain(runner.invoke(main, ["sync", "run", "--data", str(hub_dir)]))
    assert "A sync is already running (in another process)." in output
    assert runner.invoke(main, ["sync", "run", "--data", str(hub_dir)]).exit_code == 0


# --- the district's commands -----------------------------------------------------------------------

def test_district_staff_add_a_school_register_list_and_revoke_a_hub(runner, district_url, tmp_path):
    url = ["--database-url", district_url]
    added = runner.invoke(main, ["district", "school", "add", *url, "Hillside  Primary"])
    assert added.exit_code == 0 and "Added the school Hillside Primary." in added.output
    assert "already a school" in _plain(runner.invoke(main, ["district", "school", "add", *url, "Hillside Primary"]))
    assert runner.invoke(main, ["district", "school", "list", *url]).output.strip() == "Hillside Primary"
    made = runner.invoke(main, ["district", "hub", "add", *url, "--school", "Hillside Primary", "--name", "Room 4",
                                "--district-url", "https://district.example.org/"])
    assert made.exit_code == 0, made.output
    code = CODE_RE.search(made.output).group(1)  # type: ignore[union-attr]
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    assert f"classroom-server sync enrol --data DIR --district https://district.example.org {code}" in made.output
    qr = made.output.split(code)[-1]
    assert qr.count("\n") > 10 and "█" in qr  # a QR code drawn with block characters
    listed = runner.invoke(main, ["district", "hub", "list", *url])
    assert "Hillside Primary  |  Room 4  |  waiting for its code" in listed.output
    number = listed.output.split()[0]
    refused = runner.invoke(main, ["district", "hub", "revoke", *url, number], input="n\n")
    assert "Nothing was changed." in _plain(refused)
    done = runner.invoke(main, ["district", "hub", "revoke", *url, number], input="y\n")
    assert done.exit_code == 0 and f"Revoked hub {number} (Room 4, Hillside Primary)." in done.output
    assert "revoked" in runner.invoke(main, ["district", "hub", "list", *url]).output
    again = runner.invoke(main, ["district", "hub", "revoke", *url, "--yes", number])
    assert again.exit_code == 0 and "revoked already" in again.output


def test_a_hub_is_revoked_by_its_own_id_and_then_told_so(app, district, district_url, runner):
    from classroom_server.db import db
    from classroom_server.services import hub
    from classroom_server.services import sync as hub_sync
    from tests.sync.conftest import enrolled

    transport = enrolled(app, district)
    with db.connection_context():
        hub_id = hub.get_meta("hub_id")
    result = runner.invoke(main, ["district", "hub", "revoke", "--database-url", district_url, "--yes", str(hub_id)])
    assert result.exit_code == 0, result.output
    _rebind(district)
    with db.connection_context():
        with pytest.raises(hub_sync.client.SyncError, match="revoked"):
            hub_sync.run(transport)


@pytest.mark.parametrize("args, words", [
    (["hub", "add", "--school", "Nowhere", "--name", "Room 1"], "There is no school called 'Nowhere'"),
    (["hub", "revoke", "--yes", "42"], "There is no hub registration '42'"),
    (["hub", "revoke", "--yes", "no-such-hub-id"], "There is no hub registration 'no-such-hub-id'"),
    (["hub", "add", "--school", "X", "--name", "Y", "--district-url", "district"], "--district-url must be"),
    (["school", "add", "   "], "A school needs a name."),
])
def test_district_commands_explain_bad_input(runner, district_url, args, words):
    group, command, *rest = args
    output = _plain(runner.invoke(main, ["district", group, command, "--database-url", district_url, *rest]))
    assert words in output


@pytest.mark.parametrize("url, words", [
    ("mysql://district", "must be postgresql://... or sqlite:///..."),
    ("sqlite:///{missing}/district.sqlite3", "cannot be opened: unable to open database file"),
    ("postgresql://staff:s3cret@127.0.0.1:{port}/district", "postgresql://staff:***@127.0.0.1"),
])
def test_a_district_database_that_cannot_be_opened_is_a_plain_error(runner, tmp_path, url, words):
    url = url.format(missing=tmp_path / "no" / "such", port=free_port())
    output = _plain(runner.invoke(main, ["district", "hub", "list", "--database-url", url]))
    assert words in output and "s3cret" not in output


def test_the_database_url_may_come_from_the_environment(runner, district_url):
    result = runner.invoke(main, ["district", "school", "list"], env={"CLASSROOM_DISTRICT_DATABASE_URL": district_url})
    assert result.exit_code == 0 and "No schools yet" in result.output


def test_shown_urls_hide_only_the_password():
    assert shown_url("postgresql://a:b@h:5432/d") == "postgresql://a:***@h:5432/d"
    assert shown_url("sqlite:///x/y.sqlite3") == "sqlite:///x/y.sqlite3"


def test_district_serve_runs_as_a_real_process_logs_requests_and_stops(tmp_path):
    """`district serve` on SQLite, for a quick try: it answers /healthz and a hub's enrolment,
    and writes a log line per request."""
    import signal

    url = f"sqlite:///{tmp_path / 'district.sqlite3'}"
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "classroom_server.cli", "district", "serve", "--database-url",
                                url, "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()  # waits for the server to be ready
        assert banner.startswith(f"District server serving at http://127.0.0.1:{port}/"), banner
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            assert answer.status == 200 and b'"status":"ok"' in answer.read()
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "Stopped." in out
    assert re.search(r"INFO classroom_server.district GET /healthz status=200 hub=- in=0 out=\d+ ms=", err), err


def test_district_serve_on_a_port_in_use_says_so(runner, district_url):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        output = _plain(runner.invoke(main, ["district", "serve", "--database-url", district_url, "--port", str(port)]))
    assert f"Port {port} is already in use" in output


def test_every_registration_made_here_is_one_the_district_knows(runner, district, district_url):
    runner.invoke(main, ["district", "school", "add", "--database-url", district_url, "Hillside Primary"])
    made = runner.invoke(main, ["district", "hub", "add", "--database-url", district_url, "--school",
                                "Hillside Primary", "--name", "Room 9"])
    code = CODE_RE.search(made.output).group(1)  # type: ignore[union-attr]
    _rebind(district)
    with district.extensions["district_database"].connection_context():
        registration, secret = service.enrol(code, "hub-" + "x" * 20, "Room 9")
    assert registration.name == "Room 9" and len(secret) >= 32



def test_district_staff_publish_withdraw_and_list_records_and_a_hub_gets_them(
        hub_dir, runner, district, district_url, district_server, tmp_path):
    url = ["--database-url", district_url]
    runner.invoke(main, ["district", "school", "add", *url, "Hillside Primary"])
    roster = tmp_path / "roster.jsonl"
    roster.write_text("\ufeff# Class 4A, from the school's information system\n"
                      '{"kind": "class", "sourcedId": "c-4a", "status": "active", "title": "Class 4A"}\n'
                      "\n"
                      '{"kind": "user", "sourcedId": "s-1", "status": "active", "role": "student", '
                      '"givenName": "Amara", "familyName": "Diallo"}\n'
                      '{"kind": "enrollment", "sourcedId": "e-1", "status": "active", "classSourcedId": "c-4a", '
                      '"userSourcedId": "s-1", "role": "student"}\n', encoding="utf-8")
    published = runner.invoke(main, ["district", "publish", *url, "--school", "Hillside Primary", str(roster)])
    assert published.exit_code == 0, published.output
    assert "Published 3 records (0 unchanged) for Hillside Primary's hubs" in published.output
    again = runner.invoke(main, ["district", "publish", *url, "--school", "Hillside Primary", str(roster)])
    assert "no school called" in _plain(runner.invoke(main, ["district", "publish", *url, "--school", "Nowhere",
                                                             str(roster)]))
    assert "Published 0 records (3 unchanged)" in again.output
    listed = runner.invoke(main, ["district", "published", *url, "--school", "Hillside Primary", "--kind", "user"])
    assert [json.loads(line)["sourcedId"] for line in listed.output.splitlines()] == ["s-1"]

    _rebind(district)
    code = register(district)
    assert runner.invoke(main, ["sync", "enrol", "--data", str(hub_dir), "--district", district_server,
                                code]).exit_code == 0
    synced = runner.invoke(main, ["sync", "run", "--data", str(hub_dir)])
    assert synced.exit_code == 0, synced.output
    assert "3 district changes applied" in synced.output
    users = runner.invoke(main, ["users", "list", "--data", str(hub_dir)])
    assert "Class 4A" in users.output and "1 learners" in users.output

    refused = runner.invoke(main, ["district", "withdraw", *url, "--school", "Hillside Primary", "user", "s-1"],
                            input="n\n")
    assert "Nothing was changed." in _plain(refused)
    withdrawn = runner.invoke(main, ["district", "withdraw", *url, "--school", "Hillside Primary", "user", "s-1",
                                     "--yes"])
    assert "Withdrew the user s-1" in withdrawn.output
    assert "withdrawn already" in runner.invoke(main, ["district", "withdraw", *url, "--school", "Hillside Primary",
                                                       "user", "s-1", "--yes"]).output
    _rebind(district)
    assert "1 district change applied" in runner.invoke(main, ["sync", "run", "--data", str(hub_dir)]).output
    assert "0 learners" in runner.invoke(main, ["users", "list", "--data", str(hub_dir)]).output


@pytest.mark.parametrize("content, words", [
    ("", "The file holds no records."),
    ("[1, 2", "The file is not valid JSON"),
    ('{"kind": "class"}\nnot json\n', "Line 2 is not valid JSON"),
    ('{"kind": "user", "sourcedId": "s-1", "status": "active", "role": "pupil", "givenName": "A", '
     '"familyName": "B"}', "Nothing was published: user 's-1'"),
    ('{"kind": "class", "sourcedId": "c-1", "status": "active", "title": "One"}\n'
     '{"kind": "enrollment", "sourcedId": "e-1", "status": "active", "classSourcedId": "c-1", '
     '"userSourcedId": "ghost", "role": "student"}', "no user 'ghost'"),
])
def test_publishing_bad_records_publishes_nothing_and_says_why(runner, district_url, tmp_path, content, words):
    url = ["--database-url", district_url]
    runner.invoke(main, ["district", "school", "add", *url, "Hillside Primary"])
    source = tmp_path / "records.json"
    source.write_text(content, encoding="utf-8")
    assert words in _plain(runner.invoke(main, ["district", "publish", *url, "--school", "Hillside Primary",
                                                str(source)]))
    assert runner.invoke(main, ["district", "published", *url, "--school", "Hillside Primary"]).output == ""


def test_district_staff_add_and_list_packs(runner, district_url, tmp_path):
    from content_packs.build import build
    from content_packs.testing import make_pack

    url = ["--database-url", district_url]
    assert "No packs yet" in runner.invoke(main, ["district", "pack", "list", *url]).output
    folder = make_pack(tmp_path / "src")
    build(folder, tmp_path / "pack.zip")
    added = runner.invoke(main, ["district", "pack", "add", *url, str(tmp_path / "pack.zip")])
    assert added.exit_code == 0, added.output
    assert "(org.example.generated 1.0.0," in added.output and "offered to every school's hubs" in added.output
    again = runner.invoke(main, ["district", "pack", "add", *url, str(tmp_path / "pack.zip")])
    assert "was offered already" in again.output
    listed = runner.invoke(main, ["district", "pack", "list", *url]).output
    assert listed.startswith("org.example.generated  1.0.0  0.0 MB") and "Generated fractions" in listed
    (tmp_path / "notes.zip").write_text("not a zip")
    assert "Nothing was added: notes.zip is not a pack .zip file" in _plain(
        runner.invoke(main, ["district", "pack", "add", *url, str(tmp_path / "notes.zip")]))


def test_a_stick_goes_to_the_district_and_back_from_the_command_line(hub_dir, runner, district, district_url,
                                                                     district_server, tmp_path):
    code = register(district)
    enrolled = runner.invoke(main, ["sync", "enrol", "--data", str(hub_dir), "--district", district_server, code])
    assert enrolled.exit_code == 0, enrolled.output
    stick = tmp_path / "stick"
    stick.mkdir()
    written = runner.invoke(main, ["sync", "export", "--data", str(hub_dir), "--to", str(stick)])
    assert written.exit_code == 0, written.output
    assert re.search(r"Wrote .*hub-.*\.bundle \(\d", written.output)
    events = int(re.search(r"events: (\d+) events?", written.output).group(1))  # type: ignore[union-attr]
    assert events > 0
    database_url = district_url
    imported = runner.invoke(main, ["district", "import", "--database-url", database_url, str(stick)])
    _rebind(district)
    assert imported.exit_code == 0, imported.output
    assert f"events taken:        {events}" in imported.output and "return bundle:" in imported.output
    again = runner.invoke(main, ["district", "import", "--database-url", database_url, str(stick)])
    _rebind(district)
    assert f"events taken:        0\n  held already:        {events}" in again.output
    read = runner.invoke(main, ["sync", "import", "--data", str(hub_dir), str(stick)])
    assert read.exit_code == 0, read.output
    assert read.output.count("Read return-") == 1 and "events waiting:           0" in read.output
    wrong = runner.invoke(main, ["district", "import", "--database-url", database_url,
                                 str(next(stick.glob("return-*.bundle")))])
    _rebind(district)
    assert wrong.exit_code == 1 and "carry it back to the school" in wrong.output
    nothing = _plain(runner.invoke(main, ["sync", "import", "--data", str(hub_dir), str(tmp_path)]))
    assert "There is no return bundle for this hub" in nothing
    status = runner.invoke(main, ["sync", "status", "--data", str(hub_dir)])
    assert re.search(r"last bundle:\s+\d{4}-.*\(just now\), \d+ events", status.output), status.output
    assert "last answer read:  " in status.output and "(return-" in status.output
    listed = runner.invoke(main, ["district", "hub", "list", "--database-url", database_url])
    _rebind(district)
    assert "last stick 20" in listed.output
