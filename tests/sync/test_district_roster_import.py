"""A school's roster at the district from OneRoster CSV files (sync/district/rosters.py): read by the
hub's reader, published for one school as change records, every row left out named by file and
line, a re-import changing nothing, tombstones only for what was published; from the command line
and the dashboard (district staff only). Every export is written here, in tmp_path, from small
CSV texts; each test runs on SQLite and on PostgreSQL (the ``district`` fixture)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from classroom_server.cli import main
from classroom_server.db import db
from classroom_server.models import Classroom, Person
from classroom_server.services import accounts
from classroom_server.services import sync as hub_sync
from sync.district import rosters, service
from sync.district.models import Change, Learner, School
from tests.interop.test_oneroster import CLASSES_HEADER, ENROLLMENTS_HEADER, USERS_HEADER
from tests.sync.conftest import enrolled
from tests.sync.test_dashboard import _post, _signed_in, _text

SCHOOL = "Hillside Primary"
STAMP = "2024-08-01T00:00:00Z"
ISO_STAMP = "2024-08-01T00:00:00+00:00"

MANIFEST_11 = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n" + "".join(
    f"file.{name},bulk\n" for name in ("orgs", "classes", "users", "enrollments"))
ORGS = ("sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
        f"d-1,active,{STAMP},Lakeside District,district,,\n"
        f"o-1,active,{STAMP},Hillside Primary,school,,d-1\n")


def _user(uid: str, role: str, given: str, family: str, username: str = "", status: str = "active") -> str:
    return f"{uid},{status},{STAMP},true,o-1,{role},{username},,{given},{family},,,,,,,04,"


def _enrollment(uid: str, class_uid: str, user_uid: str, role: str = "student", status: str = "active") -> str:
    return f"{uid},{status},{STAMP},{class_uid},o-1,{user_uid},{role},false,2024-09-01,"


USERS = [_user("t-100", "teacher", "Grace", "Okafor", "gokafor"), _user("a-7", "aide", "Peter", "Banda", "pbanda"),
         _user("s-1", "student", "Amara", "Diallo", "adiallo"), _user("s-2", "student", "Bruno", "Silva"),
         _user("g-1", "guardian", "Gloria", "Silva")]
ENROLLMENTS = [_enrollment("e-1", "c-4a", "s-1"), _enrollment("e-2", "c-4a", "s-2"),
               _enrollment("e-3", "c-4a", "t-100", "teacher"), _enrollment("e-4", "c-4a", "a-7", "aide")]


def table(header: str, rows: list[str]) -> str:
    return "\n".join([header, *rows]) + "\n"


def export_11(folder: Path, users: list[str] | None = None, enrollments: list[str] | None = None,
              classes: list[str] | None = None) -> Path:
    """A clean OneRoster 1.1 export: a district and a school, one class, a teacher, an aide, two
    students and a guardian (``users`` and the others replace a file's rows)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {"manifest.csv": MANIFEST_11, "orgs.csv": ORGS,
             "classes.csv": table(CLASSES_HEADER, classes if classes is not None else
                                  [f"c-4a,active,{STAMP},Class 4A,04,,4A,homeroom,,o-1,,,,"]),
             "users.csv": table(USERS_HEADER, users if users is not None else USERS),
             "enrollments.csv": table(ENROLLMENTS_HEADER, enrollments if enrollments is not None else ENROLLMENTS)}
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def zipped(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, path.name)
    return target


@contextmanager
def connected(district: Any) -> Iterator[None]:
    with district.extensions["district_database"].connection_context():
        yield


def school_of(district: Any, name: str = SCHOOL) -> School:
    with connected(district):
        try:
            return service.school_named(name)
        except ValueError:
            return service.add_school(name)


def run_import(district: Any, path: Path, name: str = SCHOOL) -> rosters.Imported:
    school = school_of(district, name)
    with connected(district):
        return rosters.import_roster(path, school)


