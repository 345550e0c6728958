"""Courses, the expected pace and growth: the pure rules, for the hub's reports and the district's.

A hub's teacher reads "132 % of the expected growth" in the class report; district staff read the
same figure for the class on the district dashboard. Both compute it with these functions, from
the same events and pack versions, so the numbers agree (DESIGN.md, "Reproducible projections").
Standard library only; the learning engine's pure modules for the fold.

A *catalogue* here is anything shaped like the hub's pack catalogue: ``packs`` (each with ``id``,
``grades`` and ``skills``, each skill with ``id``, ``grades`` and ``prerequisites``),
``pack(pack_id)``, ``skill(pack_id, skill_id)`` and ``topological_order(pack_id)`` (pairs
``(pack_id, skill_id)``, prerequisites first). The hub passes its content catalogue; the district
builds one from the engine manifests its hubs sent (sync/district/growth.py).

The definitions (the teacher's guide and the district guide give them in plain words):

- **Course**: a pack, or a pack and a grade band [lowest, highest]. The band's skills are those
  whose grades meet the band (a skill without grades is in every band), and with them every
  prerequisite they rest on in the pack.
- **Mastered skills at a moment**: the course skills whose state was *mastered* just before that
  moment, from the event log (``ChangeLog``). A skill that needs review does not count until a
  right answer restores it; a skill the teacher marked mastered counts from the mark.
- **Expected pace**: a course expects its skills over the school years of its grades. A grade's
  skills are the course's skills whose grades include that grade (a skill without grades counts in
  every grade); a course's skills per year are the mean, over the grades of its band (the course's
  band, else the pack's grades), of its skills per grade; a course with no grades at all expects
  all its skills in one year. A class's pace is the sum over its courses.
- **Expected growth so far**: skills per year x (days in the period / 7) / ``SCHOOL_YEAR_WEEKS``.
- **% of expected**: growth / expected growth x 100, none when nothing is expected. Rounding:
  expected growth to one decimal, the percentage to a whole number, halves up, both from the
  unrounded expectation.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

SCHOOL_YEAR_WEEKS = 36  # assumption: weeks of school in a school year
TERM_WEEKS = 12  # assumption: weeks of school in a term
MAX_WEEKS = 104  # the longest period anyone may ask for (two years)
PERIODS = ("term", "year", "since")
DEFAULT_PERIOD = "term"
NOW = math.inf  # a moment after every change: the states now
NOT_STARTED = "not_started"
MASTERED = "mastered"


def round_half_up(value: float, digits: int = 0) -> float:
    """Rounded as people do it by hand (2.25 -> 2.3, 12.5 -> 13), not to the even neighbour."""
    step = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(value)).quantize(step, rounding=ROUND_HALF_UP))


def percent_of(growth: float, expected: float) -> int | None:
    """Growth as a whole percentage of the (unrounded) expected growth; None when none is expected."""
    return int(round_half_up(100 * growth / expected)) if expected > 0 else None


# --- courses ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Course:
    """One pack a class studies, whole (``grades`` None) or for a band of grades."""

    pack_id: str
    grades: tuple[int, int] | None = None

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"pack": self.pack_id}
        if self.grades is not None:
            found["grades"] = list(self.grades)
        return found

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Course:
        grades = data.get("grades")
        return cls(str(data["pack"]), (int(grades[0]), int(grades[1])) if grades else None)


def installed(catalogue: Any, pack_id: str) -> bool:
    return any(pack.id == pack_id for pack in catalogue.packs)


def in_band(skill: Any, band: tuple[int, int] | None) -> bool:
    if band is None or skill.grades is None:
        return True
    return bool(skill.grades[0] <= band[1] and skill.grades[1] >= band[0])


def course_skills(catalogue: Any, courses: Iterable[Course]) -> dict[str, list[str]]:
    """Pack id -> the courses' skill ids in the pack's own order (prerequisites first), for the
    installed packs among ``courses``, in the courses' order."""
    wanted: dict[str, set[str]] = {}
    for course in courses:
        if not installed(catalogue, course.pack_id):
            continue  # named by the district before the pack reached this hub, or removed since
        pack = catalogue.pack(course.pack_id)
        chosen = wanted.setdefault(pack.id, set())
        todo = [s.id for s in pack.skills if in_band(s, course.grades)]
        while todo:
            skill_id = todo.pop()
            if skill_id not in chosen:
                chosen.add(skill_id)
                todo += catalogue.skill(pack.id, skill_id).prerequisites
    return {pack_id: [s for p, s in catalogue.topological_order(pack_id) if s in chosen]
            for pack_id, chosen in wanted.items()}


