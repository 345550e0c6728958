"""Shared fixtures: a small pack (catalog) and event helpers."""

import pytest

from classroom_server.learning import SkillGraph

T0 = 1_700_000_000.0
DAY = 86400.0


@pytest.fixture
def catalog() -> SkillGraph:
    """a -> b -> c chain plus an independent root d; four items per skill, the first is a check."""
    skills = [
        {"id": "a"}, {"id": "b", "prerequisites": ["a"]},
        {"id": "c", "prerequisites": ["b"]}, {"id": "d"},
    ]
    items = [
        {"id": f"{s}{k}", "skill_id": s, "difficulty": -1.0 + 0.5 * k, "check": k == 0}
        for s in "abcd" for k in range(4)
    ]
    return SkillGraph.from_dict({"skills": skills, "items": items})


@pytest.fixture
def attempt():
    """Build an attempt event; the skill is the item id's first letter unless given."""
    return make_attempt


def make_attempt(learner, item, correct, at, hints=0, skill=None):
    return {"kind": "attempt", "learner_id": learner, "item_id": item,
            "skill_id": skill or item[0], "correct": correct, "hints_used": hints,
            "duration_ms": 20000, "at": at}
