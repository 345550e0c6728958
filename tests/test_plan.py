"""Tomorrow's plan (#18): groups of learners who need the same skill next, with the evidence,
the activity to lead and one click to assign the practice; the teacher moves learners first."""

from __future__ import annotations

import json
import re

import pytest

from content_packs.testing import edit_json, make_pack

from classroom_server.db import db
from classroom_server.demo_practice import right_form
from classroom_server.models import Event
from classroom_server.services import accounts, packs, practice
from classroom_server.web.practice import decode_answer
from tests.conftest import TEACHER_PASSWORD, post, sign_in_learner, sign_in_staff, study

PACK = "org.example.plan"


@pytest.fixture
def busy(app, school, data_dir, tmp_path):
    """Sunflowers with 5 learners: Ana keeps missing the first skill, Ben and Eli know it, Cara
    and Dani are new."""
    src = make_pack(tmp_path / "src", skills=3, items_per_skill=8, pack_id=PACK)

    def chain(m):  # skill 1 needs skill 0, skill 2 needs skill 1
        m["skills"][1]["prerequisites"] = [m["skills"][0]["id"]]
        m["skills"][2]["prerequisites"] = [m["skills"][1]["id"]]
    edit_json(src / "pack.json", chain)
    packs.import_pack(data_dir, src)
    study(school)
    with db.connection_context():
        for name in ("Cara", "Dani", "Eli"):
            school.learners[name.lower()] = accounts.create_learner(
                school.classes["pictures"], name, "red", ["sun", "sun", "sun"], school.teachers["tess"])
            school.secrets[name.lower()] = ["sun", "sun", "sun"]
    answer(app, school.learners["ana"], 0, right=False, times=3)
    answer(app, school.learners["ben"], 0, right=True, times=8)
    answer(app, school.learners["eli"], 0, right=True, times=8)
    return school


def skill_ids(app) -> list[str]:
    return [s.id for s in app.extensions["catalogue"].get().catalogue.pack(PACK).skills]


def answer(app, learner, skill_index: int, right: bool, times: int) -> None:
    catalogue = app.extensions["catalogue"].get().catalogue
    skill = catalogue.pack(PACK).skills[skill_index].id
    items = [i for i in catalogue.pack(PACK).items if i.skill == skill and (right or i.type == "single_choice")]
    with db.connection_context():
        for n in range(times):
            item = items[n % len(items)]
            if right:
                form = right_form(item, "en")
            else:
                form = {"answer": next(c.id for c in item.choices if not c.correct)}
            practice.record_attempt(app.extensions["engine"], learner, PACK, item.id, decode_answer(item, form),
                                    event_id=None)


def groups(page: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for section in re.findall(r'<section class="plan-group".*?</section>', page, re.S):
        heading = re.search(r"<h2[^>]*>(.*?)\s*<small>", section, re.S)
        if heading is None:
            continue
        found[heading.group(1).strip()] = re.findall(r'<th scope="row">([^<]+)</th>', section)
    return found


def test_learners_who_need_the_same_skill_next_are_grouped_with_the_evidence(app, client, busy):
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    page = client.get(f"/teach/classes/{busy.classes['pictures'].id}/plan").get_data(as_text=True)
    first, second = skill_ids(app)[:2]
    assert groups(page) == {"Group 1: Skill 0": ["Ana", "Cara", "Dani"],  # the one who keeps missing first
                            "Group 2: Skill 1": ["Ben", "Eli"]}
    assert "0 of 3 right" in page and "missed 3 in a row" in page and "not started" in page
    assert "data-print" in page and "On their own" not in page


def test_a_teacher_moves_a_learner_and_assigns_the_group_with_one_click(app, client, busy):
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    url = f"/teach/classes/{busy.classes['pictures'].id}/plan"
    second = f"{PACK}:{skill_ids(app)[1]}"
    dani = busy.learners["dani"]
    moved = post(client, url, {"update": "1", f"move-{dani.id}": second}).get_data(as_text=True)
    assert groups(moved) == {"Group 1: Skill 1": ["Ben", "Dani", "Eli"], "Group 2: Skill 0": ["Ana", "Cara"]}
    response = post(client, url, {"assign": second, f"move-{dani.id}": second, "due": "2099-03-01"})
    assert response.status_code == 302
    with db.connection_context():
        event = Event.select().where(Event.kind == "assignment.set").order_by(Event.id.desc()).get()
    [given] = json.loads(event.payload)["given"]
    assert set(given["learners"]) == {busy.learners[n].uid for n in ("ben", "dani", "eli")}
    assert given["skills"] == [second] and given["due"] == "2099-03-01"
    # Dani sees it first now; Cara, left in the other group, does not
    for name, expected in (("dani", True), ("cara", False)):
        browser = app.test_client()
        sign_in_learner(browser, busy, name)
        assert ("Your teacher asked" in browser.get("/learn/").get_data(as_text=True)) is expected, name


def test_bad_input_and_other_teachers_are_refused(app, client, busy):
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    url = f"/teach/classes/{busy.classes['pictures'].id}/plan"
    assert post(client, url, {"assign": "org.example.plan:no-such"}).status_code == 400
    past = post(client, url, {"assign": f"{PACK}:{skill_ids(app)[0]}", "due": "2001-01-01"})
    assert past.status_code == 400 and "already past" in past.get_data(as_text=True)
    assert post(client, url, {"update": "1", "move-abc": "x", "move-99999": f"{PACK}:{skill_ids(app)[0]}"}
                ).status_code == 200
    with db.connection_context():
        assert Event.select().where(Event.kind == "assignment.set").count() == 0
    tom = app.test_client()
    sign_in_staff(tom, "tom", TEACHER_PASSWORD)
    assert tom.get(url).status_code == 404
    assert post(tom, url, {"assign": f"{PACK}:{skill_ids(app)[0]}"}).status_code == 404


def test_a_learner_due_only_a_check_of_a_skill_they_know_is_not_grouped_for_it(app, busy):
    """The demo showed a group of six who all knew the skill: their next activity was its delayed
    check. A check is the learner's own path's business, not a lesson for a group."""
    import datetime as dt

    from classroom_server import clock
    from classroom_server.services import plan

    answer(app, busy.learners["cara"], 0, right=True, times=8)
    answer(app, busy.learners["dani"], 0, right=True, times=8)
    first = f"{PACK}:{skill_ids(app)[0]}"
    with db.connection_context(), clock.pretend(clock.now() + dt.timedelta(days=2)):
        proposed = plan.propose(app.extensions["engine"], busy.classes["pictures"], "en")
    grouped = {e.learner.display_name: g.skill for g in proposed.groups for e in g.members}
    assert all(skill != first or name == "Ana" for name, skill in grouped.items()), grouped
    assert all(e.reason != "mastery_check" for g in proposed.groups for e in g.members)
