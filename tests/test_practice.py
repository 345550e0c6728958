"""The learner's loop on the hub: path, answering (once, whatever the resends), hints, lessons,
test-out, skills, goals, and projections that equal a rebuild."""

import json
import re

import pytest
from click.testing import CliRunner

from content_packs.testing import edit_json, key_response, make_pack

from classroom_server.cli import main
from classroom_server.db import db
from classroom_server.models import Event, MasteryRow
from classroom_server.services import packs
from tests.conftest import CSRF_RE, post, sign_in_learner, study

PACK = "org.example.practice"


@pytest.fixture
def pack_dir(tmp_path):
    src = make_pack(tmp_path / "src", skills=3, items_per_skill=8, pack_id=PACK)
    # a real progression: skill 1 needs skill 0, skill 2 needs skill 1
    def chain(m):
        m["skills"][1]["prerequisites"] = [m["skills"][0]["id"]]
        m["skills"][2]["prerequisites"] = [m["skills"][1]["id"]]
    edit_json(src / "pack.json", chain)
    return src


@pytest.fixture
def learner(app, client, school, data_dir, pack_dir):
    packs.import_pack(data_dir, pack_dir)
    study(school)
    sign_in_learner(client, school, "ana")
    return client


def _pack(app):
    return app.extensions["catalogue"].get().catalogue.pack(PACK)


def _item_page(client, url):
    page = client.get(url).get_data(as_text=True)
    event_id = re.search(r'name="event_id" value="([^"]+)"', page).group(1)
    return page, event_id


def _first_item_url(client):
    home = client.get("/learn/").get_data(as_text=True)
    return re.search(r'href="(/learn/item/[^"]+)"', home).group(1).replace("&amp;", "&")


def _answer_form(item, lang="en", right=True):
    response = key_response(item, lang)
    if item.type == "single_choice":
        if not right:
            response = next(c.id for c in item.choices if not c.correct)
        return {"answer": response}
    if item.type == "multiple_choice":
        if not right:
            return {"answer": [next(c.id for c in item.choices if not c.correct)]}
        return {"answer": list(response)}
    if item.type in ("numeric", "short_text"):
        return {"answer": response if right else "999"}
    if item.type == "ordering":
        return {"answer": list(response) if right else list(reversed(response))}
    if item.type == "matching":
        pairs = {f"match.{k}": v for k, v in response.items()}
        if not right:
            keys = list(pairs)
            pairs[keys[0]], pairs[keys[1]] = pairs[keys[1]], pairs[keys[0]]
        return pairs
    raise AssertionError(item.type)


def _answer_response(item, lang="en", right=True):
    """The answer ``_answer_form`` fills in, decoded as the answer page decodes it (for the service)."""
    from classroom_server.web.practice import decode_answer

    return decode_answer(item, _answer_form(item, lang, right))


def _answer(client, app, url, right=True, event_id=None, headers=None, **extra):
    item_id = url.split("?")[0].rsplit("/", 1)[1]
    item = app.extensions["catalogue"].get().catalogue.item(PACK, item_id)
    page, fresh_id = _item_page(client, url)
    form = {"event_id": event_id or fresh_id, **_answer_form(item, right=right), **extra}
    return post(client, url.split("?")[0], form, headers=headers or {}), item


def test_my_path_offers_the_first_skill_with_a_reason(learner):
    home = learner.get("/learn/").get_data(as_text=True)
    assert "Ready for something new" in home
    assert "/learn/item/" in home or "/learn/lesson/" in home


def test_a_right_answer_is_recorded_once_with_its_event(learner, app, school):
    url = _first_item_url(learner)
    response, item = _answer(learner, app, url)
    assert response.status_code == 200 and "Right!" in response.get_data(as_text=True)
    with db.connection_context():
        attempts = list(Event.select().where(Event.kind == "attempt"))
    assert len(attempts) == 1
    payload = json.loads(attempts[0].payload)
    assert payload["item"] == item.id and payload["correct"] is True
    assert attempts[0].learner_uid == school.learners["ana"].uid


