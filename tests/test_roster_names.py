"""Learners from a simple list of names (#18): the pure parser's every bad input, the service
(one transaction, events, a second import adds nothing) and the web's preview then confirm,
refused for another teacher's class and without a CSRF token."""

from __future__ import annotations

import codecs
import html
import io
import json
import re

import pytest

from classroom_server.db import db
from classroom_server.errors import Forbidden, Invalid
from classroom_server.interop import names_csv
from classroom_server.interop.names_csv import read_names
from classroom_server.models import Classroom, Enrollment, Event, Person
from classroom_server.services import accounts, roster_names, security
from tests.conftest import ADMIN_PASSWORD, TEACHER_PASSWORD, post, sign_in_staff


def learners(names: names_csv.Names) -> list[tuple[int, str, str, str | None]]:
    return [(r.line, r.name, r.grade, r.sign_in) for r in names.learners]


def rejected(names: names_csv.Names) -> list[tuple[int, str]]:
    return [(r.line, r.code) for r in names.rejected]


def codes(messages: list[names_csv.Message]) -> list[str]:
    return [m.code for m in messages]


# --- the parser ------------------------------------------------------------------------------------

def test_a_header_row_a_bom_crlf_trailing_empty_columns_and_blank_lines():
    data = codecs.BOM_UTF8 + b"Name,Grade,,\r\nAmani Kamau,4,,\r\n\r\nBinta   Diallo,3\r\n,,\r\nCarlos Mendes,\r\n"
    names = read_names(data)
    assert names.readable and names.notes == []
    assert learners(names) == [(2, "Amani Kamau", "4", None), (4, "Binta Diallo", "3", None),
                               (6, "Carlos Mendes", "", None)]
    assert names.rejected == []
    assert names.text.startswith("Name,Grade")  # the BOM is gone from the text sent back


def test_no_header_one_name_a_line_in_a_file_and_pasted():
    for names in (read_names(b"Amani Kamau\nBinta Diallo\n\nCarlos\n"),
                  read_names("Amani Kamau\r\nBinta Diallo\r\n\r\nCarlos", pasted=True)):
        assert learners(names) == [(1, "Amani Kamau", "", None), (2, "Binta Diallo", "", None),
                                   (4, "Carlos", "", None)]


def test_pasted_names_with_commas_stay_whole_but_cells_from_a_spreadsheet_are_columns():
    assert learners(read_names("Kamau, Amani\nDiallo, Binta", pasted=True)) == [
        (1, "Kamau, Amani", "", None), (2, "Diallo, Binta", "", None)]
    assert learners(read_names("Name\tGrade\nAmani\t4\nBinta\t3", pasted=True)) == [
        (2, "Amani", "4", None), (3, "Binta", "3", None)]


def test_a_whole_csv_pasted_is_known_by_its_heading_row():
    assert learners(read_names("name,grade\r\nAmani Kamau,4\r\nBinta,3", pasted=True)) == [
        (2, "Amani Kamau", "4", None), (3, "Binta", "3", None)]
    assert learners(read_names("Nom;Prénom\nKamau;Amani", pasted=True)) == [(2, "Amani Kamau", "", None)]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
def test_the_dialect_is_sniffed(delimiter):
    text = delimiter.join(["First name", "Last name", "Sign-in"]) + "\n" + "\n".join(
        delimiter.join(row) for row in (["Amani", "Kamau", "picture"], ["Binta", "Diallo", ""], ["Ben", "O", "pin"]))
    names = read_names(text.encode())
    assert learners(names) == [(2, "Amani Kamau", "", "picture"), (3, "Binta Diallo", "", None),
                               (4, "Ben O", "", "pin")]


def test_without_a_header_columns_are_told_by_their_values():
    names = read_names(b"Amani;Kamau;4;PIN\nBinta;Diallo;KG;\nCarlos;Mendes;3;pin\n")
    assert learners(names) == [(1, "Amani Kamau", "4", "pin"), (2, "Binta Diallo", "KG", None),
                               (3, "Carlos Mendes", "3", "pin")]


