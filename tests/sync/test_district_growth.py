"""Growth on the district dashboard equals the hub's report: the same learners, the same period,
the same numbers, computed by the district from the events the hub sent, with the same pure rules
(growth_rules.py). The summaries the overviews read equal the learners' changes counted one by
one. On SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import re
import time

import pytest

from classroom_server import clock
from classroom_server.db import db
from classroom_server.growth_rules import Period
from classroom_server.services import reports, school_admin
from classroom_server.services import sync as hub_sync
from sync.district import growth, projections, service
from sync.district.models import DistrictClass, DistrictClassGrowth, DistrictLearner
from sync.district.staff import Scope
from sync.transport import AppTransport
from tests.sync.conftest import enrolled
from tests.test_reports import FIRST, TODAY, at, history, hub, pack_dir  # noqa: F401 (fixtures)

EVERYWHERE = Scope(None)
TERM = Period("term", FIRST, TODAY)


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    """The hub counts days in its local time, the district in UTC: the same here."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def synced(app, history, district):  # noqa: F811 (a fixture)
    transport = enrolled(app, district)
    with db.connection_context(), clock.pretend(at(TODAY, 16)):
        assert hub_sync.run(transport).pushed > 0
    database = district.extensions["district_database"]
    with database.connection_context():
        (registration,) = [h for h in service.hubs() if h.hub_id]
        done = projections.recompute(registration)
        assert done.problem is None, done.problem
    return registration


def _hub_report(app, school):
    with db.connection_context():
        return reports.class_report(app.extensions["engine"], school.classes["pictures"],
                                    reports.period("term", None, TODAY), "en")


def test_a_class_on_the_district_dashboard_has_the_hubs_growth_learner_by_learner(app, history, district, synced):  # noqa: F811 (a fixture)
    hub_report = _hub_report(app, history)
    with district.extensions["district_database"].connection_context():
        detail = growth.class_detail(EVERYWHERE, synced.id, history.classes["pictures"].uid, TERM, "en")
    assert detail is not None
    assert [(g.learner.uid, g.learner.display_name) for g in hub_report.growth] == \
        [(g.uid, g.name) for g in detail.learners]
    for mine, theirs in zip(hub_report.growth, detail.learners, strict=True):
        assert (mine.at_start, mine.now, mine.expected, mine.percent) == \
            (theirs.at_start, theirs.now, theirs.expected, theirs.percent)
        assert mine.weeks == theirs.weeks
    assert any(g.growth for g in detail.learners), "a history worth comparing"
    # Skills: the hub's titles and states now, learner for learner.
    hub_skills = [(s.title, s.counts) for p in hub_report.packs for s in p.skills]
    assert [(row.title, row.states) for row in detail.skills] == hub_skills
    assert detail.klass.per_year == hub_report.pace.per_year == 2.0


def test_the_summaries_equal_the_learners_changes_counted_one_by_one(app, history, district, synced):  # noqa: F811 (a fixture)
    with district.extensions["district_database"].connection_context():
        for period in (TERM, Period("since", FIRST.replace(day=1), TODAY), Period("since", TODAY, TODAY)):
            detail = growth.class_detail(EVERYWHERE, synced.id, history.classes["pictures"].uid, period, "en")
            (summary,) = [row for row in growth.classes_of(EVERYWHERE, synced.school_id, period)
                          if row.key == (synced.id, history.classes["pictures"].uid)]
            assert summary == detail.summary
            assert summary.now == sum(g.now for g in detail.learners)
            assert summary.at_start == sum(g.at_start for g in detail.learners)
            (school,) = growth.schools(EVERYWHERE, period)
            every = growth.classes_of(EVERYWHERE, synced.school_id, period)
            assert (school.now, school.at_start, school.learners) == (
                sum(r.now for r in every), sum(r.at_start for r in every), sum(r.learners for r in every))
        assert DistrictClassGrowth.select().count() > 0
        # By skill: the school's sums equal its classes' skills counted learner by learner.
        for period in (TERM, Period("since", FIRST.replace(day=1), TODAY)):
            by_skill = {r.skill: r for r in growth.skills_of(EVERYWHERE, synced.school_id, period, "en")}
            details = [growth.class_detail(EVERYWHERE, synced.id, c.uid, period, "en")
                       for c in history.classes.values()]
            for skill, row in by_skill.items():
                at_start = sum(s.at_start for d in details for s in d.skills if s.skill == skill)
                now = sum(s.states["mastered"] for d in details for s in d.skills if s.skill == skill)
                assert (row.at_start, row.now) == (at_start, now), skill


