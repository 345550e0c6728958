"""Reports (#18, item 7): growth per learner, the class summary, the family report.

Every number in them is a projection of the event log and the pack versions it names, like the
mastery grid's: the states come from the learning engine's fold (reports/history.py folds it
again to know the states of the past), the skills and grades from the installed packs, the
class's courses from ``class.courses_set`` events.

    history.py   every learner's mastery states over time (an incremental fold, kept in memory)
    growth.py    periods, the expected pace and growth: the definitions, in its docstring
    summary.py   what each report shows: the class summary, a learner's growth, the family report

The pages, the CSV files and the charts are the web layer's (web/reports.py, web/charts.py).
"""

from classroom_server.services.reports.growth import (
    DEFAULT_PERIOD,
    MAX_WEEKS,
    PERIODS,
    SCHOOL_YEAR_WEEKS,
    TERM_WEEKS,
    Growth,
    Pace,
    Period,
    Week,
    period,
    round_half_up,
    today,
)
from classroom_server.services.reports.summary import (
    STATES,
    ClassReport,
    FamilyReport,
    class_report,
    family_report,
    learner_report,
)

__all__ = [
    "DEFAULT_PERIOD", "MAX_WEEKS", "PERIODS", "SCHOOL_YEAR_WEEKS", "STATES", "TERM_WEEKS", "ClassReport",
    "FamilyReport", "Growth", "Pace", "Period", "Week", "class_report", "family_report", "learner_report",
    "period", "round_half_up", "today",
]