@pytest.mark.parametrize(("text", "expected"), [
    ("Prénom;Nom;Classe\nJosé;Núñez;CE1\n", [(2, "José Núñez", "CE1", None)]),
    ("Nombre,Apellidos,Curso\nJosé,Núñez,2\n", [(2, "José Núñez", "2", None)]),
    ("Nom\nJosé Núñez\n", [(2, "José Núñez", "", None)]),
    ("Full name,First name,Last name\nJosé Núñez,J,N\n", [(2, "José Núñez", "", None)]),
])
def test_spanish_and_french_headings(text, expected):
    assert learners(read_names(text.encode())) == expected


def test_windows_1252_is_read_when_the_file_is_not_utf8_and_said_so():
    names = read_names("name;grade\nJosé Núñez;2\nFrançois Œuvre;3\n".encode("cp1252"))
    assert learners(names) == [(2, "José Núñez", "2", None), (3, "François Œuvre", "3", None)]
    assert codes(names.notes) == [names_csv.WINDOWS_1252]
    assert "Windows-1252" in names.notes[0].words


def test_utf16_from_a_spreadsheet_unicode_text_export():
    names = read_names("Name\tGrade\r\nZoë\t2\r\n".encode("utf-16"))
    assert learners(names) == [(2, "Zoë", "2", None)]


def test_duplicates_are_reported_naming_the_first_line_never_merged():
    names = read_names(b"name\nAmani Kamau\nBinta\namani  KAMAU\nBinta\n")
    assert learners(names) == [(2, "Amani Kamau", "", None), (3, "Binta", "", None)]
    assert [(r.line, r.code, r.params) for r in names.rejected] == [
        (4, names_csv.DUPLICATE, {"first": 2}), (5, names_csv.DUPLICATE, {"first": 3})]
    assert names.rejected[0].text == "amani  KAMAU"
    assert "line 2" in names.rejected[0].reason


def test_names_in_decomposed_unicode_are_the_same_name():
    names = read_names("Jose\u0301\nJos\u00e9\n", pasted=True)
    assert learners(names) == [(1, "Jos\u00e9", "", None)] and rejected(names) == [(2, names_csv.DUPLICATE)]


def test_an_empty_a_too_long_and_an_unreadable_name_are_rejected_with_their_line():
    long_name = "A" * 61
    names = read_names(f"name,grade\nAmani,4\n,5\n{long_name},3\nB\x07n,2\nOk{'b' * 58},1\n".encode())
    assert learners(names) == [(2, "Amani", "4", None), (6, "Ok" + "b" * 58, "1", None)]  # 60 is allowed
    assert rejected(names) == [(3, names_csv.EMPTY_NAME), (4, names_csv.NAME_TOO_LONG), (5, names_csv.UNREADABLE)]
    assert names.rejected[1].params == {"length": 61, "max": 60}
    assert names.rejected[0].reason == "This row has no name."
    assert names.rejected[2].text == "B\ufffdn,2"  # a control character is marked, never sent to the page


def test_a_name_too_long_for_the_callers_limit():
    assert rejected(read_names("Amani Kamau", pasted=True, name_max=5)) == [(1, names_csv.NAME_TOO_LONG)]


def test_a_byte_that_windows_1252_does_not_have_is_unreadable_not_dropped():
    names = read_names(b"name\nAmani\nB\x81n\n")
    assert learners(names) == [(2, "Amani", "", None)] and rejected(names) == [(3, names_csv.UNREADABLE)]


def test_a_missing_quotation_mark_is_one_rejected_row_not_a_strange_name():
    names = read_names(b'name,grade\nAmani,4\n"Binta,3\nCarlos,2\n')
    assert learners(names) == [(2, "Amani", "4", None)]
    assert rejected(names) == [(3, names_csv.BROKEN_QUOTES)]
    assert names.rejected[0].text == "Binta,3 Carlos,2"


