"""Assigning a skill's lesson or check (#18): given to the class, a group or one learner through
the real event log, first on the learner's path until done after it was given, then gone; the
same after a rebuild; the teacher's form refuses what cannot be done and keeps what was typed."""

from __future__ import annotations

import json
import re

import pytest

from classroom_server.db import db
from classroom_server.services import events, projections, teaching
from classroom_server.services.learning import Engine
from content_packs.testing import edit_json
from tests import test_teacher_views as views
from tests.conftest import post
from tests.test_teacher_views import PACK, learner_client, path_reasons, skills, teacher_events, title, urls

pack_dir, hub, tess = views.pack_dir, views.hub, views.tess  # the teacher views' fixtures: a pack, Tess signed in

LESSON = "Your teacher asked you to read this lesson"
CHECK = "Your teacher asked you to show what you know"


def path_links(client) -> list[tuple[str, str]]:
    """(address, reason) of each option on the learner's home page, best first."""
    home = client.get("/learn/").get_data(as_text=True)
    return [(url.replace("&amp;", "&"), reason) for url, reason in
            re.findall(r'href="(/learn/(?:item|lesson|example)/[^"]+)"[^>]*>\s*<span class="reason">([^<]+)</span>',
                       home)]


def give(app, hub, skill: str, kind: str, learners: list[str] | None = None):
    with db.connection_context():
        ids = None if learners is None else [hub.learners[n].id for n in learners]
        return teaching.give_assignment(app.extensions["engine"], hub.teachers["tess"], hub.classes["pictures"],
                                        [f"{PACK}:{skill}"], ids, None, kind)


def open_lesson(client, url: str) -> None:
    page = client.get(url).get_data(as_text=True)
    event_id = re.search(r'name="event_id" value="([^"]+)"', page).group(1)
    assert post(client, url, {"event_id": event_id}).status_code == 302


def answer(app, client, url: str, right: bool) -> None:
    page = client.get(url).get_data(as_text=True)
    event_id = re.search(r'name="event_id" value="([^"]+)"', page).group(1)
    mode = re.search(r'name="mode" value="([^"]+)"', page).group(1)
    item_id = url.split("?")[0].rsplit("/", 1)[1]
    item = app.extensions["catalogue"].get().catalogue.item(PACK, item_id)
    assert item.type == "single_choice", "the test pack's check items are single choice"
    chosen = next(c.id for c in item.choices if c.correct == right) if right else \
        next(c.id for c in item.choices if not c.correct)
    assert post(client, url.split("?")[0], {"event_id": event_id, "mode": mode, "answer": chosen}).status_code == 200


def fresh_path(app, learner) -> list[tuple[str, str | None, str]]:
    """The learner's path from an engine rebuilt from the log (what a restart or recompute sees)."""
    from classroom_server.services import practice

    with db.connection_context():
        engine = Engine(app.extensions["catalogue"], persist=False)
        return [(c.kind, c.skill_id, c.reason_code) for c in
                practice.path_for(engine, learner, "en", assignments=teaching.assigned_for(learner))]


def live_path(app, learner) -> list[tuple[str, str | None, str]]:
    from classroom_server.services import practice

    with db.connection_context():
        return [(c.kind, c.skill_id, c.reason_code) for c in
                practice.path_for(app.extensions["engine"], learner, "en", assignments=teaching.assigned_for(learner))]


@pytest.fixture(autouse=True)
def check_items_answerable(pack_dir):
    """The test pack's check items are its single-choice ones, so a check is answered simply here."""
    def simple(items):
        for item in items:
            item["check"] = item["type"] == "single_choice"
    for path in (pack_dir / "items").glob("*.json"):
        edit_json(path, simple)


