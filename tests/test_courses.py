"""Courses (#18): a class studies the packs (and grade bands) it is given, and nothing else.

The defect: every installed pack went onto every class, so Grade 2 learners were offered grade 3
to 5 fractions, and a test pack's "Skill 0" topped every child's path.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from content_packs.testing import make_pack

from classroom_server.app import create_app
from classroom_server.db import db
from classroom_server.models import ClassCourse, Event, HubMeta
from classroom_server.services import courses, hub, packs, practice
from classroom_server.services.courses import Course
from tests.conftest import TEACHER_PASSWORD, post, sign_in_learner, sign_in_staff, study

LIBRARY = Path(__file__).resolve().parents[1] / "content_packs" / "library"
TEST_PACK = "org.example.skill-zero"
NUMBERS, FRACTIONS = "org.openclassroom.numbers", "org.openclassroom.fractions"


@pytest.fixture
def library(app, school, data_dir):
    """The bundled number sense (grades K to 2) and fractions (grades 3 to 5) packs."""
    packs.import_pack(data_dir, LIBRARY / "numbers")
    packs.import_pack(data_dir, LIBRARY / "fractions")
    return school


def catalogue(app):
    return app.extensions["catalogue"].get().catalogue


def path_packs(app, learner) -> set[str]:
    with db.connection_context():
        return {c.pack_id for c in practice.path_for(app.extensions["engine"], learner, "en") if c.pack_id}


def courses_url(school, klass="pictures") -> str:
    return f"/teach/classes/{school.classes[klass].id}/courses"


def course_events(school, klass="pictures") -> list[Event]:
    with db.connection_context():
        return list(Event.select().where(Event.kind == "class.courses_set",
                                         Event.class_uid == school.classes[klass].uid).order_by(Event.id))


# --- the defect -----------------------------------------------------------------------------------

def test_a_grade_2_class_is_offered_its_own_pack_only(app, library, data_dir, tmp_path):
    study(library, NUMBERS, classes=("pictures",))
    study(library, FRACTIONS, classes=("pins",))
    assert path_packs(app, library.learners["ana"]) == {NUMBERS}
    assert path_packs(app, library.learners["cleo"]) == {FRACTIONS}
    # a test pack installed later is offered to classes, not put on them: its Skill 0 tops no path
    packs.import_pack(data_dir, make_pack(tmp_path / "src", skills=2, items_per_skill=4, pack_id=TEST_PACK))
    assert path_packs(app, library.learners["ana"]) == {NUMBERS}
    assert path_packs(app, library.learners["cleo"]) == {FRACTIONS}


def test_the_pages_show_the_class_packs_only(app, client, library):
    study(library, NUMBERS, classes=("pictures",))
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    progress = client.get(f"/teach/classes/{library.classes['pictures'].id}/progress").get_data(as_text=True)
    assert "Count objects to 20" in progress
    assert "Equal parts" not in progress
    assignment = client.get(f"/teach/classes/{library.classes['pictures'].id}/assignment").get_data(as_text=True)
    assert f'value="{NUMBERS}:count-to-20"' in assignment and f"{FRACTIONS}:" not in assignment
    learner = client.get(f"/teach/classes/{library.classes['pictures'].id}/learners/{library.learners['ana'].id}")
    assert FRACTIONS not in learner.get_data(as_text=True).lower()
    client.post("/logout", data={})
    sign_in_learner(client, library, "ana")
    mine = client.get("/learn/skills").get_data(as_text=True)
    assert "Count objects to 20" in mine and "Equal parts" not in mine
    # a skill of another pack, asked for by its address, leads back home
    page = client.get(f"/learn/skills/{FRACTIONS}/equal-parts")
    assert page.status_code == 302 and page.headers["Location"].endswith("/learn/")


def test_a_class_with_no_course_says_so_to_teacher_and_learner(app, client, library):
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    page = client.get(f"/teach/classes/{library.classes['pictures'].id}").get_data(as_text=True)
    assert "studies no pack yet" in page and courses_url(library) in page
    client.post("/logout", data={})
    assert path_packs(app, library.learners["ana"]) == set()
    sign_in_learner(client, library, "ana")
    home = client.get("/learn/").get_data(as_text=True)
    assert "when your teacher chooses what your class studies" in home


def test_an_assignment_outside_the_course_is_refused(app, client, library):
    study(library, NUMBERS, classes=("pictures",))
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    url = f"/teach/classes/{library.classes['pictures'].id}/assignment"
    response = post(client, url, {"skills": f"{FRACTIONS}:equal-parts"})
    assert response.status_code == 400
    assert "not in this class" in response.get_data(as_text=True)


# --- grade bands ----------------------------------------------------------------------------------

def test_a_band_keeps_its_grades_and_the_groundwork_they_rest_on(app, library):
    found = courses.course_skills(catalogue(app), [Course(FRACTIONS, (4, 4))])[FRACTIONS]
    grade = {s.id: s.grades for s in catalogue(app).pack(FRACTIONS).skills}
    assert "add-unlike" not in found  # grade 5
    assert {"equivalent-multiply", "compare-benchmarks", "mixed-numbers"} <= set(found)  # grade 4
    assert "equal-parts" in found  # grade 3, the root of every grade 4 skill
    for skill_id in found:  # every skill kept is grade 4 or a prerequisite of one kept
        pack = catalogue(app).pack(FRACTIONS)
        needed_by = [s for s in pack.skills if skill_id in s.prerequisites and s.id in found]
        assert grade[skill_id] == (4, 4) or needed_by
    order = [s for _, s in catalogue(app).topological_order(FRACTIONS)]
    assert found == [s for s in order if s in found]  # prerequisites first
    whole = courses.course_skills(catalogue(app), [Course(FRACTIONS)])[FRACTIONS]
    assert len(whole) == 13 and len(courses.course_skills(catalogue(app), [Course(FRACTIONS, (3, 3))])[FRACTIONS]) == 7


def test_a_learner_in_two_classes_studies_both_courses(app, library):
    from classroom_server.models import Enrollment
    from classroom_server.services import events

    study(library, NUMBERS, classes=("pictures",))
    study(library, FRACTIONS, classes=("pins",))
    ana, pins = library.learners["ana"], library.classes["pins"]
    with db.connection_context():
        def enrol() -> None:
            Enrollment.create(classroom=pins, learner=ana)

        events.record("learner.enrolled", {"uid": ana.uid}, learner_uid=ana.uid, class_uid=pins.uid,
                      actor_uid=library.admin.uid, action=enrol)
    assert path_packs(app, library.learners["ana"]) == {NUMBERS, FRACTIONS}


# --- the page -------------------------------------------------------------------------------------

def test_a_teacher_gives_a_course_and_can_undo_it(app, client, library):
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    url = courses_url(library)
    page = client.get(url).get_data(as_text=True)
    assert "offered, not studied" in page and f'name="from-{FRACTIONS}"' in page
    response = post(client, url, {"pack": [NUMBERS, FRACTIONS], f"from-{FRACTIONS}": "3", f"to-{FRACTIONS}": "4"})
    assert response.status_code == 302
    with db.connection_context():
        assert courses.courses_of(library.classes["pictures"]) == [Course(NUMBERS), Course(FRACTIONS, (3, 4))]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved" in page and 'value="undo"' in page
    class_page = client.get(f"/teach/classes/{library.classes['pictures'].id}").get_data(as_text=True)
    assert "Grade 3 to Grade 4" in class_page
    assert [json.loads(e.payload) for e in course_events(library)] == [
        {"courses": [{"pack": NUMBERS}, {"pack": FRACTIONS, "grades": [3, 4]}]}]
    assert course_events(library)[0].actor_uid == library.teachers["tess"].uid
    # the same choice again records nothing
    post(client, url, {"pack": [NUMBERS, FRACTIONS], f"from-{FRACTIONS}": "3", f"to-{FRACTIONS}": "4"})
    assert len(course_events(library)) == 1
    post(client, url, {"pack": [NUMBERS]})
    post(client, url, {"action": "undo"})
    with db.connection_context():
        assert courses.courses_of(library.classes["pictures"]) == [Course(NUMBERS), Course(FRACTIONS, (3, 4))]
    assert len(course_events(library)) == 3  # undo is one more event, never an erasure


def test_bad_input_is_refused_and_shown_again(app, client, library):
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    url = courses_url(library)
    response = post(client, url, {"pack": [NUMBERS, FRACTIONS], f"from-{FRACTIONS}": "5", f"to-{FRACTIONS}": "3"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "must not come after" in body
    assert f'value="{FRACTIONS}" checked' in body and re.search(r'<option value="5" selected', body)
    for form, words in (({"pack": "no.such.pack"}, "no pack"), ({"pack": FRACTIONS, f"from-{FRACTIONS}": "x"}, ""),
                        ({"pack": FRACTIONS, f"from-{FRACTIONS}": "14"}, ""),
                        ({"pack": NUMBERS, f"from-{NUMBERS}": "7", f"to-{NUMBERS}": "9"}, "has no skills")):
        response = post(client, url, form)
        assert response.status_code == 400 and words in response.get_data(as_text=True)
    assert course_events(library) == []


def test_another_teacher_cannot_see_or_change_the_course(app, client, library):
    sign_in_staff(client, "tom", TEACHER_PASSWORD)
    assert client.get(courses_url(library)).status_code == 404
    response = post(client, courses_url(library), {"pack": NUMBERS})
    assert response.status_code == 404
    assert course_events(library) == []


# --- upgrade and projection -----------------------------------------------------------------------

def test_a_hub_from_before_courses_keeps_its_classes_packs(app, library, data_dir):
    with db.connection_context():
        HubMeta.delete().where(HubMeta.key == courses.KEY_UPGRADED).execute()  # as before the upgrade
        ClassCourse.delete().execute()
    upgraded = create_app(data_dir, {"TESTING": True, "log_level": "warning"})
    with upgraded.app_context(), db.connection_context():
        for klass in ("pictures", "pins"):
            assert courses.courses_of(library.classes[klass]) == [Course(FRACTIONS), Course(NUMBERS)]
            assert [e.actor_uid for e in course_events(library, klass)] == ["hub"]
        assert hub.get_meta(courses.KEY_UPGRADED) == "1"
    again = create_app(data_dir, {"TESTING": True, "log_level": "warning"})  # once only
    with again.app_context():
        assert len(course_events(library)) == 1


def test_the_stored_courses_are_a_projection_of_the_log(app, library):
    from classroom_server.services import projections

    study(library, NUMBERS)
    study(library, NUMBERS, FRACTIONS, classes=("pins",))
    with db.connection_context():
        latest = projections.BY_KIND["class.courses_set"]
        assert projections.compare(latest.name, latest.rebuild(), latest.stored()) == []
        assert set(latest.stored()) == {library.classes["pictures"].uid, library.classes["pins"].uid}
