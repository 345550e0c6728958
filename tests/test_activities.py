"""The packs' printable activities, for teachers (#18: a teacher could not open them, since they
lived only inside learners' lesson pages)."""

import json
import re
from pathlib import Path

import pytest

from classroom_server.services import packs
from tests.conftest import TEACHER_PASSWORD, sign_in_learner, sign_in_staff

NUMBERS = Path(__file__).resolve().parents[1] / "content_packs" / "library" / "numbers"


@pytest.fixture
def with_numbers(app, school, data_dir):
    packs.import_pack(data_dir, NUMBERS)
    manifest = json.loads((NUMBERS / "pack.json").read_text())
    printables = [r for r in manifest["resources"] if r["kind"] == "printable"]
    assert printables
    return manifest, printables


def test_a_teacher_lists_and_opens_every_printable_activity(app, school, with_numbers):
    manifest, printables = with_numbers
    tess = app.test_client()
    sign_in_staff(tess, "tess", TEACHER_PASSWORD)
    klass = school.classes["pictures"].id
    assert f"/teach/classes/{klass}/activities" in tess.get(f"/teach/classes/{klass}").get_data(as_text=True)
    listing = tess.get(f"/teach/classes/{klass}/activities").get_data(as_text=True)
    links = re.findall(rf'href="(/teach/classes/{klass}/activities/[^"]+)"', listing)
    assert len(links) == len(printables)
    first = printables[0]
    page = tess.get(f"/teach/classes/{klass}/activities/{manifest['id']}/{first['id']}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    markdown = (NUMBERS / first["path"]).read_text(encoding="utf-8")
    heading = next(line.lstrip("# ").strip() for line in markdown.splitlines() if line.startswith("#"))
    assert heading.split()[0] in body  # the plan itself, rendered
    assert "data-print" in body and "print.js" in body


def test_activities_are_the_teachers_own_classes_only(app, school, with_numbers):
    manifest, printables = with_numbers
    tom = app.test_client()
    sign_in_staff(tom, "tom", TEACHER_PASSWORD)  # Tess's class, not Tom's
    klass = school.classes["pictures"].id
    assert tom.get(f"/teach/classes/{klass}/activities").status_code == 404
    assert tom.get(f"/teach/classes/{klass}/activities/{manifest['id']}/{printables[0]['id']}").status_code == 404
    ana = app.test_client()
    sign_in_learner(ana, school, "ana")
    assert ana.get(f"/teach/classes/{klass}/activities").status_code == 403


@pytest.mark.parametrize("resource", ["no-such-activity", "../pack.json"])
def test_an_unknown_activity_is_not_found(app, school, with_numbers, resource):
    manifest, _ = with_numbers
    tess = app.test_client()
    sign_in_staff(tess, "tess", TEACHER_PASSWORD)
    klass = school.classes["pictures"].id
    assert tess.get(f"/teach/classes/{klass}/activities/{manifest['id']}/{resource}").status_code == 404


def test_a_lesson_that_is_not_printable_is_not_an_activity(app, school, with_numbers):
    manifest, _ = with_numbers
    text = next(r for r in manifest["resources"] if r["kind"] == "text")
    tess = app.test_client()
    sign_in_staff(tess, "tess", TEACHER_PASSWORD)
    klass = school.classes["pictures"].id
    assert tess.get(f"/teach/classes/{klass}/activities/{manifest['id']}/{text['id']}").status_code == 404