def test_a_wrong_answer_gets_the_misconception_feedback(learner, app):
    url = _first_item_url(learner)
    item_id = url.split("?")[0].rsplit("/", 1)[1]
    item = app.extensions["catalogue"].get().catalogue.item(PACK, item_id)
    response, _ = _answer(learner, app, url, right=False)
    body = response.get_data(as_text=True)
    assert "Not quite." in body
    if item.type in ("single_choice", "multiple_choice"):
        wrong = next(c for c in item.choices if not c.correct)
        assert wrong.feedback.pick("en")[:20] in body


def test_a_resent_answer_is_recorded_once_and_gets_the_same_verdict(learner, app):
    url = _first_item_url(learner)
    first, item = _answer(learner, app, url, event_id="6c1f1d1e-0000-4000-8000-000000000001")
    again, _ = _answer(learner, app, url, right=False, event_id="6c1f1d1e-0000-4000-8000-000000000001")
    assert "Right!" in again.get_data(as_text=True)
    with db.connection_context():
        assert Event.select().where(Event.kind == "attempt").count() == 1


def test_the_answer_queue_gets_json(learner, app):
    url = _first_item_url(learner)
    response, _ = _answer(learner, app, url, headers={"Accept": "application/json"})
    data = response.get_json()
    assert data["correct"] is True and data["duplicate"] is False and data["event_id"]


def test_an_empty_answer_asks_again_and_records_nothing(learner, app):
    url = _first_item_url(learner).split("?")[0]
    _page, event_id = _item_page(learner, url)
    response = post(learner, url, {"event_id": event_id})
    assert response.status_code == 400 and "Please answer the question first." in response.get_data(as_text=True)
    with db.connection_context():
        assert Event.select().where(Event.kind == "attempt").count() == 0


def test_hints_are_shown_on_request_and_counted(learner, app):
    url = _first_item_url(learner).split("?")[0]
    page = learner.get(url + "?hints=1").get_data(as_text=True)
    assert "Hint 1" in page
    event_id = re.search(r'name="event_id" value="([^"]+)"', page).group(1)
    item = app.extensions["catalogue"].get().catalogue.item(PACK, url.rsplit("/", 1)[1])
    post(learner, url, {"event_id": event_id, "hints_used": "1", **_answer_form(item)})
    with db.connection_context():
        assert json.loads(Event.get(Event.kind == "attempt").payload)["hints_used"] == 1


def practise(client, app, school, steps, stop=lambda body: False):
    """Follow the learner's own path like a child who always answers right; return the last page."""
    body = ""
    for _ in range(steps):
        home = client.get("/learn/").get_data(as_text=True)
        link = re.search(r'href="(/learn/(item|lesson|example)/[^"]+)"', home)
        if link is None:
            assert "Time for a break" in home, home[home.index("<main>"):][:600]
            post(client, "/logout")
            sign_in_learner(client, school, "ana")
            continue
        url = link.group(1).replace("&amp;", "&")
        if link.group(2) == "item":
            response, _ = _answer(client, app, url)
        else:
            response = post(client, url.split("?")[0])
        body = response.get_data(as_text=True)
        if stop(body):
            return body
    return body


def test_practising_until_proficient_celebrates_and_opens_the_next_skill(learner, app, school):
    pack = _pack(app)
    body = practise(learner, app, school, 80, stop=lambda b: "You know" in b or "You have mastered" in b)
    assert "You know" in body or "You have mastered" in body, "no celebration after 80 steps"
    skills_page = learner.get("/learn/skills").get_data(as_text=True)
    assert "I know it" in skills_page or "Mastered" in skills_page
    assert pack.skills[1].title.pick("en") in skills_page


def test_lessons_render_from_the_pack_and_done_records_a_view(learner, app):
    pack = _pack(app)
    lesson = next(r for r in pack.resources if r.kind == "text" and r.language == "en")
    page = learner.get(f"/learn/lesson/{PACK}/{lesson.id}").get_data(as_text=True)
    assert "A fraction names equal parts" in page
    assert re.search(r'<img src="/content/[0-9a-f]{64}/bar.svg"', page), "pack pictures become content URLs"
    token = CSRF_RE.search(page).group(1)
    response = learner.post(f"/learn/lesson/{PACK}/{lesson.id}", data={"csrf_token": token})
    assert response.status_code == 302
    with db.connection_context():
        assert Event.select().where(Event.kind == "lesson_viewed").count() == 1


