"""Growth on the district dashboard: skills mastered over time by school, class and learner,
against the pace each class's courses expect, with the hub's own rules (growth_rules.py).

Two halves:

- **Computed with each hub's projections** (``summarise``, pure, called by projections.compute):
  the hub's roster (projection_rules.fold_roster), each class's learners now, its courses' skills
  and pace from the engine manifests the hub sent (``ManifestCatalogue``), and the class's
  summary: per UTC day, how much its count of (learner, course skill) pairs *mastered* moved.
  These rows are replaced with every recomputation of the hub, in the same transaction as the
  mastery rows, so they are a function of the same events; a test checks a summary against the
  learners' changes counted one by one.
- **Read for the pages** (``schools``, ``classes_of``, ``class_detail``, ``learner_detail``): the
  overviews sum the summaries in the database (one grouped query: a row per school or class and
  week); a class's and a learner's pages read the changes of its few learners.

Days at the district are UTC days (the district cannot know each hub's time zone): a figure here
may differ from the hub's report of the same period by what was mastered in the hours between
the hub's midnight and UTC's. Everything else is the hub's definition.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from peewee import SQL, Case, fn

from classroom_server.growth_rules import (
    MASTERED,
    NOW,
    ChangeLog,
    Course,
    Period,
    Week,
    counts,
    course_skills,
    expected,
    pace_of,
    percent_of,
    round_half_up,
    weeks_of,
)
from classroom_server.learning.adapter import pack_history
from classroom_server.projection_rules import Roster
from content_packs.graph import topological_order
from sync.district.models import (
    DistrictChange,
    DistrictClass,
    DistrictClassGrowth,
    DistrictEnrollment,
    DistrictLearner,
    DistrictMastery,
    DistrictSkillGrowth,
    Hub,
    School,
)
from sync.district.staff import Scope

DAY = 86400
GROWTH_ALGORITHM = "growth-4"  # what summarise computes: a change recomputes every hub
Row = dict[str, Any]


# --- the packs, from the manifests the hubs sent ---------------------------------------------------

@dataclass(frozen=True)
class ManifestSkill:
    id: str
    prerequisites: tuple[str, ...]
    grades: tuple[int, int] | None
    title: Mapping[str, str]


@dataclass(frozen=True)
class ManifestPack:
    id: str
    version: str
    grades: tuple[int, int] | None
    title: Mapping[str, str]
    skills: tuple[ManifestSkill, ...]


def _grades(value: Any) -> tuple[int, int] | None:
    return (int(value[0]), int(value[1])) if value else None


class ManifestCatalogue:
    """The packs a hub has installed, shaped like its content catalogue for growth_rules: ids,
    prerequisites, grades and titles from the engine manifests (a manifest from before they
    carried grades and titles gives a pack without grades, titled by its id)."""

    def __init__(self, manifests: Iterable[Mapping[str, Any]]) -> None:
        self._packs: dict[str, ManifestPack] = {}
        self._order: dict[str, tuple[tuple[str, str], ...]] = {}
        for manifest in sorted(manifests, key=lambda m: str(m["pack"])):
            skills = tuple(ManifestSkill(str(s["id"]), tuple(s.get("prerequisites", ())), _grades(s.get("grades")),
                                         dict(s.get("title") or {})) for s in manifest.get("skills", ()))
            pack = ManifestPack(str(manifest["pack"]), str(manifest["version"]), _grades(manifest.get("grades")),
                                dict(manifest.get("title") or {}), skills)
            self._packs[pack.id] = pack
            order = topological_order({s.id: [p for p in s.prerequisites] for s in skills})
            self._order[pack.id] = tuple((pack.id, s) for s in order)
        self._skills = {(p.id, s.id): s for p in self._packs.values() for s in p.skills}

    @property
    def packs(self) -> tuple[ManifestPack, ...]:
        return tuple(self._packs.values())

    def pack(self, pack_id: str) -> ManifestPack:
        return self._packs[pack_id]

    def skill(self, pack_id: str, skill_id: str) -> ManifestSkill:
        return self._skills[(pack_id, skill_id)]

    def topological_order(self, pack_id: str) -> tuple[tuple[str, str], ...]:
        return self._order[pack_id]


def catalogue_of(pack_events: Iterable[Mapping[str, Any]], manifests: Mapping[str, Mapping[str, Any]]
                 ) -> ManifestCatalogue:
    """The active pack versions of a hub, from its pack events (canonical order) and manifests."""
    _, active = pack_history(pack_events)
    return ManifestCatalogue(manifests[key] for key in active.values() if key in manifests)


def words(title: Mapping[str, str], lang: str, default: str) -> str:
    """A title in ``lang``, else in English, else in its first language, else ``default``."""
    return title.get(lang) or title.get("en") or next(iter(title.values()), None) or default


# --- the summaries, with each recomputation ---------------------------------------------------------

@dataclass
class Summary:
    """What ``summarise`` gives, as rows for the district's tables (without the hub)."""

    classes: list[Row] = field(default_factory=list)
    learners: list[Row] = field(default_factory=list)
    enrolled: list[Row] = field(default_factory=list)
    changes: list[Row] = field(default_factory=list)
    days: list[Row] = field(default_factory=list)
    skill_days: list[Row] = field(default_factory=list)
    packs: list[Row] = field(default_factory=list)


