"""Rosters from school systems (#18): a OneRoster export applied as events, on the command line
and from the web, idempotent, with tobedeleted records archived; login cards with a QR code."""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from classroom_server.cli import main
from classroom_server.db import db
from classroom_server.models import Classroom, ClassTeacher, Enrollment, Event, Person
from classroom_server.services import accounts, roster
from tests.conftest import ADMIN_PASSWORD, TEACHER_PASSWORD, post, sign_in_staff

FIXTURES = Path(__file__).resolve().parent / "interop" / "oneroster"
CLEAN = FIXTURES / "clean_1_1"


def edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def copy(tmp_path: Path, source: Path = CLEAN) -> Path:
    target = tmp_path / source.name
    shutil.copytree(source, target)
    return target


def state() -> dict[str, object]:
    with db.connection_context():
        classes = {c.uid: (c.name, c.login_kind, c.archived) for c in Classroom.select().where(Classroom.source == "roster")}
        people = {p.uid: (p.role, p.display_name, p.active) for p in Person.select().where(Person.source == "roster")}
        enrolled = sorted((e.classroom.uid, e.learner.uid) for e in Enrollment.select().join(Person)
                          .where(Person.source == "roster"))
        teaching = sorted((t.classroom.uid, t.teacher.uid) for t in ClassTeacher.select().join(Person)
                          .where(Person.source == "roster"))
    return {"classes": classes, "people": people, "enrolled": enrolled, "teaching": teaching}


def test_a_whole_roster_becomes_classes_learners_and_teachers_once(app, school):
    with db.connection_context():
        outcome = roster.import_roster(CLEAN, school.admin)
    assert outcome.readable and outcome.rejected == []
    assert (outcome.imported, outcome.updated, outcome.archived) == (13, 0, 0)
    got = state()
    assert got["classes"] == {"cls-4a-math": ("Mathematics 4A", "pin", False),
                              "cls-4a-read": ("Reading 4A", "pin", False),
                              "cls-4a-home": ("Homeroom 4A", "pin", False)}
    assert got["people"] == {"tch-1": ("teacher", "Mary Wanjiru", True), "tch-2": ("teacher", "James Okafor", True),
                             "stu-1": ("learner", "Amani Kamau", True), "stu-2": ("learner", "Binta Diallo", True),
                             "stu-3": ("learner", "Carlos Mendes", True)}  # stu-4 is not enabled
    assert got["enrolled"] == [("cls-4a-math", "stu-1"), ("cls-4a-math", "stu-2"), ("cls-4a-math", "stu-3"),
                               ("cls-4a-read", "stu-1"), ("cls-4a-read", "stu-2")]
    assert got["teaching"] == [("cls-4a-home", "tch-1"), ("cls-4a-math", "tch-1"), ("cls-4a-read", "tch-2")]
    assert any("administrator" in note for note in outcome.notes)
    assert sorted(outcome.secrets) == sorted(p.id for p in Person.select().where(Person.role == "learner",
                                                                                 Person.source == "roster"))
    with db.connection_context():
        events_before = Event.select().count()
        again = roster.import_roster(CLEAN, school.admin)
        assert (again.imported, again.updated, again.archived, again.secrets) == (0, 0, 0, {})
        assert Event.select().count() == events_before  # the same files change nothing
        teacher = Person.get(Person.uid == "tch-1")
        assert teacher.username == "mwanjiru" and teacher.password_hash is None  # an admin gives a password


def test_tobedeleted_records_are_archived_and_names_follow_the_roster(app, school, tmp_path):
    folder = copy(tmp_path)
    with db.connection_context():
        roster.import_roster(folder, school.admin)
    edit(folder, "users.csv", "stu-2,,,true", "stu-2,tobedeleted,,true")
    edit(folder, "users.csv", "Carlos,Mendes", "Carla,Mendes")
    edit(folder, "enrollments.csv", "enr-7,,,", "enr-7,tobedeleted,,")
    edit(folder, "classes.csv", "cls-4a-home,,,", "cls-4a-home,tobedeleted,,")
    with db.connection_context():
        outcome = roster.import_roster(folder, school.admin)
    assert (outcome.imported, outcome.updated, outcome.archived) == (0, 1, 3)
    got = state()
    assert got["people"]["stu-2"] == ("learner", "Binta Diallo", False)
    assert got["people"]["stu-3"] == ("learner", "Carla Mendes", True)
    assert ("cls-4a-read", "stu-1") not in got["enrolled"] and got["classes"]["cls-4a-home"][2] is True
    with db.connection_context():
        assert Person.get(Person.uid == "stu-2").id  # archived, never deleted


def test_records_made_on_the_hub_are_left_alone(app, school):
    with db.connection_context():
        Person.update(uid="stu-1").where(Person.id == school.learners["ana"].id).execute()
        outcome = roster.import_roster(CLEAN, school.admin)
        assert Person.get(Person.uid == "stu-1").display_name == "Ana"
    assert any("'stu-1' is already the id of a person made by this hub" in note for note in outcome.notes)


def test_importing_into_one_class_puts_every_student_in_it(app, school):
    sunflowers = school.classes["pictures"]
    with db.connection_context():
        outcome = roster.import_roster(CLEAN, school.teachers["tess"], into=sunflowers)
        names = [p.display_name for p in accounts.learners_in(sunflowers)]
    assert names == ["Amani Kamau", "Ana", "Ben", "Binta Diallo", "Carlos Mendes"]
    assert all(isinstance(secret, list) for secret in outcome.secrets.values())  # a picture class
    assert state()["classes"] == {} and outcome.classes == [sunflowers.id]