def test_a_lesson_for_one_learner_leads_until_opened_then_steps_aside(app, tess, hub):
    last = skills(app)[2]  # locked behind two prerequisites
    give(app, hub, last, "lesson", ["ana"])
    payload = json.loads(teacher_events("assignment.set")[-1].payload)
    assert payload["given"][0]["kind"] == "lesson"
    ana, ben = learner_client(app, hub, "ana"), learner_client(app, hub, "ben")
    url, reason = path_links(ana)[0]
    assert reason == LESSON and url.startswith(f"/learn/lesson/{PACK}/")
    assert (LESSON, title(app, last)) in path_reasons(ana)
    assert all(r != LESSON for r, _t in path_reasons(ben))
    open_lesson(ana, url)
    assert all(r != LESSON for r, _t in path_reasons(ana))
    assert title(app, last) not in [t for _r, t in path_reasons(ana)]  # locked: the path goes on as before
    learner = hub.learners["ana"]
    assert fresh_path(app, learner) == live_path(app, learner)
    with db.connection_context():
        problems = [p for o in projections.recompute(app.extensions["catalogue"], check=True) for p in o.problems]
    assert problems == []


def test_a_check_for_the_class_leads_as_a_check_until_taken(app, tess, hub):
    first = skills(app)[0]
    give(app, hub, first, "check")
    ana = learner_client(app, hub, "ana")
    url, reason = path_links(ana)[0]
    assert reason == CHECK and "mode=check" in url
    before = live_path(app, hub.learners["ana"])
    assert before[0] == ("check", first, "teacher_assigned_check")
    answer(app, ana, url, right=False)  # wrong: the check was taken all the same
    assert all(r != CHECK for r, _t in path_reasons(ana))
    assert path_links(learner_client(app, hub, "ben"))[0][1] == CHECK  # Ben has not taken it
    assert fresh_path(app, hub.learners["ana"]) == live_path(app, hub.learners["ana"])


def test_taking_back_and_undoing_keeps_what_was_done_and_a_new_one_asks_again(app, tess, hub):
    last = skills(app)[2]
    given = give(app, hub, last, "lesson", ["ana"])
    ana = learner_client(app, hub, "ana")
    open_lesson(ana, path_links(ana)[0][0])
    url = urls(hub)["assignment"]
    post(tess, url, {"action": "withdraw", "id": given.id})
    post(tess, url, {"action": "restore", "id": given.id})
    with db.connection_context():
        assert [a.kind for a in teaching.assignments_of(hub.classes["pictures"])] == ["lesson"]
    assert all(r != LESSON for r, _t in path_reasons(ana))  # undo puts it back as it was: done
    give(app, hub, last, "lesson", ["ana"])  # asked again: read it again
    assert path_links(ana)[0][1] == LESSON


def test_an_old_assignment_event_reads_as_practice(app, tess, hub):
    """An ``assignment.set`` from before kinds (no ``kind``) reads exactly as it did."""
    last = skills(app)[2]
    with db.connection_context():
        events.record("assignment.set", {"skills": [], "given": [
            {"id": "old1", "skills": [f"{PACK}:{last}"], "learners": [hub.learners["ana"].uid]}]},
            actor_uid=hub.teachers["tess"].uid, class_uid=hub.classes["pictures"].uid)
        [found] = teaching.assignments_of(hub.classes["pictures"])
        assert found.kind == "practice" and "kind" not in found.to_json()
        assert teaching.assignments_for(hub.learners["ana"]) == (f"{PACK}:{last}",)
    assert path_reasons(learner_client(app, hub, "ana"))[0] == ("Your teacher asked", title(app, last))


def test_a_lesson_or_check_that_cannot_be_done_is_refused(app, tess, hub, pack_dir, data_dir):
    first = skills(app)[0]
    with db.connection_context():
        loaded = app.extensions["catalogue"].get()
        for resource in loaded.catalogue.pack(PACK).resources:
            if first in resource.skills:
                object.__setattr__(resource, "skills", ())  # the skill's lessons are gone
        with pytest.raises(teaching.Invalid) as refused:
            give(app, hub, first, "lesson")
        assert refused.value.field == "kind" and "has no lesson" in refused.value.template
        with pytest.raises(teaching.Invalid) as bad:
            give(app, hub, first, "sing")
        assert bad.value.field == "kind"
    assert teacher_events("assignment.set") == []


# --- the teacher's form ---

