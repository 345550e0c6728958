"""Drill-downs under the mastery grid (#18, item 4): a learner's answers one by one (the answer's
words, hints, time, the misconception it revealed), and a skill across the class (where everyone
is, its questions hardest first, the wrong answers given most). Numbers are checked against a
scenario counted by hand; so is who may open the pages."""

from __future__ import annotations

import html
import re

import pytest

from classroom_server.db import db
from classroom_server.services import drilldown, packs, practice
from content_packs.testing import make_pack
from tests.conftest import ADMIN_PASSWORD, TEACHER_PASSWORD, sign_in_learner, sign_in_staff, study

PACK = "org.example.drill"
# make_pack's items cycle through the six types; skill 0's are, in pack order:
# -000 single choice: a "1/2" (right), b "2/1" and c "2/4" (wrong, both with the feedback below)
# -001 multiple choice, -002 numeric ("3/4"; the wrong answer "4/3"), -003 short text ("one
# half"; the wrong answer "two"), -004 ordering, -005 matching.
FEEDBACK_000 = "That counts the unshaded parts too. Count only the 1 shaded ones."
FEEDBACK_002 = "That counts the unshaded parts too. Count only the 3 shaded ones."
FEEDBACK_003 = "That counts the unshaded parts too. Count only the 4 shaded ones."


@pytest.fixture
def hub(app, school, data_dir, tmp_path):
    packs.import_pack(data_dir, make_pack(tmp_path / "src", skills=3, items_per_skill=6, pack_id=PACK))
    study(school)
    return school


def skill_id(app, n: int = 0) -> str:
    return app.extensions["catalogue"].get().catalogue.pack(PACK).skills[n].id


def item(app, skill_n: int, k: int):
    return app.extensions["catalogue"].get().catalogue.item(PACK, f"{skill_id(app, skill_n)}-{k:03d}")


def answer(app, learner, skill_n: int, k: int, response, times: int = 1, **extra) -> None:
    """Answers through the service the answer page uses (graded there, recorded as an event)."""
    with db.connection_context():
        for _ in range(times):
            practice.record_attempt(app.extensions["engine"], learner, PACK, item(app, skill_n, k).id, response,
                                    event_id=None, **extra)


@pytest.fixture
def scenario(app, hub):
    """Skill 0 in the picture class (Ana and Ben), counted by hand:

    - item 000: Ana "b" 3 times; Ben "b" once and "a" twice: 6 answers, 2 right (33%)
    - item 002: Ana "3/4" 4 times and "4/3" once: 5 answers, 4 right (80%)
    - item 003: Ben "two" once, "one half" twice: 3 answers, too few to rank
    - Cleo (the other class) answers item 000 with "c" 5 times: never counted here.
    """
    ana, ben, cleo = hub.learners["ana"], hub.learners["ben"], hub.learners["cleo"]
    answer(app, ana, 0, 0, "b", times=3)
    answer(app, ben, 0, 0, "b")
    answer(app, ben, 0, 0, "a", times=2)
    answer(app, ana, 0, 2, "3/4", times=4)
    answer(app, ana, 0, 2, "4/3")
    answer(app, ben, 0, 3, "two")
    answer(app, ben, 0, 3, "one half", times=2)
    answer(app, cleo, 0, 0, "c", times=5)
    return hub


def urls(app, school, learner="ana", klass="pictures", skill_n: int = 0) -> dict[str, str]:
    base = f"/teach/classes/{school.classes[klass].id}"
    return {"history": f"{base}/learners/{school.learners[learner].id}/history",
            "skill": f"{base}/skills/{PACK}/{skill_id(app, skill_n)}",
            "learner": f"{base}/learners/{school.learners[learner].id}", "progress": f"{base}/progress"}


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


@pytest.fixture
def tess(app, client, hub):
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    return client


# --- the skill across the class ---

def test_the_skill_orders_questions_hardest_first_with_the_class_counts(app, scenario):
    with db.connection_context():
        overview = drilldown.skill_overview(app.extensions["engine"], scenario.classes["pictures"], PACK,
                                            skill_id(app), "en")
    first = skill_id(app)
    rows = [(s.item_id, s.attempts, s.correct, s.learners, s.percent, s.enough) for s in overview.items]
    assert rows == [
        (f"{first}-000", 6, 2, 2, 33, True),
        (f"{first}-002", 5, 4, 1, 80, True),
        (f"{first}-003", 3, 2, 1, 67, False),  # too few: after every ranked question
        (f"{first}-001", 0, 0, 0, None, False),  # never answered: in pack order
        (f"{first}-004", 0, 0, 0, None, False),
        (f"{first}-005", 0, 0, 0, None, False),
    ]


