"""Reports (#18, item 7): growth per learner against the packs' expected pace, the class summary,
the family report in the family's language, CSV files equal to their pages, SVG charts, and who
may see them. Growth is checked on a history built answer by answer with the clock moved, against
numbers counted by hand (services/reports/growth.py gives the definitions)."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from classroom_server import clock
from classroom_server.db import db
from classroom_server.demo_practice import right_form, wrong_form
from classroom_server.services import packs, practice, teaching
from classroom_server.services.learning import qualify
from classroom_server.services.reports import history as histories
from classroom_server.web.practice import decode_answer
from content_packs.testing import edit_json, make_pack
from tests.conftest import ADMIN_PASSWORD, TEACHER_PASSWORD, sign_in_learner, sign_in_staff, study

PACK = "org.example.reports"
LIBRARY = Path(__file__).resolve().parents[1] / "content_packs" / "library"
NUMBERS = "org.openclassroom.numbers"
TODAY = dt.date(2026, 3, 27)  # a Friday; the term is the 12 weeks that end on it
FIRST = TODAY - dt.timedelta(days=83)  # the term's first day


def at(day: dt.date, hour: int = 9, minute: int = 0) -> dt.datetime:
    """A moment of the hub's local calendar (reports count days in the hub's local time)."""
    return dt.datetime.combine(day, dt.time(hour, minute)).astimezone()


def day_of(n: int) -> dt.date:
    """The term's day ``n`` (0: its first day)."""
    return FIRST + dt.timedelta(days=n)


@pytest.fixture
def pack_dir(tmp_path):
    """Three skills, each for grades 3 to 4, in a pack for grades 3 to 5: the pack expects
    (3 + 3 + 0) / 3 = 2 skills a school year."""
    src = make_pack(tmp_path / "src", skills=3, items_per_skill=6, pack_id=PACK)

    def chain(manifest):
        manifest["skills"][1]["prerequisites"] = [manifest["skills"][0]["id"]]
        manifest["skills"][2]["prerequisites"] = [manifest["skills"][1]["id"]]
    edit_json(src / "pack.json", chain)
    return src


@pytest.fixture
def hub(app, school, data_dir, pack_dir):
    with clock.pretend(at(day_of(-120))):
        packs.import_pack(data_dir, pack_dir)
        study(school)
    return school


def skill(app, n: int) -> str:
    return app.extensions["catalogue"].get().catalogue.pack(PACK).skills[n].id


def items_of(app, skill_id: str, pack_id: str = PACK) -> list:
    return [i for i in app.extensions["catalogue"].get().catalogue.pack(pack_id).items if i.skill == skill_id]


def answer(app, learner, item, moment: dt.datetime, right: bool = True, pack_id: str = PACK) -> None:
    """One answer, through the service the answer page uses, at ``moment``."""
    import random

    form = right_form(item, "en") if right else wrong_form(item, "en", random.Random(1))
    with db.connection_context(), clock.pretend(moment):
        practice.record_attempt(app.extensions["engine"], learner, pack_id, item.id, decode_answer(item, form),
                                event_id=None)


def state(app, learner, skill_id: str, pack_id: str = PACK) -> str:
    with db.connection_context(), app.extensions["engine"].reading() as snap:
        return snap.state.peek(learner.uid, qualify(pack_id, skill_id)).state


def master(app, learner, skill_id: str, day: dt.date, pack_id: str = PACK) -> None:
    """Three right answers on three items (proficient), then the next day two more (the delayed
    check): mastered on ``day`` + 1 (learning/mastery.py)."""
    items = items_of(app, skill_id, pack_id)
    for n, item in enumerate(items[:3]):
        answer(app, learner, item, at(day, 9, n), pack_id=pack_id)
    assert state(app, learner, skill_id, pack_id) == "proficient"
    for n, item in enumerate(items[3:5]):
        answer(app, learner, item, at(day + dt.timedelta(days=1), 10, n), pack_id=pack_id)
    assert state(app, learner, skill_id, pack_id) == "mastered"


def override(app, school, learner, action: str, skill_id: str, moment: dt.datetime, pack_id: str = PACK) -> None:
    with db.connection_context(), clock.pretend(moment):
        classroom = school.classes["pictures"]
        teaching.override(app.extensions["engine"], school.teachers["tess"], classroom, learner, action,
                          qualify(pack_id, skill_id))


