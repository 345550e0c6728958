"""Playlist policy: gating, assignments, target item, review share, ladder, test-out, reasons."""

from classroom_server.learning import REASON_CODES, PolicyOptions, SkillGraph, apply_event, new_state, next_activities

T0 = 1_700_000_000.0
DAY = 86400.0


def master(state, skill, at, learner="l1"):
    apply_event(state, {"kind": "override", "learner_id": learner, "skill_id": skill,
                        "action": "mark_mastered", "at": at})


def test_prerequisites_gate_skills_and_every_option_has_a_reason(catalog):
    state = new_state(catalog)
    options = next_activities(state, catalog, "l1", T0)
    assert {a.skill_id for a in options} == {"a", "d"}  # b needs a, c needs b
    master(state, "a", T0)
    options = next_activities(state, catalog, "l1", T0 + 60)
    assert "b" in {a.skill_id for a in options} and "c" not in {a.skill_id for a in options}
    for act in options:
        assert act.reason["code"] in REASON_CODES and isinstance(act.reason["params"], dict)


def test_assignments_come_first_and_at_most_three_choices(catalog):
    state = new_state(catalog)
    master(state, "a", T0)
    options = next_activities(state, catalog, "l1", T0 + 60, assignments=["c"])
    assert options[0].skill_id == "c" and options[0].reason["code"] == "teacher_assigned"
    assert len(options) <= 3
    assert len({a.skill_id for a in options}) == len(options)


def test_item_nearest_the_target_and_challenge_choice(catalog):
    state = new_state(catalog)
    normal = next_activities(state, catalog, "l1", T0)[0]
    preds = {i: state.model.predict("l1", i, "a") for i in catalog.item_ids("a")}
    assert abs(normal.predicted - 0.75) == min(abs(p - 0.75) for p in preds.values())
    harder = next_activities(state, catalog, "l1", T0, options=PolicyOptions(challenge="harder"))[0]
    assert harder.predicted < normal.predicted


def test_recently_seen_items_are_avoided(catalog):
    state = new_state(catalog)
    first = next_activities(state, catalog, "l1", T0)[0]
    apply_event(state, {"kind": "attempt", "learner_id": "l1", "item_id": first.item_id,
                        "skill_id": first.skill_id, "correct": False, "at": T0})
    second = next_activities(state, catalog, "l1", T0 + 60)[0]
    assert second.skill_id == first.skill_id and second.item_id != first.item_id


def test_review_share_is_bounded_when_reviews_are_due():
    """Due reviews take at most their share (20 %) of a session's answers while something new is
    left to learn, and open the session; once nothing new is left they come before extra
    practice on skills already proficient (which FSRS does not ask for)."""
    skills = [{"id": f"s{k}"} for k in range(14)]
    items = [{"id": f"s{k}-{j}", "skill_id": f"s{k}"} for k in range(14) for j in range(3)]
    catalog = SkillGraph.from_dict({"skills": skills, "items": items})
    state = new_state(catalog)
    for k in range(12):
        master(state, f"s{k}", T0)
    now = T0 + 30 * DAY  # twelve mastered skills, all long due; two new skills to learn
    kinds, learning_left = [], []
    one_long_session = PolicyOptions(items_per_session=40)
    for step in range(40):
        learning_left.append(any(state.peek("l1", s).state in ("not_started", "learning")
                                 for s in ("s12", "s13")))
        act = next_activities(state, catalog, "l1", now + 60 * step, options=one_long_session,
                              items_done_in_session=step)[0]
        kinds.append(act.reason["code"])
        apply_event(state, {"kind": "attempt", "learner_id": "l1", "item_id": act.item_id,
                            "skill_id": act.skill_id, "correct": True, "at": now + 60 * step})
    while_learning = [code for code, left in zip(kinds, learning_left, strict=True) if left]
    assert kinds[0] == "review_due" and len(while_learning) >= 6, kinds
    assert 1 <= while_learning.count("review_due") <= 0.25 * len(while_learning), kinds
    assert kinds.count("review_due") == 12, "every due review before extra practice"
    first_extra = kinds.index("keep_practising")
    assert "review_due" not in kinds[first_extra:], kinds


