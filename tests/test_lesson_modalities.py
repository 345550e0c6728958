"""#19, "the 'other way' lesson is the same lesson": a learner who struggles after reading a
skill's lesson is offered its audio lesson, in their language, whose page plays it and shows its
words; a skill with one kind of lesson offers that one and says it is the only one."""

import re
from pathlib import Path

import pytest

from classroom_server.db import db
from classroom_server.models import Event
from classroom_server.services import packs, practice
from content_packs.testing import make_pack
from tests.conftest import post, sign_in_learner, study
from tests.test_practice import _answer_response

LIBRARY = Path(__file__).resolve().parents[1] / "content_packs" / "library"
FRACTIONS = "org.openclassroom.fractions"
LESSON_CODES = ("lesson_other_modality", "lesson_only_modality")


def struggle(app, learner, pack_id, skill_id, lang, kind="lesson"):
    """Miss the skill's items (opening its worked example when offered, unless that is ``kind``)
    until the path offers ``kind`` for it (a lesson unless told); return that choice."""
    engine = app.extensions["engine"]
    loaded = app.extensions["catalogue"].get()
    with db.connection_context():
        for _ in range(15):
            choice = practice.next_for_skill(engine, learner, lang, pack_id, skill_id)
            assert choice is not None
            if choice.kind == kind:
                return choice
            if choice.kind == "worked_example":
                practice.record_learning_step(engine, learner, "worked_example_viewed",
                                              {"pack": pack_id, "item": choice.item_id, "skill": skill_id})
                continue
            item = loaded.catalogue.item(pack_id, choice.item_id)
            practice.record_attempt(engine, learner, pack_id, item.id, _answer_response(item, lang, right=False),
                                    event_id=None, lang=lang)
    raise AssertionError(f"no {kind} offered for {skill_id}")


def lesson_views():
    with db.connection_context():
        return [e.payload for e in Event.select().where(Event.kind == "lesson_viewed").order_by(Event.id)]


def test_after_the_text_lesson_the_other_way_is_the_audio_lesson_that_plays_and_shows_its_words(
        app, client, school, data_dir):
    packs.import_pack(data_dir, LIBRARY / "fractions")
    study(school)
    sign_in_learner(client, school, "ana")
    text = f"/learn/lesson/{FRACTIONS}/equal-parts-read-es"
    page = client.get(text + "?lang=es").get_data(as_text=True)
    done = post(client, text, {"event_id": re.search(r'name="event_id" value="([^"]+)"', page).group(1)})
    assert done.status_code == 302 and '"modality":"text"' in lesson_views()[0]

    choice = struggle(app, school.learners["ana"], FRACTIONS, "equal-parts", "es")
    assert (choice.reason_code, choice.resource_id) == ("lesson_other_modality", "equal-parts-listen-es"), \
        "not the text lesson again"
    page = client.get(f"/learn/lesson/{FRACTIONS}/{choice.resource_id}?lang=es&why={choice.reason_code}")
    html = page.get_data(as_text=True)
    assert '<p class="why">Apréndelo de otra forma</p>' in html
    assert '<h1 id="lesson-title" lang="es">Escucha: repartir de forma justa</h1>' in html
    assert re.search(r'<div class="media listen"><button type="button" class="play" [^>]*hidden>', html), \
        "a big Listen button (shown by practice.js)"
    assert re.search(r'<audio src="/content/[0-9a-f]{64}/equal-parts.opus" controls preload="none" '
                     r'aria-labelledby="lesson-title"></audio>', html), "the player, also without script"
    words = re.search(r'<section class="transcript" aria-labelledby="transcript-title">.*?'
                      r'<div class="lesson" lang="es">(.*?)</div></section>', html, re.S)
    assert words and "<p>Imagina que compartes una pizza con un amigo." in words.group(1)
    assert "/" not in re.sub(r"<[^>]+>", "", words.group(1)), "fractions in words, as they are said"

    event_id = re.search(r'name="event_id" value="([^"]+)"', html).group(1)
    assert post(client, f"/learn/lesson/{FRACTIONS}/{choice.resource_id}", {"event_id": event_id}).status_code == 302
    assert '"modality":"audio"' in lesson_views()[-1]


def test_a_skill_with_only_a_text_lesson_offers_it_and_says_it_is_the_only_one(app, client, school, data_dir,
                                                                                 tmp_path):
    pack_id = "org.example.textonly"
    packs.import_pack(data_dir, make_pack(tmp_path / "src", skills=1, items_per_skill=6, pack_id=pack_id))
    study(school)
    sign_in_learner(client, school, "ana")
    choice = struggle(app, school.learners["ana"], pack_id, "skill-0000", "en")
    assert (choice.reason_code, choice.resource_id) == ("lesson_only_modality", "skill-0000-read-en")
    home = client.get("/learn/").get_data(as_text=True)
    assert "Learn it with the lesson: this skill has only this one" in home


@pytest.mark.parametrize("lang", ["en", "es", "fr"])
def test_the_hub_tells_the_policy_what_each_bundled_skill_has(app, data_dir, lang):
    for name in ("fractions", "numbers"):
        packs.import_pack(data_dir, LIBRARY / name)
    loaded = app.extensions["catalogue"].get()
    found = practice.lesson_modalities(loaded, lang)
    skills = [(pack.id, s.id) for pack in loaded.catalogue.packs for s in pack.skills]
    assert len(skills) == 23
    for pack_id, skill_id in skills:
        assert found[f"{pack_id}:{skill_id}"] == ("text", "printable", "audio"), (skill_id, lang)
    assert practice.lesson_modalities(loaded, lang) is found, "worked out once per catalogue and language"