@pytest.fixture
def history(app, hub):
    """Ana: skill 0 mastered before the term; skill 1 mastered in its week 2; skill 2 marked
    mastered in week 5 and reset in week 7. Ben: skill 0 marked mastered in week 3, a review
    missed in week 9 (needs review: it no longer counts)."""
    ana, ben = hub.learners["ana"], hub.learners["ben"]
    master(app, ana, skill(app, 0), day_of(-30))
    master(app, ana, skill(app, 1), day_of(7))  # mastered on day 8: week 2
    override(app, hub, ana, "mark_mastered", skill(app, 2), at(day_of(30)))  # week 5
    override(app, hub, ana, "reset", skill(app, 2), at(day_of(44)))  # week 7
    override(app, hub, ben, "mark_mastered", skill(app, 0), at(day_of(16)))  # week 3
    answer(app, ben, items_of(app, skill(app, 0))[0], at(day_of(60)), right=False)  # week 9
    assert state(app, ben, skill(app, 0)) == "needs_review"
    return hub


def teacher(app, name: str = "tess"):
    client = app.test_client()
    sign_in_staff(client, name, TEACHER_PASSWORD)
    return client


def get(client, path: str):
    with clock.pretend(at(TODAY, 15)):
        return client.get(path)


def base(school, klass: str = "pictures") -> str:
    return f"/teach/classes/{school.classes[klass].id}/reports"


# --- reading pages and CSV files back -------------------------------------------------------------

class Tables(HTMLParser):
    """Every table of a page: its id, class and rows of cell texts (head row included)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self.cell: list[str] | None = None
        self.hidden = False  # inside a symbol for the eyes only (a chip): not read

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.tables.append({"id": attrs.get("id"), "class": attrs.get("class", ""), "rows": []})
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th") and self.tables:
            self.cell = []
        elif tag == "span" and attrs.get("aria-hidden") == "true":
            self.hidden = True

    def handle_endtag(self, tag):
        if tag == "span":
            self.hidden = False
        elif tag in ("td", "th") and self.cell is not None:
            self.tables[-1]["rows"][-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None and not self.hidden:
            self.cell.append(data)


def tables(response) -> list[dict]:
    parser = Tables()
    parser.feed(response.get_data(as_text=True))
    return parser.tables


def table(response, table_id: str) -> list[list[str]]:
    return next(t["rows"] for t in tables(response) if t["id"] == table_id)


def read_csv(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode()), "a byte order mark first, for spreadsheet programs"
    assert response.mimetype == "text/csv" and response.mimetype_params.get("charset") == "utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def numbers_of(rows: list[list[str]], skip: int) -> list[list[float | None]]:
    """Every row's cells after the first ``skip``, as numbers (an empty cell: None)."""
    return [[float(c) if c else None for c in row[skip:]] for row in rows]


# --- growth, counted by hand -----------------------------------------------------------------------

# Expected growth by the end of week k: 2 skills a year x 7k days / 7 / 36 weeks = k / 18.
EXPECTED_BY_WEEK = [0.1, 0.1, 0.2, 0.2, 0.3, 0.3, 0.4, 0.4, 0.5, 0.6, 0.6, 0.7]


def test_a_learners_growth_week_by_week_is_what_we_count_by_hand(app, history):
    client = teacher(app)
    page = get(client, f"{base(history)}/learners/{history.learners['ana'].id}")
    assert page.status_code == 200
    rows = table(page, "weeks-table")
    assert rows[0] == ["Week", "First day", "Last day", "Mastered skills", "Growth", "Expected growth"]
    weeks = rows[1:]
    assert [r[1] for r in weeks] == [day_of(7 * k).isoformat() for k in range(12)]
    assert [r[2] for r in weeks] == [day_of(7 * k + 6).isoformat() for k in range(12)]
    assert weeks[-1][2] == TODAY.isoformat()
    # Ana starts the term with 1 mastered skill; +1 in week 2; +1 in weeks 5 and 6; the reset in week 7.
    assert [int(r[3]) for r in weeks] == [1, 2, 2, 2, 3, 3, 2, 2, 2, 2, 2, 2]
    assert [int(r[4]) for r in weeks] == [0, 1, 1, 1, 2, 2, 1, 1, 1, 1, 1, 1]
    assert [float(r[5]) for r in weeks] == EXPECTED_BY_WEEK
    text = page.get_data(as_text=True)
    assert "Ana mastered 1 skill in this period." in text
    # growth 1 against 2 x 12 / 36 = 0.667 expected: 150 %
    assert "That is 150% of the growth the packs expect in this time (0.7 skills)." in text
    assert "Expected pace: 2.0 skills a school year of 36 weeks" in text


