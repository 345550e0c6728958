"""The OneRoster CSV reader on the exports schools really send: three fixture exports (clean 1.1,
clean 1.2, dirty 1.1) and one focused export per kind of dirt, built here in tmp_path from a small
clean 1.1 export with one file changed. Every expectation is exact: reasons, lines, notes."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from classroom_server.interop import oneroster
from classroom_server.interop.oneroster import Class, Enrollment, Org, Rejected, Roster, User, read
from classroom_server.interop.oneroster import sources as oneroster_sources

FIXTURES = Path(__file__).parent / "oneroster"
PACKAGE = Path(oneroster.__file__).parent

ORGS = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\ns-1,,,Riverside School,school,,\n"
CLASSES_HEADER = ("sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,"
                  "schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods")
USERS_HEADER = ("sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,"
                "familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password")
ENROLLMENTS_HEADER = ("sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,"
                      "beginDate,endDate")
TEACHER = "t-1,,,true,s-1,teacher,tbanda,,Thomas,Banda,,,,,,,,"
STUDENT = "u-1,,,true,s-1,student,zmwale,,Zoe,Mwale,,,,,,,05,"


def table(header: str, *rows: str) -> str:
    return "\n".join((header, *rows)) + "\n"


def users(*rows: str) -> str:
    return table(USERS_HEADER, *rows)


def classes(*rows: str) -> str:
    return table(CLASSES_HEADER, *rows)


def enrollments(*rows: str) -> str:
    return table(ENROLLMENTS_HEADER, *rows)


def manifest(version: str = "1.1", **modes: str) -> str:
    modes = {"orgs": "bulk", "classes": "bulk", "users": "bulk", "enrollments": "bulk", **modes}
    return table("propertyName,value", f"oneroster.version,{version}", *(f"file.{k},{v}" for k, v in modes.items()))


def export(folder: Path, **files: str | bytes | None) -> Path:
    """A small clean 1.1 export (an org, a class, a teacher and a learner in it) in ``folder``;
    ``files`` (by name without .csv) replace its files, add to them or (None) leave one out."""
    contents: dict[str, str | bytes | None] = {
        "manifest": manifest(), "orgs": ORGS, "classes": classes("k-1,,,Maths 5,05,,5M,scheduled,,s-1,,,,"),
        "users": users(TEACHER, STUDENT),
        "enrollments": enrollments("e-1,,,k-1,s-1,t-1,teacher,true,,", "e-2,,,k-1,s-1,u-1,student,false,,"),
        **files}
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in contents.items():
        if content is not None:
            (folder / f"{name}.csv").write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder


def read_with(tmp_path: Path, **files: str | bytes | None) -> Roster:
    return read(export(tmp_path / "export", **files))


def rejected_in(roster: Roster, name: str) -> list[Rejected]:
    return [r for r in roster.rejected if r.file == name]


def zip_folder(folder: Path, target: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, prefix + path.name)
    return target


# --- the fixture exports ------------------------------------------------------------------------


def test_a_small_clean_export_says_nothing(tmp_path):
    roster = read_with(tmp_path)
    assert (roster.problems, roster.rejected, roster.notes) == ((), (), ())
    assert roster.counts() == {"orgs": 1, "academic_sessions": 0, "courses": 0, "classes": 1, "users": 2,
                               "enrollments": 2, "rejected": 0}


def test_a_clean_1_1_export():
    roster = read(FIXTURES / "clean_1_1")
    assert (roster.version, roster.problems, roster.rejected, roster.notes) == ("1.1", (), (), ())
    assert roster.counts() == {"orgs": 2, "academic_sessions": 3, "courses": 2, "classes": 3, "users": 7,
                               "enrollments": 9, "rejected": 0}
    assert roster.modes["users.csv"] == "bulk" and roster.modes["demographics.csv"] == "absent"
    assert roster.orgs[1] == Org(sourced_id="s-1", status="active", date_last_modified=None,
                                 name="Lakeside Primary School", type="school", identifier="LPS-01", parent_id="d-1")
    assert roster.academic_sessions[1].start_date == date(2024, 9, 2)
    assert roster.courses[1].subjects == ("Reading", "Language Arts")
    assert roster.classes[0] == Class(sourced_id="cls-4a-math", status="active", date_last_modified=None,
                                      title="Mathematics 4A", class_code="4A-MATH", class_type="scheduled",
                                      course_id="crs-math4", school_id="s-1", term_ids=("t-1", "t-2"),
                                      grades=("04",), subjects=("Mathematics",))
    assert roster.users[3] == User(sourced_id="stu-1", status="active", date_last_modified=None, enabled=True,
                                   org_ids=("s-1",), role="student", username="akamau",
                                   user_ids=(("Fed", "S-3001"), ("LDAP", "akamau")), given_name="Amani",
                                   family_name="Kamau", middle_name=None, preferred_given_name=None,
                                   preferred_family_name=None, identifier="S-3001", email=None, grades=("04",))
    assert [u.role for u in roster.users] == ["teacher", "teacher", "administrator"] + ["student"] * 4
    assert roster.users[2].org_ids == ("d-1", "s-1") and roster.users[6].enabled is False
    assert roster.enrollments[0] == Enrollment(sourced_id="enr-1", status="active", date_last_modified=None,
                                               class_id="cls-4a-math", school_id="s-1", user_id="tch-1",
                                               role="teacher", primary=True, begin_date=date(2024, 9, 2),
                                               end_date=date(2025, 7, 11))
    assert roster.enrollments[-1].primary is None


def test_a_clean_1_2_export_takes_roles_from_roles_csv():
    roster = read(FIXTURES / "clean_1_2")
    assert (roster.version, roster.problems, roster.rejected, roster.notes) == ("1.2", (), (), ())
    assert roster.modes["roles.csv"] == roster.modes["userProfiles.csv"] == "bulk"
    assert [(u.sourced_id, u.role, u.org_ids) for u in roster.users] == [
        ("u-t1", "teacher", ("org-school", "org-district")),  # a secondary role's org counts too
        ("u-s1", "student", ("org-school",)), ("u-s2", "student", ("org-school",)),
        ("u-g1", "guardian", ("org-school",))]
    hana = roster.users[0]
    assert hana.date_last_modified == datetime(2024, 8, 20, 6, 0, tzinfo=UTC)
    assert roster.users[1].preferred_given_name == "Rob" and roster.users[3].enabled is False
    assert hana.to_dict() == {
        "sourced_id": "u-t1", "status": "active", "date_last_modified": "2024-08-20T06:00:00+00:00", "enabled": True,
        "org_ids": ["org-school", "org-district"], "role": "teacher", "username": "hosei",
        "user_ids": [["LDAP", "hosei"]], "given_name": "Hana", "family_name": "Osei", "middle_name": None,
        "preferred_given_name": None, "preferred_family_name": None, "identifier": "E-501",
        "email": "hana.osei@hillview.example", "grades": []}


def test_the_dirty_fixture_really_is_dirty():
    """The dirty export's bytes carry what its tests expect (an editor or git could clean them)."""
    folder = FIXTURES / "dirty_1_1"
    assert (folder / "manifest.csv").read_bytes().startswith(b"\xef\xbb\xbfpropertyName,value\r\n")
    assert b"Jos\xe9" in (folder / "users.csv").read_bytes() and b"Zo\xeb" in (folder / "users.csv").read_bytes()
    assert not (folder / "orgs.csv").read_bytes().endswith(b"\n")
    assert b";" in (folder / "orgs.csv").read_bytes()
    assert (folder / "enrollments.csv").read_bytes().endswith(b"\r\n\r\n,,,,,,,,,\r\n\r\n")