def day_of(at: float) -> int:
    """The UTC day (days since 1970-01-01) of a time in epoch seconds."""
    return math.floor(at / DAY)


def summarise(roster: Roster, courses: Mapping[str, Row], log: ChangeLog, catalogue: ManifestCatalogue) -> Summary:
    """A hub's classes, learners and changes, and each class's summary by day. Pure."""
    out = Summary()
    for pack in catalogue.packs:
        out.packs.append({"pack_id": pack.id, "version": pack.version, "title": json.dumps(dict(pack.title)),
                          "grades": json.dumps(list(pack.grades)) if pack.grades else None,
                          "skills": json.dumps([[s, dict(catalogue.skill(pack.id, s).title)]
                                                for _, s in catalogue.topological_order(pack.id)],
                                               ensure_ascii=False)})
    for uid, row in sorted(roster.learners.items()):
        out.learners.append({"learner_uid": uid, "name": row["display_name"], "archived": row["archived"]})
    for learner, changes in sorted(log.changes.items()):
        out.changes += [{"learner_uid": learner, "skill": skill, "state": state, "at": at}
                        for at, skill, state in changes]
    for uid, klass in sorted(roster.classes.items()):
        learners = [lr for lr in roster.learners_in(uid) if not roster.learners[lr]["archived"]]
        out.enrolled += [{"class_uid": uid, "learner_uid": lr} for lr in roster.learners_in(uid)]
        studied = [Course.from_json(c) for c in json.loads(courses[uid]["courses"])] if uid in courses else []
        pace = pace_of(catalogue, studied)
        packs = [{"id": pack_id, "title": dict(catalogue.pack(pack_id).title),
                  "skills": [[skill, dict(catalogue.skill(pack_id, skill).title)] for skill in skills]}
                 for pack_id, skills in course_skills(catalogue, studied).items()]
        out.classes.append({"class_uid": uid, "name": klass["name"], "archived": klass["archived"],
                            "learners": len(learners), "per_year": pace.per_year,
                            "skills": json.dumps(packs, sort_keys=True, ensure_ascii=False)})
        moved: Counter[int] = Counter()
        by_skill: Counter[tuple[str, int]] = Counter()
        for learner in learners:
            held: set[str] = set()
            for at, skill, state in log.changes.get(learner, ()):
                if skill not in pace.skills:
                    continue
                step = 0
                if state == MASTERED and skill not in held:
                    held.add(skill)
                    step = 1
                elif state != MASTERED and skill in held:
                    held.discard(skill)
                    step = -1
                if step:
                    moved[day_of(at)] += step
                    by_skill[(skill, day_of(at))] += step
        out.days += [{"class_uid": uid, "day": day, "delta": delta} for day, delta in sorted(moved.items()) if delta]
        out.classes[-1]["mastered"] = sum(moved.values())
        out.skill_days += [{"class_uid": uid, "skill": skill, "day": day, "delta": delta}
                           for (skill, day), delta in sorted(by_skill.items()) if delta]
    return out


