"""The ladder's "learn it another way" (#19): a lesson in a modality the skill really has for the
learner, not the one they opened last; the one there is, said to be the only one, when there is
one; never the teacher's printable; audio first for a learner with read-aloud."""

import pytest

from classroom_server.learning import REASON_CODES, Assigned, PolicyOptions, apply_event, new_state, next_activities
from classroom_server.learning.mastery import SUPPORT_LESSON

T0 = 1_700_000_000.0
LESSON_CODES = ("lesson_other_modality", "lesson_only_modality")


def opened(state, modality, at=T0, skill="d"):
    apply_event(state, {"kind": "lesson_viewed", "learner_id": "l1", "skill_id": skill, "modality": modality,
                        "at": at})


def lesson_rung(state, catalog, options, skill="d", at=T0 + 60):
    """Miss every item of the skill (opening the worked example when it comes) until the ladder
    reaches its lesson rung; return the activity offered there."""
    for _ in range(12):
        act = next_activities(state, catalog, "l1", at, assignments=[skill], options=options)[0]
        if state.peek("l1", skill).support_level == SUPPORT_LESSON:
            return act
        assert act.kind in ("practice", "worked_example"), act
        if act.kind == "worked_example":
            apply_event(state, {"kind": "worked_example_viewed", "learner_id": "l1", "skill_id": skill, "at": at})
        else:
            apply_event(state, {"kind": "attempt", "learner_id": "l1", "item_id": act.item_id, "skill_id": skill,
                                "correct": False, "at": at})
        at += 60
    raise AssertionError("the ladder never reached the lesson rung")


def test_the_reason_for_a_skill_with_one_modality_is_in_the_vocabulary():
    assert "lesson_only_modality" in REASON_CODES


@pytest.mark.parametrize("last, offered", [("text", "audio"), ("audio", "text"), (None, "text")])
def test_the_other_way_is_a_modality_the_skill_has_and_not_the_one_opened_last(catalog, last, offered):
    state = new_state(catalog)
    if last:
        opened(state, last)
    options = PolicyOptions(lesson_modalities={"d": ("text", "printable", "audio")})
    act = lesson_rung(state, catalog, options)
    assert (act.kind, act.modality, act.reason["code"]) == ("lesson", offered, "lesson_other_modality")
    assert act.reason["params"]["previous_modality"] == last


def test_without_the_skills_modalities_the_same_text_lesson_came_back():
    """What #19 found: the policy chose from every modality it knows, the hub had only text, so
    the "other way" was the text lesson again. The hub now says what each skill has."""
    from classroom_server.learning import SkillGraph

    catalog = SkillGraph.from_dict({"skills": [{"id": "d"}],
                                    "items": [{"id": f"d{k}", "skill_id": "d"} for k in range(4)]})
    state = new_state(catalog)
    opened(state, "text")
    blind = lesson_rung(state, catalog, PolicyOptions())
    assert blind.modality not in ("text", "printable"), "a modality the skill may not have"
    state = new_state(catalog)
    opened(state, "text")
    told = lesson_rung(state, catalog, PolicyOptions(lesson_modalities={"d": ("text", "printable")}))
    assert (told.modality, told.reason["code"]) == ("text", "lesson_only_modality")


def test_a_skill_with_one_learner_modality_offers_it_and_says_it_is_the_only_one(catalog):
    state = new_state(catalog)
    opened(state, "text")
    act = lesson_rung(state, catalog, PolicyOptions(lesson_modalities={"d": ("text", "printable")}))
    assert (act.kind, act.modality, act.reason["code"]) == ("lesson", "text", "lesson_only_modality")
    assert act.reason["params"]["previous_modality"] == "text", "the printable is the teacher's, never the other way"


def test_read_aloud_prefers_the_audio_lesson(catalog):
    read_aloud = {"read_aloud": True}
    both = PolicyOptions(lesson_modalities={"d": ("text", "audio")}, accommodations=read_aloud)
    act = lesson_rung(new_state(catalog), catalog, both)
    assert (act.modality, act.reason["code"]) == ("audio", "lesson_other_modality")
    state = new_state(catalog)
    opened(state, "audio")
    assert lesson_rung(state, catalog, both).modality == "text", "heard it already: the text, then"
    text_only = PolicyOptions(lesson_modalities={"d": ("text",)}, accommodations=read_aloud)
    act = lesson_rung(new_state(catalog), catalog, text_only)
    assert (act.modality, act.reason["code"]) == ("text", "lesson_only_modality")


def test_a_skill_without_lessons_gets_another_item_with_the_hint_ready(catalog):
    state = new_state(catalog)
    act = lesson_rung(state, catalog, PolicyOptions(lesson_modalities={}))
    assert (act.kind, act.support, act.reason["code"]) == ("practice", "hint", "hint_offered")
    assert act.item_id in catalog.item_ids("d")


def test_an_assigned_lesson_is_the_audio_one_for_read_aloud_only_when_the_skill_has_one(catalog):
    assigned = [Assigned("c", "lesson", T0)]
    for have, modality in ((("text", "audio"), "audio"), (("text",), "text")):
        options = PolicyOptions(lesson_modalities={"c": have}, accommodations={"read_aloud": True})
        act = next_activities(new_state(catalog), catalog, "l1", T0, assignments=assigned, options=options)[0]
        assert (act.kind, act.reason["code"], act.modality) == ("lesson", "teacher_assigned_lesson", modality)
