"""Growth: the skills a learner mastered over a period, against the pace the class's packs expect.

The definitions the teacher's pages, the CSV files and the guide use:

- **Mastered skills at a moment**: the class's skills (its courses', services/courses.py) whose
  state was *mastered* (★) at that moment, from the event log (reports/history.py). A skill that
  needs review (↻: a review was missed) does not count until a right answer restores it; a skill
  the teacher marked mastered counts from the mark.
- **Period**: whole days of the hub's calendar (its local time), from a first day to today, both
  included, starting at midnight of the first day. The teacher picks one:
  ``term`` (the default), the last ``TERM_WEEKS`` weeks; ``year``, the last
  ``SCHOOL_YEAR_WEEKS`` weeks; ``since``, from a date they give (today at the latest, at most
  ``MAX_WEEKS`` weeks back). Weeks run from the first day, seven days each; the last may be short.
- **Growth**: mastered skills now minus mastered skills at the start of the period. It is below
  zero when more skills were lost (a reset, a missed review and then a missed re-check) than won.
- **Expected pace**: a course expects its skills over the school years of its grades. A grade's
  skills are the course's skills whose grades include that grade (a skill without grades counts in
  every grade, as it is in every band); a course's skills per year are the mean, over the grades
  of its band (the course's band, else the pack's grades), of its skills per grade; a course with
  no grades at all (neither) expects all its skills in one year. The class's pace is the sum over
  its courses, which are studied side by side. Earlier grades' skills that a band brings in as
  groundwork count toward growth, never toward the expectation.
- **Expected growth so far**: skills per year x (days in the period / 7) / ``SCHOOL_YEAR_WEEKS``.
- **% of expected**: growth / expected growth so far x 100; none when nothing is expected.
  So "132 %" reads "mastered 1.32 times the skills the packs expect in that time".

Assumptions, said plainly: a school year is ``SCHOOL_YEAR_WEEKS`` (36) weeks of school and a term
``TERM_WEEKS`` (12); holidays are not taken out of a period (a period with a holiday in it expects
too much: choose "since a date" after the holiday); a learner who joined the class late is
measured over the whole period; a pack says which grades a skill belongs to, never how long it
takes, so every skill of a grade weighs the same.

Rounding (the page and the CSV show the same numbers): expected growth to one decimal, the
percentage to a whole number, halves up, both computed from the unrounded expectation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from classroom_server.errors import Invalid
from classroom_server.models import Person
from classroom_server.services import courses
from classroom_server.services.reports.history import NOW, MasteryHistory

SCHOOL_YEAR_WEEKS = 36  # assumption: weeks of school in a school year
TERM_WEEKS = 12  # assumption: weeks of school in a term
MAX_WEEKS = 104  # the longest period a teacher may ask for (two years)
PERIODS = ("term", "year", "since")
DEFAULT_PERIOD = "term"


def round_half_up(value: float, digits: int = 0) -> float:
    """Rounded as people do it by hand (2.25 -> 2.3, 12.5 -> 13), not to the even neighbour."""
    step = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(value)).quantize(step, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Period:
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


def today() -> dt.date:
    """Today on the hub's calendar (its local time; only as right as its clock)."""
    from classroom_server import clock

    return clock.now().astimezone().date()


def period(kind: str | None, since: str | None, on: dt.date) -> Period:
    """The period a teacher asked for (``kind`` from PERIODS, none: the default; ``since``: the
    first day, YYYY-MM-DD, for "since")."""
    kind = (kind or DEFAULT_PERIOD).strip()
    if kind == "term":
        return Period(kind, on - dt.timedelta(days=7 * TERM_WEEKS - 1), on)
    if kind == "year":
        return Period(kind, on - dt.timedelta(days=7 * SCHOOL_YEAR_WEEKS - 1), on)
    if kind != "since":
        raise Invalid("Choose one of the periods on the page.", field="period")
    text = (since or "").strip()
    if not text:
        raise Invalid("Give the first day of the period.", field="since")
    try:
        first = dt.date.fromisoformat(text)
    except ValueError:
        raise Invalid("Write the date as year-month-day, for example 2026-12-18.", field="since") from None
    if first > on:
        raise Invalid("The first day of the period is after today.", field="since")
    if (on - first).days >= 7 * MAX_WEEKS:
        raise Invalid("A period can be at most %(num)d weeks long.", field="since", num=MAX_WEEKS)
    return Period(kind, first, on)


def midnight(day: dt.date) -> float:
    """The start of ``day`` in the hub's local time, as epoch seconds (events' times are UTC)."""
    return dt.datetime.combine(day, dt.time()).astimezone().timestamp()


# --- the expected pace ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Pace:
    """What a class's courses expect: ``per_year`` skills a school year, over ``skills``."""

    per_year: float
    skills: frozenset[str]  # the class's skills, as the engine names them

    def expected(self, days: int) -> float:
        """Expected growth over ``days`` days, unrounded."""
        return self.per_year * (days / 7) / SCHOOL_YEAR_WEEKS


def course_per_year(catalogue: Any, course: courses.Course) -> float:
    """Skills a school year that one course expects (see the module's docstring)."""
    skill_ids = courses.course_skills(catalogue, [course]).get(course.pack_id, [])
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


def pace_of(catalogue: Any, studied: Iterable[courses.Course]) -> Pace:
    chosen = list(studied)
    return Pace(sum(course_per_year(catalogue, c) for c in chosen), courses.qualified_skills(catalogue, chosen))


# --- growth ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Week:
    first_day: dt.date
    last_day: dt.date
    mastered: int  # at the end of the week (now, for the week that ends today)
    growth: int  # since the start of the period
    expected: float  # expected growth by the end of the week, to one decimal


@dataclass(frozen=True)
class Growth:
    learner: Person
    at_start: int  # mastered skills at the start of the period
    now: int  # mastered skills now
    expected: float  # expected growth over the period, to one decimal
    percent: int | None  # growth as a percentage of the expected growth; None: nothing expected
    weeks: tuple[Week, ...]

    @property
    def growth(self) -> int:
        return self.now - self.at_start


def moments_of(chosen: Period) -> list[float]:
    """When the period starts, then when each of its weeks ends (``NOW`` for the week ending today)."""
    return [midnight(chosen.first_day)] + [
        NOW if last == chosen.today else midnight(last + dt.timedelta(days=1)) for _, last in chosen.week_spans()]


def learner_growth(history: MasteryHistory, learner: Person, pace: Pace, chosen: Period,
                   moments: list[float] | None = None) -> Growth:
    """One learner's growth over the period, week by week (the caller holds the history still;
    ``moments``: ``moments_of(chosen)``, when the caller has them already)."""
    spans = chosen.week_spans()
    counts = history.counts(learner.uid, pace.skills, moments or moments_of(chosen))
    at_start = counts[0]
    weeks = tuple(Week(first, last, count, count - at_start,
                       round_half_up(pace.expected((last - chosen.first_day).days + 1), 1))
                  for (first, last), count in zip(spans, counts[1:], strict=True))
    expected = pace.expected(chosen.days)
    now = counts[-1]
    percent = int(round_half_up(100 * (now - at_start) / expected)) if expected > 0 else None
    return Growth(learner, at_start, now, round_half_up(expected, 1), percent, weeks)