def test_the_class_summary_counts_growth_and_states_by_hand(app, history):
    page = get(teacher(app), base(history))
    assert page.status_code == 200
    growth = table(page, "growth-table")
    assert growth[0][:6] == ["Learner", "Mastered at the start", "Mastered now", "Growth", "Expected growth",
                             "Percent of expected"]
    # Ana: 1 -> 2, growth 1, 150 %. Ben: 0 -> 0 (his skill needs review now), growth 0, 0 %.
    assert [r[:6] for r in growth[1:]] == [["Ana", "1", "2", "1", "0.7", "150"], ["Ben", "0", "0", "0", "0.7", "0"]]
    (skills,) = [t["rows"] for t in tables(page) if "skills-table" in t["class"]]
    assert skills[0] == ["Skill", "Mastered", "Knows it", "In progress", "Needs review", "Not started"]
    assert skills[1:] == [["Skill 0", "1", "0", "0", "1", "0"],  # Ana mastered, Ben needs review
                          ["Skill 1", "1", "0", "0", "0", "1"],
                          ["Skill 2", "0", "0", "0", "0", "2"]]  # Ana's reset: not started again


def test_growth_can_fall_below_zero_and_a_date_starts_the_period(app, history):
    """Since day 35 (week 6): Ana had 3 mastered skills then and has 2 now; Ben had 1, has 0."""
    client = teacher(app)
    since = day_of(35).isoformat()
    page = get(client, f"{base(history)}?period=since&since={since}")
    growth = table(page, "growth-table")
    days = (TODAY - day_of(35)).days + 1  # 49 days: 7 weeks
    assert days == 49
    # expected: 2 x 7 / 36 = 0.389 -> 0.4; Ana -1 / 0.389 = -257 %; Ben -1 -> -257 %
    assert [r[:6] for r in growth[1:]] == [["Ana", "3", "2", "-1", "0.4", "-257"],
                                           ["Ben", "1", "0", "-1", "0.4", "-257"]]
    learner = get(client, f"{base(history)}/learners/{history.learners['ana'].id}?period=since&since={since}")
    assert "Ana has 1 mastered skill fewer than at the start of the period." in learner.get_data(as_text=True)
    weeks = table(learner, "weeks-table")[1:]
    assert len(weeks) == 7 and weeks[0][1] == since and weeks[-1][2] == TODAY.isoformat()
    assert [int(r[4]) for r in weeks] == [0, -1, -1, -1, -1, -1, -1]  # the reset, on day 44 (week 2 here)


def test_a_short_last_week_and_the_school_year(app, history):
    client = teacher(app)
    since = day_of(80).isoformat()  # four days: one short week
    weeks = table(get(client, f"{base(history)}/learners/{history.learners['ana'].id}?period=since&since={since}"),
                  "weeks-table")[1:]
    assert [[r[1], r[2]] for r in weeks] == [[since, TODAY.isoformat()]]
    assert weeks[0][5] == "0.0"  # 2 x 4 / 7 / 36 = 0.032
    year = table(get(client, f"{base(history)}?period=year"), "growth-table")
    # the year holds Ana's mastery of skill 0 (day -29): 0 -> 2, growth 2 against 2 x 36 / 36 = 2.0: 100 %
    assert year[1][:6] == ["Ana", "0", "2", "2", "2.0", "100"]


