"""The teacher's lesson and check assignments on the path (#18): each leads until the learner did
it after it was given, then steps aside; practice and plain skill ids behave as before."""

from classroom_server.learning import REASON_CODES, Assigned, apply_event, fold_events, new_state, next_activities

T0 = 1_700_000_000.0
DAY = 86400.0


def make_attempt(learner, item, correct, at):
    return {"kind": "attempt", "learner_id": learner, "item_id": item, "skill_id": item[0], "correct": correct,
            "hints_used": 0, "duration_ms": 20000, "at": at}


def lesson_viewed(at, skill="c", learner="l1"):
    return {"kind": "lesson_viewed", "learner_id": learner, "skill_id": skill, "modality": "text", "at": at}


def check_answer(item, correct, at, mode="check", learner="l1"):
    return {**make_attempt(learner, item, correct, at), "mode": mode}


def first(state, catalog, at, assigned):
    return next_activities(state, catalog, "l1", at, assignments=assigned)[0]


def test_the_new_reasons_are_in_the_vocabulary():
    assert {"teacher_assigned_lesson", "teacher_assigned_check"} <= set(REASON_CODES)


def test_an_assigned_lesson_leads_until_it_is_opened_after_it_was_given(catalog):
    state = new_state(catalog)
    assigned = [Assigned("c", "lesson", T0 + 100)]
    apply_event(state, lesson_viewed(T0 + 50))  # opened before it was given: not what was asked
    act = first(state, catalog, T0 + 200, assigned)
    assert (act.kind, act.skill_id, act.reason["code"], act.modality) == ("lesson", "c", "teacher_assigned_lesson",
                                                                          "text")
    apply_event(state, make_attempt("l1", "c1", True, T0 + 250))  # practice does not meet it
    assert first(state, catalog, T0 + 260, assigned).reason["code"] == "teacher_assigned_lesson"
    apply_event(state, lesson_viewed(T0 + 300))
    after = next_activities(state, catalog, "l1", T0 + 400, assignments=assigned)
    assert all(not a.reason["code"].startswith("teacher_assigned") for a in after), after
    assert "c" not in {a.skill_id for a in after}  # c is locked behind b: the path goes on as if unassigned


def test_an_assigned_lesson_reads_aloud_first_for_a_learner_who_needs_it(catalog):
    from classroom_server.learning import PolicyOptions

    options = PolicyOptions(accommodations={"read_aloud": True})
    act = next_activities(new_state(catalog), catalog, "l1", T0, assignments=[Assigned("c", "lesson", T0)],
                          options=options)[0]
    assert (act.kind, act.modality) == ("lesson", "audio")


def test_an_assigned_check_leads_as_a_check_until_it_is_answered_right_or_wrong(catalog):
    state = new_state(catalog)
    assigned = [Assigned("d", "check", T0 + 100)]
    act = first(state, catalog, T0 + 200, assigned)
    assert (act.kind, act.skill_id, act.reason["code"]) == ("check", "d", "teacher_assigned_check")
    assert catalog.items[act.item_id].check  # the check items, as the delayed check asks them
    apply_event(state, check_answer("d0", True, T0 + 10))  # a check taken before it was given
    assert first(state, catalog, T0 + 200, assigned).reason["code"] == "teacher_assigned_check"
    apply_event(state, check_answer("d1", True, T0 + 210, mode="practice"))  # practice: not the check
    assert first(state, catalog, T0 + 220, assigned).reason["code"] == "teacher_assigned_check"
    apply_event(state, check_answer("d0", False, T0 + 300))  # wrong, but taken
    after = next_activities(state, catalog, "l1", T0 + 400, assignments=assigned)
    assert all(a.reason["code"] != "teacher_assigned_check" for a in after)
    assert state.peek("l1", "d").state == "learning"  # the engine's rules decide the rest


def test_a_test_out_answer_counts_as_the_check(catalog):
    state = new_state(catalog)
    apply_event(state, check_answer("d0", True, T0 + 300, mode="test_out"))
    assert first(state, catalog, T0 + 400, [Assigned("d", "check", T0 + 100)]).reason["code"] != \
        "teacher_assigned_check"


def test_a_new_assignment_asks_again_and_a_reset_keeps_what_was_done(catalog):
    state = new_state(catalog)
    apply_event(state, lesson_viewed(T0 + 300, skill="a"))
    assert first(state, catalog, T0 + 400, [Assigned("a", "lesson", T0 + 100)]).reason["code"] != \
        "teacher_assigned_lesson"
    assert first(state, catalog, T0 + DAY, [Assigned("a", "lesson", T0 + 500)]).reason["code"] == \
        "teacher_assigned_lesson"
    apply_event(state, {"kind": "override", "learner_id": "l1", "skill_id": "a", "action": "reset", "at": T0 + 600})
    assert state.peek("l1", "a").lesson_viewed_at == T0 + 300


def test_practice_and_plain_skill_ids_read_as_before(catalog):
    """A plain skill id (every caller before kinds, and an old event's assignment) is practice:
    it leads until the skill is proficient, exactly like Assigned(skill)."""
    events = [make_attempt("l1", f"d{k % 4}", True, T0 + 60 * k) for k in range(8)]
    for at in (T0 + 1, T0 + 60 * 9):
        state = fold_events([e for e in events if e["at"] < at], catalog)
        plain = next_activities(state, catalog, "l1", at, assignments=["d"])
        typed = next_activities(state, catalog, "l1", at, assignments=[Assigned("d")])
        assert plain == typed
    assert plain[0].reason["code"] != "teacher_assigned" and state.peek("l1", "d").state == "proficient"
    fresh = next_activities(new_state(catalog), catalog, "l1", T0, assignments=["d"])[0]
    assert (fresh.kind, fresh.reason["code"]) == ("practice", "teacher_assigned")


def test_on_one_skill_the_lesson_then_the_check_then_practice(catalog):
    """Practice asked of the skill first (the class's, say) does not hold the lesson back."""
    state = new_state(catalog)
    assigned = ["d", Assigned("d", "check", T0), Assigned("d", "lesson", T0), "a"]

    def leading(at):
        acts = next_activities(state, catalog, "l1", at, assignments=assigned)
        return [(a.kind, a.skill_id, a.reason["code"]) for a in acts[:2]]

    assert leading(T0 + 1) == [("lesson", "d", "teacher_assigned_lesson"), ("practice", "a", "teacher_assigned")]
    apply_event(state, lesson_viewed(T0 + 2, skill="d"))
    assert leading(T0 + 3)[0] == ("check", "d", "teacher_assigned_check")
    apply_event(state, check_answer("d0", True, T0 + 4))
    assert leading(T0 + 5)[0] == ("practice", "d", "teacher_assigned")


def test_the_times_survive_a_rebuild_and_the_serialised_state(catalog):
    from classroom_server.learning import EngineState

    events = [lesson_viewed(T0 + 5, skill="a"), check_answer("b0", False, T0 + 9)]
    state = fold_events(events, catalog)
    again = EngineState.from_dict(state.to_dict(), catalog)
    for skill, field, at in (("a", "lesson_viewed_at", T0 + 5), ("b", "checked_at", T0 + 9)):
        assert getattr(state.peek("l1", skill), field) == getattr(again.peek("l1", skill), field) == at