def test_quoted_names_with_the_delimiter_inside_are_kept():
    names = read_names(b'name,grade\n"Kamau, Amani",4\n"O\'Neil ""Ben""",3\n')
    assert learners(names) == [(2, "Kamau, Amani", "4", None), (3, 'O\'Neil "Ben"', "3", None)]


def test_sign_in_kinds_unknown_and_against_the_class():
    text = "name,sign in\nAmani,picture\nBinta,PIN\nCarlos,\nDara,default\nEli,password123\n"
    free = read_names(text.encode())
    assert learners(free) == [(2, "Amani", "", "picture"), (3, "Binta", "", "pin"), (4, "Carlos", "", None),
                              (5, "Dara", "", None)]
    assert [(r.line, r.code, r.params) for r in free.rejected] == [(6, names_csv.UNKNOWN_SIGN_IN,
                                                                     {"value": "password123"})]
    pictures = read_names(text.encode(), class_kind="picture")
    assert rejected(pictures) == [(3, names_csv.CLASS_USES_PICTURES), (6, names_csv.UNKNOWN_SIGN_IN)]
    pins = read_names(text.encode(), class_kind="pin")
    assert rejected(pins) == [(2, names_csv.CLASS_USES_PIN), (6, names_csv.UNKNOWN_SIGN_IN)]


def test_columns_that_were_not_used_are_noted():
    names = read_names(b"name,student id,,notes\nAmani,123,,likes maths\nBinta,124,x,\n")
    assert learners(names) == [(2, "Amani", "", None), (3, "Binta", "", None)]
    assert [m.words for m in names.notes] == ['The column "student id" was not used.', "Column 3 was not used.",
                                              'The column "notes" was not used.']


@pytest.mark.parametrize(("data", "problem"), [
    (b"", names_csv.EMPTY),
    (b"\r\n\r\n ,, \r\n", names_csv.EMPTY),
    (b"name,grade\r\n", names_csv.EMPTY),
    (b"student id,grade\n12,4\n", names_csv.NO_NAME_COLUMN),
    (b"PK\x03\x04\x14\x00\x06\x00", names_csv.SPREADSHEET),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", names_csv.SPREADSHEET),
    (b"Amani\x00\x00Binta", names_csv.NOT_TEXT),
    (b"x" * (names_csv.MAX_BYTES + 1), names_csv.TOO_BIG),
    ("\n".join(f"Learner {i}" for i in range(names_csv.MAX_ROWS + 1)).encode(), names_csv.TOO_MANY),
], ids=["nothing", "blank", "header-only", "no-name-column", "xlsx", "xls", "binary", "too-big", "too-many"])
def test_a_list_that_cannot_be_read_gives_a_problem_and_no_learners(data, problem):
    names = read_names(data)
    assert not names.readable and codes(names.problems) == [problem]
    assert names.learners == [] and names.rejected == []
    assert names.problems[0].words  # plain words for the command line and the page


def test_a_list_at_the_limits_is_read():
    names = read_names("\n".join(f"Learner {i}" for i in range(names_csv.MAX_ROWS)).encode())
    assert names.readable and len(names.learners) == names_csv.MAX_ROWS


def test_text_sent_back_by_a_preview_reads_the_same_as_the_file():
    data = "nom;prénom\r\nKamau;Amani\r\nDiallo;Binta\r\n".encode("cp1252")
    first = read_names(data)
    again = read_names(first.text)
    assert learners(again) == learners(first) == [(2, "Amani Kamau", "", None), (3, "Binta Diallo", "", None)]