def published(district: Any, name: str = SCHOOL) -> dict[tuple[str, str], dict[str, Any]]:
    """The school's published roster by (kind, sourcedId), ``dateLastModified`` left out."""
    with connected(district):
        return {(r["kind"], r["sourcedId"]): {k: v for k, v in r.items() if k not in ("kind", "dateLastModified")}
                for r in service.published(service.school_named(name))}


def counts(result: rosters.Imported) -> dict[str, int]:
    return dict(rosters.counts(result))


def rows(result: rosters.Imported) -> list[tuple[str, int, str]]:
    return [(r.file, r.line, r.reason) for r in result.rejected]


def changes_held(district: Any) -> int:
    with connected(district):
        return int(Change.select().count())


def test_a_clean_1_1_folder_becomes_the_schools_roster_and_importing_it_again_changes_nothing(district, tmp_path):
    folder = export_11(tmp_path / "export")
    result = run_import(district, folder)
    assert result.readable and result.version == "1.1" and result.school == SCHOOL
    assert counts(result) == {"new": 9, "updated": 0, "unchanged": 0, "archived": 0, "skipped": 1, "rejected": 0}
    assert result.orgs == [SCHOOL]  # one school named: nothing to say about it
    assert "users.csv: 1 guardian record not imported (a hub holds students and teachers)" in result.notes
    assert "users.csv: 1 aide imported as teachers" in result.notes
    active = {"status": "active"}
    assert published(district) == {
        ("class", "c-4a"): {"sourcedId": "c-4a", **active, "title": "Class 4A", "classCode": "4A"},
        ("user", "t-100"): {"sourcedId": "t-100", **active, "role": "teacher", "givenName": "Grace",
                            "familyName": "Okafor", "username": "gokafor"},
        ("user", "a-7"): {"sourcedId": "a-7", **active, "role": "teacher", "givenName": "Peter",
                          "familyName": "Banda", "username": "pbanda"},
        # A student's username is the school system's business: a hub's learners sign in with pictures or a PIN.
        ("user", "s-1"): {"sourcedId": "s-1", **active, "role": "student", "givenName": "Amara",
                          "familyName": "Diallo"},
        ("user", "s-2"): {"sourcedId": "s-2", **active, "role": "student", "givenName": "Bruno", "familyName": "Silva"},
        ("enrollment", "e-1"): {"sourcedId": "e-1", **active, "classSourcedId": "c-4a", "userSourcedId": "s-1",
                                "role": "student"},
        ("enrollment", "e-2"): {"sourcedId": "e-2", **active, "classSourcedId": "c-4a", "userSourcedId": "s-2",
                                "role": "student"},
        ("enrollment", "e-3"): {"sourcedId": "e-3", **active, "classSourcedId": "c-4a", "userSourcedId": "t-100",
                                "role": "teacher"},
        ("enrollment", "e-4"): {"sourcedId": "e-4", **active, "classSourcedId": "c-4a", "userSourcedId": "a-7",
                                "role": "teacher"},
    }
    with connected(district):
        stored = service.current(service.school_named(SCHOOL), "user", "s-1")
        assert stored is not None and stored["dateLastModified"] == ISO_STAMP  # the export's own date is kept
        assert {row.uid: row.school for row in Learner.select()} == {"s-1": int(school_of(district).id),
                                                                      "s-2": int(school_of(district).id)}
    held = changes_held(district)
    again = run_import(district, folder)
    assert counts(again) == {"new": 0, "updated": 0, "unchanged": 9, "archived": 0, "skipped": 1, "rejected": 0}
    assert changes_held(district) == held  # nothing new for the hubs to pull
    # The same files zipped, and with newer dates: still nothing new (a date alone is no change).
    newer = export_11(tmp_path / "newer", users=[u.replace(STAMP, "2025-01-01T00:00:00Z") for u in USERS])
    third = run_import(district, zipped(newer, tmp_path / "newer.zip"))
    assert counts(third)["unchanged"] == 9 and third.changed == 0 and changes_held(district) == held