def test_the_skill_counts_wrong_answers_by_learners_and_times_with_the_misconception(app, scenario):
    with db.connection_context():
        overview = drilldown.skill_overview(app.extensions["engine"], scenario.classes["pictures"], PACK,
                                            skill_id(app), "en")
    first = skill_id(app)
    assert [(w.item_id, w.answer, w.learners, w.attempts, w.misconception) for w in overview.wrong] == [
        (f"{first}-000", "2/1", 2, 4, FEEDBACK_000),  # the choice's text, not its id "b"; Cleo's "c" is not here
        (f"{first}-002", "4/3", 1, 1, FEEDBACK_002),
        (f"{first}-003", "two", 1, 1, FEEDBACK_003),
    ]


def test_the_skill_says_where_every_learner_is(app, scenario):
    with db.connection_context():
        overview = drilldown.skill_overview(app.extensions["engine"], scenario.classes["pictures"], PACK,
                                            skill_id(app), "en")
        with app.extensions["engine"].reading() as snap:
            ana = snap.state.peek(scenario.learners["ana"].uid, f"{PACK}:{skill_id(app)}")
    rows = {s.learner.display_name: s for s in overview.standings}
    assert list(rows) == ["Ana", "Ben"]  # the class's learners only, by name
    assert (rows["Ana"].attempts, rows["Ana"].correct, rows["Ana"].state) == (8, 4, ana.state)
    assert (rows["Ben"].attempts, rows["Ben"].correct) == (6, 4)
    assert rows["Ana"].chance == int(100 * ana.p_known + 0.5) and rows["Ana"].last_seen
    assert sum(overview.counts.values()) == 2


def test_the_skill_page_shows_the_numbers_and_bars(app, tess, scenario):
    page = text_of(tess.get(urls(app, scenario)["skill"]))
    hardest = page[page.index("Questions, hardest first"):page.index("Wrong answers given most")]
    assert hardest.index("Item 0:") < hardest.index("Item 2:") < hardest.index("Item 3:")
    assert "33%" in hardest and "2 right of 6" in hardest and "4 right of 5" in hardest
    assert "too few answers" in hardest
    assert hardest.count('class="share-bar"') == 6
    wrong = page[page.index("Wrong answers given most"):]
    assert "2/1" in wrong and FEEDBACK_000 in wrong and "Cleo" not in page
    assert 'width="33"' in page  # the bar's right share, drawn on the server


def test_a_skill_nobody_answered_says_so(app, tess, hub):
    page = text_of(tess.get(urls(app, hub, skill_n=2)["skill"]))
    assert "No wrong answers yet." in page and "Ana" in page and "Not started" in page


def test_the_grid_links_each_skill_to_its_page(app, tess, hub):
    page = tess.get(urls(app, hub)["progress"]).get_data(as_text=True)
    for n in range(3):
        assert f'href="{urls(app, hub, skill_n=n)["skill"]}"' in page


# --- a learner's answers ---

def test_the_history_shows_the_answer_in_words_and_the_misconception(app, tess, scenario):
    answer(app, scenario.learners["ana"], 1, 0, "c", hints_used=2, duration_ms=42_000)
    page = text_of(tess.get(urls(app, scenario)["history"]))
    rows = re.findall(r"<tr class=\"(right|wrong)\">(.*?)</tr>", page)
    assert len(rows) == 9  # Ana's answers, newest first
    kind, newest = rows[0]
    assert kind == "wrong" and "42 s" in newest and ">2<" in newest
    assert "14/16" in newest and ">c<" not in newest  # skill 1's first item: choice c's words
    assert "Count only the 7 shaded ones." in newest and FEEDBACK_000 not in newest  # that item's own feedback
    choice_rows = [r for k, r in rows if "Item 0:" in r]
    assert len(choice_rows) == 3 and all("2/1" in r and FEEDBACK_000 in r for r in choice_rows)
    assert all(">b<" not in r for r in choice_rows)  # the choice's words, never its id
    right_rows = [r for k, r in rows if k == "right"]
    assert len(right_rows) == 4 and all("3/4" in r and 'data-label="Misconception">—<' in r for r in right_rows)