def test_a_dirty_1_1_export():
    roster = read(FIXTURES / "dirty_1_1")
    assert roster.problems == ()
    assert roster.counts() == {"orgs": 1, "academic_sessions": 2, "courses": 0, "classes": 3, "users": 5,
                               "enrollments": 4, "rejected": 12}
    assert [(r.file, r.line, r.reason) for r in roster.rejected] == [
        ("academicSessions.csv", 4, "startDate '6/1/2025' is ambiguous (2025-01-06 or 2025-06-01?); "
                                    "write dates as YYYY-MM-DD"),
        ("academicSessions.csv", 5, "endDate 2025-04-14 is before startDate 2025-07-04"),
        ("classes.csv", 4, "sourcedId 'c-1' appears twice in classes.csv; the first row (line 2) is kept"),
        ("classes.csv", 6, "classType 'workshop' is not a class type (homeroom or scheduled)"),
        ("users.csv", 7, "this row has 19 values but the header has 18 columns "
                         "(is there a comma in a value without quotes around it?)"),
        ("users.csv", 8, "sourcedId 's-20' appears twice in users.csv; the first row (line 4) is kept"),
        ("users.csv", 10, "role 'janitor' is not a OneRoster role (administrator, aide, counselor, "
                          "districtAdministrator, guardian, parent, principal, proctor, relative, siteAdministrator, "
                          "student, systemAdministrator or teacher)"),
        ("users.csv", 11, "givenName and familyName are both empty; enabledUser 'maybe' is not true or false"),
        ("enrollments.csv", 5, "beginDate '9/1/2024' is ambiguous (2024-01-09 or 2024-09-01?); "
                               "write dates as YYYY-MM-DD"),
        ("enrollments.csv", 6, "enrollment names class 'c-99', which is not in classes.csv"),
        ("enrollments.csv", 7, "enrollment names user 's-24', which was rejected (users.csv line 10)"),
        ("enrollments.csv", 9, "enrollment names user 's-22', which was rejected (users.csv line 7)"),
    ]
    assert roster.notes == (
        "manifest.csv says courses.csv is bulk, but the export has no courses.csv; taken as absent",
        "not read, the hub has no use for them: demographics.csv",
        "orgs.csv: values are separated by semicolons, not commas",
        "academicSessions.csv: columns read as OneRoster's: 'SourcedId ' as sourcedId, 'Status' as status, "
        "'date_last_modified' as dateLastModified, 'start date' as startDate",
        "academicSessions.csv: dateLastModified values without a time zone are taken as UTC",
        "classes.csv: columns OneRoster does not define, ignored: 'Homeroom Teacher'",
        "users.csv: the file is not UTF-8; it was read as Windows-1252 (Western European)",
        "users.csv: columns read as OneRoster's: 'sourcedID' as sourcedId, 'givenNmae' as givenName, "
        "'familyname' as familyName",
        "orgs.csv: 1 row names a parent that is not in orgs.csv (line 2: 'd-9'); it is kept",
        "classes.csv: courses.csv is absent in this export, so the courses it names are checked when the roster "
        "is applied, against those the hub holds",
        "classes.csv: 1 row names a school that is not in orgs.csv (line 5: 's-2'); it is kept",
        "classes.csv: 1 row names a term that is not in academicSessions.csv (line 2: 't-2'); it is kept",
        "enrollments.csv: active enrollments of a user marked tobedeleted are kept as the export gives them, "
        "to be archived with it (line 8)",
    )
    assert roster.orgs[0].type == "school" and roster.orgs[0].name == "Riverside School"
    assert roster.academic_sessions[0].date_last_modified == datetime(2024, 8, 30, 17, 45, tzinfo=UTC)
    assert roster.classes[0].grades == ("05",) and roster.classes[0].term_ids == ("t-1", "t-2")
    assert roster.classes[2].status == "tobedeleted"
    by_id = {u.sourced_id: u for u in roster.users}
    assert by_id["t-10"].role == "teacher" and by_id["t-11"].given_name == "José"
    assert by_id["s-20"].given_name == "Zoë" and by_id["s-20"].username == "zmwale"  # the first row of two
    assert by_id["s-21"].middle_name == "Chisomo\nGrace" and by_id["s-21"].enabled is False
    assert by_id["s-21"].org_ids == ("s-1",) and by_id["s-23"].status == "tobedeleted"
    assert [(e.sourced_id, e.role, e.primary, e.begin_date) for e in roster.enrollments] == [
        ("e-1", "teacher", True, date(2024, 9, 2)), ("e-2", "teacher", True, date(2024, 9, 2)),
        ("e-3", "student", False, None), ("e-7", "student", False, None)]


@pytest.mark.parametrize("fixture", ["clean_1_1", "clean_1_2", "dirty_1_1"])
def test_reading_again_gives_an_equal_roster_and_a_zip_the_same_one(fixture, tmp_path):
    first = read(FIXTURES / fixture)
    assert read(FIXTURES / fixture) == first
    assert read(zip_folder(FIXTURES / fixture, tmp_path / "export.zip")) == first
    assert read(zip_folder(FIXTURES / fixture, tmp_path / "folder.zip", prefix="OneRoster/")) == first
    json.dumps(first.to_dict())  # plain data all the way down


