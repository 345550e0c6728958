"""#19, as learners met it: an assigned skill that became a treadmill and then a dead end, a
feedback page without its question, moves without a reason, and a test-out that went elsewhere."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from classroom_server.db import db
from classroom_server.services import packs, teaching
from content_packs.testing import edit_json, make_pack
from tests.conftest import post, sign_in_learner, study
from tests.test_practice import PACK, _answer, _answer_form, _pack


@pytest.fixture
def learner(app, client, school, data_dir, tmp_path):
    """Ana signed in, her class studying three skills in a chain of eight items each."""
    src = make_pack(tmp_path / "src", skills=3, items_per_skill=8, pack_id=PACK)

    def chain(m):
        m["skills"][1]["prerequisites"] = [m["skills"][0]["id"]]
        m["skills"][2]["prerequisites"] = [m["skills"][1]["id"]]
    edit_json(src / "pack.json", chain)
    packs.import_pack(data_dir, src)
    study(school)
    sign_in_learner(client, school, "ana")
    return client


def assign(app, school, *skill_ids):
    with db.connection_context():
        teaching.set_assignment(app.extensions["engine"], school.teachers["tess"], school.classes["pictures"],
                                [f"{PACK}:{s}" for s in skill_ids])


def follow_next(client):
    """Press "Next": where it leads (path and query), and the page there."""
    response = client.get("/learn/next")
    assert response.status_code == 302
    target = response.headers["Location"]
    return target, client.get(target).get_data(as_text=True)


def skill_of(app, url):
    item_id = urlsplit(url).path.rsplit("/", 1)[1]
    return app.extensions["catalogue"].get().catalogue.item(PACK, item_id).skill


def test_an_assigned_skill_once_known_steps_aside_for_other_work(learner, app, school):
    """Before: 13 more answers on the assigned skill's items after "You know it", then a break."""
    first, second = _pack(app).skills[0].id, _pack(app).skills[1].id
    assign(app, school, first)
    url, _page = follow_next(learner)
    for _ in range(12):
        assert skill_of(app, url) == first
        body = _answer(learner, app, url)[0].get_data(as_text=True)
        if "You know" in body:
            break
        url, _page = follow_next(learner)
    assert "You know" in body, "three right answers make the skill proficient"
    url, page = follow_next(learner)
    assert skill_of(app, url) == second, "the path goes on to the next skill"
    assert '<p class="why">Ready for something new</p>' in page


def test_the_break_offers_a_way_on(learner, app, school):
    with db.connection_context():
        teaching.set_accommodations(school.teachers["tess"], school.classes["pictures"], school.learners["ana"],
                                    {"items_per_session": "3"})
    for _ in range(3):
        url, _page = follow_next(learner)
        _answer(learner, app, url)
    response = learner.get("/learn/next")
    assert response.headers["Location"] == "/learn/"
    home = learner.get("/learn/").get_data(as_text=True)
    assert "Time for a break" in home
    form = re.search(r'<form method="post" action="(/learn/keep-going)" class="step break">', home)
    assert form and ">Keep going</button>" in home, "the break is not a dead end"
    going = post(learner, form.group(1))
    assert going.headers["Location"] == "/learn/next"
    assert "/learn/item/" in learner.get("/learn/next").headers["Location"], "a new session"


def test_next_says_why_in_the_words_of_my_path(learner, app):
    url, page = follow_next(learner)
    assert parse_qs(urlsplit(url).query)["why"] == ["ready"]
    assert '<p class="why">Ready for something new</p>' in page
    _answer(learner, app, url, right=False)
    _answer(learner, app, follow_next(learner)[0], right=False)
    url, page = follow_next(learner)  # two misses: another item, with the hint ready
    assert parse_qs(urlsplit(url).query)["why"] == ["hint_offered"]
    assert '<p class="why">Try another one, with a hint ready</p>' in page
    hint = re.search(r'id="hint-link" href="([^"]+)"', page)
    if hint:  # asking for one more hint keeps the reason
        assert "why=hint_offered" in hint.group(1)