def test_a_dirty_export_imports_what_is_good_and_lists_every_rejected_row(app, school):
    with db.connection_context():
        outcome = roster.import_roster(FIXTURES / "dirty_1_1", school.admin)
    assert outcome.readable and outcome.imported > 0 and outcome.rejected
    for row in outcome.rejected:
        assert row.file.endswith(".csv") and row.line > 1 and row.reason


def test_the_command_line_prints_counts_and_rejected_rows_and_says_when_nothing_could_be_read(app, school,
                                                                                             data_dir, tmp_path):
    result = CliRunner().invoke(main, ["roster", "import", str(FIXTURES / "dirty_1_1"), "--data", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert re.search(r"imported \d+, updated 0, archived \d+, rejected [1-9]\d*", result.output)
    assert re.search(r"rejected: \S+\.csv line \d+: ", result.output)
    again = CliRunner().invoke(main, ["roster", "import", str(FIXTURES / "dirty_1_1"), "--data", str(data_dir)])
    assert "imported 0, updated 0, archived 0" in again.output
    (tmp_path / "empty").mkdir()
    nothing = CliRunner().invoke(main, ["roster", "import", str(tmp_path / "empty"), "--data", str(data_dir)])
    assert nothing.exit_code == 1 and "Nothing was imported" in nothing.output
    wrong_class = CliRunner().invoke(main, ["roster", "import", str(CLEAN), "--class", "999", "--data",
                                            str(data_dir)])
    assert wrong_class.exit_code == 1 and "no class 999" in wrong_class.output


def _zip(folder: Path) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, path.name)
    return out.getvalue()


def test_an_admin_uploads_a_roster_and_prints_the_new_learners_cards(app, client, school):
    sign_in_staff(client, "admin", ADMIN_PASSWORD)
    assert client.get("/admin/roster").status_code == 200
    response = post(client, "/admin/roster", {"roster": (io.BytesIO(_zip(CLEAN)), "lakeside.zip")},
                    content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Roster imported" in page
    assert page.count('class="login-card"') == 3 and page.count("<svg") >= 3  # a QR code on each card
    pins = re.findall(r'class="secret-pin" data-secret="(\d{4})"', page)
    assert len(pins) == 3
    # the PIN on the card signs the learner in
    with db.connection_context():
        amani = Person.get(Person.uid == "stu-1")
        math = Classroom.get(Classroom.uid == "cls-4a-math")
    card = re.search(r"Amani Kamau</h2>.*?data-secret=\"(\d{4})\"", page, re.S)
    learner = app.test_client()
    assert post(learner, f"/login/learner/{math.id}/{amani.id}", {"pin": card.group(1)}).status_code == 302
    empty = post(client, "/admin/roster", {}, content_type="multipart/form-data")
    assert empty.status_code == 400 and "Choose the roster" in empty.get_data(as_text=True)
    broken = post(client, "/admin/roster", {"roster": (io.BytesIO(b"not a zip"), "r.zip")},
                  content_type="multipart/form-data")
    assert broken.status_code == 400 and "Nothing was imported" in broken.get_data(as_text=True)


def test_a_teacher_imports_into_their_class_only(app, client, school):
    sign_in_staff(client, "tom", TEACHER_PASSWORD)
    assert client.get("/admin/roster").status_code in (403, 404)
    assert client.get(f"/teach/classes/{school.classes['pictures'].id}/roster").status_code == 404  # Tess's
    files = {"roster": [(io.BytesIO((CLEAN / n).read_bytes()), n) for n in ("users.csv", "manifest.csv")]}
    response = post(client, f"/teach/classes/{school.classes['pins'].id}/roster", files,
                    content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    with db.connection_context():
        assert len(accounts.learners_in(school.classes["pins"])) == 5  # Cleo, Dev and 3 from the file


def test_login_cards_give_a_new_secret_to_the_learners_ticked(app, client, school):
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    url = f"/teach/classes/{school.classes['pictures'].id}/cards"
    page = client.get(url).get_data(as_text=True)
    assert page.count("checked") == 2  # neither Ana nor Ben has signed in yet
    refused = post(client, url, {})
    assert refused.status_code == 400 and "at least one" in refused.get_data(as_text=True)
    response = post(client, url, {"learners": str(school.learners["ana"].id)})
    cards = response.get_data(as_text=True)
    assert cards.count('class="login-card"') == 1 and "<svg" in cards
    assert f"/login/learner/{school.classes['pictures'].id}" in cards  # what the QR code opens
    pictures = re.search(r'data-secret="([a-z]+,[a-z]+,[a-z]+)"', cards).group(1).split(",")
    assert pictures != school.secrets["ana"]
    with db.connection_context():
        reset = Event.select().where(Event.kind == "learner.secret_reset").get()
        assert json.loads(reset.payload)["uid"] == school.learners["ana"].uid
    tom = app.test_client()
    sign_in_staff(tom, "tom", TEACHER_PASSWORD)
    assert tom.get(url).status_code == 404


@pytest.mark.parametrize("grades, kind", [((), "picture"), (("KG", "01"), "picture"), (("02", "03"), "pin"),
                                          (("04",), "pin"), (("PK",), "picture")])
def test_young_classes_sign_in_with_pictures(grades, kind):
    assert roster.login_kind(grades) == kind