def test_a_1_2_zip_takes_roles_from_roles_csv_and_the_names_people_go_by(district, tmp_path):
    folder = tmp_path / "export12"
    folder.mkdir()
    stamp = "2025-01-10T09:30:00Z"
    files = {
        "manifest.csv": "propertyName,value\noneroster.version,1.2\nfile.orgs,bulk\nfile.classes,bulk\n"
                        "file.users,bulk\nfile.roles,bulk\nfile.enrollments,bulk\n",
        "orgs.csv": f"sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
                    f"o-2,active,{stamp},Riverside School,school,,\no-3,active,{stamp},Hilltop Annex,school,,\n",
        "classes.csv": table(CLASSES_HEADER, [f"c-7,active,{stamp},Science 7,07,,SC7,scheduled,,o-2,,,,"]),
        "users.csv": table("sourcedId,status,dateLastModified,enabledUser,username,givenName,familyName,"
                           "preferredGivenName,primaryOrgSourcedId",
                           [f"t-200,active,{stamp},true,mnovak,Marta,Novak,,o-2",
                            f"s-10,active,{stamp},true,apetrov,Alexander,Petrov,Sasha,o-2",
                            f"p-1,active,{stamp},true,,Ines,Rocha,,o-2"]),
        "roles.csv": table("sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,"
                           "orgSourcedId,userProfileSourcedId",
                           [f"r-1,active,{stamp},t-200,primary,teacher,,,o-2,",
                            f"r-2,active,{stamp},s-10,primary,student,,,o-2,",
                            f"r-3,active,{stamp},p-1,primary,principal,,,o-2,"]),
        "enrollments.csv": table(ENROLLMENTS_HEADER, [f"e-70,active,{stamp},c-7,o-2,s-10,student,false,,",
                                                      f"e-71,active,{stamp},c-7,o-2,t-200,teacher,true,,"]),
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    result = run_import(district, zipped(folder, tmp_path / "riverside.zip"))
    assert result.readable and result.version == "1.2"
    assert counts(result) == {"new": 5, "updated": 0, "unchanged": 0, "archived": 0, "skipped": 1, "rejected": 0}
    assert result.orgs == ["Hilltop Annex", "Riverside School"]
    assert (f"the files name 2 schools (Hilltop Annex, Riverside School); everything in them was imported into "
            f"{SCHOOL}, as asked") in result.notes
    assert "users.csv: 1 principal record not imported (a hub holds students and teachers)" in result.notes
    roster = published(district)
    assert roster[("user", "s-10")] == {"sourcedId": "s-10", "status": "active", "role": "student",
                                        "givenName": "Sasha", "familyName": "Petrov"}
    assert roster[("user", "t-200")]["role"] == "teacher" and roster[("user", "t-200")]["username"] == "mnovak"
    assert ("user", "p-1") not in roster
    assert roster[("enrollment", "e-71")]["role"] == "teacher"


def _dirty_export(folder: Path) -> Path:
    """A 1.1 export as a spreadsheet saves it: no manifest, a byte order mark and CRLF line ends, a
    misspelt header (givenNmae), a date in day/month/year, an enrollment of a class that is not
    there; and rows the reader takes but the district's rules refuse (an id with a space, a name
    too long, an enrollment whose role is not its user's)."""
    folder.mkdir()
    crlf = "\r\n"
    users = [USERS_HEADER.replace("givenName", "givenNmae"),
             "s-1,active,2024-08-01,true,o-1,student,,,Amara,Diallo,,,,,,,04,",
             "s-2,active,31/12/2024,true,o-1,student,,,Bruno,Silva,,,,,,,04,",
             "s 3,active,2024-08-01,true,o-1,student,,,Chidi,Eze,,,,,,,04,",
             "s-4,active,2024-08-01,true,o-1,student,,,Dora," + "N" * 101 + ",,,,,,,04,",
             "t-1,active,2024-08-01,true,o-1,teacher,tbanda,,Thomas,Banda,,,,,,,,"]
    classes = [CLASSES_HEADER, "c-1,active,2024-08-01,Maths 4,04,,M4,scheduled,,o-1,,,,"]
    enrollments = [ENROLLMENTS_HEADER, "e-1,active,,c-1,o-1,s-1,student,false,,",
                   "e-2,active,,c-9,o-1,s-1,student,false,,", "e-4,active,,c-1,o-1,s-4,student,false,,",
                   "e-5,active,,c-1,o-1,t-1,student,false,,", "e-6,active,,c-1,o-1,t-1,teacher,true,,",
                   "e-7,active,,c-1,o-1,s-2,student,false,,"]
    (folder / "users.csv").write_bytes(("\ufeff" + crlf.join(users) + crlf).encode("utf-8"))
    (folder / "classes.csv").write_bytes((crlf.join(classes) + crlf).encode("utf-8"))
    (folder / "enrollments.csv").write_bytes((crlf.join(enrollments) + crlf).encode("utf-8"))
    return folder


DIRTY_REJECTED = [
    ("users.csv", 3, "dateLastModified '31/12/2024' is not a date (write dates as YYYY-MM-DD)"),
    ("users.csv", 4, "sourcedId 's 3' has characters the district does not take in ids (letters, digits and "
                     ". _ : @ / + - only)"),
    ("users.csv", 5, "familyName is longer than the 100 characters the district takes"),
    ("enrollments.csv", 3, "enrollment names class 'c-9', which is not in classes.csv"),
    ("enrollments.csv", 4, "enrollment names user 's-4', which was rejected (users.csv line 5)"),
    ("enrollments.csv", 5, "enrollment enrols user 't-1' as a student, but they are a teacher"),
    ("enrollments.csv", 7, "enrollment names user 's-2', which was rejected (users.csv line 3)"),
]


def test_a_dirty_export_publishes_what_is_good_and_names_every_rejected_row_by_file_and_line(district, tmp_path):
    result = run_import(district, _dirty_export(tmp_path / "dirty"))
    assert result.readable
    assert rows(result) == DIRTY_REJECTED
    assert counts(result) == {"new": 5, "updated": 0, "unchanged": 0, "archived": 0, "skipped": 0, "rejected": 7}
    assert "users.csv: columns read as OneRoster's: 'givenNmae' as givenName" in result.notes
    assert sorted(published(district)) == [("class", "c-1"), ("enrollment", "e-1"), ("enrollment", "e-6"),
                                           ("user", "s-1"), ("user", "t-1")]
    assert published(district)[("user", "s-1")]["givenName"] == "Amara"  # read under its misspelt header
    again = run_import(district, tmp_path / "dirty")
    assert rows(again) == DIRTY_REJECTED and again.changed == 0 and counts(again)["unchanged"] == 5


def test_tobedeleted_records_become_tombstones_of_what_was_published_and_the_rest_are_skipped(district, tmp_path):
    run_import(district, export_11(tmp_path / "first"))
    with connected(district):
        before = service.current(service.school_named(SCHOOL), "user", "s-2")
    later = export_11(tmp_path / "later",
                      users=[*USERS[:3], _user("s-2", "student", "Bruno", "Silva", status="tobedeleted"),
                             _user("s-9", "student", "Nadia", "Haddad", status="tobedeleted")],
                      enrollments=[*ENROLLMENTS[:1], ENROLLMENTS[2], ENROLLMENTS[3],
                                   _enrollment("e-2", "c-4a", "s-2"),  # still active: it goes with its user
                                   _enrollment("e-9", "c-4a", "s-9", status="tobedeleted")])
    result = run_import(district, later)
    assert counts(result) == {"new": 0, "updated": 0, "unchanged": 7, "archived": 2, "skipped": 2, "rejected": 0}
    for file in ("users.csv", "enrollments.csv"):
        assert f"{file}: 1 tobedeleted record never published for Hillside Primary: nothing to withdraw" in result.notes
    assert ("enrollments.csv: 1 active enrollment of a class or user marked tobedeleted withdrawn with it"
            in result.notes)
    roster = published(district)
    assert before is not None
    # The tombstone is the record's last published state, marked tobedeleted: as `district withdraw` makes it.
    assert roster[("user", "s-2")] == {**{k: v for k, v in before.items() if k != "dateLastModified"},
                                       "status": "tobedeleted"}
    assert roster[("enrollment", "e-2")]["status"] == "tobedeleted"
    assert roster[("enrollment", "e-2")]["userSourcedId"] == "s-2"
    assert ("user", "s-9") not in roster and ("enrollment", "e-9") not in roster
    held = changes_held(district)
    again = run_import(district, later)
    assert again.changed == 0 and counts(again)["unchanged"] == 9 and changes_held(district) == held
    # The export brings Bruno back: his record is active again (an update), and his class with him.
    back = run_import(district, export_11(tmp_path / "back"))
    assert counts(back)["updated"] == 2 and published(district)[("user", "s-2")]["status"] == "active"


def test_a_student_on_another_schools_roster_is_a_rejected_row_not_a_crash(district, tmp_path):
    folder = export_11(tmp_path / "export")
    run_import(district, folder, "Riverside School")
    result = run_import(district, folder)
    assert result.readable
    reason = ("is on the roster of Riverside School at the district; a learner belongs to one school (to move them "
              "here: district move-learner)")
    named = "enrollment names user 's-{}', which was rejected (users.csv line {})"
    assert rows(result) == [("users.csv", 4, f"student 's-1' {reason}"), ("users.csv", 5, f"student 's-2' {reason}"),
                            ("enrollments.csv", 2, named.format(1, 4)), ("enrollments.csv", 3, named.format(2, 5))]
    assert sorted(published(district)) == [("class", "c-4a"), ("enrollment", "e-3"), ("enrollment", "e-4"),
                                           ("user", "a-7"), ("user", "t-100")]
    with connected(district):
        riverside = int(service.school_named("Riverside School").id)
        assert {row.uid: row.school for row in Learner.select()} == {"s-1": riverside, "s-2": riverside}


def test_an_import_is_all_or_none_when_the_district_refuses_it_at_the_last_moment(district, tmp_path, monkeypatch):
    """A learner claimed by another school between the checks and the publication (a hub's events
    name them first): publish refuses, and nothing of the import is published, not even its class."""
    riverside = school_of(district, "Riverside School")
    with connected(district):
        Learner.create(uid="s-2", school=riverside.id)
    monkeypatch.setattr(rosters._Check, "_learners", lambda self: {})
    result = run_import(district, export_11(tmp_path / "export"))
    assert not result.readable and result.changed == 0
    assert result.problems[0].startswith("the district refused the import as a whole (user 's-2': this learner "
                                         "belongs to Riverside School); nothing was published")
    assert published(district) == {} and changes_held(district) == 0


def test_files_that_cannot_be_read_publish_nothing(district, tmp_path):
    folder = export_11(tmp_path / "export")
    (folder / "users.csv").unlink()
    result = run_import(district, folder)
    assert result.problems == ["there is no users.csv: the hub needs the export's users"]
    assert result.rejected == [] and result.changed == 0 and changes_held(district) == 0
    missing = run_import(district, tmp_path / "missing.zip")
    assert missing.problems == [f"{tmp_path / 'missing.zip'} is neither a folder nor a zip file (is the path right?)"]


def test_an_imported_learner_reaches_an_enrolled_hub_and_a_tobedeleted_one_is_archived_there(
        app, school, district, tmp_path):
    transport = enrolled(app, district, SCHOOL)
    run_import(district, export_11(tmp_path / "first"))
    with db.connection_context():
        outcome = hub_sync.run(transport)
        assert outcome.pulled == 9
        people = {p.uid: (p.role, p.display_name, p.active) for p in Person.select().where(Person.source == "district")}
        assert people == {"t-100": ("teacher", "Grace Okafor", True), "a-7": ("teacher", "Peter Banda", True),
                          "s-1": ("learner", "Amara Diallo", True), "s-2": ("learner", "Bruno Silva", True)}
        classroom = Classroom.get(Classroom.uid == "c-4a")
        assert [p.uid for p in accounts.learners_in(classroom)] == ["s-1", "s-2"]
    later = export_11(tmp_path / "later", users=[*USERS[:3], _user("s-2", "student", "Bruno", "Silva",
                                                                      status="tobedeleted")])
    assert run_import(district, later).archived == 2  # Bruno, and his enrollment with him
    with db.connection_context():
        assert hub_sync.run(transport).pulled == 2
        assert not Person.get(Person.uid == "s-2").active and Person.get(Person.uid == "s-1").active
        assert [p.uid for p in accounts.learners_in(Classroom.get(Classroom.uid == "c-4a"))] == ["s-1"]


# --- the command line ------------------------------------------------------------------------------

def test_the_command_line_prints_counts_and_rejected_rows_and_exits_1_when_nothing_could_be_read(
        district_url, tmp_path):
    runner = CliRunner()
    url = ["--database-url", district_url]
    assert runner.invoke(main, ["district", "school", "add", *url, SCHOOL]).exit_code == 0
    dirty = _dirty_export(tmp_path / "dirty")
    done = runner.invoke(main, ["district", "roster", "import", *url, "--school", SCHOOL, str(dirty)])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[0] == "new 5, updated 0, unchanged 0, archived 0, skipped 0, rejected 7"
    assert lines[1:8] == [f"rejected: {file} line {line}: {reason}" for file, line, reason in DIRTY_REJECTED]
    assert "note: users.csv: columns read as OneRoster's: 'givenNmae' as givenName" in lines
    assert lines[-1] == "Hillside Primary's hubs get the changes at their next sync."
    again = runner.invoke(main, ["district", "roster", "import", *url, "--school", SCHOOL, str(dirty)])
    assert again.exit_code == 0 and again.output.splitlines()[0].startswith("new 0, updated 0, unchanged 5")
    assert "get the changes" not in again.output

    unreadable = tmp_path / "unreadable"
    unreadable.mkdir()
    (unreadable / "classes.csv").write_text(table(CLASSES_HEADER, []), encoding="utf-8")
    failed = runner.invoke(main, ["district", "roster", "import", *url, "--school", SCHOOL, str(unreadable)])
    assert failed.exit_code == 1
    assert "problem: there is no users.csv: the hub needs the export's users" in failed.output
    assert "Error: Nothing was imported for Hillside Primary." in failed.output
    unknown = runner.invoke(main, ["district", "roster", "import", *url, "--school", "Nowhere", str(dirty)])
    assert unknown.exit_code == 1 and "There is no school called 'Nowhere'." in unknown.output
    missing = runner.invoke(main, ["district", "roster", "import", *url, "--school", SCHOOL])
    assert missing.exit_code == 2


# --- the dashboard ---------------------------------------------------------------------------------

def _zip_bytes(folder: Path) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, path.name)
    return out.getvalue()


