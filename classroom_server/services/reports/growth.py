"""Growth: the skills a learner mastered over a period, against the pace the class's packs expect.

The rules are pure, in classroom_server/growth_rules.py, which the district's dashboard computes
with too; this module gives them the hub's calendar (its local time) and its learners.

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
from dataclasses import dataclass

from classroom_server.errors import Invalid
from classroom_server.growth_rules import (
    DEFAULT_PERIOD,
    MAX_WEEKS,
    PERIODS,
    SCHOOL_YEAR_WEEKS,
    TERM_WEEKS,
    Pace,
    Period,
    Week,
    course_per_year,
    pace_of,
    percent_of,
    round_half_up,
    weeks_of,
)
from classroom_server.models import Person
from classroom_server.services.reports.history import NOW, EngineHistory

__all__ = ["DEFAULT_PERIOD", "MAX_WEEKS", "PERIODS", "SCHOOL_YEAR_WEEKS", "TERM_WEEKS", "Growth", "Pace", "Period",
           "Week", "course_per_year", "learner_growth", "midnight", "moments_of", "pace_of", "period",
           "round_half_up", "today"]


def today() -> dt.date:
    """Today on the hub's calendar (its local time; only as right as its clock)."""
    from classroom_server import clock

    return clock.now().astimezone().date()


def period(kind: str | None, since: str | None, on: dt.date) -> Period:
    """The period a teacher asked for (``kind`` from PERIODS, none: the default; ``since``: the
    first day, YYYY-MM-DD, for "since")."""
    from classroom_server import growth_rules

    return growth_rules.period(kind, since, on, Invalid)


def midnight(day: dt.date) -> float:
    """The start of ``day`` in the hub's local time, as epoch seconds (events' times are UTC)."""
    return dt.datetime.combine(day, dt.time()).astimezone().timestamp()


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


def learner_growth(history: EngineHistory, learner: Person, pace: Pace, chosen: Period,
                   moments: list[float] | None = None) -> Growth:
    """One learner's growth over the period, week by week (the caller holds the history still;
    ``moments``: ``moments_of(chosen)``, when the caller has them already)."""
    counts = history.counts(learner.uid, pace.skills, moments or moments_of(chosen))
    expected = pace.expected(chosen.days)
    return Growth(learner, counts[0], counts[-1], round_half_up(expected, 1),
                  percent_of(counts[-1] - counts[0], expected), weeks_of(chosen, counts, pace.per_year))
