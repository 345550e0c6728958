"""A learner's projection is a function of that learner's events and the calibrations before them.

This is what lets the district (or a restored hub) fold a log whose learners' events arrive
interleaved differently and still get every learner's numbers exactly (DESIGN.md, "Reproducible
projections").
"""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from classroom_server.learning import MasteryConfig, fold_events
from classroom_server.learning.calibration import fit_calibration
from tests.learning.test_learning_properties import CATALOG, CONFIGS, LEARNERS, SKILLS, histories


def learner_view(state, learner):
    """Everything the projection holds about one learner, as canonical JSON."""
    data = state.to_dict()
    model = data["model"]
    view = {
        "mastery": data["mastery"].get(learner), "activity": data["activity"].get(learner),
        "ability": model["learners"].get(learner), "offsets": model["offsets"].get(learner),
        "seen": data["seen_ids"].get(learner),
        "p_fresh": [state.p_fresh(learner, s["id"]) for s in SKILLS],
        "p_known": [state.p_known(learner, s["id"]) for s in SKILLS],
        "predict": [state.model.predict(learner, i, CATALOG.items[i].skill_id) for i in sorted(CATALOG.items)],
    }
    return json.dumps(view, sort_keys=True)


@st.composite
def segmented_logs(draw):
    """A log cut by calibrations into segments, and a reshuffle of it that keeps each learner's
    order and keeps every event inside its segment."""
    segments = [draw(histories(max_size=25, with_ids=True)) for _ in range(draw(st.integers(1, 3)))]
    calibrations = []
    for index in range(len(segments) - 1):
        shift = draw(st.sampled_from([-0.7, 0.0, 0.9]))
        fitted = fit_calibration([e for s in segments[:index + 1] for e in s], CATALOG)
        fitted["items"] = {k: [v[0] + shift, v[1]] for k, v in fitted["items"].items()}
        calibrations.append({"kind": "model.calibrated", **fitted})
    original, shuffled = [], []
    for index, segment in enumerate(segments):
        original += segment
        queues = {learner: [e for e in segment if e["learner_id"] == learner] for learner in LEARNERS}
        order = draw(st.permutations([learner for learner in LEARNERS for _ in queues[learner]]))
        shuffled += [queues[learner].pop(0) for learner in order]
        if index < len(calibrations):
            original.append(calibrations[index])
            shuffled.append(calibrations[index])
    return original, shuffled


@settings(max_examples=80, deadline=None)
@given(segmented_logs(), st.sampled_from(CONFIGS))
def test_any_interleaving_of_learners_gives_each_learner_the_same_projection(logs, config):
    original, shuffled = logs
    one = fold_events(original, CATALOG, config=config)
    two = fold_events(shuffled, CATALOG, config=config)
    for learner in LEARNERS:
        assert learner_view(one, learner) == learner_view(two, learner)


@settings(max_examples=40, deadline=None)
@given(histories(max_size=40), histories(max_size=40))
def test_a_calibration_changes_predictions_exactly_from_its_place_in_the_log(before, after):
    fitted = fit_calibration(before, CATALOG)
    calibration = {"kind": "model.calibrated", **fitted}
    plain = fold_events(before, CATALOG)
    calibrated = fold_events(before + [calibration], CATALOG)
    # Up to the calibration nothing differs: the fold learns nothing shared by itself ...
    assert plain.model.items == {} and plain.model.skills == {}
    for key in ("mastery", "activity", "seen_ids"):
        assert plain.to_dict()[key] == calibrated.to_dict()[key]
    assert plain.model.learners == calibrated.model.learners and plain.model.offsets == calibrated.model.offsets
    # ... and from it on, every prediction uses the calibrated difficulties.
    for item_id, (difficulty, _n) in fitted["items"].items():
        skill = CATALOG.items[item_id].skill_id
        assert calibrated.model.item_difficulty(item_id, skill) == difficulty
    both = fold_events(before + [calibration] + after, CATALOG)
    without = fold_events(before + after, CATALOG)
    if any(e["kind"] == "attempt" for e in after) and fitted["items"]:
        assert both.model.items != without.model.items
    # The same log always gives the same calibration.
    assert fit_calibration(before, CATALOG) == fitted


def test_a_calibration_needs_its_terms():
    import pytest

    with pytest.raises(ValueError, match="items"):
        fold_events([{"kind": "model.calibrated", "skills": {}}], CATALOG)


def test_the_fold_never_moves_shared_terms_but_a_calibration_fit_does(attempt):
    events = [attempt(f"l{n}", "a1", n % 3 != 0, 1_700_000_000 + n) for n in range(30)]
    assert fold_events(events, CATALOG).model.items == {}
    fitted = fit_calibration(events, CATALOG, config=MasteryConfig())
    assert fitted["answers"] == 30 and set(fitted["items"]) == {"a1"} and fitted["items"]["a1"][1] == 30


def test_the_hub_and_the_adapter_name_engine_ids_alike():
    from classroom_server.learning import adapter
    from classroom_server.services import learning

    assert learning.qualify("p", "s") == adapter.qualify("p", "s") == "p:s"
    assert learning.split("p:s:x") == adapter.split("p:s:x") == ("p", "s:x")
    assert learning.PACK_KINDS == adapter.PACK_KINDS
    from classroom_server.learning.projection import ENGINE_KINDS

    assert set(learning.ENGINE_KINDS) == ENGINE_KINDS  # the kinds the hub hands the engine
