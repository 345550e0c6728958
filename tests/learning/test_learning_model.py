"""Learner models: bounded predictions, update direction, round-trips, the PFA fit."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from classroom_server.learning import EloModel, EloParams, PfaModel, answer_credit, fit_pfa

answers = st.lists(
    st.tuples(st.sampled_from(["i1", "i2", "i3"]), st.sampled_from(["s1", "s2"]),
              st.booleans(), st.integers(0, 3)),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(answers)
def test_elo_predictions_stay_strictly_inside_0_1(history):
    model = EloModel(item_priors={"i1": -8.0, "i2": 8.0})
    for item, skill, correct, hints in history:
        p = model.update("l1", item, skill, correct, hints)
        assert 0.0 < p < 1.0
        assert 0.0 < model.predict("l1", item, skill) < 1.0
        assert 0.0 < model.skill_probability("l1", skill) < 1.0


def test_elo_moves_in_the_direction_of_the_evidence():
    model = EloModel()
    before = model.predict("l1", "i1", "s1")
    model.update("l1", "i1", "s1", True)
    after_right = model.predict("l1", "i1", "s1")
    assert after_right > before
    model.update("l1", "i1", "s1", False)
    assert model.predict("l1", "i1", "s1") < after_right
    # The item got harder for everyone after a wrong answer by l1's measure: a new learner sees it.
    fresh = EloModel()
    fresh.update("l1", "i1", "s1", False)
    assert fresh.predict("l2", "i1", "s1") < EloModel().predict("l2", "i1", "s1")


def test_hinted_right_answer_is_weaker_evidence_than_unhinted():
    assert answer_credit(True, 1) < answer_credit(True, 0) == 1.0
    assert answer_credit(False, 0) == 0.0
    plain, hinted = EloModel(), EloModel()
    plain.update("l1", "i1", "s1", True, hints_used=0)
    hinted.update("l1", "i1", "s1", True, hints_used=1)
    assert plain.predict("l1", "i1", "s1") > hinted.predict("l1", "i1", "s1")


def test_item_prior_sets_the_starting_difficulty():
    model = EloModel(item_priors={"easy": -2.0, "hard": 2.0})
    assert model.predict("l1", "easy", "s") > 0.85 > 0.15 > model.predict("l1", "hard", "s")


@settings(max_examples=30, deadline=None)
@given(answers)
def test_elo_round_trips_through_json(history):
    model = EloModel(EloParams(momentum_step=0.7))
    for item, skill, correct, hints in history:
        model.update("l1", item, skill, correct, hints)
    data = json.loads(json.dumps(model.to_dict()))
    again = EloModel.from_dict(data)
    assert again.to_dict() == model.to_dict()
    assert again.predict("l1", "i1", "s1") == model.predict("l1", "i1", "s1")


def test_pfa_fit_learns_that_successes_raise_the_prediction():
    histories = [[("i", "s", float(k >= 2)) for k in range(8)] for _ in range(30)]
    weights = fit_pfa(histories, epochs=3)
    model = PfaModel(weights)
    first = model.predict("l1", "i", "s")
    for _ in range(4):
        model.update("l1", "i", "s", True)
    assert model.predict("l1", "i", "s") > first
    data = json.loads(json.dumps(model.to_dict()))
    assert PfaModel.from_dict(data).to_dict() == model.to_dict()