def test_i_already_know_this_starts_a_check(learner, app):
    skill = _pack(app).skills[0]
    response = post(learner, f"/learn/test-out/{PACK}/{skill.id}")
    assert response.status_code == 302
    assert "Show what you already know" in learner.get("/learn/").get_data(as_text=True)


def test_goals_can_be_set_and_show_progress(learner):
    assert post(learner, "/learn/goals", {"goal": "skills:2"}).status_code == 302
    assert "0 of 2 new skills" in learner.get("/learn/goals").get_data(as_text=True)
    assert post(learner, "/learn/goals", {"goal": "skills:999"}).status_code == 400
    assert post(learner, "/learn/goals", {"goal": "banana"}).status_code == 400


def test_unknown_items_and_lessons_are_404(learner):
    assert learner.get(f"/learn/item/{PACK}/nope").status_code == 404
    assert learner.get("/learn/item/org.nope/x").status_code == 404
    assert learner.get(f"/learn/lesson/{PACK}/nope").status_code == 404


def test_recompute_check_proves_the_projection(learner, app, data_dir, school):
    practise(learner, app, school, 12)
    runner = CliRunner()
    ok = runner.invoke(main, ["recompute", "--data", str(data_dir), "--check"])
    assert ok.exit_code == 0, ok.output
    with db.connection_context():
        MasteryRow.update(state="mastered").execute()
    bad = runner.invoke(main, ["recompute", "--data", str(data_dir), "--check"])
    assert bad.exit_code == 1 and "state stored 'mastered'" in bad.output
    fixed = runner.invoke(main, ["recompute", "--data", str(data_dir)])
    assert fixed.exit_code == 0
    assert runner.invoke(main, ["recompute", "--data", str(data_dir), "--check"]).exit_code == 0
    db.close_all()


# --- the audit of the learner's experience ---

def _links(body, pattern=r'href="(/learn/(?:item|lesson|example)/[^"]+)"'):
    return [u.replace("&amp;", "&") for u in re.findall(pattern, body)]


def _steps(body):
    """My path's options: (reason, link), in order."""
    found = re.findall(r'<a class="step[^"]*" href="([^"]+)"><span class="reason">([^<]+)</span>', body)
    return [(reason, url.replace("&amp;", "&")) for url, reason in found]


def test_my_path_offers_up_to_five_ready_skills(app, client, school, data_dir, tmp_path):
    src = make_pack(tmp_path / "wide", skills=6, items_per_skill=3, pack_id="org.example.wide")

    def unchain(m):
        for skill in m["skills"]:
            skill["prerequisites"] = []
    edit_json(src / "pack.json", unchain)
    packs.import_pack(data_dir, src)
    study(school)
    sign_in_learner(client, school, "ana")
    steps = _steps(client.get("/learn/").get_data(as_text=True))
    assert len(steps) == 5, steps
    assert {reason for reason, _url in steps} == {"Ready for something new"}


def test_a_new_learner_with_one_ready_skill_can_also_choose_its_lesson(learner, app):
    steps = _steps(learner.get("/learn/").get_data(as_text=True))
    assert [reason for reason, _url in steps] == ["Ready for something new", "Learn about it with a lesson"]
    assert steps[1][1] == f"/learn/lesson/{PACK}/skill-0000-read-en"


def test_continue_where_i_stopped_goes_to_the_item_left_unanswered(learner, app):
    assert "Continue where I stopped" not in learner.get("/learn/").get_data(as_text=True)
    item = _pack(app).items[5]
    url = f"/learn/item/{PACK}/{item.id}"
    learner.get(url + "?mode=check&hints=1")
    learner.get(f"/learn/item/{PACK}/{_pack(app).items[6].id}", headers={"X-Prefetch": "1"})  # kept ready only
    steps = _steps(learner.get("/learn/").get_data(as_text=True))
    assert steps[0] == ("Continue where I stopped", url + "?mode=check&hints=1")
    _answer(learner, app, url)
    steps = _steps(learner.get("/learn/").get_data(as_text=True))
    assert "Continue where I stopped" not in [reason for reason, _url in steps]
    assert not any(item.id in link for _reason, link in steps)