def _upload(client: Any, school_id: int | str, data: bytes, name: str = "roster.zip") -> Any:
    return _post(client, "/dashboard/rosters", {"school": str(school_id), "roster": (io.BytesIO(data), name)},
                 content_type="multipart/form-data")


def test_district_staff_import_a_zip_on_the_dashboard_and_see_counts_and_rejected_rows(district, tmp_path):
    hillside = school_of(district)
    client = _signed_in(district, "dana")
    home = _text(client.get("/dashboard/"))
    assert 'href="/dashboard/rosters"' in home
    page = _text(client.get(f"/dashboard/rosters?school={hillside.id}"))
    assert "Rosters from OneRoster files" in page and f'<option value="{hillside.id}" selected>' in page
    answer = _upload(client, hillside.id, _zip_bytes(_dirty_export(tmp_path / "dirty")))
    assert answer.status_code == 200
    page = _text(answer)
    assert "Imported for Hillside Primary" in page
    assert '<dd id="count-new">5</dd>' in page and '<dd id="count-rejected">7</dd>' in page
    assert '<dd id="count-unchanged">0</dd>' in page and '<dd id="count-archived">0</dd>' in page
    for file, line, reason in DIRTY_REJECTED:
        assert f"<tr><td>{file}</td><td>{line}</td><td>{reason.replace(chr(39), '&#39;')}</td></tr>" in page
    assert sorted(published(district)) == [("class", "c-1"), ("enrollment", "e-1"), ("enrollment", "e-6"),
                                           ("user", "s-1"), ("user", "t-1")]
    again = _text(_upload(client, hillside.id, _zip_bytes(tmp_path / "dirty")))
    assert '<dd id="count-unchanged">5</dd>' in again and '<dd id="count-new">0</dd>' in again
    spanish = _text(client.get("/dashboard/rosters?lang=es"))
    assert "<html lang=\"es\">" in spanish


