"""Growth on the district dashboard equals the hub's report: the same learners, the same period,
the same numbers, computed by the district from the events the hub sent, with the same pure rules
(growth_rules.py). The summaries the overviews read equal the learners' changes counted one by
one. On SQLite and on PostgreSQL."""

from __future__ import annotations

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