# --- periods at the district --------------------------------------------------------------------------

def today() -> dt.date:
    """Today at the district, in UTC."""
    return dt.datetime.now(dt.UTC).date()


def _epoch_day(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days


def moments_of(chosen: Period) -> list[float]:
    """The start of the period, then the end of each week (``NOW`` for the one ending today), in
    epoch seconds at UTC midnights."""
    spans = chosen.week_spans()
    return [_epoch_day(chosen.first_day) * DAY] + [
        NOW if last == chosen.today else (_epoch_day(last) + 1) * DAY for _, last in spans]


# --- the overviews: schools, and a school's classes -------------------------------------------------

@dataclass(frozen=True)
class GrowthRow:
    """A school's or a class's growth over the period: the sums over its learners."""

    key: Any  # a school's id, or (hub registration id, class uid)
    name: str
    classes: int
    learners: int
    at_start: int
    now: int
    expected: float  # to one decimal
    percent: int | None
    weeks: tuple[Week, ...]
    pace: float  # skills a school year, for every learner together (unrounded)
    hub: str = ""  # a class's hub

    @property
    def growth(self) -> int:
        return self.now - self.at_start


def _buckets(chosen: Period) -> tuple[Any, int]:
    """A SQL expression giving a summary row's week of the period (-1: before it), and the weeks."""
    start = _epoch_day(chosen.first_day)
    weeks = len(chosen.week_spans())
    day = DistrictClassGrowth.day
    return Case(None, [(day < start, -1), (day >= start + 7 * (weeks - 1), weeks - 1)], (day - start) / 7), weeks


def _rows_of(found: Mapping[Any, dict[int, int]], chosen: Period, weeks: int) -> dict[Any, list[int]]:
    """Key -> mastered counts at the start and at each week's end, from the moves per week."""
    counted = {}
    for key, moved in found.items():
        running = moved.get(-1, 0)
        series = [running]
        for week in range(weeks):
            running += moved.get(week, 0)
            series.append(running)
        counted[key] = series
    return counted


def growth_row(key: Any, name: str, classes: int, learners: int, pace_sum: float, series: list[int],
                chosen: Period, **names: str) -> GrowthRow:
    series = series or [0] * (len(chosen.week_spans()) + 1)
    wanted = expected(pace_sum, chosen.days)
    return GrowthRow(key, name, classes, learners, series[0], series[-1], round_half_up(wanted, 1),
                     percent_of(series[-1] - series[0], wanted), weeks_of(chosen, series, pace_sum), pace_sum, **names)


def school_name(school_id: int) -> str:
    found = School.get_or_none(School.id == school_id)
    return found.name if found else ""


def schools(scope: Scope, chosen: Period) -> list[GrowthRow]:
    """Every school the scope allows: its classes' growth summed (archived classes left out).

    It reads the summary rows of the period only (an index on the day), not a whole year's: each
    class keeps its count now (``DistrictClass.mastered``), and the count at the start is that
    minus what moved since."""
    allowed = {int(s.id): s.name for s in scope.schools()}
    if not allowed:
        return []
    bucket, weeks = _buckets(chosen)
    live = DistrictClass.archived == False  # noqa: E712
    if scope.school_id is not None:
        live &= Hub.school.in_(list(allowed))
    sizes = cast("list[tuple[int, int, int, float, int]]", list(
        DistrictClass.select(Hub.school, fn.COUNT(DistrictClass.class_uid), fn.SUM(DistrictClass.learners),
                             fn.SUM(DistrictClass.learners * DistrictClass.per_year), fn.SUM(DistrictClass.mastered))
        .join(Hub).where(live).group_by(Hub.school).tuples()))
    moved: dict[int, dict[int, int]] = {}
    for school, week, delta in cast("list[tuple[int, int, int]]", list(
            DistrictClassGrowth.select(Hub.school, bucket, fn.SUM(DistrictClassGrowth.delta))
            .join(DistrictClass, on=((DistrictClass.hub == DistrictClassGrowth.hub)
                                     & (DistrictClass.class_uid == DistrictClassGrowth.class_uid)))
            .join(Hub, on=(Hub.id == DistrictClass.hub))
            .where(live & (DistrictClassGrowth.day >= _epoch_day(chosen.first_day)))
            .group_by(Hub.school, SQL("2")).tuples())):  # by position: PostgreSQL sees two parameters twice
        moved.setdefault(int(school), {})[int(week)] = int(delta)
    size = {}
    for school, classes, learners, pace, now_ in sizes:
        size[int(school)] = (int(classes), int(learners or 0), float(pace or 0))
        since = moved.setdefault(int(school), {})
        since[-1] = int(now_ or 0) - sum(since.values())  # mastered at the start: now, less what moved since
    series = _rows_of(moved, chosen, weeks)
    return [growth_row(school_id, name, *size.get(school_id, (0, 0, 0.0)), series.get(school_id, []), chosen)
            for school_id, name in allowed.items()]


def classes_of(scope: Scope, school_id: int, chosen: Period) -> list[GrowthRow] | None:
    """A school's classes (not archived), by name; None when the scope does not allow it."""
    if not scope.allows(school_id) or School.get_or_none(School.id == school_id) is None:
        return None
    bucket, weeks = _buckets(chosen)
    live = (DistrictClass.archived == False) & (Hub.school == school_id)  # noqa: E712
    found = list(DistrictClass.select(DistrictClass, Hub).join(Hub).where(live)
                 .order_by(DistrictClass.name, Hub.name))
    moved: dict[tuple[int, str], dict[int, int]] = {}
    for hub, uid, week, delta in cast("list[tuple[int, str, int, int]]", list(
            DistrictClassGrowth.select(DistrictClassGrowth.hub, DistrictClassGrowth.class_uid, bucket,
                                       fn.SUM(DistrictClassGrowth.delta))
            .join(Hub, on=(Hub.id == DistrictClassGrowth.hub)).where(Hub.school == school_id)
            .group_by(DistrictClassGrowth.hub, DistrictClassGrowth.class_uid, SQL("3")).tuples())):
        moved.setdefault((int(hub), uid), {})[int(week)] = int(delta)
    series = _rows_of(moved, chosen, weeks)
    return [growth_row((int(c.hub_id), c.class_uid), c.name, 1, int(c.learners), c.learners * c.per_year,
                        series.get((int(c.hub_id), c.class_uid), []), chosen, hub=c.hub.name) for c in found]


@dataclass(frozen=True)
class SkillGrowth:
    """One course skill across a school's classes (not archived): its learners, and how many had it
    mastered at the start of the period and have now."""

    skill: str  # as the engine names it
    title: str
    pack: str
    learners: int  # learners now in the classes that study it
    at_start: int
    now: int

    @property
    def growth(self) -> int:
        return self.now - self.at_start


def skills_of(scope: Scope, school_id: int, chosen: Period, lang: str) -> list[SkillGrowth] | None:
    """A school's course skills, pack by pack in the courses' order, summed over its classes."""
    if not scope.allows(school_id) or School.get_or_none(School.id == school_id) is None:
        return None
    start = _epoch_day(chosen.first_day)
    live = (DistrictClass.archived == False) & (Hub.school == school_id)  # noqa: E712
    studied: dict[str, list[Any]] = {}  # skill -> [title, pack title, learners]
    classes = set()
    for klass in DistrictClass.select(DistrictClass).join(Hub).where(live).order_by(DistrictClass.name):
        classes.add((int(klass.hub_id), klass.class_uid))
        for skill, title, pack in class_skills(klass, lang):
            studied.setdefault(skill, [title, pack, 0])[2] += int(klass.learners)
    if not studied:
        return []
    sums: dict[str, tuple[int, int]] = {}
    before = fn.SUM(Case(None, [(DistrictSkillGrowth.day < start, DistrictSkillGrowth.delta)], 0))
    for hub, uid, skill, at_start, now_ in cast("list[tuple[int, str, str, int, int]]", list(
            DistrictSkillGrowth.select(DistrictSkillGrowth.hub, DistrictSkillGrowth.class_uid,
                                       DistrictSkillGrowth.skill, before, fn.SUM(DistrictSkillGrowth.delta))
            .join(Hub, on=(Hub.id == DistrictSkillGrowth.hub)).where(Hub.school == school_id)
            .group_by(DistrictSkillGrowth.hub, DistrictSkillGrowth.class_uid, DistrictSkillGrowth.skill).tuples())):
        if (int(hub), uid) in classes:
            a, b = sums.get(skill, (0, 0))
            sums[skill] = (a + int(at_start or 0), b + int(now_ or 0))
    return [SkillGrowth(skill, title, pack, learners, *sums.get(skill, (0, 0)))
            for skill, (title, pack, learners) in studied.items()]


# --- one class, one learner ------------------------------------------------------------------------------

@dataclass(frozen=True)
class LearnerGrowth:
    uid: str
    name: str
    at_start: int
    now: int
    expected: float
    percent: int | None
    weeks: tuple[Week, ...]

    @property
    def growth(self) -> int:
        return self.now - self.at_start


@dataclass(frozen=True)
class SkillRow:
    skill: str  # as the engine names it
    title: str
    pack: str  # the pack's title
    at_start: int  # learners who had it mastered at the start of the period
    states: dict[str, int]  # state now -> learners


@dataclass(frozen=True)
class ClassDetail:
    registration: Hub
    klass: DistrictClass
    summary: GrowthRow
    learners: list[LearnerGrowth]  # by name
    skills: list[SkillRow]
    grid: dict[tuple[str, str], str]  # (learner uid, skill) -> state now


STATES = ("mastered", "proficient", "learning", "needs_review", "not_started")


def find_class(scope: Scope, registration_id: int, class_uid: str) -> DistrictClass | None:
    found = (DistrictClass.select(DistrictClass, Hub, School).join(Hub).join(School)
             .where(DistrictClass.hub == registration_id, DistrictClass.class_uid == class_uid).first())
    if found is None or not scope.allows(int(found.hub.school_id)):
        return None
    return found


def class_skills(klass: DistrictClass, lang: str) -> list[tuple[str, str, str]]:
    """(engine skill id, skill title, pack title) of the class's courses, in the courses' order."""
    found = []
    for pack in json.loads(klass.skills):
        pack_title = words(pack["title"], lang, pack["id"])
        found += [(f"{pack['id']}:{skill}", words(title, lang, skill), pack_title) for skill, title in pack["skills"]]
    return found


def _changes_of(registration_id: int, learners: Sequence[str]) -> dict[str, list[tuple[float, str, str]]]:
    found: dict[str, list[tuple[float, str, str]]] = {uid: [] for uid in learners}
    if learners:
        for uid, at, skill, state in cast("list[tuple[str, float, str, str]]", list(
                DistrictChange.select(DistrictChange.learner_uid, DistrictChange.at, DistrictChange.skill,
                                      DistrictChange.state)
                .where(DistrictChange.hub == registration_id, DistrictChange.learner_uid.in_(list(learners)))
                .order_by(DistrictChange.id).tuples())):
            found[uid].append((at, skill, state))
    return found


def learners_of(klass: DistrictClass) -> list[tuple[str, str]]:
    """(uid, name) of the class's learners now (not archived), by name."""
    return cast("list[tuple[str, str]]", list(
        DistrictLearner.select(DistrictLearner.learner_uid, DistrictLearner.name)
        .join(DistrictEnrollment, on=((DistrictEnrollment.hub == DistrictLearner.hub)
                                      & (DistrictEnrollment.learner_uid == DistrictLearner.learner_uid)))
        .where(DistrictLearner.hub == klass.hub_id, DistrictEnrollment.class_uid == klass.class_uid,
               DistrictLearner.archived == False)  # noqa: E712
        .order_by(DistrictLearner.name, DistrictLearner.learner_uid).tuples()))


def _learner_growth(uid: str, name: str, changes: Sequence[tuple[float, str, str]], skills: frozenset[str],
                    per_year: float, chosen: Period, moments: list[float]) -> LearnerGrowth:
    series = counts(changes, skills, moments)
    wanted = expected(per_year, chosen.days)
    return LearnerGrowth(uid, name, series[0], series[-1], round_half_up(wanted, 1),
                         percent_of(series[-1] - series[0], wanted), weeks_of(chosen, series, per_year))


def class_detail(scope: Scope, registration_id: int, class_uid: str, chosen: Period, lang: str) -> ClassDetail | None:
    klass = find_class(scope, registration_id, class_uid)
    if klass is None:
        return None
    skills = class_skills(klass, lang)
    wanted = frozenset(s for s, _, _ in skills)
    people = learners_of(klass)
    changes = _changes_of(registration_id, [uid for uid, _ in people])
    moments = moments_of(chosen)
    learners = [_learner_growth(uid, name, changes[uid], wanted, klass.per_year, chosen, moments)
                for uid, name in people]
    series = [sum(column) for column in zip(*[[g.at_start, *[w.mastered for w in g.weeks]] for g in learners],
                                             strict=True)] if learners else []
    summary = growth_row((registration_id, class_uid), klass.name, 1, len(learners),
                          len(learners) * klass.per_year, series, chosen, hub=klass.hub.name)
    grid: dict[tuple[str, str], str] = {}
    uids = [uid for uid, _ in people]
    if uids and wanted:
        for uid, skill, state in cast("list[tuple[str, str, str]]", list(
                DistrictMastery.select(DistrictMastery.learner_uid, DistrictMastery.skill, DistrictMastery.state)
                .where(DistrictMastery.hub == registration_id, DistrictMastery.learner_uid.in_(uids),
                       DistrictMastery.skill.in_(sorted(wanted))).tuples())):
            grid[(uid, skill)] = state
    start = moments[0]
    rows = []
    for skill, title, pack in skills:
        states = dict.fromkeys(STATES, 0)
        for uid in uids:
            states[grid.get((uid, skill), "not_started")] += 1
        at_start = sum(counts(changes[uid], frozenset([skill]), [start])[0] for uid in uids)
        rows.append(SkillRow(skill, title, pack, at_start, states))
    return ClassDetail(klass.hub, klass, summary, learners, rows, grid)


@dataclass(frozen=True)
class LearnerDetail:
    klass: DistrictClass
    growth: LearnerGrowth
    skills: list[tuple[str, str, str, str, int]]  # (skill, title, pack title, state now, answers)


def learner_detail(scope: Scope, registration_id: int, class_uid: str, learner_uid: str, chosen: Period,
                   lang: str) -> LearnerDetail | None:
    klass = find_class(scope, registration_id, class_uid)
    if klass is None:
        return None
    person = dict(learners_of(klass)).get(learner_uid)
    if person is None:
        return None
    skills = class_skills(klass, lang)
    wanted = frozenset(s for s, _, _ in skills)
    changes = _changes_of(registration_id, [learner_uid])[learner_uid]
    growth = _learner_growth(learner_uid, person, changes, wanted, klass.per_year, chosen, moments_of(chosen))
    rows = {r.skill: r for r in DistrictMastery.select(DistrictMastery.skill, DistrictMastery.state,
                                                        DistrictMastery.attempts)
            .where(DistrictMastery.hub == registration_id, DistrictMastery.learner_uid == learner_uid)}
    found = [(skill, title, pack, rows[skill].state if skill in rows else "not_started",
              int(rows[skill].attempts) if skill in rows else 0) for skill, title, pack in skills]
    return LearnerDetail(klass, growth, found)