def test_the_roster_follows_the_hub_and_a_school_sees_only_its_own(app, history, district, synced):  # noqa: F811 (a fixture)
    with db.connection_context(), clock.pretend(at(TODAY, 17)):
        school_admin.update_class(history.admin, history.classes["pictures"], "Sunflowers 4B",
                                  [history.teachers["tess"].id])
        school_admin.set_class_archived(history.admin, history.classes["pins"], True)
        assert hub_sync.run(AppTransport(district)).pushed > 0
    database = district.extensions["district_database"]
    with database.connection_context():
        assert [r.hub_id for r in projections.recompute_stale()] == [synced.id]
        names = {c.class_uid: (c.name, c.archived, c.learners) for c in DistrictClass.select()}
        assert names[history.classes["pictures"].uid] == ("Sunflowers 4B", False, 2)
        assert names[history.classes["pins"].uid][1] is True
        assert {r.name for r in DistrictLearner.select()} >= {"Ana", "Ben", "Cleo", "Dev"}
        rows = growth.classes_of(EVERYWHERE, synced.school_id, TERM)
        assert [r.name for r in rows] == ["Sunflowers 4B"]  # the archived class is left out
        other = service.add_school("Riverside")
        assert growth.classes_of(Scope(int(other.id)), synced.school_id, TERM) is None
        assert growth.class_detail(Scope(int(other.id)), synced.id, history.classes["pictures"].uid, TERM,
                                   "en") is None
        assert [s.name for s in growth.schools(Scope(int(other.id)), TERM)] == ["Riverside"]


# --- the pages ------------------------------------------------------------------------------------

def _staff_client(district, username: str, school=None):
    from tests.sync.test_dashboard import _signed_in

    return _signed_in(district, username, school)


def _csv_rows(response) -> list[list[str]]:
    import csv
    import io

    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_every_growth_page_shows_the_numbers_of_its_csv_file(app, history, district, synced):  # noqa: F811 (a fixture)
    from tests.test_reports import table

    client = _staff_client(district, "dana")
    since = f"period=since&since={FIRST.isoformat()}"
    pictures = history.classes["pictures"].uid
    pages = [(f"/dashboard/growth?{since}", f"/dashboard/growth.csv?{since}"),
             (f"/dashboard/schools/{synced.school_id}/growth?{since}",
              f"/dashboard/schools/{synced.school_id}/growth.csv?{since}"),
             (f"/dashboard/hubs/{synced.id}/classes/{pictures}?{since}",
              f"/dashboard/hubs/{synced.id}/classes/{pictures}/growth.csv?{since}")]
    for page, csv_file in pages:
        answer = client.get(page)
        assert answer.status_code == 200, page
        assert "<svg" in answer.get_data(as_text=True) and "<script" not in answer.get_data(as_text=True)
        shown = [row for row in table(answer, "growth-table")[1:] if len(row) > 1]
        body = _csv_rows(client.get(csv_file))[1:]
        assert len(body) == len(shown) >= 1, page
        for on_page, in_file in zip(shown, body, strict=True):
            assert on_page[0] == in_file[0]
            # at the start, now, growth, expected, percent (and the learners, but a class's rows are learners)
            assert on_page[-5:] == in_file[-5:], page
            if "/classes/" not in page:
                assert on_page[-6] == in_file[2], page
    school_page = client.get(f"/dashboard/schools/{synced.school_id}/growth?{since}")
    by_skill = [row for row in table(school_page, "skills-table")[1:]]
    skills_file = _csv_rows(client.get(f"/dashboard/schools/{synced.school_id}/skills.csv?{since}"))[1:]
    assert len(by_skill) == len(skills_file) == 3
    assert [row[1:] for row in by_skill] == [[row[2]] + row[5:] for row in skills_file]
    skills = client.get(f"/dashboard/hubs/{synced.id}/classes/{pictures}?{since}")
    on_page = [row for row in table(skills, "skills-table")[1:]]
    in_file = _csv_rows(client.get(f"/dashboard/hubs/{synced.id}/classes/{pictures}/skills.csv?{since}"))[1:]
    assert [row[1:] for row in on_page] == [row[2:] for row in in_file]
    ana = history.learners["ana"].uid
    learner = client.get(f"/dashboard/hubs/{synced.id}/classes/{pictures}/learners/{ana}?{since}")
    assert learner.status_code == 200 and "Ana" in learner.get_data(as_text=True)
    assert len(table(learner, "competencies")) == 1 + 3