def fail_on_b(state, catalog, at, steps=14):
    """Answer every offered activity on b wrongly (viewing lessons); return the reason codes."""
    seen = []
    for _ in range(steps):
        act = next_activities(state, catalog, "l1", at, assignments=["b"])[0]
        seen.append(act.reason["code"])
        if act.kind == "lesson":
            apply_event(state, {"kind": "lesson_viewed", "learner_id": "l1", "skill_id": "b",
                                "modality": act.modality, "at": at})
        elif act.kind == "worked_example":
            apply_event(state, {"kind": "worked_example_viewed", "learner_id": "l1",
                                "skill_id": "b", "at": at})
        else:
            apply_event(state, {"kind": "attempt", "learner_id": "l1", "item_id": act.item_id,
                                "skill_id": act.skill_id, "correct": act.skill_id == "a",
                                "at": at})
        at += 60
    return seen


def test_prerequisite_remediation_only_for_a_shaky_prerequisite(catalog):
    solid = new_state(catalog)
    master(solid, "a", T0)
    seen = fail_on_b(solid, catalog, T0 + 60)
    assert "remediate_prerequisite" not in seen and "recheck" in seen, seen
    shaky = new_state(catalog)
    for k, correct in enumerate([True, True, True, False]):  # proficient, then a slip
        apply_event(shaky, {"kind": "attempt", "learner_id": "l1", "item_id": f"a{k % 4}",
                            "skill_id": "a", "correct": correct, "at": T0 + 60 * k})
    assert shaky.peek("l1", "a").state == "proficient"
    assert shaky.p_known("l1", "a") < shaky.config.proficient_threshold
    seen = fail_on_b(shaky, catalog, T0 + 600)
    # Remediation stops once the prerequisite is solid again (here after one right answer).
    assert seen.count("remediate_prerequisite") == 1, seen
    assert shaky.p_known("l1", "a") >= shaky.config.proficient_threshold


def test_proficient_prerequisite_unlocks_and_a_failed_check_reopens_it(catalog):
    state = new_state(catalog)
    for k in range(4):
        apply_event(state, {"kind": "attempt", "learner_id": "l1", "item_id": f"a{k}",
                            "skill_id": "a", "correct": True, "at": T0 + 60 * k})
    assert state.peek("l1", "a").state == "proficient"
    assert "b" in {x.skill_id for x in next_activities(state, catalog, "l1", T0 + 600)}
    waiting = PolicyOptions(prerequisite_level="mastered")
    assert "b" not in {x.skill_id for x in next_activities(state, catalog, "l1", T0 + 600,
                                                            options=waiting)}
    apply_event(state, {"kind": "attempt", "learner_id": "l1", "item_id": "b1", "skill_id": "b",
                        "correct": True, "at": T0 + 700})
    check = next_activities(state, catalog, "l1", T0 + DAY)[0]
    assert (check.kind, check.skill_id, check.reason["code"]) == ("check", "a", "mastery_check")
    apply_event(state, {"kind": "attempt", "learner_id": "l1", "item_id": check.item_id,
                        "skill_id": "a", "correct": False, "at": T0 + DAY})
    assert state.peek("l1", "a").state == "learning"
    offered = [x.skill_id for x in next_activities(state, catalog, "l1", T0 + DAY + 60)]
    assert offered[0] == "a" and "b" not in offered


def test_remediation_ladder_after_repeated_failure(catalog):
    state = new_state(catalog)
    for k, correct in enumerate([True, True, True, False]):  # a proficient but shaky
        apply_event(state, {"kind": "attempt", "learner_id": "l1", "item_id": f"a{k % 4}",
                            "skill_id": "a", "correct": correct, "at": T0 + 60 * k})
    at = T0 + 600
    seen = []
    for _ in range(14):
        act = next_activities(state, catalog, "l1", at, assignments=["b"])[0]
        seen.append(act.reason["code"])
        if act.kind == "lesson":
            assert act.modality and act.modality != act.reason["params"]["previous_modality"]
            apply_event(state, {"kind": "lesson_viewed", "learner_id": "l1", "skill_id": "b",
                                "modality": act.modality, "at": at})
        elif act.kind == "worked_example":
            apply_event(state, {"kind": "worked_example_viewed", "learner_id": "l1",
                                "skill_id": "b", "at": at})
        else:
            apply_event(state, {"kind": "attempt", "learner_id": "l1", "item_id": act.item_id,
                                "skill_id": act.skill_id, "correct": False, "at": at})
        at += 60
    order = ["hint_offered", "worked_example", "lesson_other_modality",
             "remediate_prerequisite", "recheck"]
    positions = [seen.index(code) for code in order]
    assert positions == sorted(positions), seen