@pytest.mark.parametrize("query, message", [
    ("period=since&since=2026-13-01", "Write the date as year-month-day"),
    ("period=since&since=", "Give the first day of the period."),
    ("period=since&since=2026-03-28", "The first day of the period is after today."),
    ("period=since&since=2024-03-01", "A period can be at most 104 weeks long."),
    ("period=decade", "Choose one of the periods on the page."),
])
def test_a_period_that_cannot_be_is_refused_with_the_reason(app, history, query, message):
    client = teacher(app)
    page = get(client, f"{base(history)}?{query}")
    assert page.status_code == 400 and message in page.get_data(as_text=True)
    assert len(table(page, "growth-table")) == 3  # the default period is shown meanwhile
    assert get(client, f"{base(history)}/growth.csv?{query}").status_code == 400
    assert get(client, f"{base(history)}/learners/{history.learners['ana'].id}?{query}").status_code == 400


def test_the_default_period_is_the_last_twelve_weeks(app, history):
    client = teacher(app)
    default = get(client, base(history))
    assert table(default, "growth-table") == table(get(client, f"{base(history)}?period=term"), "growth-table")
    words = f"From {FIRST.isoformat()} to {TODAY.isoformat()}, today included: 12 weeks."
    assert words in default.get_data(as_text=True)


# --- CSV files equal their pages --------------------------------------------------------------------

def test_the_csv_files_hold_exactly_the_numbers_of_their_pages(app, history):
    client = teacher(app)
    for query in ("", "?period=year", f"?period=since&since={day_of(35).isoformat()}"):
        page = get(client, base(history) + query)
        shown = table(page, "growth-table")
        exported = read_csv(get(client, f"{base(history)}/growth.csv{query}"))
        assert exported[0] == ["Learner", "First day", "Last day", "Mastered at the start", "Mastered now", "Growth",
                               "Expected growth", "Percent of expected"]
        assert [r[0] for r in exported[1:]] == [r[0] for r in shown[1:]]
        assert numbers_of(exported[1:], 3) == numbers_of([r[:6] for r in shown[1:]], 1)
        assert len(exported) == 3 and {r[1] for r in exported[1:]} and {r[2] for r in exported[1:]} == {
            TODAY.isoformat()}

        (skills,) = [t["rows"] for t in tables(page) if "skills-table" in t["class"]]
        exported = read_csv(get(client, f"{base(history)}/skills.csv{query}"))
        assert exported[0][1:] == skills[0]  # the same words: Skill, then the states
        assert [r[1] for r in exported[1:]] == [r[0] for r in skills[1:]]
        assert numbers_of(exported[1:], 2) == numbers_of(skills[1:], 1)

        learner = f"{base(history)}/learners/{history.learners['ana'].id}"
        weeks = table(get(client, learner + query), "weeks-table")
        exported = read_csv(get(client, f"{learner}/growth.csv{query}"))
        assert exported[0] == weeks[0]
        assert [r[1:3] for r in exported[1:]] == [r[1:3] for r in weeks[1:]]
        assert (numbers_of([[r[0]] + r[3:] for r in exported[1:]], 0)
                == numbers_of([[r[0]] + r[3:] for r in weeks[1:]], 0))


def test_a_name_that_looks_like_a_formula_is_text_in_the_csv(app, history):
    from classroom_server.services import accounts

    with db.connection_context():
        accounts.create_learner(history.classes["pictures"], "=HYPERLINK(1)", "red", ["sun", "sun", "sun"],
                                history.teachers["tess"])
    rows = read_csv(get(teacher(app), f"{base(history)}/growth.csv"))
    assert ["'=HYPERLINK(1)"] == [r[0] for r in rows if "HYPERLINK" in r[0]]
    assert [r[5] for r in rows if r[0] == "Ana"] == ["1"] and [r[5] for r in rows if r[0] == "Ben"] == ["0"]


# --- the history folded again is the engine's --------------------------------------------------------