def test_a_schools_own_staff_cannot_import_a_roster(district, tmp_path):
    hillside = school_of(district)
    local = _signed_in(district, "sam", school=SCHOOL)
    assert 'href="/dashboard/rosters"' not in _text(local.get("/dashboard/"))
    assert local.get("/dashboard/rosters").status_code == 403
    refused = _upload(local, hillside.id, _zip_bytes(export_11(tmp_path / "export")))
    assert refused.status_code == 403 and "Only the district&#39;s staff can do this." in _text(refused)
    assert changes_held(district) == 0


@pytest.mark.parametrize(("data", "name", "words"), [
    (b"", "roster.zip", "That file is empty. Choose the zip file of the export."),
    (b"sourcedId,status\n", "users.csv", "That file is not a zip file."),
])
def test_an_upload_that_is_not_a_zip_is_refused_in_words(district, data, name, words):
    hillside = school_of(district)
    client = _signed_in(district, "dana")
    answer = _upload(client, hillside.id, data, name)
    assert answer.status_code == 400 and words in _text(answer)
    assert changes_held(district) == 0


def test_a_form_without_a_file_or_school_and_an_unreadable_zip_say_what_to_do(district, tmp_path):
    hillside = school_of(district)
    client = _signed_in(district, "dana")
    no_file = _post(client, "/dashboard/rosters", {"school": str(hillside.id)}, content_type="multipart/form-data")
    assert no_file.status_code == 400 and "Choose the zip file of the school&#39;s OneRoster export." in _text(no_file)
    no_school = _upload(client, 999, _zip_bytes(export_11(tmp_path / "export")))
    assert no_school.status_code == 400 and "Choose the school whose roster this is." in _text(no_school)
    empty_zip = io.BytesIO()
    with zipfile.ZipFile(empty_zip, "w") as archive:
        archive.writestr("readme.txt", "nothing here")
    answer = _upload(client, hillside.id, empty_zip.getvalue())
    assert answer.status_code == 400
    page = _text(answer)
    assert "Nothing was imported" in page and "there is no users.csv: the hub needs the export&#39;s users" in page
    assert changes_held(district) == 0


def test_an_upload_past_the_limit_is_refused_before_it_is_read(district, tmp_path, monkeypatch):
    from sync.district import roster_pages

    hillside = school_of(district)
    client = _signed_in(district, "dana")
    data = _zip_bytes(export_11(tmp_path / "export"))
    monkeypatch.setattr(roster_pages, "MAX_ROSTER_BYTES", len(data) // 2)
    answer = _upload(client, hillside.id, data)
    assert answer.status_code == 413 and "larger than a school&#39;s roster export should be" in _text(answer)
    assert changes_held(district) == 0
