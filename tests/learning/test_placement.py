"""Placement across a pack (learning/placement.py): each answer decides a skill and, through the
prerequisite graph, its ancestors (right) or descendants (wrong); the next question splits what
is undecided; a learner who knows the first part of a pack is placed past it in few questions."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from classroom_server.learning.placement import MAX_QUESTIONS, budget_for, place

LIBRARY = Path(__file__).resolve().parents[2] / "content_packs" / "library"


def _chain(n: int) -> tuple[list[str], dict[str, list[str]]]:
    order = [f"s{i:02d}" for i in range(n)]
    return order, {s: ([order[i - 1]] if i else []) for i, s in enumerate(order)}


def _library_pack(name: str) -> tuple[list[str], dict[str, list[str]]]:
    from content_packs import load_pack
    from content_packs.graph import topological_order

    pack = load_pack(LIBRARY / name, check=False)
    prerequisites = {s.id: list(s.prerequisites) for s in pack.skills}
    return topological_order(prerequisites), prerequisites


def _run(order, prerequisites, knows: set[str]):
    """A learner who answers right exactly on the skills in ``knows``: placed, question by question."""
    answers: list[tuple[str, bool]] = []
    while True:
        found = place(order, prerequisites, answers)
        if found.finished:
            return found
        answers.append((found.next_skill, found.next_skill in knows))


def test_a_right_answer_decides_the_skill_and_what_it_rests_on_a_wrong_one_what_rests_on_it():
    order, prerequisites = _chain(6)
    right = place(order, prerequisites, [("s03", True)])
    assert right.known == {"s00", "s01", "s02", "s03"} and right.undecided == ("s04", "s05")
    wrong = place(order, prerequisites, [("s03", False)])
    assert wrong.not_known == {"s03", "s04", "s05"} and wrong.undecided == ("s00", "s01", "s02")
    later = place(order, prerequisites, [("s03", False), ("s01", True), ("s03", True)])
    assert later.known == {"s00", "s01", "s02", "s03"} and later.not_known == {"s04", "s05"}


def test_the_next_question_splits_a_chain_in_the_middle():
    order, prerequisites = _chain(12)
    assert place(order, prerequisites, []).next_skill in ("s05", "s06")


@pytest.mark.parametrize("n", [1, 5, 12, 15, 30])
@pytest.mark.parametrize("fraction", [0.0, 0.5, 1.0])
def test_a_chain_is_placed_exactly_in_about_log2_questions(n, fraction):
    order, prerequisites = _chain(n)
    knows = set(order[:int(n * fraction)])
    found = _run(order, prerequisites, knows)
    assert found.known == knows and not found.undecided
    assert found.asked <= max(1, (n).bit_length())


@pytest.mark.parametrize("name", ["fractions", "numbers"])
def test_a_learner_who_knows_the_first_half_of_a_bundled_pack_is_placed_past_it_in_at_most_15(name):
    order, prerequisites = _library_pack(name)
    assert 10 <= len(order) <= 30
    for cut in range(len(order) + 1):  # every prefix of the pack's order: ancestor-closed, like real knowledge
        knows = set(order[:cut])
        found = _run(order, prerequisites, knows)
        assert found.known == knows and found.not_known == set(order) - knows, cut
        assert found.asked <= MAX_QUESTIONS


def test_the_budget_stops_it_and_leaves_the_rest_undecided():
    order = [f"s{i}" for i in range(20)]  # twenty skills, none resting on another: one question each
    prerequisites = {s: [] for s in order}
    found = _run(order, prerequisites, set(order[:10]))
    assert found.asked == budget_for(20) == MAX_QUESTIONS and len(found.undecided) == 20 - MAX_QUESTIONS


def test_answers_on_other_packs_skills_change_nothing_and_random_graphs_never_contradict():
    rng = random.Random(7)
    for _ in range(200):
        n = rng.randint(1, 14)
        order = [f"k{i}" for i in range(n)]
        prerequisites = {s: rng.sample(order[:i], k=min(i, rng.randint(0, 2))) for i, s in enumerate(order)}
        knows = set(order[:rng.randint(0, n)])
        found = _run(order, prerequisites, knows)
        assert found.known <= knows and not (found.known & found.not_known)
        assert found.known | found.not_known | set(found.undecided) == set(order)
    order, prerequisites = _chain(3)
    assert place(order, prerequisites, [("elsewhere", True)]).known == frozenset()
    json.dumps(list(place(order, prerequisites, []).undecided))  # plain data
