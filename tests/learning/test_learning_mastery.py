"""Mastery: proficiency from evidence, delayed confirmation, demotion, overrides, test-out."""

import json

from classroom_server.learning import EngineState, apply_event, fold_events, new_state

T0 = 1_700_000_000.0
DAY = 86400.0


def drill(state, attempt, skill, start, count=12, correct=True, learner="l1"):
    """Answer `count` items of `skill`, cycling through its four items, one a minute."""
    for k in range(count):
        apply_event(state, attempt(learner, f"{skill}{k % 4}", correct, start + 60 * k))
    return start + 60 * count


def test_proficient_needs_threshold_and_three_distinct_items(catalog, attempt):
    state = new_state(catalog)
    for k in range(15):  # the same item again and again: never three distinct items
        apply_event(state, attempt("l1", "a1", True, T0 + k))
    assert state.peek("l1", "a").state == "learning"
    for k, item in enumerate(["a2", "a3"]):
        apply_event(state, attempt("l1", item, True, T0 + 100 + k))
    assert state.peek("l1", "a").state == "proficient"
    assert state.p_known("l1", "a") >= state.config.proficient_threshold
    assert state.evidence("l1", "a") == state.p_known("l1", "a")


def test_mastery_only_after_a_delayed_mixed_check(catalog, attempt):
    state = new_state(catalog)
    t = drill(state, attempt, "a", T0)
    assert state.peek("l1", "a").state == "proficient"
    apply_event(state, attempt("l1", "a0", True, t + 3600))  # same day: not a check
    assert state.peek("l1", "a").state == "proficient"
    later = T0 + DAY + 7200
    apply_event(state, attempt("l1", "d1", True, later))  # mixed with another skill
    assert apply_event(state, attempt("l1", "a1", True, later + 60)) == ["check_progress"]
    assert state.peek("l1", "a").state == "proficient"  # one check item of two
    codes = apply_event(state, attempt("l1", "a2", True, later + 120))
    assert codes == ["mastery_confirmed"]
    record = state.peek("l1", "a")
    assert record.state == "mastered" and record.review_card is not None


def test_missed_check_and_missed_review_demote_one_level(catalog, attempt):
    state = new_state(catalog)
    drill(state, attempt, "a", T0)
    apply_event(state, attempt("l1", "a1", False, T0 + 2 * DAY))
    assert state.peek("l1", "a").state == "learning"

    state = new_state(catalog)
    drill(state, attempt, "a", T0)
    apply_event(state, attempt("l1", "a1", True, T0 + 2 * DAY))
    apply_event(state, attempt("l1", "a2", True, T0 + 2 * DAY + 60))
    assert state.peek("l1", "a").state == "mastered"
    apply_event(state, attempt("l1", "a2", False, T0 + 9 * DAY))
    assert state.peek("l1", "a").state == "needs_review"
    apply_event(state, attempt("l1", "a3", False, T0 + 9 * DAY + 60))
    assert state.peek("l1", "a").state == "learning"


def test_teacher_overrides(catalog, attempt):
    state = new_state(catalog)
    over = lambda action, skill="b": {"kind": "override", "learner_id": "l1",  # noqa: E731
                                      "skill_id": skill, "action": action, "at": T0}
    apply_event(state, over("mark_mastered"))
    assert state.peek("l1", "b").state == "mastered"
    apply_event(state, over("pause"))
    assert state.peek("l1", "b").paused
    apply_event(state, over("resume"))
    assert not state.peek("l1", "b").paused
    apply_event(state, over("reset"))
    assert state.peek("l1", "b").state == "not_started"


def test_test_out_all_right_is_proficient_one_wrong_is_not(catalog, attempt):
    state = new_state(catalog)
    start = {"kind": "test_out_started", "learner_id": "l1", "skill_id": "d", "at": T0}
    apply_event(state, start)
    for k in range(3):
        apply_event(state, attempt("l1", f"d{k}", True, T0 + 60 * (k + 1)))
    assert state.peek("l1", "d").state == "proficient"

    state = new_state(catalog)
    apply_event(state, start)
    apply_event(state, attempt("l1", "d0", True, T0 + 60))
    assert apply_event(state, attempt("l1", "d1", False, T0 + 120)) == ["test_out_failed"]
    assert state.peek("l1", "d").state == "learning"


def test_fold_is_deterministic_and_round_trips(catalog, attempt):
    events = []
    for k in range(40):
        skill = "abd"[k % 3]
        events.append(attempt(f"l{k % 2}", f"{skill}{k % 4}", k % 5 != 0, T0 + k * 3000))
    events.append({"kind": "override", "learner_id": "l0", "skill_id": "c",
                   "action": "mark_mastered", "at": T0 + 200000})
    events.append({"kind": "goal_set", "learner_id": "l0", "at": T0})  # unknown: ignored
    one = fold_events(events, catalog).to_dict()
    two = fold_events(events, catalog).to_dict()
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)
    again = EngineState.from_dict(json.loads(json.dumps(one)), catalog)
    assert again.to_dict() == one
    assert one["algorithm_version"] and one["model"]["algorithm_version"]


def test_missing_field_is_a_clear_error(catalog):
    state = new_state(catalog)
    try:
        apply_event(state, {"kind": "attempt", "learner_id": "l1", "skill_id": "a", "at": T0})
    except ValueError as error:
        assert "item_id" in str(error)
    else:
        raise AssertionError("an attempt without item_id was accepted")
