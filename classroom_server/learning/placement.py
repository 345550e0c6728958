"""Placement across a pack: a short adaptive check that finds where a learner stands in a whole
pack, using its prerequisite graph to learn about many skills from each answer.

The rule: a clean right answer on a skill is evidence that the learner knows it **and every skill
it rests on** (its ancestors in the pack's graph); a wrong answer, that they do not know it **nor
any skill that rests on it** (its descendants). Each question goes to the undecided skill that
splits the undecided skills most evenly between those two outcomes (the largest smaller side),
so a chain of twelve skills is placed in about four answers and a wide pack in not many more.
It stops when every skill is decided or after ``budget`` questions (at most ``MAX_QUESTIONS``);
a skill still undecided then is left as it was.

What placement may claim is limited on purpose: a placed skill becomes *proficient* (as a passed
"I already know this" does), never *mastered*, so the delayed check still asks about it days
later and a wrong answer there brings it back. A lucky guess therefore costs a learner one
check, not a hole in their path; an unlucky slip costs a few minutes on skills they knew.

Pure: the caller gives the pack's skills in topological order, their prerequisites and the
answers so far (skill, clean right or not); ``place`` says what is known, what is not and what to
ask next. The answers are the learner's attempts with mode ``placement`` since the
``placement.started`` event; ``placement.finished`` records the result, which the fold applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MAX_QUESTIONS = 15


def budget_for(skills: int) -> int:
    """Questions a placement may ask in a pack of ``skills`` skills: one a skill, at most 15."""
    return max(1, min(MAX_QUESTIONS, skills))


@dataclass(frozen=True)
class Placement:
    known: frozenset[str]
    not_known: frozenset[str]
    undecided: tuple[str, ...]  # in the pack's order
    next_skill: str | None  # None: finished
    asked: int
    budget: int

    @property
    def finished(self) -> bool:
        return self.next_skill is None


def _closures(order: Sequence[str], prerequisites: Mapping[str, Sequence[str]]
              ) -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """Each skill's ancestors and descendants within the pack."""
    inside = set(order)
    ancestors: dict[str, frozenset[str]] = {}
    for skill in order:  # prerequisites first: theirs are known already
        found: set[str] = set()
        for p in prerequisites.get(skill, ()):
            if p in inside:
                found.add(p)
                found |= ancestors.get(p, frozenset())
        ancestors[skill] = frozenset(found)
    descendants: dict[str, set[str]] = {skill: set() for skill in order}
    for skill in order:
        for a in ancestors[skill]:
            descendants[a].add(skill)
    return ancestors, {s: frozenset(d) for s, d in descendants.items()}


def place(order: Sequence[str], prerequisites: Mapping[str, Sequence[str]],
          answers: Sequence[tuple[str, bool]], budget: int | None = None) -> Placement:
    """Where the answers so far place the learner, and the skill to ask about next."""
    limit = budget_for(len(order)) if budget is None else budget
    ancestors, descendants = _closures(order, prerequisites)
    known: set[str] = set()
    not_known: set[str] = set()
    for skill, right in answers:
        if skill not in ancestors:
            continue  # an answer on a skill outside the pack tells nothing here
        if right:
            moved = {skill} | ancestors[skill]
            known |= moved
            not_known -= moved
        else:
            moved = {skill} | descendants[skill]
            not_known |= moved
            known -= moved
    undecided = tuple(s for s in order if s not in known and s not in not_known)
    next_skill = None
    if undecided and len(answers) < limit:
        open_ = set(undecided)

        def split(skill: str) -> int:
            return min(1 + len(ancestors[skill] & open_), 1 + len(descendants[skill] & open_))

        next_skill = max(undecided, key=lambda s: (split(s), -undecided.index(s)))
    return Placement(frozenset(known), frozenset(not_known), undecided, next_skill, len(answers), limit)