def test_the_history_pages_through_many_answers(app, tess, hub):
    ana = hub.learners["ana"]
    answer(app, ana, 0, 2, "3/4", times=51)
    answer(app, ana, 0, 0, "b")
    with db.connection_context():
        engine, pictures = app.extensions["engine"], hub.classes["pictures"]
        first = drilldown.learner_history(engine, pictures, ana, "en")
        second = drilldown.learner_history(engine, pictures, ana, "en", page=2)
        past = drilldown.learner_history(engine, pictures, ana, "en", page=99)
    assert (first.total, first.pages, len(first.attempts), len(second.attempts)) == (52, 2, 50, 2)
    assert first.attempts[0].answer == "2/1" and not first.attempts[0].correct  # the newest first
    assert past.page == 2 and [a.answer for a in past.attempts] == ["3/4", "3/4"]
    page = text_of(tess.get(urls(app, hub)["history"]))
    assert "52 answers" in page and "Page 1 of 2" in page and "page=2" in page
    assert page.count('<tr class="') == 50
    later = text_of(tess.get(urls(app, hub)["history"] + "?page=2"))
    assert later.count('<tr class="') == 2 and "Page 2 of 2" in later
    assert tess.get(urls(app, hub)["history"] + "?page=x").status_code == 200  # a wrong page: the first


def test_the_history_keeps_to_one_skill_when_asked(app, tess, scenario):
    ana = scenario.learners["ana"]
    answer(app, ana, 1, 0, "a", times=2)
    show = f"{PACK}:{skill_id(app, 1)}"
    with db.connection_context():
        found = drilldown.learner_history(app.extensions["engine"], scenario.classes["pictures"], ana, "en",
                                          pack_id=PACK, skill_id=skill_id(app, 1))
    assert found.total == 2 and {a.skill_id for a in found.attempts} == {skill_id(app, 1)}
    page = text_of(tess.get(urls(app, scenario)["history"], query_string={"show": show}))
    assert "2 answers" in page and f'value="{show}" selected' in page
    nonsense = text_of(tess.get(urls(app, scenario)["history"], query_string={"show": "no:such"}))
    assert "10 answers" in nonsense  # an unknown filter shows every answer


def test_the_learner_page_links_to_the_history(app, tess, hub):
    page = tess.get(urls(app, hub)["learner"]).get_data(as_text=True)
    assert f'href="{urls(app, hub)["history"]}"' in page


# --- who may open them ---

@pytest.mark.parametrize("name", ["history", "skill"])
def test_another_teachers_class_is_not_found(app, client, scenario, name):
    sign_in_staff(client, "tom", TEACHER_PASSWORD)
    assert client.get(urls(app, scenario)[name]).status_code == 404


def test_a_learner_of_another_class_is_not_found_through_my_class(app, tess, scenario):
    mine_with_theirs = urls(app, scenario, learner="cleo", klass="pictures")
    assert tess.get(mine_with_theirs["history"]).status_code == 404


def test_a_skill_the_class_does_not_study_is_not_found(app, tess, hub):
    base = f"/teach/classes/{hub.classes['pictures'].id}/skills"
    assert tess.get(f"{base}/{PACK}/no-such-skill").status_code == 404
    assert tess.get(f"{base}/org.example.none/{skill_id(app)}").status_code == 404
    with db.connection_context():
        from classroom_server.services import courses

        courses.set_courses(hub.admin, hub.classes["pictures"], [])
    assert tess.get(urls(app, hub)["skill"]).status_code == 404


@pytest.mark.parametrize("name", ["history", "skill"])
def test_learners_and_strangers_cannot_open_them(app, client, scenario, name):
    path = urls(app, scenario)[name]
    assert client.get(path).status_code == 302  # sign in first
    sign_in_learner(client, scenario, "ana")
    assert client.get(path).status_code == 403


def test_an_admin_opens_them_for_every_class(app, client, scenario):
    sign_in_staff(client, "admin", ADMIN_PASSWORD)
    for klass, learner in (("pictures", "ana"), ("pins", "cleo")):
        paths = urls(app, scenario, learner, klass)
        assert client.get(paths["history"]).status_code == 200
        assert client.get(paths["skill"]).status_code == 200
    cleo_page = text_of(client.get(urls(app, scenario, "cleo", "pins")["skill"]))
    assert "2/4" in cleo_page and "Ana" not in cleo_page  # the PIN class's own answers