def test_the_history_agrees_with_the_engine_and_with_a_fold_from_the_start(app, history):
    engine = app.extensions["engine"]
    ben = history.learners["ben"]
    assert get(teacher(app), base(history)).status_code == 200  # the history folds the log so far
    with db.connection_context(), histories.reading(engine) as kept:
        folded = kept.last_row_id
    answer(app, ben, items_of(app, skill(app, 1))[0], at(day_of(82)), right=False)
    answer(app, ben, items_of(app, skill(app, 1))[1], at(day_of(82), 10), right=True)
    with db.connection_context():
        with histories.reading(engine) as kept:  # then only the two new answers
            assert kept.last_row_id > folded
            now, changes = dict(kept.now), {k: list(v) for k, v in kept.changes.items()}
        with engine.reading() as snap:
            engine_states = {(learner, s): record.state for learner, skills in snap.state.mastery.items()
                             for s, record in skills.items()}
            catalog = snap.catalog
        fresh = histories.MasteryHistory()
        fresh.refresh(catalog)
    assert now == {k: v for k, v in engine_states.items() if v != "not_started" or k in now}
    assert {k for k, v in engine_states.items() if v != "not_started"} <= set(now)
    assert fresh.now == now and fresh.changes == changes
    assert state(app, ben, skill(app, 1)) == "learning" == now[(ben.uid, qualify(PACK, skill(app, 1)))]


def test_a_pack_installed_after_the_history_was_built_makes_it_fold_again(app, history, data_dir, tmp_path):
    engine = app.extensions["engine"]
    with db.connection_context(), histories.reading(engine) as kept:
        before = (kept.catalog, dict(kept.now))
    packs.import_pack(data_dir, make_pack(tmp_path / "other", skills=2, items_per_skill=3, pack_id="org.example.other"))
    with db.connection_context():
        with histories.reading(engine) as kept:
            after = (kept.catalog, dict(kept.now))
        with engine.reading() as snap:
            assert snap.catalog is after[0] is not before[0]  # the engine's new catalogue, folded again
    assert after[1] == before[1]
    assert table(get(teacher(app), base(history)), "growth-table")[1][:4] == ["Ana", "1", "2", "1"]


# --- the family report --------------------------------------------------------------------------------

@pytest.fixture
def family(app, school, data_dir):
    """Ana studies the numbers pack (English, French, Spanish): one skill mastered, one known,
    one in progress, one to review."""
    with clock.pretend(at(day_of(-10))):
        packs.import_pack(data_dir, LIBRARY / "numbers")
        study(school, NUMBERS)
    ana = school.learners["ana"]
    skills = [s.id for s in app.extensions["catalogue"].get().catalogue.pack(NUMBERS).skills]
    master(app, ana, skills[0], day_of(1), pack_id=NUMBERS)
    override(app, school, ana, "mark_mastered", skills[3], at(day_of(5)), pack_id=NUMBERS)
    answer(app, ana, items_of(app, skills[3], NUMBERS)[0], at(day_of(6)), right=False, pack_id=NUMBERS)
    for n, item in enumerate(items_of(app, skills[1], NUMBERS)[:3]):
        answer(app, ana, item, at(day_of(7), 9, n), pack_id=NUMBERS)
    answer(app, ana, items_of(app, skills[2], NUMBERS)[0], at(day_of(7), 10), right=False, pack_id=NUMBERS)
    assert [state(app, ana, s, NUMBERS) for s in skills[:4]] == ["mastered", "proficient", "learning", "needs_review"]
    return school, skills


def titles(app, skills, lang: str) -> list[str]:
    pack = app.extensions["catalogue"].get().catalogue.pack(NUMBERS)
    return [next(s for s in pack.skills if s.id == sid).title.pick(lang) for sid in skills]


def sections(text: str) -> dict[str, str]:
    """The family report's three sections, by their heading's id."""
    return {m.group(1): m.group(2) for m in re.finditer(r'<h2 id="([a-z-]+)">.*?</h2>(.*?)</section>', text, re.S)}


