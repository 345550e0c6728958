"""The teacher's view of learning: who needs help, the mastery grid, overrides as events (with
confirmation and undo), class assignments and accommodations that change the learner's path."""

from __future__ import annotations

import json
import re

import pytest

from content_packs.testing import edit_json, key_response, make_pack

from classroom_server.db import db
from classroom_server.models import Event
from classroom_server.services import packs, practice
from classroom_server.services.learning import qualify
from classroom_server.web.practice import decode_answer
from tests.conftest import TEACHER_PASSWORD, post, sign_in_learner, sign_in_staff, study

PACK = "org.example.teaching"
TEACHER_KINDS = ("override", "assignment.set", "learner.accommodations_set")


@pytest.fixture
def pack_dir(tmp_path):
    src = make_pack(tmp_path / "src", skills=3, items_per_skill=6, pack_id=PACK)

    def chain(manifest):  # skill 1 needs skill 0, skill 2 needs skill 1
        manifest["skills"][1]["prerequisites"] = [manifest["skills"][0]["id"]]
        manifest["skills"][2]["prerequisites"] = [manifest["skills"][1]["id"]]
    edit_json(src / "pack.json", chain)
    return src


@pytest.fixture
def hub(app, school, data_dir, pack_dir):
    """The school with one pack installed, and Tess (who teaches Ana and Ben) signed in."""
    packs.import_pack(data_dir, pack_dir)
    study(school)
    return school


@pytest.fixture
def tess(app, client, hub):
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    return client


def skills(app) -> list[str]:
    return [s.id for s in app.extensions["catalogue"].get().catalogue.pack(PACK).skills]


def title(app, skill_id: str) -> str:
    return app.extensions["catalogue"].get().catalogue.skill(PACK, skill_id).title.pick("en")


def urls(school, learner="ana", klass="pictures"):
    base = f"/teach/classes/{school.classes[klass].id}"
    person = f"{base}/learners/{school.learners[learner].id}"
    return {"progress": f"{base}/progress", "assignment": f"{base}/assignment", "learner": person,
            "override": f"{person}/override", "accommodations": f"{person}/accommodations"}


def teacher_events(kind: str | None = None) -> list[Event]:
    with db.connection_context():
        query = Event.select().where(Event.kind.in_((kind,) if kind else TEACHER_KINDS))
        return list(query.order_by(Event.id))


def record(app, learner, skill_id: str) -> object:
    with db.connection_context():
        with app.extensions["engine"].reading() as snap:
            return snap.state.peek(learner.uid, qualify(PACK, skill_id))


def miss(app, learner, skill_id: str, times: int) -> None:
    """Wrong answers on a skill, through the same service the answer page uses."""
    catalogue = app.extensions["catalogue"].get().catalogue
    item = next(i for i in catalogue.pack(PACK).items if i.skill == skill_id and i.type == "single_choice")
    wrong = next(c.id for c in item.choices if not c.correct)
    with db.connection_context():
        for _ in range(times):
            practice.record_attempt(app.extensions["engine"], learner, PACK, item.id,
                                    decode_answer(item, {"answer": wrong}), event_id=None)


def learner_client(app, school, name="ana"):
    client = app.test_client()
    sign_in_learner(client, school, name)
    return client


def path_reasons(client) -> list[tuple[str, str]]:
    """(reason, skill title) of each option on the learner's home page, best first."""
    home = client.get("/learn/").get_data(as_text=True)
    return re.findall(r'<span class="reason">([^<]+)</span><span class="what">([^<]*)</span>', home)


def answer_first(app, client) -> None:
    """Answer the first activity on the learner's path, rightly."""
    home = client.get("/learn/").get_data(as_text=True)
    url = re.search(r'href="(/learn/item/[^"]+)"', home).group(1).replace("&amp;", "&")
    page = client.get(url).get_data(as_text=True)
    event_id = re.search(r'name="event_id" value="([^"]+)"', page).group(1)
    item_id = url.split("?")[0].rsplit("/", 1)[1]
    item = app.extensions["catalogue"].get().catalogue.item(PACK, item_id)
    response = key_response(item, "en")
    if item.type == "matching":
        form = {f"match.{k}": v for k, v in response.items()}
    elif item.type in ("multiple_choice", "ordering"):
        form = {"answer": list(response)}
    else:
        form = {"answer": response}
    assert post(client, url.split("?")[0], {"event_id": event_id, **form}).status_code == 200