def test_continue_where_i_stopped_goes_to_an_unfinished_lesson(learner, app):
    lesson = f"/learn/lesson/{PACK}/skill-0000-read-en"
    learner.get(lesson)
    steps = _steps(learner.get("/learn/").get_data(as_text=True))
    assert steps[0] == ("Continue where I stopped", lesson)
    assert [link for _reason, link in steps].count(lesson) == 1, "the same lesson is not offered twice"
    post(learner, lesson)
    assert "Continue where I stopped" not in learner.get("/learn/").get_data(as_text=True)


def test_my_skills_links_the_skills_open_now_to_what_to_do_next(learner, app):
    page = learner.get("/learn/skills").get_data(as_text=True)
    pack = _pack(app)
    links = re.findall(r'<a class="name" href="([^"]+)">([^<]+)</a>', page)
    assert links == [(f"/learn/skills/{PACK}/{pack.skills[0].id}", pack.skills[0].title.pick("en"))], \
        "only the skill that is ready now is a link; later ones are not"
    response = learner.get(links[0][0])
    assert response.status_code == 302
    target = response.headers["Location"]
    assert target.startswith(f"/learn/item/{PACK}/")
    item_id = target.split("?")[0].rsplit("/", 1)[1]
    assert app.extensions["catalogue"].get().catalogue.item(PACK, item_id).skill == pack.skills[0].id
    assert learner.get(f"/learn/skills/{PACK}/nope").status_code == 404


def test_the_worked_solution_appears_after_repeated_misses(learner, app):
    first = _first_item_url(learner)
    response, item = _answer(learner, app, first, right=False)
    body = response.get_data(as_text=True)
    assert "Not quite." in body and "How to solve it" not in body, "one miss: no solution yet"
    second = next(u for u in _links(learner.get("/learn/").get_data(as_text=True)) if "/learn/item/" in u)
    response, item = _answer(learner, app, second, right=False)
    body = response.get_data(as_text=True)
    assert "How to solve it" in body
    solution = item.solution.pick("en").split("![")[0].strip()
    assert solution in body, "the solution of the item just missed"


def test_another_learners_event_id_reveals_nothing_of_theirs(app, client, school, data_dir, pack_dir):
    packs.import_pack(data_dir, pack_dir)
    study(school)
    item = _pack(app).items[0]
    url = f"/learn/item/{PACK}/{item.id}"
    sign_in_learner(client, school, "ben")
    bens_id = "6c1f1d1e-0000-4000-8000-0000000000be"
    assert "Right!" in post(client, url, {"event_id": bens_id, **_answer_form(item)}).get_data(as_text=True)
    post(client, "/logout")
    sign_in_learner(client, school, "ana")
    page = client.get(url + f"?event_id={bens_id}").get_data(as_text=True)
    page = re.sub(r"<template.*?</template>", "", page, flags=re.S)  # the verdict words offline feedback may show
    assert "Right!" not in page and "Ben" not in page and school.learners["ben"].uid not in page
    for headers in ({}, {"Accept": "application/json"}):
        response = post(client, url, {"event_id": bens_id, **_answer_form(item, right=False)}, headers=headers)
        body = re.sub(r"<template.*?</template>", "", response.get_data(as_text=True), flags=re.S)
        assert response.status_code == 400
        assert "Right!" not in body and "Not quite" not in body and '"correct"' not in body
        assert "Ben" not in body and school.learners["ben"].uid not in body
    with db.connection_context():
        rows = list(Event.select().where(Event.kind == "attempt"))
    assert [(r.learner_uid, json.loads(r.payload)["correct"]) for r in rows] == [(school.learners["ben"].uid, True)]


def test_the_language_switch_keeps_the_items_mode_and_hints(learner, app):
    url = f"/learn/item/{PACK}/{_pack(app).items[0].id}?mode=check&hints=1"
    page = learner.get(url).get_data(as_text=True)
    found = re.findall(r'<a href="(\?[^"]*)" lang="(\w+)"', page)
    links = {lang: href.replace("&amp;", "&") for href, lang in found}
    assert links["es"] == "?mode=check&hints=1&lang=es" and links["fr"] == "?mode=check&hints=1&lang=fr"
    spanish = learner.get(url.split("?")[0] + links["es"]).get_data(as_text=True)
    assert "Pista 1" in spanish and 'name="mode" value="check"' in spanish