def test_the_form_offers_the_three_kinds_and_the_list_says_which(app, tess, hub):
    url = urls(hub)["assignment"]
    page = tess.get(url).get_data(as_text=True)
    assert re.search(r'name="kind" value="practice" checked', page)
    assert 'name="kind" value="lesson"' in page and 'name="kind" value="check"' in page
    last = skills(app)[2]
    response = post(tess, url, {"action": "give", "kind": "lesson", "given_skills": f"{PACK}:{last}", "who": "some",
                                "learners": str(hub.learners["ana"].id)})
    assert response.status_code == 302
    assert "see the lesson first" in tess.get(url).get_data(as_text=True)
    post(tess, url, {"action": "give", "kind": "check", "given_skills": f"{PACK}:{last}"})
    given = json.loads(teacher_events("assignment.set")[-1].payload)["given"]
    assert [g.get("kind") for g in given] == ["lesson", "check"]
    listed = re.findall(r'<span class="kind[^"]*">([^<]+)</span> <span class="what">([^<]+)</span>',
                        tess.get(url).get_data(as_text=True))
    assert sorted(listed) == sorted([("Read the lesson:", title(app, last)), ("Take the check:", title(app, last))])
    post(tess, url, {"action": "give", "given_skills": f"{PACK}:{last}"})  # no kind: practice, as before
    assert "kind" not in json.loads(teacher_events("assignment.set")[-1].payload)["given"][-1]


def test_bad_input_is_refused_next_to_its_field_with_what_was_typed_kept(app, tess, hub):
    url = urls(hub)["assignment"]
    last = skills(app)[2]
    ana = str(hub.learners["ana"].id)
    response = post(tess, url, {"action": "give", "kind": "check", "who": "some", "learners": ana,
                                "due": "2099-02-03"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "Choose at least one skill." in body
    assert re.search(r'name="kind" value="check" checked', body)
    assert re.search(r'name="who" value="some" checked', body) and re.search(rf'value="{ana}" checked', body)
    assert 'value="2099-02-03"' in body
    # the error sits inside the skills' fieldset, next to the boxes it is about
    fieldset = re.search(r'<fieldset aria-describedby="assignment-error">(.*?)</fieldset>', body, re.S).group(1)
    assert "Choose at least one skill." in fieldset and 'name="given_skills"' in fieldset
    response = post(tess, url, {"action": "give", "kind": "sing", "given_skills": f"{PACK}:{last}"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "Choose what the learners should do" in body
    assert f'value="{PACK}:{last}" checked' in body
    assert teacher_events("assignment.set") == []


def test_a_skill_without_a_lesson_is_refused_on_the_page(app, tess, hub):
    first = skills(app)[0]
    loaded = app.extensions["catalogue"].get()
    for resource in loaded.catalogue.pack(PACK).resources:
        if first in resource.skills:
            object.__setattr__(resource, "skills", ())
    response = post(tess, urls(hub)["assignment"], {"action": "give", "kind": "lesson",
                                                     "given_skills": f"{PACK}:{first}"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"{title(app, first)} has no lesson on this hub." in body
    assert re.search(r'name="kind" value="lesson" checked', body) and f'value="{PACK}:{first}" checked' in body
    assert teacher_events("assignment.set") == []


def test_a_lesson_teaching_several_skills_counts_for_the_one_assigned(app, tess, hub):
    first, _, last = skills(app)
    loaded = app.extensions["catalogue"].get()
    for resource in loaded.catalogue.pack(PACK).resources:
        if resource.skills == (last,) or list(resource.skills) == [last]:
            object.__setattr__(resource, "skills", (first, last))  # listed first: another skill
    give(app, hub, last, "lesson", ["ana"])
    ana = learner_client(app, hub, "ana")
    url, reason = path_links(ana)[0]
    assert reason == LESSON and f"skill={last}" in url
    open_lesson(ana, url)
    viewed = [json.loads(e.payload) for e in teacher_events("lesson_viewed")]
    assert [v["skill"] for v in viewed] == [last]
    assert all(r != LESSON for r, _t in path_reasons(ana))