# --- who may see what ---

def test_learners_and_strangers_cannot_open_the_teacher_views(app, client, hub):
    paths = urls(hub)
    assert client.get(paths["progress"]).status_code == 302  # sign in first
    sign_in_learner(client, hub, "ana")
    for name in ("progress", "assignment", "learner"):
        assert client.get(paths[name]).status_code == 403
    assert post(client, paths["override"], {"action": "pause"}).status_code == 403
    assert teacher_events() == []


@pytest.mark.parametrize("name", ["progress", "assignment", "learner"])
def test_another_teachers_class_is_not_found(app, client, hub, name):
    sign_in_staff(client, "tom", TEACHER_PASSWORD)
    assert client.get(urls(hub)[name]).status_code == 404


def test_another_teachers_class_cannot_be_changed(app, client, hub):
    sign_in_staff(client, "tom", TEACHER_PASSWORD)
    paths = urls(hub)
    skill = f"{PACK}:{skills(app)[0]}"
    assert post(client, paths["override"], {"action": "mark_mastered", "skill": skill}).status_code == 404
    assert post(client, paths["accommodations"], {"items_per_session": "3"}).status_code == 404
    assert post(client, paths["assignment"], {"skills": skill}).status_code == 404
    assert teacher_events() == []


def test_a_learner_of_another_class_is_not_found_even_through_my_class(app, tess, hub):
    mine_with_theirs = urls(hub, learner="cleo", klass="pictures")
    assert tess.get(mine_with_theirs["learner"]).status_code == 404
    assert post(tess, mine_with_theirs["override"], {"action": "pause"}).status_code == 404
    assert post(tess, mine_with_theirs["accommodations"], {"items_per_session": "3"}).status_code == 404
    assert teacher_events() == []


def test_an_admin_sees_every_class(app, client, hub):
    sign_in_staff(client, "admin", "admin-pass-123")
    for klass, learner in (("pictures", "ana"), ("pins", "cleo")):
        assert client.get(urls(hub, learner, klass)["progress"]).status_code == 200
        assert client.get(urls(hub, learner, klass)["learner"]).status_code == 200


# --- the progress page ---

def test_the_class_page_links_to_progress(app, tess, hub):
    page = tess.get(f"/teach/classes/{hub.classes['pictures'].id}").get_data(as_text=True)
    assert urls(hub)["progress"] in page


def test_the_grid_lists_my_learners_and_the_skills_in_order_with_labels(app, tess, hub):
    page = tess.get(urls(hub)["progress"]).get_data(as_text=True)
    assert "No one is stuck right now." in page
    positions = [page.index(f">{title(app, s)}<") for s in skills(app)]
    assert positions == sorted(positions)
    assert "Ana" in page and "Ben" in page and "Cleo" not in page
    assert urls(hub)["learner"] in page  # each row leads to the learner's page
    assert "Not started" in page and 'class="grid-box"' in page


def test_who_needs_help_lists_a_learner_who_keeps_missing(app, tess, hub):
    first = skills(app)[0]
    miss(app, hub.learners["ana"], first, 3)
    page = tess.get(urls(hub)["progress"]).get_data(as_text=True)
    help_now = page[page.index("Who needs help now"):page.index("Mastery grid")]
    assert "Ana" in help_now and title(app, first) in help_now
    assert "Missed 3 answers in a row." in help_now and "Ben" not in help_now
    assert "In progress" in page and 'class="c-learning help"' in page


def test_the_grid_reads_the_projection_not_the_answers(app, tess, hub):
    first = skills(app)[0]
    post(tess, urls(hub)["override"], {"action": "mark_mastered", "skill": f"{PACK}:{first}"})
    page = tess.get(urls(hub)["progress"]).get_data(as_text=True)
    assert 'class="c-mastered"' in page and "Mastered" in page


# --- a learner's page and overrides ---

def test_the_learner_page_shows_skills_and_the_reason_for_the_next_activity(app, tess, hub):
    page = tess.get(urls(hub)["learner"]).get_data(as_text=True)
    assert "Next on their path" in page and "Ready for something new" in page
    for skill_id in skills(app):
        assert f'id="skill-{PACK}-{skill_id}"' in page
    assert "0 answers" in page