def test_every_hint_is_on_the_page_but_only_those_asked_for_show(learner, app):
    item = _pack(app).items[0]
    page = learner.get(f"/learn/item/{PACK}/{item.id}").get_data(as_text=True)
    assert re.search(r'<div class="hints" id="hints"[^>]* hidden>', page)
    assert len(re.findall(r'<div class="hint" hidden>', page)) == len(item.hints)
    page = learner.get(f"/learn/item/{PACK}/{item.id}?hints=1").get_data(as_text=True)
    assert not re.search(r'<div class="hints" id="hints"[^>]* hidden>', page)
    assert len(re.findall(r'<div class="hint" hidden>', page)) == len(item.hints) - 1
    assert '<div class="hint"><strong>Hint 1</strong>' in page


def test_printables_fold_the_teachers_notes_away(app, client, school, data_dir, pack_dir):
    (pack_dir / "resources" / "en" / "activity.md").write_text(
        "# Fair shares\n\n**Goal:** Students split a whole into equal parts.\n\n"
        "## Common misconceptions to watch\n\n- Counting parts without checking size.\n", encoding="utf-8")

    def add(m):
        m["resources"].append({"id": "activity-en", "skills": [m["skills"][0]["id"]], "kind": "printable",
                               "language": "en", "title": {"en": "Fair shares"}, "path": "resources/en/activity.md"})
    edit_json(pack_dir / "pack.json", add)
    from content_packs.build import write_checksums
    assert write_checksums(pack_dir).ok
    packs.import_pack(data_dir, pack_dir)
    study(school)
    sign_in_learner(client, school, "ana")
    page = client.get(f"/learn/lesson/{PACK}/activity-en").get_data(as_text=True)
    folded = re.search(r'<details class="for-teacher"><summary>For your teacher</summary>(.*?)</details>', page, re.S)
    assert folded and "Common misconceptions to watch" in folded.group(1)
    assert page.count("Common misconceptions to watch") == 1, "nowhere else on the page"
    assert "<details class=\"for-teacher\" open" not in page


def test_the_offline_page_names_nobody_and_the_service_worker_keeps_it(learner, school):
    page = learner.get("/learn/offline").get_data(as_text=True)
    assert "No Wi-Fi right now" in page and 'id="waiting"' in page
    assert "Ana" not in page and school.learners["ana"].uid not in page and "csrf-token" not in page
    worker = learner.get("/learn/sw.js").get_data(as_text=True)
    home = learner.get("/learn/").get_data(as_text=True)
    css = re.search(r'<link rel="stylesheet" href="([^"]+)">', home).group(1)
    script = re.search(r'<script src="([^"]+)">', home).group(1)
    assert "?v=" in css and f'"{css}"' in worker and f'"{script}"' in worker, "the shell is the URLs pages ask for"
    assert "var OFFLINE = '/learn/offline';" in worker


def test_signing_out_tells_the_browser_to_forget_its_cache(learner):
    response = post(learner, "/logout")
    assert response.headers["Clear-Site-Data"] == '"cache"'


def test_ordering_items_never_show_their_options_in_the_answers_order():
    from content_packs import load_pack

    from classroom_server.web.practice import shown_order

    ordering = [i for name in ("fractions", "numbers")
                for i in load_pack(f"content_packs/library/{name}", check=False).items
                if i.type == "ordering"]
    assert any(i.prompt_order for i in ordering)
    for item in ordering:
        shown = [o.id for o in shown_order(item)]
        assert sorted(shown) == sorted(o.id for o in item.options)
        assert tuple(shown) != tuple(item.answer), item.id
        if item.prompt_order:
            assert tuple(shown) == tuple(item.prompt_order), item.id


# --- lessons of every kind: audio, video, PDF; pictures and read-aloud prompts are media ---------

MEDIA_PACK = "org.example.media"
SHA_URL = r"/content/[0-9a-f]{64}/"


@pytest.fixture
def media_pack(tmp_path):
    return make_pack(tmp_path / "media", skills=2, items_per_skill=3, pack_id=MEDIA_PACK,
                     media=("image", "audio", "video", "pdf"))