def test_test_out_comes_first_as_check_items(catalog):
    state = new_state(catalog)
    apply_event(state, {"kind": "test_out_started", "learner_id": "l1", "skill_id": "d",
                        "at": T0})
    act = next_activities(state, catalog, "l1", T0 + 1)[0]
    assert act.kind == "check" and act.skill_id == "d" and act.reason["code"] == "test_out"
    assert catalog.items[act.item_id].check


def test_items_per_session_accommodation_is_honoured(catalog):
    state = new_state(catalog)
    options = PolicyOptions(accommodations={"items_per_session": 5, "read_aloud": True})
    acts = next_activities(state, catalog, "l1", T0, options=options, items_done_in_session=5)
    assert [a.reason["code"] for a in acts] == ["session_complete"]
    acts = next_activities(state, catalog, "l1", T0, options=options, items_done_in_session=4)
    assert acts[0].kind == "practice" and acts[0].accommodations["read_aloud"] is True


def test_retired_items_keep_their_priors_but_are_never_offered():
    data = {"skills": [{"id": "a"}],
            "items": [{"id": "a1", "skill_id": "a", "difficulty": 0.0}],
            "retired": [{"id": "a0", "skill_id": "a", "difficulty": -2.0, "check": True},
                        {"id": "gone1", "skill_id": "gone", "difficulty": 1.0}]}
    catalog = SkillGraph.from_dict(data)
    assert catalog.skill_priors()["a"] == -1.0  # the mean over offered and retired items
    assert catalog.item_ids("a") == ["a1", "a0"] and "gone1" in catalog.items
    state = new_state(catalog)
    apply_event(state, {"kind": "attempt", "learner_id": "l1", "item_id": "a0", "skill_id": "a",
                        "correct": True, "at": T0})
    for step in range(5):
        for act in next_activities(state, catalog, "l1", T0 + DAY * step):
            assert act.item_id in (None, "a1"), act


# --- #19: what learners met when they tried the hub ---------------------------------------------

def answer(state, item, correct, at, learner="l1"):
    apply_event(state, {"kind": "attempt", "learner_id": learner, "item_id": item,
                        "skill_id": item[0], "correct": correct, "at": at})


def test_an_assigned_skill_steps_aside_once_proficient(catalog):
    """#19: the assignment came first until *mastered*, so a learner who knew it rotated its
    items until the session's break. Once proficient it waits for its check like any skill."""
    state = new_state(catalog)
    for k in range(3):
        first = next_activities(state, catalog, "l1", T0 + 60 * k, assignments=["a"])[0]
        assert (first.skill_id, first.reason["code"]) == ("a", "teacher_assigned")
        answer(state, f"a{k}", True, T0 + 60 * k)
    assert state.peek("l1", "a").state == "proficient"
    later = next_activities(state, catalog, "l1", T0 + 600, assignments=["a"])
    assert "teacher_assigned" not in [x.reason["code"] for x in later], later
    assert later[0].skill_id in ("b", "d") and later[0].reason["code"] == "ready"
    check = next_activities(state, catalog, "l1", T0 + DAY, assignments=["a"])[0]
    assert (check.skill_id, check.reason["code"]) == ("a", "mastery_check")


def test_the_test_out_the_learner_asked_for_comes_before_assignments(catalog):
    """#19: "I already know this" on one skill sent the learner to the class assignment."""
    state = new_state(catalog)
    for skill, at in (("a", T0), ("d", T0 + 60)):  # d asked last: it is the one on their mind
        apply_event(state, {"kind": "test_out_started", "learner_id": "l1", "skill_id": skill, "at": at})
    first = next_activities(state, catalog, "l1", T0 + 120, assignments=["b"])[0]
    assert (first.skill_id, first.reason["code"]) == ("d", "test_out")