def test_a_review_says_when_it_was_last_practised(learner, app):
    learner.get("/learn/item/x/y")  # nothing: the address alone decides the words
    item = _pack(app).items[0]
    page = learner.get(f"/learn/item/{PACK}/{item.id}?mode=review&why=review_due&days=9").get_data(as_text=True)
    assert '<p class="why">Review: last practised 9 days ago</p>' in page
    for forged in ("nope", "session_complete", "resume"):
        page = learner.get(f"/learn/item/{PACK}/{item.id}?why={forged}").get_data(as_text=True)
        assert 'class="why"' not in page


def test_i_already_know_this_goes_to_the_skill_chosen(learner, app, school):
    """Before: to the path's first choice, which was the class assignment whenever there was one."""
    pack = _pack(app)
    assign(app, school, pack.skills[0].id)
    chosen = pack.skills[2].id
    response = post(learner, f"/learn/test-out/{PACK}/{chosen}")
    target = learner.get(response.headers["Location"]).headers["Location"]
    assert skill_of(app, target) == chosen
    page = learner.get(target).get_data(as_text=True)
    assert '<p class="why">Show what you already know</p>' in page
    url, _page = target, page
    _answer(learner, app, url)
    url, page = follow_next(learner)
    assert skill_of(app, url) == chosen, "the test-out goes on before the assignment"


@pytest.mark.parametrize("index", range(6))
def test_feedback_shows_the_question_your_answer_and_the_right_one(learner, app, index):
    """Before: the verdict and a sentence about the question, without the question."""
    item = _pack(app).items[index]
    url = f"/learn/item/{PACK}/{item.id}"
    body = _answer(learner, app, url, right=False)[0].get_data(as_text=True)
    asked = re.search(r'<section class="asked" aria-label="The question">(.*?)</section>', body, re.S)
    assert asked, body
    shown = asked.group(1)
    assert item.stem.pick("en") in shown
    assert "Your answer" in shown and "Right answer" in shown
    wrong = _answer_form(item, right=False)
    if item.type == "single_choice":
        mine = next(c for c in item.choices if c.id == wrong["answer"])
        right = next(c for c in item.choices if c.correct)
        assert re.search(rf'<li class="choice chosen"><span class="text">{re.escape(mine.text.pick("en"))}</span> '
                         r'<strong class="mark">Your answer</strong></li>', shown)
        assert re.search(rf'<li class="choice correct"><span class="text">{re.escape(right.text.pick("en"))}</span> '
                         r'<strong class="mark right">✓ Right answer</strong></li>', shown)
    elif item.type == "numeric":
        assert "<span class=\"given\">999</span>" in shown and "<span class=\"given\">3/4</span>" in shown
    elif item.type == "short_text":
        assert "<span class=\"given\">999</span>" in shown and "<span class=\"given\">one half</span>" in shown
    elif item.type == "ordering":
        texts = {o.id: o.text.pick("en") for o in item.options}
        yours = "".join(f"<li>{texts[i]}</li>" for i in wrong["answer"])
        right = "".join(f"<li>{texts[i]}</li>" for i in item.answer)
        assert f"<ol>{yours}</ol>" in shown and f"<ol>{right}</ol>" in shown
    elif item.type == "matching":
        left = {o.id: o.text.pick("en") for o in item.left}
        right = {o.id: o.text.pick("en") for o in item.right}
        for a, b in item.answer:
            assert f"{left[a]} → {right[b]}" in shown


def test_a_right_answer_shows_the_question_and_marks_the_answer_given(learner, app):
    item = _pack(app).items[0]
    body = _answer(learner, app, f"/learn/item/{PACK}/{item.id}")[0].get_data(as_text=True)
    shown = re.search(r'<section class="asked".*?</section>', body, re.S).group(0)
    assert item.stem.pick("en") in shown and "Your answer" in shown
    assert "Right answer" not in shown, "no need: the answer given is the right one"
