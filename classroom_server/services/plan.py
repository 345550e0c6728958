"""Tomorrow's plan: groups of learners who need the same skill next (#18, the planning aid).

A teacher spends hours a week deciding who to take aside for what. The hub already knows, for
every learner, what their path offers first and why (learning/policy.py). The plan gathers
learners whose next skill is the same into groups, largest first (3 to 6 of them), each with:

- the evidence for each learner, in numbers a teacher can check: where they stand on the skill,
  answers and right answers, misses in a row, the engine's chance that they know it;
- the pack's teacher-led activity for the skill (a printable resource), when it has one;
- the practice to assign afterwards: the same skill, to that group, the re-check.

Only teaching needs make groups: a skill under way or ready, a missed review, a prerequisite to
repair. A delayed check of a skill the learner knows, a due review and a test-out are left to
the learner's own path (grouping learners who already know a skill would waste the lesson).

A learner whose next skill nobody else shares goes to "on their own". Nothing here is recorded:
the plan is a reading of the projection, proposed again each time. The teacher moves learners
between groups on the page (the arrangement travels in the form) and assigns a group with one
click, which is the only event (``assignment.set``, services/teaching.py).

How the next skill is chosen: the learner's own path with no assignment in it (so the plan does
not echo what was already assigned), its first activity that teaches: new practice, practice
under way, remediation, a missed review. A paused learner, or one with nothing to teach, is
listed apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from classroom_server import clock
from classroom_server.models import Classroom, Person
from classroom_server.services import accounts, courses, practice, teaching
from classroom_server.services.learning import Engine, qualify

MAX_GROUPS = 6
MIN_GROUP = 2  # a group of one is a learner on their own
# Path reasons that do not call for the teacher: the learner's own path handles them (a due
# review, the delayed check of a skill they know, a test-out they asked for, extra practice).
NOT_FOR_GROUPS = ("review_due", "review_early", "keep_practising", "read_lesson", "resume", "mastery_check",
                  "test_out")


@dataclass
class Evidence:
    """Why a learner is in a group, as the page shows it."""

    learner: Person
    state: str
    attempts: int
    correct: int
    struggle: int
    p_known: int  # percent
    needs_help: bool
    reason: str  # the path's reason code for this skill


@dataclass
class Group:
    skill: str  # qualified: "<pack>:<skill>"
    title: str
    members: list[Evidence] = field(default_factory=list)
    activity: tuple[str, str, str] | None = None  # pack id, resource id, title: the teacher-led activity


@dataclass
class Plan:
    groups: list[Group]
    alone: list[tuple[Evidence, str]]  # learner on their own, with their skill's title
    idle: list[Person]  # paused, or nothing to practise in the class's courses
    skills: dict[str, str]  # every skill a group could take, qualified id -> title (for moving)


def _next_skill(snap: Any, learner: Person, within: frozenset[str], accommodations: dict[str, Any],
                now: float) -> tuple[str, str] | None:
    """(qualified skill, reason code) of the learner's next teaching activity in the class's
    courses (the policy the learner's own path runs, without assignments), or None."""
    from classroom_server.learning import PolicyOptions, next_activities

    options = PolicyOptions(accommodations=accommodations, choices=practice.PATH_CHOICES)
    for activity in next_activities(snap.state, snap.catalog, learner.uid, now, options=options, within=within):
        code = activity.reason.get("code", "")
        if activity.skill_id and code not in NOT_FOR_GROUPS:
            return activity.skill_id, code
    return None


def _evidence(snap: Any, learner: Person, skill: str, reason: str) -> Evidence:
    from classroom_server.learning import tracing

    record = snap.state.peek(learner.uid, skill)
    p_known = round(100 * tracing.known_probability(record, snap.state.config))
    return Evidence(learner, record.state, record.attempts, record.correct, record.struggle, p_known,
                    bool(record.needs_help), reason)


def _activity(loaded: Any, skill: str, lang: str) -> tuple[str, str, str] | None:
    pack_id, skill_id = skill.split(":", 1)
    try:
        pack = loaded.catalogue.pack(pack_id)
    except KeyError:
        return None
    for resource in pack.resources:
        if resource.kind == "printable" and skill_id in resource.skills:
            return pack.id, resource.id, resource.title.pick(practice.content_language(pack, lang))
    return None


def propose(engine: Engine, classroom: Classroom, lang: str,
            arrangement: Mapping[int, str] | None = None) -> Plan:
    """The plan for the class: the hub's grouping, or the teacher's (``arrangement``: learner id
    -> qualified skill, from the page), for learners of the class only."""
    loaded = engine.catalogue_store.get()
    studied = courses.course_skills(loaded.catalogue, courses.courses_of(classroom))
    titles = {qualify(pack_id, s): teaching.skill_title(engine, qualify(pack_id, s), lang)
              for pack_id, skills in studied.items() for s in skills}
    chosen: dict[int, tuple[str, str]] = {}
    idle: list[Person] = []
    learners = accounts.learners_in(classroom)
    within = frozenset(titles)
    needs = teaching.policy_accommodations_of(learners)
    now = clock.now().timestamp()
    by_skill: dict[str, list[Evidence]] = {}
    with engine.reading() as snap:  # one snapshot for the whole class
        for learner in learners:
            found = _next_skill(snap, learner, within, needs[learner.uid], now) if within else None
            if found is None:
                idle.append(learner)
            else:
                chosen[learner.id] = found
        for learner_id, skill in (arrangement or {}).items():
            if skill in titles and learner_id in chosen:
                chosen[learner_id] = (skill, "teacher")
        for learner in learners:
            if learner.id in chosen:
                skill, reason = chosen[learner.id]
                by_skill.setdefault(skill, []).append(_evidence(snap, learner, skill, reason))
    order = sorted(by_skill, key=lambda s: (-len(by_skill[s]), list(titles).index(s) if s in titles else 0))
    groups: list[Group] = []
    alone: list[tuple[Evidence, str]] = []
    for skill in order:
        members = sorted(by_skill[skill], key=lambda e: (not e.needs_help, -e.struggle, e.p_known,
                                                        e.learner.display_name))
        if len(members) >= MIN_GROUP and len(groups) < MAX_GROUPS:
            groups.append(Group(skill, titles.get(skill, skill), members, _activity(loaded, skill, lang)))
        else:
            alone += [(member, titles.get(skill, skill)) for member in members]
    alone.sort(key=lambda pair: pair[0].learner.display_name)
    return Plan(groups, alone, idle, titles)


def assign_group(engine: Engine, actor: Person, classroom: Classroom, skill: str, learner_ids: list[int],
                 due: Any = None) -> teaching.Assignment:
    """One click: the group's skill assigned to its learners (the re-check after the lesson)."""
    return teaching.give_assignment(engine, actor, classroom, [skill], learner_ids, due)
