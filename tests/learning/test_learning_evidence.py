"""Mastery evidence: the knowledge-tracing posterior, its use in the rules, and the old rule."""

import json

import pytest

from classroom_server.learning import MasteryConfig, apply_event, fold_events, new_state
from classroom_server.learning.mastery import SkillRecord
from classroom_server.learning.tracing import known_probability, update_known

T0 = 1_700_000_000.0
DAY = 86400.0


def answer(state, attempt, items, start, learner="l1"):
    """Answer (item, correct) pairs one a minute; return the codes of the last answer."""
    codes = []
    for k, (item, correct) in enumerate(items):
        codes = apply_event(state, attempt(learner, item, correct, start + 60 * k))
    return codes


def test_posterior_follows_the_answers_and_allows_for_slips():
    config = MasteryConfig()
    p = config.prior_known
    right = update_known(p, True, 0, config)
    wrong = update_known(p, False, 0, config)
    assert wrong < p < right
    # A slip by a learner who very probably knows the skill is not taken as proof of ignorance.
    assert update_known(0.99, False, 0, config) > 0.5
    # A right answer reached with a hint is no evidence: only the learning step moves it.
    hinted = update_known(p, True, 1, config)
    assert hinted == pytest.approx(p + (1 - p) * config.learn_rate)
    assert known_probability(SkillRecord(), config) == config.prior_known


def test_recovers_quickly_after_early_misses(catalog, attempt):
    """Four misses, then four right answers on distinct items: proficient (the old rule, on the
    Elo estimate at 0.9, is still far from it)."""
    history = [("a0", False), ("a1", False), ("a2", False), ("a3", False),
               ("a0", True), ("a1", True), ("a2", True), ("a3", True)]
    state = new_state(catalog)
    answer(state, attempt, history, T0)
    assert state.peek("l1", "a").state == "proficient"
    old = new_state(catalog, config=MasteryConfig(evidence="fresh", proficient_threshold=0.9,
                                                  demote_margin=0.15))
    answer(old, attempt, history, T0)
    assert old.peek("l1", "a").state == "learning"


def test_two_rights_are_not_enough_and_a_miss_costs_more_evidence(catalog, attempt):
    state = new_state(catalog)
    answer(state, attempt, [("a0", True), ("a1", True)], T0)
    assert state.peek("l1", "a").state == "learning"  # p_known 0.92: below 0.95
    answer(state, attempt, [("a2", False), ("a3", True)], T0 + 600)
    assert state.peek("l1", "a").state == "learning"  # the miss took it back to 0.63; now 0.90
    answer(state, attempt, [("a0", True)], T0 + 1200)
    assert state.peek("l1", "a").state == "proficient"


def test_check_in_the_next_days_session_counts_even_at_an_earlier_hour(catalog, attempt):
    state = new_state(catalog)
    answer(state, attempt, [(f"a{k}", True) for k in range(4)], T0)
    record = state.peek("l1", "a")
    assert record.state == "proficient"
    next_morning = record.proficient_at + DAY - 3 * 3600  # 21 hours later
    apply_event(state, attempt("l1", "d0", True, next_morning))
    assert apply_event(state, attempt("l1", "a1", True, next_morning + 60)) == ["check_progress"]
    assert apply_event(state, attempt("l1", "a2", True, next_morning + 120)) == ["mastery_confirmed"]
    same_evening = new_state(catalog)
    answer(same_evening, attempt, [(f"a{k}", True) for k in range(4)], T0)
    apply_event(same_evening, attempt("l1", "d0", True, T0 + 8 * 3600))
    apply_event(same_evening, attempt("l1", "a1", True, T0 + 8 * 3600 + 60))
    assert same_evening.peek("l1", "a").state == "proficient"


def test_teacher_mark_mastered_counts_as_evidence_and_reset_forgets_it(catalog):
    state = new_state(catalog)
    event = {"kind": "override", "learner_id": "l1", "skill_id": "b", "at": T0}
    apply_event(state, dict(event, action="mark_mastered"))
    assert state.p_known("l1", "b") >= state.config.proficient_threshold
    apply_event(state, dict(event, action="reset"))
    assert state.p_known("l1", "b") == state.config.prior_known


def test_fresh_evidence_option_uses_the_learner_model(catalog, attempt):
    config = MasteryConfig(evidence="fresh", proficient_threshold=0.9, demote_margin=0.15)
    state = new_state(catalog, config=config)
    answer(state, attempt, [(f"a{k % 4}", True) for k in range(12)], T0)
    assert state.peek("l1", "a").state == "proficient"
    assert state.evidence("l1", "a") == state.p_fresh("l1", "a") >= 0.9
    with pytest.raises(ValueError):
        answer(new_state(catalog, config=MasteryConfig(evidence="magic")), attempt,
               [("a0", True)], T0)


def test_posterior_is_part_of_the_deterministic_projection(catalog, attempt):
    events = [attempt("l1", f"a{k % 4}", k % 3 != 1, T0 + 60 * k) for k in range(10)]
    one, two = fold_events(events, catalog).to_dict(), fold_events(events, catalog).to_dict()
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)
    assert one["mastery"]["l1"]["a"]["p_known"] is not None


def test_optional_learner_model_gate_holds_proficiency_back(catalog, attempt):
    rights = [(f"a{k}", True) for k in range(4)]
    plain = new_state(catalog)
    answer(plain, attempt, rights, T0)
    gated = new_state(catalog, config=MasteryConfig(min_p_fresh=0.99))
    answer(gated, attempt, rights, T0)
    assert plain.peek("l1", "a").state == "proficient"
    assert gated.peek("l1", "a").state == "learning" and gated.p_fresh("l1", "a") < 0.99


def test_guess_and_slip_come_from_a_calibration_only_when_switched_on(catalog):
    import random

    from classroom_server.learning import EngineState, MasteryConfig, fold_events
    from classroom_server.learning.calibration import fit_calibration

    rng = random.Random(3)
    # Learners who answer right about 60 % of the time whatever they do: partial knowledge.
    events = [{"kind": "attempt", "learner_id": f"l{n}", "item_id": f"a{k % 4}", "skill_id": "a",
               "correct": rng.random() < 0.6, "at": 1_700_000_000 + 60 * k}
              for n in range(40) for k in range(8)]
    off = fold_events(events, catalog)
    assert off.guess_slip("a") == (0.2, 0.1) and off.skill_stats == {}
    config = MasteryConfig(guess_slip_weight=20.0)
    # The fold never learns the cohort's guess and slip by itself ...
    assert fold_events(events, catalog, config=config).guess_slip("a") == (0.2, 0.1)
    # ... a calibration fitted on the log does, and applies from its place in the log on.
    fitted = fit_calibration(events, catalog, config=config)
    on = fold_events([{"kind": "model.calibrated", **fitted}] + events, catalog, config=config)
    guess, slip = on.guess_slip("a")
    assert guess > 0.3 and slip > 0.1
    assert EngineState.from_dict(on.to_dict(), catalog).to_dict() == on.to_dict()
