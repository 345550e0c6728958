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
    assert [i for i, s in zip(ids, skills) if s == here.skill] == \
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