def test_mark_mastered_is_an_event_reflected_in_the_projection_and_the_path(app, tess, hub):
    first = skills(app)[0]
    response = post(tess, urls(hub)["override"], {"action": "mark_mastered", "skill": f"{PACK}:{first}"})
    assert response.status_code == 302
    [event] = teacher_events("override")
    assert json.loads(event.payload) == {"pack": PACK, "skill": first, "action": "mark_mastered"}
    assert event.learner_uid == hub.learners["ana"].uid and event.class_uid == hub.classes["pictures"].uid
    assert event.actor_uid == hub.teachers["tess"].uid
    assert record(app, hub.learners["ana"], first).state == "mastered"
    offered = path_reasons(learner_client(app, hub))
    assert offered[0] == ("Ready for something new", title(app, skills(app)[1]))  # unlocked by it
    assert ("Review a skill you know", title(app, first)) in offered


def _as_dict(rec) -> dict:
    import dataclasses

    return {f.name: getattr(rec, f.name) for f in dataclasses.fields(rec)}


def test_undo_after_mark_mastered_restores_exactly_the_state_before(app, tess, hub, data_dir):
    """#18: the undo of "Mark mastered" was a reset, which erased the learner's real progress (a
    skill with 3 answers, 3 right, became "Not started, 0 answers"). Undo puts the record back
    exactly, and a rebuild from the log agrees."""
    from click.testing import CliRunner

    from classroom_server.cli import main

    first = skills(app)[0]
    catalogue = app.extensions["catalogue"].get().catalogue
    item = next(i for i in catalogue.pack(PACK).items if i.skill == first and i.type == "single_choice")
    right = next(c.id for c in item.choices if c.correct)
    miss(app, hub.learners["ana"], first, 1)
    with db.connection_context():
        for _ in range(3):
            practice.record_attempt(app.extensions["engine"], hub.learners["ana"], PACK, item.id,
                                    decode_answer(item, {"answer": right}), event_id=None)
    before = _as_dict(record(app, hub.learners["ana"], first))
    assert before["attempts"] == 4 and before["state"] != "mastered"

    response = post(tess, urls(hub)["override"], {"action": "mark_mastered", "skill": f"{PACK}:{first}"})
    page = tess.get(response.headers["Location"]).get_data(as_text=True)
    assert "is marked as mastered for Ana" in page and "Undo the mark" in page
    assert record(app, hub.learners["ana"], first).state == "mastered"
    undo = re.search(r'<form method="post" action="([^"]+)" class="undo">(.*?)</form>', page, re.S)
    fields = dict(re.findall(r'name="(action|skill|confirmed)" value="([^"]*)"', undo.group(2)))
    assert fields == {"action": "undo_mark_mastered", "skill": f"{PACK}:{first}", "confirmed": "yes"}
    done = post(tess, undo.group(1), fields)
    assert done.status_code == 302
    assert "back to where Ana was" in tess.get(done.headers["Location"]).get_data(as_text=True)
    assert _as_dict(record(app, hub.learners["ana"], first)) == before
    assert [json.loads(e.payload)["action"] for e in teacher_events("override")] == ["mark_mastered",
                                                                                    "undo_mark_mastered"]
    result = CliRunner().invoke(main, ["recompute", "--check", "--data", str(data_dir)])
    assert result.exit_code == 0, result.output


def test_a_mark_cannot_be_undone_once_the_skill_moved_on(app, tess, hub):
    """After an answer on the skill, undoing the mark would lose that answer's effect: refused,
    with words, and nothing recorded."""
    first = skills(app)[0]
    post(tess, urls(hub)["override"], {"action": "mark_mastered", "skill": f"{PACK}:{first}"})
    miss(app, hub.learners["ana"], first, 1)
    after_answer = _as_dict(record(app, hub.learners["ana"], first))
    response = post(tess, urls(hub)["override"], {"action": "undo_mark_mastered", "skill": f"{PACK}:{first}",
                                                  "confirmed": "yes"})
    assert response.status_code == 400
    assert "can no longer be undone" in response.get_data(as_text=True)
    assert [json.loads(e.payload)["action"] for e in teacher_events("override")] == ["mark_mastered"]
    assert _as_dict(record(app, hub.learners["ana"], first)) == after_answer