@pytest.fixture
def media_learner(app, client, school, data_dir, media_pack):
    packs.import_pack(data_dir, media_pack)
    study(school)
    sign_in_learner(client, school, "ana")
    return client


def _lesson(client, resource_id, lang):
    response = client.get(f"/learn/lesson/{MEDIA_PACK}/{resource_id}?lang={lang}")
    assert response.status_code == 200, resource_id
    return response.get_data(as_text=True)


def _file_sha(app, path):
    return app.extensions["catalogue"].get().sha_for(MEDIA_PACK, path)


def _fetch(client, url):
    """A pack file as the browser gets it: (status, mimetype, bytes); the file is closed after."""
    response = client.get(url)
    try:
        return response.status_code, response.mimetype, response.get_data()
    finally:
        response.close()


@pytest.mark.parametrize("lang, title, open_pdf", [("en", "Listen: halves", "Open the document"),
                                                    ("es", "Escucha: mitades", "Abrir el documento")])
def test_audio_video_and_pdf_lessons_show_their_player_in_the_learners_language(
        media_learner, app, lang, title, open_pdf):
    page = _lesson(media_learner, f"skill-0000-listen-{lang}", lang)
    assert f'<h1 id="lesson-title" lang="{lang}">{title}</h1>' in page
    audio = re.search(r'<audio src="([^"]+)" controls preload="none" aria-labelledby="lesson-title">', page)
    assert audio and audio.group(1) == f"/content/{_file_sha(app, f'resources/{lang}/skill-0000.opus')}/skill-0000.opus"
    status, mimetype, data = _fetch(media_learner, audio.group(1))
    assert status == 200 and mimetype == "audio/ogg" and data[:4] == b"OggS"

    page = _lesson(media_learner, "skill-0000-watch", lang)
    watch = {"en": "Watch: halves", "es": "Mira: mitades"}[lang]
    assert f'<h1 id="lesson-title" lang="{lang}">{watch}</h1>' in page, "a video without words: title in any language"
    video = re.search(rf'<video src="({SHA_URL}skill-0000\.webm)" controls preload="metadata" playsinline '
                      r'aria-labelledby="lesson-title">', page)
    assert video and _fetch(media_learner, video.group(1))[:2] == (200, "video/webm")

    page = _lesson(media_learner, f"skill-0000-document-{lang}", lang)
    pdf = re.search(rf'<a class="button" href="({SHA_URL}skill-0000\.pdf)" type="application/pdf">{open_pdf}</a>', page)
    assert pdf, "a plain link: the phone's own viewer opens it, from the hub"
    status, mimetype, data = _fetch(media_learner, pdf.group(1))
    assert status == 200 and mimetype == "application/pdf" and data.startswith(b"%PDF-")
    assert ("Documento: mitades" if lang == "es" else "Document: halves").encode() in data


def test_a_language_the_pack_lacks_gets_the_packs_first_language_marked_as_such(media_learner):
    page = _lesson(media_learner, "skill-0000-listen-en", "fr")
    assert '<html lang="fr">' in page and '<h1 id="lesson-title" lang="en">Listen: halves</h1>' in page
    assert re.search(r"""class="go">C(&#39;|')est fait</button>""", page), "the buttons in French"


def test_other_ways_to_learn_it_are_titled_in_the_learners_language(media_learner):
    page = _lesson(media_learner, "skill-0000-read-es", "es")
    others = re.search(r"<p>Otras formas de aprenderlo: (.*?)</p>", page).group(1)
    links = re.findall(r'href="/learn/lesson/[^/]+/([^"]+)" lang="es">([^<]+)</a>', others)
    assert links == [("skill-0000-listen-es", "Escucha: mitades"), ("skill-0000-watch", "Mira: mitades"),
                     ("skill-0000-document-es", "Documento: mitades")], "a video without words too, and no picture"


def test_a_picture_is_shown_in_its_lesson_with_alt_text_and_is_not_a_lesson_itself(media_learner, app):
    page = _lesson(media_learner, "skill-0000-read-es", "es")
    assert re.search(rf'<img src="{SHA_URL}skill-0000-picture.svg" alt="Un círculo cortado en dos mitades iguales"',
                     page)
    assert media_learner.get(f"/learn/lesson/{MEDIA_PACK}/skill-0000-picture").status_code == 404
    assert media_learner.get(f"/learn/lesson/{MEDIA_PACK}/bar-image").status_code == 404, "shared picture"