def test_a_session_opens_with_a_due_review_whatever_the_last_session_did():
    """#19: the review share counted the last 20 answers, the previous session's too, so a
    learner who had reviewed last time met no review at all when they came back weeks later."""
    skills = [{"id": f"s{k}"} for k in range(6)]
    items = [{"id": f"s{k}-{j}", "skill_id": f"s{k}"} for k in range(6) for j in range(4)]
    catalog = SkillGraph.from_dict({"skills": skills, "items": items})
    state = new_state(catalog)
    for k in range(3):
        master(state, f"s{k}", T0)
    at = T0 + 10 * DAY  # reviews due; a session of 15 answers with reviews in it
    for step in range(15):
        act = next_activities(state, catalog, "l1", at, items_done_in_session=step)[0]
        apply_event(state, {"kind": "attempt", "learner_id": "l1", "item_id": act.item_id,
                            "skill_id": act.skill_id, "correct": True, "at": at})
        at += 60
    assert sum(state.activity["l1"].recent_review) / 20 >= 0.15
    month_later = next_activities(state, catalog, "l1", at + 30 * DAY, items_done_in_session=0)
    codes = [x.reason["code"] for x in month_later]
    assert codes[0] in ("review_due", "mastery_check") and "review_due" in codes[:2], codes


def test_a_due_review_reaches_the_path_beside_a_due_check(catalog):
    """#19: one slot for due work, which a waiting check always took (checks were ordered by the
    time they became proficient, reviews by when they fell due), so reviews never showed."""
    state = new_state(catalog)
    master(state, "d", T0)
    for k in range(3):
        answer(state, f"a{k}", True, T0 + 60 * k)  # a proficient: its check is due a day later
    acts = next_activities(state, catalog, "l1", T0 + 9 * DAY, options=PolicyOptions(choices=5))
    codes = [(x.skill_id, x.reason["code"]) for x in acts]
    assert codes[:2] == [("a", "mastery_check"), ("d", "review_due")], codes


def test_a_skill_whose_check_is_due_is_checked_not_extra_practice(catalog):
    """Its answer is the check anyway (mastery.apply_attempt): say so, and ask the hard item."""
    state = new_state(catalog)
    master(state, "d", T0)
    for k in range(3):
        answer(state, f"a{k}", True, T0 + 60 * k)
    answer(state, "d0", True, T0 + DAY)  # this session's due work has had its share already
    acts = next_activities(state, catalog, "l1", T0 + DAY + 60, items_done_in_session=1,
                           options=PolicyOptions(choices=5))
    codes = {x.skill_id: x.reason["code"] for x in acts}
    assert codes.get("a") == "mastery_check", codes


def test_due_checks_and_reviews_take_turns_in_a_session():
    """A learner back from a holiday has reviews older than any check; one who makes a skill
    proficient most days has a check older than their reviews. Oldest first, one kind took
    every slot of the session; now the kind the session has served less leads."""
    skills = [{"id": f"s{k}"} for k in range(16)]  # 8 mastered, 1 proficient, 7 new ones
    items = [{"id": f"s{k}-{j}", "skill_id": f"s{k}"} for k in range(16) for j in range(4)]
    catalog = SkillGraph.from_dict({"skills": skills, "items": items})
    state = new_state(catalog)
    for k in range(8):
        master(state, f"s{k}", T0)
    at = T0 + 20 * DAY
    for j in range(3):  # s8 proficient; its check is due a day later, long after the reviews
        apply_event(state, {"kind": "attempt", "learner_id": "l1", "item_id": f"s8-{j}",
                            "skill_id": "s8", "correct": True, "at": at + 60 * j})
    at += DAY
    served = []
    for step in range(15):
        act = next_activities(state, catalog, "l1", at, items_done_in_session=step)[0]
        served.append(act.reason["code"])
        apply_event(state, {"kind": "attempt", "learner_id": "l1", "item_id": act.item_id,
                            "skill_id": act.skill_id, "correct": True, "at": at})
        at += 60
    assert served[0] == "review_due" and "mastery_check" in served, served
    assert 1 <= served.count("review_due") <= 2, served