def test_a_schools_staff_cannot_open_another_schools_growth(app, history, district, synced):  # noqa: F811 (a fixture)
    pictures = history.classes["pictures"].uid
    ana = history.learners["ana"].uid
    outsider = _staff_client(district, "sam", "Riverside School")
    for path in (f"/dashboard/schools/{synced.school_id}/growth", f"/dashboard/schools/{synced.school_id}/growth.csv",
                 f"/dashboard/hubs/{synced.id}/classes/{pictures}",
                 f"/dashboard/hubs/{synced.id}/classes/{pictures}/growth.csv",
                 f"/dashboard/hubs/{synced.id}/classes/{pictures}/skills.csv",
                 f"/dashboard/hubs/{synced.id}/classes/{pictures}/learners/{ana}", "/dashboard/hubs/999/classes/nope"):
        assert outsider.get(path).status_code == 404, path
    mine = outsider.get("/dashboard/growth.csv")
    assert [r[0] for r in _csv_rows(mine)[1:]] == ["Riverside School"]
    insider = _staff_client(district, "hana", "Hillside Primary")
    assert insider.get(f"/dashboard/hubs/{synced.id}/classes/{pictures}").status_code == 200
    assert district.test_client().get("/dashboard/growth").status_code == 302  # signed out: to the sign-in page


def test_a_bad_period_is_explained_and_the_default_shown(app, history, district, synced):  # noqa: F811 (a fixture)
    client = _staff_client(district, "dana")
    answer = client.get("/dashboard/growth?period=since&since=yesterday")
    assert answer.status_code == 400
    assert "Write the date as year-month-day" in answer.get_data(as_text=True)
    assert "Crecimiento" in client.get("/dashboard/growth?lang=es").get_data(as_text=True)


# --- courses and assignments from the dashboard ------------------------------------------------------

def _roster_hub(app, district, data_dir, roster):
    """A hub with the fractions pack, enrolled, the district's roster published and synced, its
    projections recomputed: (pack id, the district's database, a sync-and-recompute, the hub's
    registration)."""
    from classroom_server.services import packs
    from tests.sync.test_pull import LIBRARY, publish

    packs.import_pack(data_dir, LIBRARY / "fractions")
    transport = enrolled(app, district)
    publish(district, roster)
    database = district.extensions["district_database"]

    def sync_and_recompute() -> None:
        with db.connection_context():
            hub_sync.run(transport)
        with database.connection_context():
            projections.recompute_stale()

    sync_and_recompute()
    with database.connection_context():
        (registration,) = [h for h in service.hubs() if h.hub_id]
    return "org.openclassroom.fractions", database, sync_and_recompute, registration

