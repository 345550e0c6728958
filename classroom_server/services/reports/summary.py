"""The reports' contents: the class summary, one learner's growth, and the family report.

The class summary and a learner's growth are read from one history held still (reports/history.py),
so every number on a page comes from the same position in the log; a CSV file is made by the same
function as its page. The family report reads the engine's projection now: it needs no past.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from classroom_server.models import Classroom, Person
from classroom_server.services import accounts, courses, practice, teaching
from classroom_server.services.learning import Engine, qualify
from classroom_server.services.reports.growth import Growth, Pace, Period, learner_growth, moments_of, pace_of
from classroom_server.services.reports.history import reading

STATES = ("mastered", "proficient", "learning", "needs_review", "not_started")  # the grid's order
CAN_DO = ("mastered", "proficient")
WORKING_ON = ("needs_review", "learning")
HELP_AT_HOME = 4  # skills with a suggestion for home, at most: the report stays one page


@dataclass(frozen=True)
class SkillCounts:
    pack_id: str
    skill_id: str
    title: str
    counts: dict[str, int]  # state -> learners of the class, for every state of STATES


@dataclass(frozen=True)
class PackCounts:
    pack_id: str
    title: str
    skills: list[SkillCounts]


@dataclass(frozen=True)
class ClassReport:
    period: Period
    pace: Pace
    growth: list[Growth]  # one per learner, by name (never by result: no ranks)
    packs: list[PackCounts]


def class_report(engine: Engine, classroom: Classroom, chosen: Period, lang: str) -> ClassReport:
    """Every learner's growth over the period, and per skill of the class's courses how many of
    its learners are in each state now (skill titles in ``lang`` where the pack has it)."""
    catalogue = engine.catalogue_store.get().catalogue
    studied = courses.courses_of(classroom)
    pace = pace_of(catalogue, studied)
    learners = accounts.learners_in(classroom)
    grids = teaching.pack_skills(engine, lang, studied)
    moments = moments_of(chosen)
    with reading(engine) as history:
        growth = [learner_growth(history, learner, pace, chosen, moments) for learner in learners]
        packs = []
        for grid in grids:
            rows = []
            for skill_id, title in grid.skills:
                counts = dict.fromkeys(STATES, 0)
                for learner in learners:
                    counts[history.state_now(learner.uid, qualify(grid.pack_id, skill_id))] += 1
                rows.append(SkillCounts(grid.pack_id, skill_id, title, counts))
            packs.append(PackCounts(grid.pack_id, grid.title, rows))
    return ClassReport(chosen, pace, growth, packs)


def learner_report(engine: Engine, classroom: Classroom, learner: Person, chosen: Period) -> tuple[Pace, Growth]:
    """One learner's growth over the period, against the class's pace."""
    pace = pace_of(engine.catalogue_store.get().catalogue, courses.courses_of(classroom))
    with reading(engine) as history:
        return pace, learner_growth(history, learner, pace, chosen)


# --- the family report -----------------------------------------------------------------------------

@dataclass(frozen=True)
class FamilySkill:
    title: str
    description: str | None
    state: str
    language: str  # of the title and description (the pack's words)


@dataclass
class FamilyPack:
    title: str
    language: str  # the language of the pack's words here: the report's, when the pack has it
    can_do: list[FamilySkill] = field(default_factory=list)  # mastered, then proficient
    working_on: list[FamilySkill] = field(default_factory=list)  # needs review, then learning


@dataclass(frozen=True)
class FamilyReport:
    packs: list[FamilyPack]
    help_at_home: list[FamilySkill]  # at most HELP_AT_HOME skills being worked on

    @property
    def can_do(self) -> int:
        return sum(len(p.can_do) for p in self.packs)

    @property
    def working_on(self) -> int:
        return sum(len(p.working_on) for p in self.packs)


def family_report(engine: Engine, classroom: Classroom, learner: Person, lang: str) -> FamilyReport:
    """What the learner can do and is working on, skill by skill, in ``lang`` (the pack's own
    titles and descriptions, or its first language when it lacks that one). Competencies only:
    no marks, no counts of answers, nothing about anyone else."""
    catalogue = engine.catalogue_store.get().catalogue
    found: list[FamilyPack] = []
    with engine.reading() as snap:
        for pack_id, skill_ids in courses.course_skills(catalogue, courses.courses_of(classroom)).items():
            pack = catalogue.pack(pack_id)
            words = practice.content_language(pack, lang)
            row = FamilyPack(pack.title.pick(words), words)
            for skill_id in skill_ids:
                skill = catalogue.skill(pack_id, skill_id)
                state = snap.state.peek(learner.uid, qualify(pack_id, skill_id)).state
                entry = FamilySkill(skill.title.pick(words), skill.description.pick(words) if skill.description
                                    else None, state, words)
                if state in CAN_DO:
                    row.can_do.append(entry)
                elif state in WORKING_ON:
                    row.working_on.append(entry)
            row.can_do.sort(key=lambda s: CAN_DO.index(s.state))  # stable: the pack's order within a state
            row.working_on.sort(key=lambda s: WORKING_ON.index(s.state))
            found.append(row)
    helped = [s for p in found for s in p.working_on][:HELP_AT_HOME]
    return FamilyReport(found, helped)