def test_the_roster_does_not_hang_on_hash_order(tmp_path):
    """Two interpreters with different string hashes read the dirty export to the same data."""
    code = ("import json, sys\nfrom classroom_server.interop.oneroster import read\n"
            "print(json.dumps(read(sys.argv[1]).to_dict()))")
    outputs = {subprocess.run([sys.executable, "-c", code, str(FIXTURES / "dirty_1_1")], capture_output=True,
                              text=True, check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
               for seed in ("1", "2")}
    assert len(outputs) == 1 and json.loads(outputs.pop()) == read(FIXTURES / "dirty_1_1").to_dict()


# --- encodings, line endings and the shape of rows ----------------------------------------------


def test_a_byte_order_mark_crlf_and_no_final_newline(tmp_path):
    text = users(TEACHER, STUDENT).replace("\n", "\r\n").rstrip("\r\n")
    roster = read_with(tmp_path, users=b"\xef\xbb\xbf" + text.encode())
    assert (roster.rejected, roster.notes) == ((), ())
    assert [u.sourced_id for u in roster.users] == ["t-1", "u-1"] and roster.users[1].grades == ("05",)


def test_blank_lines_are_skipped_and_lines_still_count(tmp_path):
    roster = read_with(tmp_path, users=users(TEACHER, "", " , ,", STUDENT, ",,,,,,,,,,,,,,,,,",
                                             "u-2,,,true,s-1,student", "", ""))
    assert roster.rejected == (Rejected("users.csv", 7, "givenName and familyName are both empty"),)
    assert len(roster.users) == 2


def test_trailing_empty_columns_in_the_header_and_every_row(tmp_path):
    roster = read_with(tmp_path, classes=table(CLASSES_HEADER + ",,,", "k-1,,,Maths 5,05,,5M,scheduled,,s-1,,,,,,,",
                                               "k-2,,,English 5,05,,5E,scheduled,,s-1,,,,,,,"))
    assert (roster.rejected, roster.notes) == ((), ())
    assert [c.title for c in roster.classes] == ["Maths 5", "English 5"]


def test_rows_all_padded_past_the_header_are_an_exports_habit(tmp_path):
    roster = read_with(tmp_path, classes=classes("k-1,,,Maths 5,05,,5M,scheduled,,s-1,,,,,,",
                                                 "k-2,,,English 5,05,,5E,scheduled,,s-1,,,,,,"))
    assert (roster.rejected, roster.notes, len(roster.classes)) == ((), (), 2)


def test_a_row_with_a_value_past_the_header_is_rejected(tmp_path):
    roster = read_with(tmp_path, users=users(TEACHER, "u-1,,,true,s-1,student,zmwale,,Zoe,Mwale,,,,,,,05,,extra"))
    assert rejected_in(roster, "users.csv") == [Rejected("users.csv", 3, "this row has 19 values but the header has "
                                                         "18 columns (is there a comma in a value without quotes "
                                                         "around it?)")]


def test_a_short_row_has_blank_values_at_its_end(tmp_path):
    roster = read_with(tmp_path, users=users(TEACHER, "u-1,,,true,s-1,student,zmwale,,Zoe,Mwale"))
    assert roster.rejected == () and roster.users[1].grades == () and roster.users[1].email is None


def test_a_quoted_value_with_line_breaks_moves_the_next_rows_line(tmp_path):
    roster = read_with(tmp_path, users=users('t-1,,,true,s-1,teacher,tb,,Thomas,Banda,"Chisomo\r\nGrace\nM.",,,,,,,',
                                             "u-1,,,true,s-1,pupil,zm,,Zoe,Mwale,,,,,,,05,"))
    assert roster.users[0].middle_name == "Chisomo\r\nGrace\nM."
    assert [(r.line, r.reason.split(" (")[0]) for r in rejected_in(roster, "users.csv")] == [
        (5, "role 'pupil' is not a OneRoster role")]


def test_a_windows_1252_file_is_read_as_such_with_a_note(tmp_path):
    text = users("t-1,,,true,s-1,teacher,jphiri,,José,Phiri,,,,,,,,", "u-1,,,true,s-1,student,zm,,Zoë,Mwale,,,,,,,,")
    roster = read_with(tmp_path, users=text.encode("cp1252"))
    assert [u.given_name for u in roster.users] == ["José", "Zoë"]
    assert roster.notes == ("users.csv: the file is not UTF-8; it was read as Windows-1252 (Western European)",)


def test_a_utf_16_file_with_its_byte_order_mark(tmp_path):
    roster = read_with(tmp_path, users=users(TEACHER, "u-1,,,true,s-1,student,zm,,Zoë,Mwale,,,,,,,,").encode("utf-16"))
    assert roster.users[1].given_name == "Zoë"
    assert roster.notes == ("users.csv: the file is UTF-16 (a spreadsheet's Unicode text); it was read as such",)


@pytest.mark.parametrize(("content", "problem"), [
    (bytes(range(256)) * 40, "users.csv is not text in UTF-8 or Windows-1252; save it as CSV (UTF-8)"),
    (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 300, "users.csv is not a CSV text file (it holds binary data)"),
    ((USERS_HEADER + "\nt-1,,,true,s-1,teacher,tb,,Tho\x00mas,Banda\n").encode(),
     "users.csv is not a CSV text file (it holds binary data)"),
    (b"", "users.csv is empty (it has no header row)"),
    (USERS_HEADER.encode(), "users.csv has no rows: the hub will not take an export without users"),
])
def test_a_users_file_that_cannot_be_read_stops_the_import(tmp_path, content, problem):
    roster = read_with(tmp_path, users=content)
    assert roster.problems == (problem,)
    assert roster.counts() == dict.fromkeys(oneroster.KINDS, 0) | {"rejected": 0}


def test_any_file_the_hub_reads_that_is_junk_stops_the_import_so_bulk_never_means_all_gone(tmp_path):
    roster = read_with(tmp_path, classes=b"\x00\x01\x02 binary \xff\xfe junk" * 20)
    assert roster.problems == ("classes.csv is not a CSV text file (it holds binary data)",)
    assert roster.classes == () and roster.users == ()


def test_a_header_only_file_other_than_users_is_a_note(tmp_path):
    roster = read_with(tmp_path, enrollments=enrollments())
    assert roster.problems == () and roster.notes == ("enrollments.csv has no rows",)


def test_a_quote_that_never_closes_stops_the_import(tmp_path):
    roster = read_with(tmp_path, users=users(TEACHER, 'u-1,,,true,s-1,student,zm,,"Zoe' + "x" * 140_000))
    assert roster.problems == ("users.csv cannot be read past line 3: field larger than field limit (131072) "
                               "(a value may open a quote it never closes)",)


@pytest.mark.parametrize(("delimiter", "note"), [(";", "semicolons"), ("\t", "tabs")])
def test_semicolons_and_tabs_are_sniffed(tmp_path, delimiter, note):
    text = users(TEACHER, 'u-1,,,true,s-1,student,zm,,Zoe,"Mwale, Jr",,,,,,,05,')
    text = text.replace(",", delimiter).replace(f"Mwale{delimiter} Jr", "Mwale, Jr")
    roster = read_with(tmp_path, users=text)
    assert roster.users[1].family_name == "Mwale, Jr" and roster.users[1].grades == ("05",)
    assert roster.notes == (f"users.csv: values are separated by {note}, not commas",)


def test_excels_sep_line_is_honoured_and_counted(tmp_path):
    text = "sep=;\n" + users(TEACHER, "u-1,,,true,s-1,pupil,zm,,Zoe,Mwale,,,,,,,,").replace(",", ";")
    roster = read_with(tmp_path, users=text)
    assert [(r.line, r.reason.split(" (")[0]) for r in rejected_in(roster, "users.csv")] == [
        (4, "role 'pupil' is not a OneRoster role")]


# --- headers ------------------------------------------------------------------------------------


def test_headers_in_other_cases_spacing_and_underscores(tmp_path):
    header = USERS_HEADER.replace("sourcedId", "SourcedId ").replace("dateLastModified", "date_last_modified")
    header = header.replace("givenName", "Given Name").replace("familyName", "FAMILYNAME")
    roster = read_with(tmp_path, users=table(header, "t-1,,2024-09-01T08:00:00Z,true,s-1,teacher,tb,,Thomas,Banda"))
    assert roster.users[0].given_name == "Thomas" and roster.users[0].family_name == "Banda"
    assert roster.notes == ("users.csv: columns read as OneRoster's: 'SourcedId ' as sourcedId, 'date_last_modified' "
                            "as dateLastModified, 'Given Name' as givenName, 'FAMILYNAME' as familyName",)


def test_misspelt_headers_are_understood_and_said(tmp_path):
    header = USERS_HEADER.replace("sourcedId", "sourceID").replace("givenName", "givenNmae")
    header = header.replace("familyName", "familyNme").replace("orgSourcedIds", "orgSourcedId")
    roster = read_with(tmp_path, users=table(header, TEACHER, STUDENT))
    assert [(u.given_name, u.org_ids) for u in roster.users] == [("Thomas", ("s-1",)), ("Zoe", ("s-1",))]
    assert roster.notes == ("users.csv: columns read as OneRoster's: 'sourceID' as sourcedId, 'orgSourcedId' as "
                            "orgSourcedIds, 'givenNmae' as givenName, 'familyNme' as familyName",)


def test_unknown_and_extension_columns_are_ignored_with_a_note(tmp_path):
    roster = read_with(tmp_path, users=table(USERS_HEADER + ",Homeroom,metadata.jp.kanaGivenName,gradez",
                                             TEACHER + ",5A,トーマス,xx", STUDENT + ",5A,ゾーイ,"))
    assert roster.rejected == () and roster.users[1].grades == ("05",)  # 'gradez' never takes grades
    assert roster.notes == ("users.csv: columns OneRoster does not define, ignored: 'Homeroom', "
                            "'metadata.jp.kanaGivenName', 'gradez'",)


def test_a_column_only_somewhat_like_a_missing_one_is_not_taken_for_it(tmp_path):
    header = "sourcedId,classSourcedId,userSourcedId,role,primaryTeacher,courseName"
    roster = read_with(tmp_path, enrollments=table(header, "e-1,k-1,t-1,teacher,Mr Banda,Maths 5"))
    assert roster.rejected == () and roster.enrollments[0].primary is None
    assert roster.notes == ("enrollments.csv: columns OneRoster does not define, ignored: 'primaryTeacher', "
                            "'courseName'",
                            "enrollments.csv: no schoolSourcedId column, which OneRoster requires; read as blank")


def test_a_repeated_column_reads_the_first(tmp_path):
    roster = read_with(tmp_path, users=table(USERS_HEADER + ",email", TEACHER + ",second@example.org"))
    assert roster.users[0].email is None
    assert roster.notes == ("users.csv: repeated columns, only the first read: 'email'",)


def test_a_users_file_without_sourcedid_stops_the_import(tmp_path):
    roster = read_with(tmp_path, users="id,role,givenName,familyName\nt-1,teacher,Thomas,Banda\n")
    assert roster.problems == ("users.csv has no sourcedId column, so none of its rows can be read "
                               "(its columns: 'id', 'role', 'givenName', 'familyName')",)
    assert roster.users == () and roster.enrollments == ()


def test_a_users_file_without_a_role_and_no_roles_file_stops_the_import(tmp_path):
    roster = read_with(tmp_path, users="sourcedId,givenName,familyName\nt-1,Thomas,Banda\n")
    assert roster.problems == ("users.csv has no role column, so none of its rows can be read (its columns: "
                               "'sourcedId', 'givenName', 'familyName'); OneRoster 1.2 gives users their roles in "
                               "roles.csv, and there is none here",)


def test_any_file_without_a_column_the_hub_needs_stops_the_import_and_every_problem_is_named(tmp_path):
    roster = read_with(tmp_path, classes="sourcedId,name\nk-1,Maths\n", enrollments="sourcedId,classSourcedId\n")
    assert roster.problems == (
        "classes.csv has no title column, so none of its rows can be read (its columns: 'sourcedId', 'name')",
        "enrollments.csv has no userSourcedId and role columns, so none of its rows can be read "
        "(its columns: 'sourcedId', 'classSourcedId')")
    assert roster.users == ()


def test_a_column_the_spec_requires_and_the_hub_does_without_is_a_note(tmp_path):
    roster = read_with(tmp_path, users="sourcedId,role,givenName,familyName\nt-1,teacher,Thomas,Banda\n"
                                       "u-1,student,Zoe,Mwale\n")
    assert roster.users[0].enabled is True and roster.users[0].username is None and roster.rejected == ()
    assert roster.notes == ("users.csv: no enabledUser and username columns, which OneRoster requires; read as blank",)


# --- values -------------------------------------------------------------------------------------


def test_required_values_that_are_empty_reject_the_row(tmp_path):
    roster = read_with(tmp_path,
                       users=users(TEACHER, ",,,true,s-1,student,x,,Ann,,,,,,,,,", "u-2,,,true,s-1,,x,,Ann,,,,,,,,,",
                                   "u-3,,,true,s-1,student,,,,Mwale,,,,,,,,"),
                       enrollments=enrollments("e-1,,,,s-1,t-1,teacher,,,", "e-2,,,k-1,s-1,t-1,,,,"))
    assert [(r.file, r.line, r.reason) for r in roster.rejected] == [
        ("users.csv", 3, "sourcedId is empty"), ("users.csv", 4, "role is empty"),
        ("enrollments.csv", 2, "classSourcedId is empty"), ("enrollments.csv", 3, "role is empty")]
    assert roster.users[1].given_name is None and roster.users[1].family_name == "Mwale"  # one name is enough


@pytest.mark.parametrize(("text", "moment"), [
    ("2024-09-01", datetime(2024, 9, 1, tzinfo=UTC)),
    ("2024/09/01", datetime(2024, 9, 1, tzinfo=UTC)),
    ("2024-9-1", datetime(2024, 9, 1, tzinfo=UTC)),
    ("2024-09-01T08:00:00.000Z", datetime(2024, 9, 1, 8, tzinfo=UTC)),
    ("2024-09-01T08:00:00Z", datetime(2024, 9, 1, 8, tzinfo=UTC)),
    ("2024-09-01t08:00z", datetime(2024, 9, 1, 8, tzinfo=UTC)),
    ("2024-09-01T08:00:00.123456789Z", datetime(2024, 9, 1, 8, 0, 0, 123456, tzinfo=UTC)),
    ("2024-09-01T10:30:00+02:00", datetime(2024, 9, 1, 8, 30, tzinfo=UTC)),
    ("2024-09-01T10:30:00+0200", datetime(2024, 9, 1, 8, 30, tzinfo=UTC)),
    ("2024-09-01T03:30-05", datetime(2024, 9, 1, 8, 30, tzinfo=UTC)),
    ("2024-09-01 08:00:00", datetime(2024, 9, 1, 8, tzinfo=UTC)),
    ("2024-09-01 08:00:00,5 Z", datetime(2024, 9, 1, 8, 0, 0, 500000, tzinfo=UTC)),
])
def test_dates_and_times_in_the_forms_read(tmp_path, text, moment):
    roster = read_with(tmp_path, users=users(f't-1,,"{text}",true,s-1,teacher,tb,,Thomas,Banda', STUDENT))
    assert roster.rejected == ()
    assert roster.users[0].date_last_modified == moment
    assert roster.users[0].date_last_modified.utcoffset() == timedelta(0)


@pytest.mark.parametrize(("text", "reason"), [
    ("31/02/2024", "dateLastModified '31/02/2024' is not a date (write dates as YYYY-MM-DD)"),
    ("13/09/2024", "dateLastModified '13/09/2024' is not a date (write dates as YYYY-MM-DD)"),
    ("9/1/2024", "dateLastModified '9/1/2024' is ambiguous (2024-01-09 or 2024-09-01?); write dates as YYYY-MM-DD"),
    ("01.09.2024", "dateLastModified '01.09.2024' is ambiguous (2024-01-09 or 2024-09-01?); "
                   "write dates as YYYY-MM-DD"),
    ("2024-02-30", "dateLastModified '2024-02-30' is not a date"),
    ("2024-09-01T25:00:00Z", "dateLastModified '2024-09-01T25:00:00Z' is not a date"),
    ("2024-09-01T08:00:00+25:00", "dateLastModified '2024-09-01T08:00:00+25:00' is not a date"),
    ("2024-09/01", "dateLastModified '2024-09/01' is not a date (write dates as YYYY-MM-DD)"),
    ("yesterday", "dateLastModified 'yesterday' is not a date (write dates as YYYY-MM-DD)"),
])
def test_dates_that_are_not_read_reject_the_row(tmp_path, text, reason):
    roster = read_with(tmp_path, users=users(TEACHER, f"u-1,,{text},true,s-1,student,zm,,Zoe,Mwale"))
    assert rejected_in(roster, "users.csv") == [Rejected("users.csv", 3, reason)]


def test_a_time_without_a_zone_is_utc_said_once_per_file(tmp_path):
    roster = read_with(tmp_path, users=users("t-1,,2024-09-01 08:00,true,s-1,teacher,tb,,Thomas,Banda",
                                             "u-1,,2024-09-02T09:00:00,true,s-1,student,zm,,Zoe,Mwale"))
    assert [u.date_last_modified for u in roster.users] == [datetime(2024, 9, 1, 8, tzinfo=UTC),
                                                            datetime(2024, 9, 2, 9, tzinfo=UTC)]
    assert roster.notes == ("users.csv: dateLastModified values without a time zone are taken as UTC",)


def test_a_date_column_keeps_the_date_as_written(tmp_path):
    roster = read_with(tmp_path, enrollments=enrollments("e-1,,,k-1,s-1,t-1,teacher,,2024-09-01T23:30:00-05:00,"
                                                         "2025/06/30"))
    assert (roster.enrollments[0].begin_date, roster.enrollments[0].end_date) == (date(2024, 9, 1), date(2025, 6, 30))


@pytest.mark.parametrize(("text", "value"), [("true", True), ("TRUE", True), ("True", True), ("1", True),
                                             ("yes", True), ("YES", True), ("false", False), ("FALSE", False),
                                             ("0", False), ("no", False), ("", True)])
def test_booleans(tmp_path, text, value):
    roster = read_with(tmp_path, users=users(f"t-1,,,{text},s-1,teacher,tb,,Thomas,Banda"))
    assert roster.users[0].enabled is value


def test_a_boolean_that_is_neither(tmp_path):
    roster = read_with(tmp_path, enrollments=enrollments("e-1,,,k-1,s-1,t-1,teacher,sometimes,,"))
    assert roster.rejected == (Rejected("enrollments.csv", 2, "primary 'sometimes' is not true or false"),)


def test_lists_inside_one_value_with_stray_spaces_and_repeats(tmp_path):
    roster = read_with(tmp_path, orgs=ORGS + "s-2,,,Hill School,school,,\n",
                       users=users('t-1,,,true," s-1 ,s-2,, s-1",teacher,tb,"{Fed:1}, {LDAP:tb},plain",Thomas,Banda,'
                                   ',,,,,,"05, 06 ,05"'))
    assert roster.users[0].org_ids == ("s-1", "s-2") and roster.users[0].grades == ("05", "06")
    assert roster.users[0].user_ids == (("Fed", "1"), ("LDAP", "tb"), ("", "plain"))


def test_statuses(tmp_path):
    roster = read_with(tmp_path, users=users("t-1,active,,true,s-1,teacher,tb,,Thomas,Banda",
                                             "u-1,TOBEDELETED,,true,s-1,student,zm,,Zoe,Mwale",
                                             "u-2,inactive,,true,s-1,student,x,,Ann,Phiri",
                                             "u-3,deleted,,true,s-1,student,y,,Bo,Phiri",
                                             "u-4,,,true,s-1,student,z,,Cy,Phiri"),
                       enrollments=enrollments("e-1,,,k-1,s-1,t-1,teacher,true,,"))
    assert [(u.sourced_id, u.status) for u in roster.users] == [
        ("t-1", "active"), ("u-1", "tobedeleted"), ("u-2", "tobedeleted"), ("u-4", "active")]
    assert roster.rejected == (Rejected("users.csv", 5, "status 'deleted' is not active or tobedeleted"),)
    assert roster.notes == ("users.csv: status 'inactive' (OneRoster 1.0) is read as tobedeleted",)


def test_roles_in_any_case_come_back_in_the_specs_spelling(tmp_path):
    roster = read_with(tmp_path, users=users("t-1,,,true,s-1,Teacher,tb,,Thomas,Banda",
                                             "a-1,,,true,s-1,DISTRICT ADMINISTRATOR,x,,Ann,Phiri",
                                             "a-2,,,true,s-1,site_administrator,y,,Bo,Phiri",
                                             "m-1,,,true,s-1,ext:Mentor,z,,Cy,Phiri"),
                       enrollments=enrollments("e-1,,,k-1,s-1,t-1,TEACHER,,,", "e-2,,,k-1,s-1,a-1,Administrator,,,",
                                               "e-3,,,k-1,s-1,m-1,Proctor,,,"))
    assert [u.role for u in roster.users] == ["teacher", "districtAdministrator", "siteAdministrator", "ext:Mentor"]
    assert [e.role for e in roster.enrollments] == ["teacher", "administrator", "proctor"]


def test_vocabularies_of_orgs_sessions_and_classes(tmp_path):
    roster = read_with(tmp_path, orgs=ORGS + "x-1,,,Somewhere,campus,,\n",
                       academicSessions="sourcedId,title,type,startDate,endDate,schoolYear\n"
                                        "g-1,Period 1,grading period,2024-09-01,2024-10-31,2025\n"
                                        "g-2,Period 2,term,2024-11-01,2024-12-20,twenty\n",
                       classes=classes("k-1,,,Maths 5,05,,5M,HomeRoom,,s-1,,,,", "k-2,,,Art 5,05,,5A,,,s-1,,,,"))
    assert roster.academic_sessions[0].type == "gradingPeriod" and roster.academic_sessions[0].school_year == 2025
    assert [c.class_type for c in roster.classes] == ["homeroom", None]
    assert [(r.file, r.line, r.reason) for r in roster.rejected] == [
        ("orgs.csv", 3, "type 'campus' is not an org type (department, district, local, national, school or state)"),
        ("academicSessions.csv", 3, "schoolYear 'twenty' is not a year such as 2024")]


# --- duplicates and references ------------------------------------------------------------------


def test_a_repeated_sourcedid_keeps_the_first_row(tmp_path):
    roster = read_with(tmp_path, users=users(TEACHER, STUDENT, "u-1,,,true,s-1,student,other,,Zed,Other",
                                             "u-2,,,true,s-1,nobody,x,,Ann,Phiri",
                                             "u-2,,,true,s-1,student,x,,Ann,Phiri"))
    assert [u.username for u in roster.users] == ["tbanda", "zmwale"]
    assert [(r.line, r.reason.split(" (")[0]) for r in roster.rejected] == [
        (4, "sourcedId 'u-1' appears twice in users.csv; the first row"),
        (5, "role 'nobody' is not a OneRoster role"),
        (6, "sourcedId 'u-2' appears twice in users.csv; the first row")]
    assert roster.rejected[0].reason.endswith("(line 3) is kept")
    assert roster.rejected[2].reason.endswith("(line 5) was rejected, and this one is not taken in its place")


def test_an_enrollment_without_its_class_or_user_is_rejected(tmp_path):
    roster = read_with(tmp_path, users=users(TEACHER, STUDENT, "u-2,,,true,s-1,pupil,x,,Ann,Phiri"),
                       enrollments=enrollments("e-1,,,k-9,s-1,t-1,teacher,,,", "e-2,,,k-1,s-1,u-9,student,,,",
                                               "e-3,,,k-1,s-1,u-2,student,,,", "e-4,,,k-8,s-1,u-8,student,,,"))
    assert roster.enrollments == ()
    assert [(r.file, r.line, r.reason) for r in roster.rejected if r.file == "enrollments.csv"] == [
        ("enrollments.csv", 2, "enrollment names class 'k-9', which is not in classes.csv"),
        ("enrollments.csv", 3, "enrollment names user 'u-9', which is not in users.csv"),
        ("enrollments.csv", 4, "enrollment names user 'u-2', which was rejected (users.csv line 4)"),
        ("enrollments.csv", 5, "enrollment names class 'k-8', which is not in classes.csv; "
                               "enrollment names user 'u-8', which is not in users.csv")]


def test_a_class_without_its_course_or_school_is_kept_with_a_note(tmp_path):
    roster = read_with(tmp_path, manifest=manifest(courses="bulk", academicSessions="bulk"),
                       courses="sourcedId,title,orgSourcedId\nm-5,Maths 5,s-1\n",
                       academicSessions="sourcedId,title,type,startDate,endDate,schoolYear\n"
                                        "t-1,Term 1,term,2024-09-01,2024-12-20,2025\n",
                       classes=classes("k-1,,,Maths 5,05,m-5,5M,scheduled,,s-1,t-1,,,",
                                       "k-2,,,Art 5,05,a-5,5A,scheduled,,s-9,\"t-1,t-7\",,,",
                                       "k-3,,,Music 5,05,u-5,5U,scheduled,,s-1,t-8,,,"))
    assert [c.sourced_id for c in roster.classes] == ["k-1", "k-2", "k-3"] and roster.rejected == ()
    assert roster.classes[1].course_id == "a-5"  # kept as given: the hub may hold it from an earlier import
    assert roster.notes == (
        "classes.csv: 2 rows name a course that is not in courses.csv (line 3: 'a-5', line 4: 'u-5'); they are kept",
        "classes.csv: 1 row names a school that is not in orgs.csv (line 3: 's-9'); it is kept",
        "classes.csv: 2 rows name a term that is not in academicSessions.csv (line 3: 't-7', line 4: 't-8'); "
        "they are kept")


def test_references_into_a_delta_or_absent_file_are_left_to_the_hub(tmp_path):
    roster = read_with(tmp_path, manifest=manifest(classes="delta", orgs="absent"), orgs=None,
                       classes=classes("k-2,,,Art 5,05,,5A,scheduled,,s-1,,,,"),
                       enrollments=enrollments("e-1,,,k-1,s-1,t-1,teacher,,,", "e-2,,,k-2,s-1,u-1,student,,,"))
    assert [e.class_id for e in roster.enrollments] == ["k-1", "k-2"] and roster.rejected == ()
    assert roster.modes == {"academicSessions.csv": "absent", "classes.csv": "delta", "courses.csv": "absent",
                                 "enrollments.csv": "bulk", "orgs.csv": "absent", "roles.csv": "absent",
                                 "userProfiles.csv": "absent", "users.csv": "bulk"}
    assert roster.notes == (
        "classes.csv: orgs.csv is absent in this export, so the schools it names are checked when the roster is "
        "applied, against those the hub holds",
        "users.csv: orgs.csv is absent in this export, so the orgs it names are checked when the roster is applied, "
        "against those the hub holds",
        "enrollments.csv: orgs.csv is absent in this export, so the schools it names are checked when the roster is "
        "applied, against those the hub holds",
        "enrollments.csv: classes.csv is delta in this export, so the classes it names are checked when the roster "
        "is applied, against those the hub holds")


def test_tobedeleted_records_come_back_and_their_active_enrollments_are_kept(tmp_path):
    roster = read_with(tmp_path, classes=classes("k-1,tobedeleted,,Maths 5,05,,5M,scheduled,,s-1,,,,"),
                       users=users(TEACHER, "u-1,tobedeleted,,true,s-1,student,zm,,Zoe,Mwale"),
                       enrollments=enrollments("e-1,,,k-1,s-1,t-1,teacher,,,",
                                               "e-2,tobedeleted,,k-1,s-1,u-1,student,,,"))
    assert roster.classes[0].status == roster.users[1].status == roster.enrollments[1].status == "tobedeleted"
    assert len(roster.enrollments) == 2 and roster.rejected == ()
    assert roster.notes == ("enrollments.csv: active enrollments of a class marked tobedeleted are kept as the "
                            "export gives them, to be archived with it (line 2)",)


# --- the manifest -------------------------------------------------------------------------------


def test_a_file_the_manifest_calls_absent_is_not_read(tmp_path):
    roster = read_with(tmp_path, manifest=manifest(enrollments="absent"), enrollments="not even,a roster\n")
    assert roster.enrollments == () and roster.modes["enrollments.csv"] == "absent"
    assert roster.notes == ("enrollments.csv is in the export, but manifest.csv says it is absent; it is not read",)


def test_a_file_the_manifest_names_but_the_export_lacks_is_absent(tmp_path):
    roster = read_with(tmp_path, enrollments=None)
    assert roster.modes["enrollments.csv"] == "absent" and roster.problems == ()
    assert roster.notes == ("manifest.csv says enrollments.csv is bulk, but the export has no enrollments.csv; "
                            "taken as absent",)


def test_a_delta_file_is_read_the_same_way_and_its_mode_kept(tmp_path):
    roster = read_with(tmp_path, manifest=manifest(users="delta"),
                       users=users(TEACHER, "u-1,tobedeleted,2024-10-01T12:00:00Z,true,s-1,student,zm,,Zoe,Mwale"))
    assert roster.modes["users.csv"] == "delta" and roster.users[1].status == "tobedeleted"
    assert roster.users[1].date_last_modified == datetime(2024, 10, 1, 12, tzinfo=UTC)


def test_a_file_the_manifest_forgets_is_read_as_bulk(tmp_path):
    roster = read_with(tmp_path, courses="sourcedId,title\nm-5,Maths 5\n")
    assert roster.modes["courses.csv"] == "bulk" and roster.courses[0].title == "Maths 5"
    assert roster.notes == ("manifest.csv does not mention courses.csv; it is read as bulk",
                            "courses.csv: no orgSourcedId column, which OneRoster requires; read as blank")


@pytest.mark.parametrize(("files", "version", "note"), [
    ({}, "1.1", "there is no manifest.csv: the export is read as OneRoster 1.1, and every file in it as bulk"),
    ({"roles": "sourcedId,userSourcedId,roleType,role,orgSourcedId\nr-1,t-1,primary,teacher,s-1\n"}, "1.2",
     "there is no manifest.csv: the export is read as OneRoster 1.2 (roles.csv or userProfiles.csv is there), "
     "and every file in it as bulk"),
])
def test_without_a_manifest_the_version_is_guessed_and_said(tmp_path, files, version, note):
    roster = read_with(tmp_path, manifest=None, **files)
    assert roster.version == version and roster.notes == (note,) and roster.modes["users.csv"] == "bulk"


@pytest.mark.parametrize(("text", "version"), [("1.1", "1.1"), ("1.2", "1.2"), ("v1p2", "1.2"), ("1.1.1", "1.1")])
def test_manifest_versions(tmp_path, text, version):
    assert read_with(tmp_path, manifest=manifest(text)).version == version


@pytest.mark.parametrize(("text", "problem"), [
    (manifest("1.0"), "manifest.csv says oneroster.version is '1.0'; the hub reads OneRoster 1.1 and 1.2"),
    (manifest(users="full"), "manifest.csv gives file.users as 'full'; it should be bulk, delta or absent"),
    (manifest(users="absent"), "manifest.csv says users.csv is absent: the hub needs the export's users"),
    ("name,setting\n", "manifest.csv has no propertyName and value columns, so none of its rows can be read "
                       "(its columns: 'name', 'setting')"),
])
def test_a_manifest_the_hub_cannot_follow_stops_the_import(tmp_path, text, problem):
    roster = read_with(tmp_path, manifest=text)
    assert roster.problems == (problem,) and roster.users == ()


def test_an_export_without_users_stops_the_import(tmp_path):
    assert read_with(tmp_path, users=None).problems == ("there is no users.csv: the hub needs the export's users",)


# --- OneRoster 1.2 roles ------------------------------------------------------------------------

USERS_12 = "sourcedId,enabledUser,username,givenName,familyName,primaryOrgSourcedId\n"
ROLES_12 = "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId\n"


def test_a_users_primary_role_and_their_orgs_come_from_roles_csv(tmp_path):
    roster = read_with(
        tmp_path, manifest=manifest("1.2", roles="bulk"),
        users=USERS_12 + "t-1,true,tb,Thomas,Banda,s-1\nu-1,true,zm,Zoe,Mwale,\nu-2,true,ap,Ann,Phiri,\n"
                         "u-3,true,bp,Bo,Phiri,\n",
        roles=ROLES_12 + "r-1,,,t-1,secondary,administrator,,,s-2\nr-2,,,t-1,primary,Teacher,,,s-1\n"
                         "r-3,,,u-1,primary,student,,,s-1\nr-4,,,u-1,primary,aide,,,s-1\n"
                         "r-5,,,u-2,secondary,guardian,,,\nr-6,,,u-9,primary,student,,,s-1\n"
                         "r-7,tobedeleted,,u-2,primary,student,,,s-1\n")
    assert [(u.sourced_id, u.role, u.org_ids) for u in roster.users] == [
        ("t-1", "teacher", ("s-1", "s-2")), ("u-1", "student", ("s-1",)), ("u-2", "guardian", ())]
    assert [(r.file, r.line, r.reason) for r in roster.rejected] == [
        ("users.csv", 5, "roles.csv gives this user no role"),
        ("roles.csv", 5, "user 'u-1' has a second primary role (the first is at line 4); only the first is taken"),
        ("roles.csv", 7, "role names user 'u-9', which is not in users.csv")]
    assert roster.notes == (
        "roles.csv: user 'u-2' has no primary role; their first role (guardian, line 6) is taken",
        "users.csv: 1 row names an org that is not in orgs.csv (line 2: 's-2'); it is kept")


def test_a_role_in_users_csv_wins_over_roles_csv(tmp_path):
    roster = read_with(tmp_path, manifest=manifest("1.2", roles="bulk"),
                       users=users(TEACHER, "u-1,,,true,s-1,,zm,,Zoe,Mwale,,,,,,,05,"),
                       roles=ROLES_12 + "r-1,,,t-1,primary,administrator,,,s-2\nr-2,,,u-1,primary,student,,,s-1\n")
    assert [(u.role, u.org_ids) for u in roster.users] == [("teacher", ("s-1", "s-2")), ("student", ("s-1",))]


def test_user_profiles_are_checked_and_not_returned(tmp_path):
    roster = read_with(tmp_path, manifest=manifest("1.2", userProfiles="bulk"),
                       userProfiles="sourcedId,userSourcedId,profileType,vendorId,credentialType\n"
                                    "p-1,t-1,lms,v,password\np-2,u-7,lms,v,password\np-1,u-1,lms,v,password\n")
    assert roster.counts()["users"] == 2
    assert [(r.file, r.line, r.reason) for r in roster.rejected] == [
        ("userProfiles.csv", 3, "user profile names user 'u-7', which is not in users.csv"),
        ("userProfiles.csv", 4, "sourcedId 'p-1' appears twice in userProfiles.csv; the first row (line 2) is kept")]


# --- folders and zips ---------------------------------------------------------------------------


def test_a_zip_with_its_files_in_one_folder_and_other_files_beside_them(tmp_path):
    folder = export(tmp_path / "export")
    target = zip_folder(folder, tmp_path / "export.zip", prefix="Lakeside OneRoster/")
    with zipfile.ZipFile(target, "a") as archive:
        archive.writestr("Lakeside OneRoster/readme.txt", "exported by hand")
        archive.writestr("Lakeside OneRoster/old/users.csv", "sourcedId\nghost\n")
        archive.writestr("__MACOSX/Lakeside OneRoster/._users.csv", b"\x00\x05\x16\x07")
    roster = read(target)
    assert roster.users == read(folder).users and roster.problems == ()
    assert roster.notes == ("not OneRoster files, not read: Lakeside OneRoster/old/users.csv and "
                            "Lakeside OneRoster/readme.txt",)


def test_a_zip_in_several_folders_is_refused(tmp_path):
    target = tmp_path / "export.zip"
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("a/users.csv", users(TEACHER))
        archive.writestr("b/orgs.csv", ORGS)
    assert read(target).problems == ("the zip export.zip has no OneRoster files at its top but several folders "
                                     "(a and b); put the CSV files at its top or in one folder",)


def test_zip_members_that_climb_out_are_never_opened(tmp_path):
    folder = export(tmp_path / "export", users=None)
    target = zip_folder(folder, tmp_path / "export.zip")
    with zipfile.ZipFile(target, "a") as archive:
        archive.writestr("../users.csv", users(TEACHER, STUDENT))
        archive.writestr("/etc/users.csv", users(TEACHER, STUDENT))
        archive.writestr("C:/users.csv", users(TEACHER, STUDENT))
    roster = read(target)
    assert roster.problems == ("there is no users.csv: the hub needs the export's users",)
    assert roster.notes == ("zip members whose paths leave the zip are never opened: ../users.csv, /etc/users.csv "
                            "and C:/users.csv",
                            "manifest.csv says users.csv is bulk, but the export has no users.csv; taken as absent")
    assert not (tmp_path / "users.csv").exists()


def test_a_zip_bomb_is_refused_before_anything_is_unpacked(tmp_path):
    target = tmp_path / "bomb.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("manifest.csv", manifest())
        archive.writestr("users.csv", users(TEACHER))
        archive.writestr("enrollments.csv", b"\0" * (oneroster.MAX_MEMBER_BYTES + 1))
    assert target.stat().st_size < 100_000
    assert read(target).problems == ("bomb.zip is refused: once unpacked, enrollments.csv would take 50.1 MB; the hub "
                                     "reads at most 50 MB a file and 200 MB in all",)


def test_a_zip_too_large_in_all_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(oneroster_sources, "MAX_TOTAL_BYTES", 100_000)  # where the zip reads it
    folder = export(tmp_path / "export", users=users(*(f"u-{i},,,true,s-1,student,,,Ann,Phiri" for i in range(7000))))
    assert read(folder).problems == ()
    assert read(zip_folder(folder, tmp_path / "export.zip")).problems == (
        "export.zip is refused: once unpacked, its files would take 0.3 MB; the hub reads at most 50 MB a file and "
        "0.1 MB in all",)


def test_a_damaged_zip_and_a_damaged_member_are_problems(tmp_path):
    whole = zip_folder(export(tmp_path / "export"), tmp_path / "export.zip").read_bytes()
    (tmp_path / "cut.zip").write_bytes(whole[: len(whole) // 2])
    assert read(tmp_path / "cut.zip").problems == (
        "cut.zip is not a zip file, or it is damaged (File is not a zip file)",)
    start = whole.index(b"users.csv") + len("users.csv") + 10  # inside the member's compressed bytes
    (tmp_path / "flipped.zip").write_bytes(whole[:start] + bytes(b ^ 0xFF for b in whole[start:start + 8])
                                           + whole[start + 8:])
    problems = read(tmp_path / "flipped.zip").problems
    assert len(problems) == 1 and problems[0].startswith("users.csv cannot be read from the export: ")


@pytest.mark.parametrize(("name", "problem"), [
    ("nowhere", "is neither a folder nor a zip file (is the path right?)"),
    ("users.csv", "users.csv is one CSV file; give the folder or the zip that holds the export's files"),
    ("notes.zip", "notes.zip is not a zip file, or it is damaged (File is not a zip file)"),
])
def test_a_path_that_is_not_an_export(tmp_path, name, problem):
    if name != "nowhere":
        (tmp_path / name).write_text("hello")
    roster = read(tmp_path / name)
    assert len(roster.problems) == 1 and roster.problems[0].endswith(problem)


def test_a_folder_with_the_export_one_folder_down(tmp_path):
    export(tmp_path / "download" / "OneRoster")
    roster = read(tmp_path / "download")
    assert roster.problems == () and len(roster.users) == 2


def test_file_names_in_another_case_are_read(tmp_path):
    folder = export(tmp_path / "export")
    (folder / "users.csv").rename(folder / "Users.CSV")
    roster = read(folder)
    assert len(roster.users) == 2 and roster.modes["users.csv"] == "bulk" and roster.notes == ()
    (folder / "users.csv").write_text(users(TEACHER))
    roster = read(folder)
    assert len(roster.users) == 2 and roster.notes == ("Users.CSV and users.csv differ only in case; users.csv is "
                                                       "not read",)


# --- the module ---------------------------------------------------------------------------------


def test_the_reader_is_pure_standard_library():
    """Every module of the package imports only the standard library and its sibling modules."""
    modules = sorted(PACKAGE.glob("*.py"))
    siblings = {path.stem for path in modules} - {"__init__"}
    assert len(modules) > 1 and not list(PACKAGE.glob("*/*.py"))  # a subpackage would go unchecked
    for path in modules:
        tree = ast.parse(path.read_text())
        names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        names |= {node.module for node in ast.walk(tree)
                  if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module}
        relative = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level > 0]
        assert {name.split(".")[0] for name in names} <= set(sys.stdlib_module_names) | {"__future__"}, (path, names)
        inside = {node.module or alias.name for node in relative for alias in node.names}  # from . import x: x
        assert all(node.level == 1 for node in relative) and inside <= siblings, (path, inside)


def test_records_are_frozen_and_counts_and_dicts_are_plain(tmp_path):
    roster = read_with(tmp_path)
    with pytest.raises(AttributeError):
        roster.users[0].role = "administrator"  # type: ignore[misc]
    assert json.loads(json.dumps(roster.to_dict()))["users"][0]["role"] == "teacher"
    assert roster.ok and not Roster(problems=("x",)).ok
    assert roster.users[0].to_dict()["date_last_modified"] is None