def test_the_web_phrases_every_reason_problem_and_note_as_the_parser_does_in_english(app):
    from classroom_server.web import rosters as web

    assert set(web.NAME_REASON_WORDS) == set(names_csv.REASONS)
    assert set(web.NAME_MESSAGE_WORDS) == set(names_csv.PROBLEMS) | set(names_csv.NOTES)
    params = {"length": 70, "max": 60, "first": 3, "value": "xyz", "column": "notes", "number": 4}
    with app.test_request_context("/"):
        for code, english in names_csv.REASONS.items():
            wanted = {k: v for k, v in params.items() if f"%({k})" in english}
            assert web.reason_words(names_csv.Rejected(1, "", code, wanted)) == english % wanted, code
        for code, english in {**names_csv.PROBLEMS, **names_csv.NOTES}.items():
            wanted = {k: v for k, v in params.items() if f"%({k})" in english}
            assert web.message_words(names_csv.Message(code, wanted)) == english % wanted, code


def test_the_parser_imports_only_the_standard_library():
    import ast
    import sys
    from pathlib import Path

    tree = ast.parse(Path(names_csv.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported and all(name.split(".")[0] in sys.stdlib_module_names for name in imported), imported


# --- the service -----------------------------------------------------------------------------------

def _learner_events(classroom: Classroom) -> list[Event]:
    return list(Event.select().where(Event.kind == "learner.created", Event.class_uid == classroom.uid)
                .order_by(Event.seq))


def test_adding_a_list_records_one_event_per_learner_and_each_can_sign_in(app, school):
    with db.connection_context():
        classroom, tess = school.classes["pictures"], school.teachers["tess"]
        names = roster_names.read_names(classroom, b"name\nZara Ali\nYusuf Bello\n")
        before = len(_learner_events(classroom))
        outcome = roster_names.add_names(classroom, names, tess)
        assert outcome.counts == {"added": 2, "skipped": 0, "rejected": 0}
        assert [p.display_name for p in outcome.people] == ["Zara Ali", "Yusuf Bello"]
        created = _learner_events(classroom)[before:]
        assert [json.loads(e.payload)["display_name"] for e in created] == ["Zara Ali", "Yusuf Bello"]
        assert {e.actor_uid for e in created} == {tess.uid}
        assert [e.learner_uid for e in created] == [p.uid for p in outcome.people]
        in_class = {p.display_name for p in accounts.learners_in(classroom)}
        assert {"Ana", "Ben", "Zara Ali", "Yusuf Bello"} == in_class
        for person in outcome.people:
            stored = Person.get_by_id(person.id)
            assert stored.secret_kind == "picture" and stored.source is None
            assert security.check_learner_secret(stored.secret_hash, "picture", outcome.secrets[person.id])
        assert outcome.people[0].avatar != outcome.people[1].avatar


def test_adding_the_same_list_again_adds_nothing_and_records_nothing(app, school):
    with db.connection_context():
        classroom, tess = school.classes["pictures"], school.teachers["tess"]
        data = b"name\nZara Ali\nANA\n\nYusuf Bello\n"
        first = roster_names.add_names(classroom, roster_names.read_names(classroom, data), tess)
        assert first.counts == {"added": 2, "skipped": 1, "rejected": 0}  # Ana is in the class already
        assert [(r.line, r.name) for r in first.skipped] == [(3, "ANA")]
        events_before, people_before = Event.select().count(), Person.select().count()
        again = roster_names.add_names(classroom, roster_names.read_names(classroom, data), tess)
        assert again.counts == {"added": 0, "skipped": 3, "rejected": 0} and again.secrets == {}
        assert (Event.select().count(), Person.select().count()) == (events_before, people_before)


def test_a_failure_part_way_leaves_no_learner_and_no_event(app, school, monkeypatch):
    with db.connection_context():
        classroom, tess = school.classes["pins"], school.teachers["tom"]
        events_before, people_before = Event.select().count(), Person.select().count()
        real = roster_names._new_listed_learner
        made: list[str] = []

        def fail_on_third(*args, **kwargs):
            if len(made) == 2:
                raise RuntimeError("the disk went away")
            person = real(*args, **kwargs)
            made.append(person.display_name)
            return person

        monkeypatch.setattr(roster_names, "_new_listed_learner", fail_on_third)
        names = roster_names.read_names(classroom, "Zara\nYusuf\nXena\nWill", pasted=True)
        with pytest.raises(RuntimeError):
            roster_names.add_names(classroom, names, tess)
        assert made == ["Zara", "Yusuf"]  # two were created, then rolled back with the rest
        assert (Event.select().count(), Person.select().count()) == (events_before, people_before)
        assert not Person.select().where(Person.display_name.in_(["Zara", "Yusuf"])).exists()


def test_the_preview_changes_nothing_and_rows_against_the_class_are_rejected(app, school):
    with db.connection_context():
        classroom = school.classes["pins"]
        events_before = Event.select().count()
        names = roster_names.read_names(classroom, b"name,sign in\nZara,pin\nYusuf,picture\nCleo,\n")
        plan = roster_names.plan_names(classroom, names)
        assert [r.name for r in plan.add] == ["Zara"]
        assert [r.name for r in plan.skipped] == ["Cleo"]
        assert [(r.line, r.code) for r in plan.rejected] == [(3, names_csv.CLASS_USES_PIN)]
        assert Event.select().count() == events_before


def test_a_list_parsed_without_the_class_still_cannot_give_the_other_sign_in(app, school):
    with db.connection_context():
        classroom = school.classes["pins"]
        names = names_csv.read_names(b"name,sign in\nZara,picture\nYusuf,pin\n")  # no class_kind given
        outcome = roster_names.add_names(classroom, names, school.teachers["tom"])
        assert [p.display_name for p in outcome.people] == ["Yusuf"]
        assert [(r.line, r.code) for r in outcome.rejected] == [(2, names_csv.CLASS_USES_PIN)]


def test_only_the_classes_teacher_or_an_admin_may_add(app, school):
    with db.connection_context():
        classroom = school.classes["pictures"]
        names = roster_names.read_names(classroom, "Zara", pasted=True)
        with pytest.raises(Forbidden):
            roster_names.add_names(classroom, names, school.teachers["tom"])
        assert not Person.select().where(Person.display_name == "Zara").exists()
        assert roster_names.add_names(classroom, names, school.admin).counts["added"] == 1


def test_a_class_from_the_district_takes_no_list(app, school):
    with db.connection_context():
        Classroom.update(source="district").where(Classroom.id == school.classes["pins"].id).execute()
        classroom = Classroom.get_by_id(school.classes["pins"].id)
        with pytest.raises(Invalid):
            roster_names.add_names(classroom, roster_names.read_names(classroom, "Zara", pasted=True), school.admin)
        assert not Person.select().where(Person.display_name == "Zara").exists()


def test_a_learner_taken_off_the_class_is_not_in_it(app, school):
    with db.connection_context():
        classroom, tess = school.classes["pictures"], school.teachers["tess"]
        accounts.remove_from_class(classroom, school.learners["ana"], tess)
        plan = roster_names.plan_names(classroom, roster_names.read_names(classroom, "Ana\nBen", pasted=True))
        assert [r.name for r in plan.add] == ["Ana"] and [r.name for r in plan.skipped] == ["Ben"]


# --- the web ---------------------------------------------------------------------------------------

def page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def hidden(text: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', text)
    assert match, f"no hidden {name}"
    return match.group(1)


def count(display_name: str) -> int:
    with db.connection_context():
        return Person.select().where(Person.display_name == display_name).count()


def test_a_teacher_pastes_names_sees_the_preview_and_confirms(app, client, school):
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    classroom = school.classes["pictures"]
    base = f"/teach/classes/{classroom.id}/roster"
    form = page(client.get(base))
    assert 'name="names_text"' in form and 'name="names_file"' in form
    assert f'action="{base}/names#names"' in form

    pasted = "Zara Ali\r\nana\r\n\r\nYusuf Bello\r\nZara  ali\r\n" + "Q" * 61
    response = post(client, f"{base}/names", {"names_text": pasted})
    assert response.status_code == 200
    preview = response.get_data(as_text=True)
    text = html.unescape(preview)
    assert "2 learners will be added" in text and "Add 2 learners" in text
    assert "Zara Ali" in text and "Yusuf Bello" in text
    assert "Already in the class" in text and "ana" in text
    assert "The same name as line 1" in text  # line 5 repeats line 1
    assert "The name has 61 characters; a name can have at most 60." in text
    assert count("Zara Ali") == 0  # a preview adds nothing

    sent_back = html.unescape(hidden(preview, "names_text"))
    assert sent_back.replace("\r\n", "\n") == pasted.replace("\r\n", "\n")
    assert hidden(preview, "names_format") == "lines"
    with db.connection_context():
        events_before = Event.select().where(Event.kind == "learner.created").count()
    response = post(client, f"{base}/names/add", {"names_text": sent_back, "names_format": "lines"})
    assert response.status_code == 200
    result = page(response)
    assert "2 learners added" in result
    assert re.search(r"<dt>Added</dt><dd>2</dd>\s*<dt>Already in the class</dt><dd>1</dd>\s*"
                     r"<dt>Rejected rows</dt><dd>2</dd>", result)
    assert f'href="/teach/classes/{classroom.id}/cards"' in result  # the login cards page
    assert result.count('class="login-card"') == 2 and "secret-pictures" in result
    assert count("Zara Ali") == 1 and count("Yusuf Bello") == 1
    with db.connection_context():
        assert Event.select().where(Event.kind == "learner.created").count() == events_before + 2

    again = post(client, f"{base}/names/add", {"names_text": sent_back, "names_format": "lines"})
    assert again.status_code == 200 and "0 learners added" in page(again)  # a second tap adds nothing
    assert count("Zara Ali") == 1


def test_a_csv_file_is_previewed_and_its_text_confirmed_as_csv(app, client, school):
    sign_in_staff(client, "tom", TEACHER_PASSWORD)
    classroom = school.classes["pins"]
    base = f"/teach/classes/{classroom.id}/roster"
    data = "Prénom;Nom;Classe;\r\nJosé;Núñez;4;\r\nAïcha;Diop;4;\r\n".encode("cp1252")
    response = post(client, f"{base}/names", {"names_file": (io.BytesIO(data), "classe.csv")},
                    content_type="multipart/form-data")
    assert response.status_code == 200
    preview = response.get_data(as_text=True)
    text = html.unescape(preview)
    assert "José Núñez" in text and "Aïcha Diop" in text and "Windows-1252" in text
    assert "Grade" in text and "the hub does not keep them" in text
    assert hidden(preview, "names_format") == "csv"
    sent_back = html.unescape(hidden(preview, "names_text"))
    response = post(client, f"{base}/names/add", {"names_text": sent_back, "names_format": "csv"})
    assert response.status_code == 200 and "2 learners added" in page(response)
    assert count("José Núñez") == 1 and count("Aïcha Diop") == 1
    assert "secret-pin" in page(response)


def test_a_form_with_a_mistake_shows_it_with_what_was_typed(app, client, school):
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    base = f"/teach/classes/{school.classes['pictures'].id}/roster"
    nothing = post(client, f"{base}/names", {"names_text": "  "})
    assert nothing.status_code == 400 and "Choose a CSV file of names, or paste names." in page(nothing)
    both = post(client, f"{base}/names",
                {"names_text": "Zara <b>Ali</b>", "names_file": (io.BytesIO(b"Yusuf"), "a.csv")},
                content_type="multipart/form-data")
    text = both.get_data(as_text=True)
    assert both.status_code == 400 and "Choose a file or paste names, not both." in html.unescape(text)
    assert "Zara &lt;b&gt;Ali&lt;/b&gt;</textarea>" in text  # what was typed, escaped, in its box
    assert 'aria-describedby="names-error"' in text
    spreadsheet = post(client, f"{base}/names", {"names_file": (io.BytesIO(b"PK\x03\x04rest"), "class.xlsx")},
                       content_type="multipart/form-data")
    assert spreadsheet.status_code == 400 and "This is a spreadsheet file, not CSV." in page(spreadsheet)
    assert count("Zara Ali") == 0


def test_the_preview_of_a_list_with_nothing_to_add_offers_no_button(app, client, school):
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    base = f"/teach/classes/{school.classes['pictures'].id}/roster"
    response = post(client, f"{base}/names", {"names_text": "Ana\nBen"})
    text = page(response)
    assert response.status_code == 200 and "Nothing to add" in text
    assert "/names/add" not in text


def test_another_teachers_class_is_refused_at_every_step(app, client, school):
    sign_in_staff(client, "tom", TEACHER_PASSWORD)  # Tess's class is the picture class
    base = f"/teach/classes/{school.classes['pictures'].id}/roster"
    assert client.get(base).status_code == 404
    assert post(client, f"{base}/names", {"names_text": "Zara"}).status_code == 404
    assert post(client, f"{base}/names/add", {"names_text": "Zara", "names_format": "lines"}).status_code == 404
    assert count("Zara") == 0


def test_an_admin_adds_to_any_class(app, client, school):
    sign_in_staff(client, "admin", ADMIN_PASSWORD)
    base = f"/teach/classes/{school.classes['pictures'].id}/roster"
    assert post(client, f"{base}/names", {"names_text": "Zara"}).status_code == 200
    response = post(client, f"{base}/names/add", {"names_text": "Zara", "names_format": "lines"})
    assert response.status_code == 200 and count("Zara") == 1


def test_without_the_csrf_token_nothing_is_read_or_added(app, client, school):
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    base = f"/teach/classes/{school.classes['pictures'].id}/roster"
    assert client.post(f"{base}/names", data={"names_text": "Zara"}).status_code == 400
    refused = client.post(f"{base}/names/add", data={"names_text": "Zara", "names_format": "lines"})
    assert refused.status_code == 400 and "expired" in refused.get_data(as_text=True)
    assert count("Zara") == 0
    assert post(client, f"{base}/names/add", {"names_text": "Zara", "names_format": "lines"}).status_code == 200


def test_a_district_class_shows_no_names_form_and_takes_no_list(app, client, school):
    with db.connection_context():
        Classroom.update(source="district").where(Classroom.id == school.classes["pins"].id).execute()
    sign_in_staff(client, "tom", TEACHER_PASSWORD)
    base = f"/teach/classes/{school.classes['pins'].id}/roster"
    assert 'name="names_text"' not in client.get(base).get_data(as_text=True)
    response = post(client, f"{base}/names/add", {"names_text": "Zara", "names_format": "lines"})
    assert response.status_code == 400 and "comes from the district" in page(response)
    assert count("Zara") == 0


def test_opening_the_preview_or_add_address_leads_back_to_the_form(app, client, school):
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    base = f"/teach/classes/{school.classes['pictures'].id}/roster"
    for path in (f"{base}/names?lang=fr", f"{base}/names/add"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith(f"{base}#names")


def test_the_pages_are_not_learners_enrolled_in_someone_elses_class(app, client, school):
    """Adding to one class never enrols anyone in another."""
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    base = f"/teach/classes/{school.classes['pictures'].id}/roster"
    post(client, f"{base}/names/add", {"names_text": "Zara\nCleo", "names_format": "lines"})
    with db.connection_context():
        zara = Person.get(Person.display_name == "Zara")
        assert [e.classroom.id for e in Enrollment.select().where(Enrollment.learner == zara)] == [
            school.classes["pictures"].id]
        assert Person.select().where(Person.display_name == "Cleo").count() == 2  # Tom's Cleo is another learner