def test_the_district_gives_its_roster_class_courses_and_an_assignment_that_reach_the_hub(app, school, district,
                                                                                         data_dir):
    from classroom_server.models import Classroom, Person
    from classroom_server.services import courses, teaching
    from tests.sync.test_dashboard import _post
    from tests.sync.test_pull import enrol, klass, user

    fractions, database, sync_and_recompute, registration = _roster_hub(
        app, district, data_dir, [user("s-1", "Amara", "Diallo"), klass("c-4a", "Class 4A"),
                                  enrol("e-1", "c-4a", "s-1")])
    client = _staff_client(district, "dana")
    page = f"/dashboard/hubs/{registration.id}/classes/c-4a"
    assert "Send these courses" in client.get(page).get_data(as_text=True)
    refused = _post(client, page + "/courses", {"pack": fractions, f"from-{fractions}": "5", f"to-{fractions}": "3"},
                    follow_redirects=True)
    assert "The first grade must not come after the last." in refused.get_data(as_text=True)
    sent = _post(client, page + "/courses", {"pack": fractions, f"from-{fractions}": "3", f"to-{fractions}": "3"},
                 follow_redirects=True)
    text = sent.get_data(as_text=True)
    assert "Sent: Room 4 gives Class 4A these courses" in text and "not yet applied by the hub" in text
    sync_and_recompute()
    with db.connection_context():
        assert courses.courses_of(Classroom.get(Classroom.uid == "c-4a")) == [courses.Course(fractions, (3, 3))]
    page_now = client.get(page).get_data(as_text=True)
    assert "not yet applied" not in page_now
    with database.connection_context():
        skill = growth.find_class(EVERYWHERE, registration.id, "c-4a")
        first = json.loads(skill.skills)[0]["skills"][-1][0]
    assert "is not in this class" in _post(client, page + "/assignment", {"skill": f"{fractions}:nope"},
                                            follow_redirects=True).get_data(as_text=True)
    _post(client, page + "/assignment", {"skill": f"{fractions}:{first}"})
    sync_and_recompute()
    with db.connection_context():
        assert teaching.assignments_for(Person.get(Person.uid == "s-1")) == (f"{fractions}:{first}",)
    # A school's staff read it; only the district's staff send; a hub's own class takes nothing.
    local = _staff_client(district, "hana", "Hillside Primary")
    assert "Send these courses" not in local.get(page).get_data(as_text=True)
    assert _post(local, page + "/courses", {"pack": fractions}).status_code == 403
    own = school.classes["pictures"].uid
    assert "made on its hub" in client.get(f"/dashboard/hubs/{registration.id}/classes/{own}").get_data(as_text=True)
    assert "made on its hub" in _post(client, f"/dashboard/hubs/{registration.id}/classes/{own}/courses",
                                      {"pack": fractions}, follow_redirects=True).get_data(as_text=True)


def test_the_district_gives_every_roster_class_of_a_school_the_same_courses(app, school, district, data_dir):
    from classroom_server.models import Classroom
    from classroom_server.services import courses
    from tests.sync.test_dashboard import _post
    from tests.sync.test_pull import klass

    fractions, database, sync_and_recompute, registration = _roster_hub(
        app, district, data_dir, [klass("c-4a", "Class 4A"), klass("c-4b", "Class 4B")])
    client = _staff_client(district, "dana")
    page = f"/dashboard/schools/{registration.school_id}/growth"
    shown = client.get(page).get_data(as_text=True)
    assert "Courses for every class of the district" in shown
    title = re.search(r"<title>(.*?)</title>", shown, re.S).group(1)
    assert title.startswith("Growth · Hillside Primary") and "<" not in title  # the form once landed in it
    refused = _post(client, page.replace("/growth", "/courses"), {"pack": "org.example.none"}, follow_redirects=True)
    assert "No hub of this school has the pack org.example.none." in refused.get_data(as_text=True)
    sent = _post(client, page.replace("/growth", "/courses"),
                 {"pack": fractions, f"from-{fractions}": "4", f"to-{fractions}": "4"}, follow_redirects=True)
    assert "Sent to 2 classes" in sent.get_data(as_text=True)
    sync_and_recompute()
    with db.connection_context():
        for uid in ("c-4a", "c-4b"):
            assert courses.courses_of(Classroom.get(Classroom.uid == uid)) == [courses.Course(fractions, (4, 4))]
        own = courses.courses_of(school.classes["pictures"])
    assert own == []  # the hub's own classes are its teachers'
    again = _post(client, page.replace("/growth", "/courses"),
                  {"pack": fractions, f"from-{fractions}": "4", f"to-{fractions}": "4"}, follow_redirects=True)
    assert "Nothing changed" in again.get_data(as_text=True)
    local = _staff_client(district, "hana", "Hillside Primary")
    assert "Courses for every class" not in local.get(page).get_data(as_text=True)
    assert _post(local, page.replace("/growth", "/courses"), {"pack": fractions}).status_code == 403