def qualified_skills(catalogue: Any, courses: Iterable[Course]) -> frozenset[str]:
    """The courses' skills as the engine names them (``<pack>:<skill>``)."""
    return frozenset(f"{pack_id}:{skill_id}" for pack_id, skills in course_skills(catalogue, courses).items()
                     for skill_id in skills)


# --- the expected pace -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pace:
    """What a class's courses expect: ``per_year`` skills a school year, over ``skills``."""

    per_year: float
    skills: frozenset[str]  # the class's skills, as the engine names them

    def expected(self, days: int) -> float:
        """Expected growth over ``days`` days, unrounded."""
        return expected(self.per_year, days)


def expected(per_year: float, days: int) -> float:
    """The growth ``per_year`` skills a school year expect over ``days`` days, unrounded."""
    return per_year * (days / 7) / SCHOOL_YEAR_WEEKS


def course_per_year(catalogue: Any, course: Course) -> float:
    """Skills a school year that one course expects (see the module's docstring)."""
    skill_ids = course_skills(catalogue, [course]).get(course.pack_id, [])
    if not skill_ids:
        return 0.0
    pack = catalogue.pack(course.pack_id)
    band = course.grades or (tuple(pack.grades) if pack.grades else None)
    if band is None:
        return float(len(skill_ids))
    skills = [catalogue.skill(pack.id, s) for s in skill_ids]
    grades = range(band[0], band[1] + 1)
    per_grade = [sum(1 for s in skills if s.grades is None or s.grades[0] <= grade <= s.grades[1])
                 for grade in grades]
    return sum(per_grade) / len(per_grade)


def pace_of(catalogue: Any, studied: Iterable[Course]) -> Pace:
    chosen = list(studied)
    return Pace(sum(course_per_year(catalogue, c) for c in chosen), qualified_skills(catalogue, chosen))


# --- periods ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """Whole days from ``first_day`` to ``today``, both included."""

    kind: str  # one of PERIODS
    first_day: dt.date
    today: dt.date

    @property
    def days(self) -> int:
        return (self.today - self.first_day).days + 1

    @property
    def weeks(self) -> float:
        return self.days / 7

    def week_spans(self) -> list[tuple[dt.date, dt.date]]:
        """(first day, last day) of each week of the period; the last ends today."""
        spans = []
        first = self.first_day
        while first <= self.today:
            spans.append((first, min(first + dt.timedelta(days=6), self.today)))
            first += dt.timedelta(days=7)
        return spans


def period(kind: str | None, since: str | None, on: dt.date, invalid: Callable[..., Exception]) -> Period:
    """The period asked for (``kind`` from PERIODS, none: the default; ``since``: the first day,
    YYYY-MM-DD, for "since"), ending ``on``. A bad request raises ``invalid(message, field=...,
    **params)``: the caller's own error, with an English message to translate."""
    kind = (kind or DEFAULT_PERIOD).strip()
    if kind == "term":
        return Period(kind, on - dt.timedelta(days=7 * TERM_WEEKS - 1), on)
    if kind == "year":
        return Period(kind, on - dt.timedelta(days=7 * SCHOOL_YEAR_WEEKS - 1), on)
    if kind != "since":
        raise invalid("Choose one of the periods on the page.", field="period")
    text = (since or "").strip()
    if not text:
        raise invalid("Give the first day of the period.", field="since")
    try:
        first = dt.date.fromisoformat(text)
    except ValueError:
        raise invalid("Write the date as year-month-day, for example 2026-12-18.", field="since") from None
    if first > on:
        raise invalid("The first day of the period is after today.", field="since")
    if (on - first).days >= 7 * MAX_WEEKS:
        raise invalid("A period can be at most %(num)d weeks long.", field="since", num=MAX_WEEKS)
    return Period(kind, first, on)


