"""Evidence on hard items: the delayed check, decisive practice and the optional two-item check."""

import pytest

from classroom_server.learning import (
    SkillGraph, MasteryConfig, PolicyOptions, apply_event, new_state, next_activities,
)

T0 = 1_700_000_000.0
DAY = 86400.0


@pytest.fixture
def spread():
    """Skill a: six items from easy to hard, of which the easiest, a middle and the hardest are
    check items; skill z: something else to practise in between."""
    difficulties = [-1.5, -1.0, -0.5, 0.0, 0.5, 1.0]
    items = [{"id": f"a{k}", "skill_id": "a", "difficulty": d, "check": k in (0, 3, 5)}
             for k, d in enumerate(difficulties)]
    items += [{"id": f"z{k}", "skill_id": "z"} for k in range(4)]
    return SkillGraph.from_dict({"skills": [{"id": "a"}, {"id": "z"}], "items": items})


def answer(state, item, correct, at, skill=None):
    return apply_event(state, {"kind": "attempt", "learner_id": "l1", "item_id": item,
                               "skill_id": skill or item[0], "correct": correct, "at": at})


def make_proficient(state, at=T0):
    for k, item in enumerate(["a0", "a1", "a2"]):
        answer(state, item, True, at + 60 * k)
    assert state.peek("l1", "a").state == "proficient"


def predictions(state, catalog, ids):
    return {i: state.model.predict("l1", i, "a") for i in ids}


def test_the_delayed_check_asks_the_hardest_check_item(spread):
    state = new_state(spread)
    make_proficient(state)
    act = next_activities(state, spread, "l1", T0 + DAY)[0]
    assert (act.kind, act.reason["code"]) == ("check", "mastery_check")
    checks = predictions(state, spread, ["a0", "a3", "a5"])
    assert act.item_id == min(checks, key=checks.get) == "a5"
    # "target" picks it like practice instead: the check item nearest 75 %.
    like_practice = next_activities(state, spread, "l1", T0 + DAY,
                                    options=PolicyOptions(check_item="target"))[0]
    assert like_practice.item_id == min(checks, key=lambda i: abs(checks[i] - 0.75))
    assert like_practice.item_id != "a5"


def test_a_decisive_practice_answer_is_asked_on_a_hard_item(spread):
    state = new_state(spread)
    first = next_activities(state, spread, "l1", T0)[0]
    assert first.kind == "practice" and first.skill_id == "a"
    answer(state, first.item_id, True, T0)
    # P(known) is now 0.69; one more right answer would bring it to 0.92, within 0.15 of the
    # threshold: that answer is decisive, so it is asked on the hardest item not seen recently.
    decisive = next_activities(state, spread, "l1", T0 + 60)[0]
    unseen = predictions(state, spread, [f"a{k}" for k in range(6) if f"a{k}" != first.item_id])
    assert decisive.item_id == min(unseen, key=unseen.get)
    plain = next_activities(state, spread, "l1", T0 + 60,
                            options=PolicyOptions(decisive_item="target"))[0]
    assert plain.item_id == min(unseen, key=lambda i: abs(unseen[i] - 0.75))
    assert plain.item_id != decisive.item_id


def test_a_two_item_check_needs_two_right_answers_in_a_row(spread):
    state = new_state(spread)
    make_proficient(state)
    answer(state, "z0", True, T0 + DAY)  # another skill first: the check is mixed
    assert answer(state, "a5", True, T0 + DAY + 60) == ["check_progress"]
    assert state.peek("l1", "a").state == "proficient"
    # The check under way goes on first, even right after an answer on the same skill.
    act = next_activities(state, spread, "l1", T0 + DAY + 120)[0]
    assert (act.kind, act.skill_id, act.reason["code"]) == ("check", "a", "mastery_check")
    assert act.item_id != "a5"
    assert answer(state, act.item_id, True, T0 + DAY + 120) == ["mastery_confirmed"]
    assert state.peek("l1", "a").state == "mastered"


def test_a_miss_in_a_two_item_check_sends_the_skill_back(spread):
    state = new_state(spread)
    make_proficient(state)
    answer(state, "z0", True, T0 + DAY)
    answer(state, "a5", True, T0 + DAY + 60)
    assert "check_missed" in answer(state, "a3", False, T0 + DAY + 120)
    record = state.peek("l1", "a")
    assert record.state == "learning" and record.check_passed == 0


def test_two_check_items_by_default_one_if_asked_and_a_third_when_borderline(spread):
    state = new_state(spread)
    make_proficient(state)
    assert state.peek("l1", "a").check_needed == 2
    single = new_state(spread, config=MasteryConfig(check_items=1))
    make_proficient(single)
    answer(single, "z0", True, T0 + DAY)
    assert answer(single, "a5", True, T0 + DAY + 60) == ["mastery_confirmed"]
    # With `second_check_p_fresh` above the Elo estimate at proficiency, one more item is needed.
    strict = new_state(spread, config=MasteryConfig(check_items=1, second_check_p_fresh=0.99))
    make_proficient(strict)
    assert strict.peek("l1", "a").check_needed == 2
    lenient = new_state(spread, config=MasteryConfig(check_items=1, second_check_p_fresh=0.01))
    make_proficient(lenient)
    assert lenient.peek("l1", "a").check_needed == 1
