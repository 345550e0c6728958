"""Practice without Wi-Fi (#19): the path ahead each item page names for the device to keep."""

import html
import json
import re
from pathlib import Path

import pytest

from classroom_server.services import packs
from tests.conftest import sign_in_learner, study

LIBRARY = Path(__file__).resolve().parents[1] / "content_packs" / "library"
FRACTIONS = "org.openclassroom.fractions"


@pytest.fixture
def fractions_learner(app, client, school, data_dir):
    packs.import_pack(data_dir, LIBRARY / "fractions")
    study(school)
    sign_in_learner(client, school, "ana")
    return client


def _first_item_url(client):
    home = client.get("/learn/").get_data(as_text=True)
    return html.unescape(re.search(r'href="(/learn/item/[^"]+)"', home).group(1))


def _upcoming(client, url, **kwargs):
    page = client.get(url, **kwargs).get_data(as_text=True)
    return json.loads(html.unescape(re.search(r'data-upcoming="([^"]*)"', page).group(1)))


def _item_ids(urls):
    return [u.split("?")[0].rsplit("/", 1)[1] for u in urls]


def test_an_item_page_names_the_next_ten_activities_of_the_path(app, fractions_learner):
    catalogue = app.extensions["catalogue"].get().catalogue
    url = _first_item_url(fractions_learner)
    here = catalogue.item(FRACTIONS, _item_ids([url])[0])
    ahead = _upcoming(fractions_learner, url)
    assert len(ahead) == 10, "the hub's setting, offline_activities, is 10 by default"
    ids = _item_ids(ahead)
    assert here.id not in ids and len(set(ids)) == 10
    skills = [catalogue.item(FRACTIONS, i).skill for i in ids]
    assert skills[:5] == [here.skill] * 5, "more of the skill practised first, up to half the list"
    same = [i.id for i in catalogue.items_for(FRACTIONS, here.skill)]
    assert [i for i, s in zip(ids, skills, strict=True) if s == here.skill] == \
        [i for i in same[same.index(here.id) + 1:] + same[:same.index(here.id)]][:skills.count(here.skill)]
    opened = {s.id for s in catalogue.dependents(FRACTIONS, here.skill)}
    assert set(skills) - {here.skill} <= opened and set(skills) - {here.skill}, \
        "then the skills this one opens, from their first items"
    assert all("why=" in u for u in ahead), "each kept page says why it comes, as after Next"


def test_the_number_kept_is_the_hubs_setting(app, fractions_learner):
    url = _first_item_url(fractions_learner)
    app.config["SETTINGS"]["offline_activities"] = 3
    assert len(_upcoming(fractions_learner, url)) == 3
    app.config["SETTINGS"]["offline_activities"] = 0
    assert _upcoming(fractions_learner, url) == []


def test_a_page_only_being_kept_and_a_placement_question_name_none(app, fractions_learner):
    url = _first_item_url(fractions_learner)
    assert _upcoming(fractions_learner, url, headers={"X-Prefetch": "1"}) == [], \
        "the device keeps the list of the page the learner opened; the policy is not run for each kept page"
    token = re.search(r'name="csrf-token" content="([^"]+)"', fractions_learner.get("/learn/").get_data(as_text=True))
    started = fractions_learner.post(f"/learn/placement/{FRACTIONS}", data={"csrf_token": token.group(1)})
    assert "mode=placement" in started.headers["Location"]
    assert _upcoming(fractions_learner, started.headers["Location"]) == [], "the hub leads a placement: none kept"


def test_the_setting_is_read_from_the_environment(tmp_path):
    from classroom_server.config import ConfigError, load_settings

    assert load_settings(tmp_path, environ={})["offline_activities"] == 10
    assert load_settings(tmp_path, environ={"CLASSROOM_OFFLINE_ACTIVITIES": "4"})["offline_activities"] == 4
    with pytest.raises(ConfigError, match="offline_activities"):
        load_settings(tmp_path, environ={"CLASSROOM_OFFLINE_ACTIVITIES": "500"})


# --- verdict tables on practice pages (web/local_grading.py, content_packs/verdicts.py) ---------------

def _page_table(page):
    found = re.search(r"data-verdicts='([^']*)'", page)
    return None if found is None else json.loads(html.unescape(found.group(1)))


def _feedbacks(page):
    template = page[page.index('<template id="offline-answer">'):page.index("</template>")]
    return {int(n): body.strip() for n, body in re.findall(r'<div class="feedback" data-feedback="(\d+)">(.*?)</div>',
                                                          template, re.S)}


def test_only_a_practice_item_carries_its_verdict_table(app, fractions_learner):
    item = next(i for i in app.extensions["catalogue"].get().catalogue.pack(FRACTIONS).items
                if i.type == "single_choice")
    url = f"/learn/item/{FRACTIONS}/{item.id}"
    practice_page = fractions_learner.get(url).get_data(as_text=True)
    table = _page_table(practice_page)
    assert set(table) == {c.id for c in item.choices}
    assert [k for k, v in table.items() if v == -1] == [c.id for c in item.choices if c.correct]
    assert 'data-when="wrong"' in practice_page and "How to solve it" in practice_page
    for mode in ("check", "review", "test_out"):
        page = fractions_learner.get(f"{url}?mode={mode}").get_data(as_text=True)
        assert _page_table(page) is None, f"a {mode} item is graded by the hub alone"
        assert "This question is checked by the hub." in page


def test_the_tables_verdict_and_feedback_are_the_hubs_for_each_item_type(app, fractions_learner):
    """What the browser would show offline is what the hub answers the same answer with."""
    from content_packs.verdicts import response_key, verdict_table

    token = re.search(r'name="csrf-token" content="([^"]+)"', fractions_learner.get("/learn/").get_data(as_text=True))
    pack = app.extensions["catalogue"].get().catalogue.pack(FRACTIONS)
    for kind in ("single_choice", "multiple_choice", "numeric", "short_text", "ordering", "matching"):
        item = next(i for i in pack.items if i.type == kind and (i.wrong_answers or kind not in ("numeric", "short_text")))
        page = fractions_learner.get(f"/learn/item/{FRACTIONS}/{item.id}").get_data(as_text=True)
        table, feedbacks = _page_table(page), _feedbacks(page)
        assert set(table) == set(verdict_table(item, "en"))
        for key, (response, _grade) in list(verdict_table(item, "en").items())[:6]:
            form = {"csrf_token": token.group(1), "mode": "practice"}
            if kind == "ordering":
                form.update({f"rank.{o}": str(n) for n, o in enumerate(response, start=1)})
            elif kind == "matching":
                form.update({f"match.{a}": b for a, b in response.items()})
            else:
                form["answer"] = response
            answer = fractions_learner.post(f"/learn/item/{FRACTIONS}/{item.id}", data=form,
                                            headers={"Accept": "application/json"}).get_json()
            assert response_key(item, response) == key
            assert answer["correct"] == (table[key] == -1), (item.id, key)
            if not answer["correct"]:
                assert feedbacks[table[key]] == answer["feedback"].strip(), (item.id, key)


def test_a_learner_whose_practice_is_paused_keeps_nothing_ahead(app, fractions_learner, school):
    from classroom_server.db import db
    from classroom_server.services import teaching

    url = _first_item_url(fractions_learner)
    with db.connection_context():
        teaching.override(app.extensions["engine"], school.teachers["tess"], school.classes["pictures"],
                          school.learners["ana"], "pause", None)
    assert _upcoming(fractions_learner, url) == []