def test_an_undo_in_the_log_with_nothing_to_put_back_changes_nothing():
    """The fold is the judge, whatever reaches the log (a late sync, a race): an undo after the
    skill moved on puts nothing back, on every hub and at the district alike."""
    from classroom_server.learning import projection
    from classroom_server.learning.elo import EloModel

    state = projection.EngineState(model=EloModel())
    base = {"learner_id": "l1", "skill_id": "p:s"}
    projection.apply_event(state, {**base, "kind": "override", "action": "mark_mastered", "at": 10.0})
    projection.apply_event(state, {**base, "kind": "lesson_viewed", "modality": "text", "at": 11.0})
    kept = _as_dict(state.peek("l1", "p:s"))
    assert projection.apply_event(state, {**base, "kind": "override", "action": "undo_mark_mastered", "at": 12.0}) == []
    assert _as_dict(state.peek("l1", "p:s")) == kept and kept["state"] == "mastered"


def test_reset_asks_first_and_records_nothing_until_confirmed(app, tess, hub):
    first = skills(app)[0]
    miss(app, hub.learners["ana"], first, 2)
    response = post(tess, urls(hub)["override"], {"action": "reset", "skill": f"{PACK}:{first}"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Reset" in page and "cannot be undone" in page and 'name="confirmed" value="yes"' in page
    assert teacher_events() == []
    post(tess, urls(hub)["override"], {"action": "reset", "skill": f"{PACK}:{first}", "confirmed": "yes"})
    assert [json.loads(e.payload)["action"] for e in teacher_events()] == ["reset"]
    assert record(app, hub.learners["ana"], first).attempts == 0


def test_pausing_a_learner_empties_their_path_and_undo_resumes_it(app, tess, hub):
    ana = learner_client(app, hub)
    assert path_reasons(ana)
    response = post(tess, urls(hub)["override"], {"action": "pause", "skill": ""})
    [event] = teacher_events("override")
    assert json.loads(event.payload) == {"pack": None, "skill": None, "action": "pause"}
    assert path_reasons(ana) == []
    assert "Your teacher has paused your practice for now." in ana.get("/learn/").get_data(as_text=True)
    page = tess.get(response.headers["Location"]).get_data(as_text=True)
    assert "Practice is paused" in page and "Undo: resume" in page
    post(tess, urls(hub)["override"], {"action": "resume", "skill": "", "confirmed": "yes"})
    assert path_reasons(ana)


def test_pausing_a_skill_takes_it_off_the_path_until_resumed(app, tess, hub):
    first = skills(app)[0]
    ana = learner_client(app, hub)
    assert path_reasons(ana)[0][1] == title(app, first)
    post(tess, urls(hub)["override"], {"action": "pause", "skill": f"{PACK}:{first}"})
    assert title(app, first) not in [t for _r, t in path_reasons(ana)]
    assert record(app, hub.learners["ana"], first).paused
    post(tess, urls(hub)["override"], {"action": "resume", "skill": f"{PACK}:{first}"})
    assert path_reasons(ana)[0][1] == title(app, first)


# --- assignments ---

def test_an_assignment_comes_first_on_every_learners_path(app, tess, hub):
    last = skills(app)[2]  # locked behind two prerequisites: the teacher decides
    response = post(tess, urls(hub)["assignment"], {"skills": [f"{PACK}:{last}"]})
    assert response.status_code == 302
    [event] = teacher_events("assignment.set")
    assert json.loads(event.payload) == {"skills": [f"{PACK}:{last}"]}
    assert event.class_uid == hub.classes["pictures"].uid
    for name in ("ana", "ben"):
        assert path_reasons(learner_client(app, hub, name))[0] == ("Your teacher asked", title(app, last))
    assert title(app, last) in tess.get(urls(hub)["progress"]).get_data(as_text=True)
    cleo = path_reasons(learner_client(app, hub, "cleo"))  # another class: not assigned
    assert cleo[0][0] != "Your teacher asked"


def test_the_latest_assignment_wins_and_an_empty_one_clears_it(app, tess, hub):
    first, _, last = skills(app)
    post(tess, urls(hub)["assignment"], {"skills": [f"{PACK}:{last}"]})
    post(tess, urls(hub)["assignment"], {"skills": [f"{PACK}:{first}", f"{PACK}:{first}"]})
    assert json.loads(teacher_events("assignment.set")[-1].payload) == {"skills": [f"{PACK}:{first}"]}
    assert path_reasons(learner_client(app, hub))[0] == ("Your teacher asked", title(app, first))
    page = tess.get(urls(hub)["assignment"]).get_data(as_text=True)
    assert re.search(rf'value="{re.escape(PACK)}:{first}" checked', page)
    post(tess, urls(hub)["assignment"], {})
    assert path_reasons(learner_client(app, hub))[0][0] != "Your teacher asked"


# --- accommodations ---

def test_fewer_items_per_session_gives_a_break_sooner(app, tess, hub):
    response = post(tess, urls(hub)["accommodations"], {"items_per_session": "3", "read_aloud": "on"})
    assert response.status_code == 302
    [event] = teacher_events("learner.accommodations_set")
    assert json.loads(event.payload) == {"items_per_session": 3, "more_time": False, "read_aloud": True,
                                         "larger_text": False}
    ana = learner_client(app, hub)
    for _ in range(3):
        assert path_reasons(ana), "practice is offered before the break"
        answer_first(app, ana)
    assert "Well done! Time for a break." in ana.get("/learn/").get_data(as_text=True)
    ben = learner_client(app, hub, "ben")
    for _ in range(3):
        answer_first(app, ben)
    assert "Time for a break" not in ben.get("/learn/").get_data(as_text=True)


def test_larger_text_and_read_aloud_reach_the_learners_pages(app, tess, hub):
    post(tess, urls(hub)["accommodations"], {"larger_text": "on", "read_aloud": "on"})
    home = learner_client(app, hub).get("/learn/").get_data(as_text=True)
    body = re.search(r"<body class=\"([^\"]*)\"", home).group(1).split()
    assert "larger-text" in body and "read-aloud-first" in body
    other = learner_client(app, hub, "ben").get("/learn/").get_data(as_text=True)
    assert "larger-text" not in re.search(r"<body class=\"([^\"]*)\"", other).group(1)
    page = tess.get(urls(hub)["learner"]).get_data(as_text=True)
    assert re.search(r'name="larger_text" checked', page)


# --- bad input: a clear 400, nothing recorded ---

@pytest.mark.parametrize("form, words", [
    ({"action": "mark_mastered", "skill": f"{PACK}:no-such-skill"}, "There is no skill"),
    ({"action": "mark_mastered", "skill": "nonsense"}, "There is no skill"),
    ({"action": "explode", "skill": ""}, "Choose one of the actions"),
    ({"action": "mark_mastered", "skill": ""}, "Choose a skill first"),
    ({"action": "reset", "skill": "", "confirmed": "yes"}, "Choose a skill first"),
])
def test_a_bad_override_is_refused_clearly(app, tess, hub, form, words):
    response = post(tess, urls(hub)["override"], form)
    assert response.status_code == 400 and words in response.get_data(as_text=True)
    assert teacher_events() == []


@pytest.mark.parametrize("number", ["abc", "0", "51", "-3", "2.5"])
def test_bad_items_per_session_is_refused_clearly(app, tess, hub, number):
    response = post(tess, urls(hub)["accommodations"], {"items_per_session": number})
    assert response.status_code == 400
    assert "Items per session must be a whole number from 1 to 50." in response.get_data(as_text=True)
    assert teacher_events() == []


def test_an_assignment_of_an_unknown_skill_is_refused_whole(app, tess, hub):
    good = f"{PACK}:{skills(app)[0]}"
    response = post(tess, urls(hub)["assignment"], {"skills": [good, f"{PACK}:missing"]})
    assert response.status_code == 400 and "There is no skill" in response.get_data(as_text=True)
    assert teacher_events() == []


def test_forms_without_the_csrf_token_are_refused(app, tess, hub):
    response = tess.post(urls(hub)["override"], data={"action": "pause"})
    assert response.status_code == 400
    assert teacher_events() == []


def test_the_history_lists_every_decision_with_who_and_when(app, tess, hub):
    """The audit view (#18): overrides, assignments and class-list changes, newest first, with
    their author; another teacher cannot read it."""
    first, second = skills(app)[:2]
    u = urls(hub)
    post(tess, u["override"], {"action": "mark_mastered", "skill": f"{PACK}:{first}"})
    post(tess, u["override"], {"action": "pause", "skill": f"{PACK}:{second}"})
    post(tess, u["assignment"], {"skills": f"{PACK}:{second}"})
    history = f"/teach/classes/{hub.classes['pictures'].id}/history"
    page = tess.get(history).get_data(as_text=True)
    words = re.findall(r'<span class="what">([^<]+)</span>\s*<span class="who">([^·]+)·', page)
    assert [w.strip() for w, _who in words[:3]] == [
        f"Assignments from then on: to the class: {title(app, second)}.",
        f"{title(app, second)} is paused for Ana: it will not be offered.",
        f"{title(app, first)} is marked as mastered for Ana.",
    ]
    assert {who.strip() for _w, who in words[:3]} == {"Tess Teacher"}
    assert "Ana was added to the class." in page and "The class studies:" in page
    tom = app.test_client()
    sign_in_staff(tom, "tom", TEACHER_PASSWORD)
    assert tom.get(history).status_code == 404
    assert tess.get(history + "?before=1").status_code == 200 and tess.get(history + "?before=x").status_code == 200


# --- assignments to some learners, with a due date ---

def test_an_assignment_to_one_learner_with_a_due_date_is_first_for_them_only(app, tess, hub):
    """#18: assignments go to a group or one learner, with a due date; the soonest due first; a
    learner outside the group does not see it; taking it back is undone exactly."""
    first, second, last = skills(app)
    ana, ben = hub.learners["ana"], hub.learners["ben"]
    url = urls(hub)["assignment"]
    response = post(tess, url, {"action": "give", "given_skills": f"{PACK}:{last}", "who": "some",
                                "learners": str(ana.id), "due": "2099-01-15"})
    assert response.status_code == 302
    post(tess, url, {"action": "give", "given_skills": f"{PACK}:{second}", "who": "some",
                     "learners": str(ana.id), "due": "2098-06-01"})
    payload = json.loads(teacher_events("assignment.set")[-1].payload)
    assert payload["skills"] == [] and [g["due"] for g in payload["given"]] == ["2099-01-15", "2098-06-01"]
    assert all(g["learners"] == [ana.uid] for g in payload["given"])
    reasons = path_reasons(learner_client(app, hub, "ana"))
    assert reasons[:2] == [("Your teacher asked", title(app, second)), ("Your teacher asked", title(app, last))]
    assert all(r[0] != "Your teacher asked" for r in path_reasons(learner_client(app, hub, "ben")))
    page = tess.get(url).get_data(as_text=True)
    assert "due 2098-06-01" in page and "Ana" in page
    # take one back, then undo: the same assignment returns
    assignment_id = payload["given"][1]["id"]
    taken = post(tess, url, {"action": "withdraw", "id": assignment_id})
    assert taken.headers["Location"].endswith(f"withdrawn={assignment_id}")
    assert path_reasons(learner_client(app, hub, "ana"))[0] == ("Your teacher asked", title(app, last))
    post(tess, url, {"action": "restore", "id": assignment_id})
    restored = json.loads(teacher_events("assignment.set")[-1].payload)["given"]
    assert sorted(g["id"] for g in restored) == sorted(g["id"] for g in payload["given"])
    # the whole class's assignment leaves the others as they are
    post(tess, url, {"skills": [f"{PACK}:{first}"]})
    latest = json.loads(teacher_events("assignment.set")[-1].payload)
    assert latest["skills"] == [f"{PACK}:{first}"] and len(latest["given"]) == 2
    assert ben.uid not in json.dumps(latest["given"])


def test_a_bad_assignment_is_refused_with_what_was_typed_kept(app, tess, hub):
    url = urls(hub)["assignment"]
    _, _, last = skills(app)
    cases = [({"action": "give", "given_skills": f"{PACK}:{last}", "due": "2000-01-01"}, "already past"),
             ({"action": "give", "given_skills": f"{PACK}:{last}", "due": "15/01/2099"}, "year-month-day"),
             ({"action": "give", "due": "2099-01-01"}, "at least one skill"),
             ({"action": "give", "given_skills": f"{PACK}:{last}", "who": "some",
               "learners": str(hub.learners["cleo"].id)}, "learners of this class"),
             ({"action": "give", "given_skills": f"{PACK}:{last}", "who": "some"}, "learners of this class")]
    for form, words in cases:
        response = post(tess, url, form)
        body = response.get_data(as_text=True)
        assert response.status_code == 400 and words in body, (form, body[-800:])
        if form.get("given_skills"):
            assert f'value="{PACK}:{last}" checked' in body
    assert post(tess, url, {"action": "withdraw", "id": "nope"}).status_code == 404
    assert teacher_events("assignment.set") == []