# --- mastery over time -------------------------------------------------------------------------------

class ChangeLog:
    """Every (learner, skill)'s state now, and each change of state with its time.

    ``note`` is called after the engine applied a stored event (``learning.adapter.apply_stored``)
    with the keys it touched. A change's time is the latest event time of that learner so far
    (a hub whose clock went back keeps the log's order: what was recorded later counts as later),
    so a moment's states are those of a prefix of the learner's changes.
    """

    def __init__(self) -> None:
        # learner -> [(time, skill, state)], in log order; time never decreases
        self.changes: dict[str, list[tuple[float, str, str]]] = {}
        self.now: dict[tuple[str, str], str] = {}  # (learner, skill) -> state now
        self._latest: dict[str, float] = {}  # learner -> latest event time so far

    def note(self, engine_state: Any, stored: Mapping[str, Any], keys: Sequence[tuple[str, str]]) -> None:
        if not keys:
            return
        from classroom_server.learning.model import to_seconds

        learner = stored["learner_uid"]
        at = self._latest[learner] = max(self._latest.get(learner, -math.inf), to_seconds(stored["recorded_at"]))
        records = engine_state.mastery[learner]
        for key in keys:
            state = records[key[1]].state
            if self.now.get(key, NOT_STARTED) != state:
                self.now[key] = state
                self.changes.setdefault(learner, []).append((at, key[1], state))

    def state_now(self, learner_uid: str, skill: str) -> str:
        return self.now.get((learner_uid, skill), NOT_STARTED)

    def counts(self, learner_uid: str, skills: frozenset[str], moments: Sequence[float],
               wanted: str = MASTERED) -> list[int]:
        """How many of ``skills`` (engine ids) the learner had in state ``wanted`` just before each
        of ``moments`` (epoch seconds, ascending; ``NOW`` for the states now)."""
        return counts(self.changes.get(learner_uid, []), skills, moments, wanted)


def counts(changes: Sequence[tuple[float, str, str]], skills: frozenset[str], moments: Sequence[float],
           wanted: str = MASTERED) -> list[int]:
    """How many of ``skills`` were in state ``wanted`` just before each of ``moments`` (ascending),
    given one learner's changes ``(time, skill, state)`` in log order."""
    held: set[str] = set()
    found: list[int] = []
    done = 0
    for moment in moments:
        while done < len(changes) and changes[done][0] < moment:
            _, skill, state = changes[done]
            if skill in skills:
                if state == wanted:
                    held.add(skill)
                else:
                    held.discard(skill)
            done += 1
        found.append(len(held))
    return found


@dataclass(frozen=True)
class Week:
    first_day: dt.date
    last_day: dt.date
    mastered: int  # at the end of the week (now, for the week that ends today)
    growth: int  # since the start of the period
    expected: float  # expected growth by the end of the week, to one decimal


def weeks_of(chosen: Period, counts_at: Sequence[int], per_year: float) -> tuple[Week, ...]:
    """The period's weeks from the mastered counts at its start and at each week's end."""
    at_start = counts_at[0]
    return tuple(Week(first, last, count, count - at_start,
                      round_half_up(expected(per_year, (last - chosen.first_day).days + 1), 1))
                 for (first, last), count in zip(chosen.week_spans(), counts_at[1:], strict=True))