@pytest.mark.parametrize("resource_id, modality", [("skill-0000-listen-en", "audio"), ("skill-0000-watch", "video"),
                                                   ("skill-0000-document-en", "text"), ("skill-0000-read-en", "text")])
def test_done_records_the_lesson_viewed_with_its_modality(media_learner, resource_id, modality):
    page = _lesson(media_learner, resource_id, "en")
    event_id = re.search(r'name="event_id" value="([^"]+)"', page).group(1)
    url = f"/learn/lesson/{MEDIA_PACK}/{resource_id}"
    for _twice in range(2):  # a double tap is one view
        assert post(media_learner, url, {"event_id": event_id}).status_code == 302
    with db.connection_context():
        views = [json.loads(e.payload) for e in Event.select().where(Event.kind == "lesson_viewed")]
    assert views == [{"pack": MEDIA_PACK, "resource": resource_id, "skill": "skill-0000", "modality": modality}]


def test_a_read_aloud_prompt_is_not_offered_as_a_lesson(app, client, school, data_dir, media_pack):
    """SPEC: an `audio` resource named by an item's `audio` field is that item's prompt."""
    from content_packs.build import write_checksums

    def prompt(items):
        items[0]["audio"] = {"en": "resources/en/skill-0000.opus"}
    edit_json(media_pack / "items" / "skill-0000.json", prompt)
    assert write_checksums(media_pack).ok
    packs.import_pack(data_dir, media_pack)
    study(school)
    sign_in_learner(client, school, "ana")
    assert client.get(f"/learn/lesson/{MEDIA_PACK}/skill-0000-listen-en").status_code == 404
    assert client.get(f"/learn/lesson/{MEDIA_PACK}/skill-0001-listen-en").status_code == 200, "still a lesson"
    page = _lesson(client, "skill-0000-read-en", "en")
    assert "skill-0000-listen-en" not in page and "skill-0000-watch" in page


def test_the_numbers_packs_read_aloud_prompts_are_not_its_lessons():
    from pathlib import Path
    from types import SimpleNamespace

    from content_packs import Catalogue, load_pack

    from classroom_server.services.practice import lessons_for

    pack = load_pack(Path(__file__).resolve().parents[1] / "content_packs" / "library" / "numbers", check=False)
    loaded = SimpleNamespace(catalogue=Catalogue([pack]))
    assert sum(r.kind == "audio" for r in pack.resources) > 100, "the pack reads its questions aloud"
    for skill in pack.skills:
        for lang in pack.languages:
            lessons = lessons_for(loaded, pack, skill.id, lang)
            assert sorted(r.kind for r in lessons) == ["audio", "printable", "text"], (skill.id, lang)
            spoken = next(r for r in lessons if r.kind == "audio")
            assert spoken.id == f"{skill.id}-listen-{lang}" and spoken.transcript, "the audio lesson, not a prompt"


def test_how_hard_is_kept_from_one_sign_in_to_the_next(learner, app, school):
    """#19: "How hard?" went back to "Just right" at every sign-in. It is the learner's own event
    now, recorded only when it changes, and read back when they sign in (on any device)."""
    from classroom_server.models import Event

    assert post(learner, "/learn/challenge", {"challenge": "harder"}).status_code == 302
    assert post(learner, "/learn/challenge", {"challenge": "harder"}).status_code == 302  # no change, no event
    assert 'value="harder" checked' in learner.get("/learn/").get_data(as_text=True)
    post(learner, "/logout")
    other_device = app.test_client()
    sign_in_learner(other_device, school, "ana")
    assert 'value="harder" checked' in other_device.get("/learn/").get_data(as_text=True)
    with db.connection_context():
        kept = Event.select().where(Event.kind == "learner.challenge_set", Event.learner_uid == school.learners["ana"].uid)
        assert [e.payload for e in kept] == ['{"challenge":"harder"}']
    ben = app.test_client()
    sign_in_learner(ben, school, "ben")  # another learner still starts from "Just right"
    assert 'value="normal" checked' in ben.get("/learn/").get_data(as_text=True)