@pytest.mark.parametrize("lang, mastered", [("en", "Mastered"), ("es", "Dominada"), ("fr", "Maîtrisée")])
def test_the_family_report_is_in_the_familys_language_with_the_packs_titles(app, family, lang, mastered):
    school, skills = family
    client = teacher(app)
    url = f"{base(school)}/learners/{school.learners['ana'].id}/family?language={lang}"
    page = get(client, url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f'<article class="family-report" lang="{lang}">' in text and '<html lang="en">' in text
    can, known, working, review = titles(app, skills[:4], lang)
    parts = sections(html.unescape(text))  # a title or description may hold < > ' (escaped in the page)
    assert can in parts["can-do"] and known in parts["can-do"] and f"({mastered})" in parts["can-do"]
    assert working in parts["working-on"] and review in parts["working-on"]
    assert working in parts["at-home"] and review in parts["at-home"]
    description = app.extensions["catalogue"].get().catalogue.pack(NUMBERS).skills[2].description.pick(lang)
    assert description in parts["at-home"]
    if lang != "en":
        assert not set(titles(app, skills[:4], "en")) & set(re.findall(r"> ([^<]+)<span class=\"sr\">", text))
    assert "Ben" not in text.split("<article", 1)[1], "nobody else in the family report"
    for word in ("rank", "average", "class average"):
        assert word not in text.lower().split("<article", 1)[1]


def test_the_family_report_falls_back_to_the_teachers_language(app, family):
    school, skills = family
    client = teacher(app)
    client.get("/login?lang=es")
    for asked in ("", "?language=xx", "?language=../../etc"):
        text = get(client, f"{base(school)}/learners/{school.learners['ana'].id}/family{asked}").get_data(as_text=True)
        assert '<article class="family-report" lang="es">' in text and titles(app, skills[:1], "es")[0] in text


# --- charts ---------------------------------------------------------------------------------------------

SVG_NS = "{http://www.w3.org/2000/svg}"


def svgs(response) -> list[ET.Element]:
    return [ET.fromstring(s) for s in re.findall(r"<svg\b.*?</svg>", response.get_data(as_text=True), re.S)]


def test_the_charts_are_well_formed_svg_with_a_title_a_description_and_the_grids_colours(app, history):
    from classroom_server.services import accounts

    with db.connection_context():
        odd = accounts.create_learner(history.classes["pictures"], 'Zoë <b>&"x"', "red", ["sun", "sun", "sun"],
                                      history.teachers["tess"])
    client = teacher(app)
    for path in (base(history), f"{base(history)}/learners/{history.learners['ana'].id}",
                 f"{base(history)}/learners/{odd.id}?period=year"):
        (svg,) = svgs(get(client, path))
        assert svg.tag == f"{SVG_NS}svg" and svg.get("role") == "img"
        title, desc = svg.find(f"{SVG_NS}title"), svg.find(f"{SVG_NS}desc")
        assert title is not None and title.text and desc is not None and desc.text
        assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
        fills = {e.get("fill") for e in svg.iter(f"{SVG_NS}rect")}
        assert "#1f6f3f" in fills  # .c-mastered
    assert 'Zoë <b>&"x"' in title.text  # escaped in the page, whole in the picture
    (summary,) = svgs(get(client, base(history)))
    labels = [t.text for t in summary.iter(f"{SVG_NS}text")]
    assert "Skill 0" in labels and "★1" in labels and "↻1" in labels and "·2" in labels


# --- who may see them -----------------------------------------------------------------------------------

def report_paths(school, klass: str = "pictures", learner: str = "ana") -> list[str]:
    root, person = base(school, klass), school.learners[learner].id
    return [root, f"{root}/skills.csv", f"{root}/growth.csv", f"{root}/learners/{person}",
            f"{root}/learners/{person}/growth.csv", f"{root}/learners/{person}/family?language=es"]


def test_a_teacher_never_sees_another_teachers_class_reports(app, history):
    tom = teacher(app, "tom")  # Tom teaches the PIN class; Ana and Ben are Tess's
    for path in report_paths(history):
        response = get(tom, path)
        assert response.status_code == 404, path
        assert "Ana" not in response.get_data(as_text=True)
    # his own class's id with Tess's learner: no such learner in his class
    for path in report_paths(history, "pins")[3:]:
        assert get(tom, path).status_code == 404, path
    assert all(get(tom, p).status_code == 200 for p in report_paths(history, "pins", "cleo"))
    tess = teacher(app)
    assert all(get(tess, p).status_code == 200 for p in report_paths(history))


def test_a_learner_is_refused_and_a_stranger_is_sent_to_sign_in(app, history):
    ana = app.test_client()
    sign_in_learner(ana, history, "ana")
    for path in report_paths(history):
        assert get(ana, path).status_code == 403, path
    stranger = app.test_client()
    for path in report_paths(history):
        response = get(stranger, path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_an_admin_sees_every_class_report(app, history):
    admin = app.test_client()
    sign_in_staff(admin, "admin", ADMIN_PASSWORD)
    assert all(get(admin, p).status_code == 200 for p in report_paths(history) + report_paths(history, "pins", "dev"))
