"""How many reviews a learner with N mastered skills meets per session (docs/learning-engine.md
gives the figures; ``python -m tests.learning.test_reviews_per_session`` prints them again).

A small simulated school: N skills mastered one a school day before today, 30 new skills to
learn (six items each, two of them check items), a learner right 85 % of the time, one session
of 15 answers a school day taking the path's first option, as "Next" does. Mastered skills'
reviews fall due (FSRS), new skills become proficient and their checks fall due the next day:
both kinds of due work share the session's 20 %.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from classroom_server.learning import PolicyOptions, SkillGraph, apply_event, new_state, next_activities

T0 = 1_700_000_000.0
DAY = 86400.0
ANSWERS = 15


@dataclass
class Session:
    due_reviews: float = 0.0  # reviews due as the session opens
    holding: float = 0.0  # learners with a review due as the session opens
    shown: float = 0.0  # of those, the share whose path (five options) shows one
    reviews: float = 0.0  # due reviews answered in the session
    checks: float = 0.0  # check answers (two per check) in the session


def sessions(mastered: int, away_days: int = 1, count: int = 5, learners: int = 50,
             seed: int = 1) -> list[Session]:
    """Per session, the average over ``learners``; the first session is ``away_days`` after the
    last mastered skill."""
    skills = [{"id": f"m{k}"} for k in range(mastered)] + [{"id": f"n{k}"} for k in range(30)]
    items = [{"id": f"{s['id']}-{j}", "skill_id": s["id"], "check": j < 2} for s in skills for j in range(6)]
    catalog = SkillGraph.from_dict({"skills": skills, "items": items})
    state = new_state(catalog)
    rng = random.Random(seed)
    found = [Session() for _ in range(count)]
    path = PolicyOptions(choices=5)
    for n in range(learners):
        learner = f"l{n}"
        for k in range(mastered):
            apply_event(state, {"kind": "override", "learner_id": learner, "skill_id": f"m{k}",
                                "action": "mark_mastered", "at": T0 - (mastered - k) * DAY})
        for number, session in enumerate(found):
            at = T0 + (away_days - 1 + number) * DAY
            records = state.mastery.get(learner, {}).values()
            due = sum(1 for r in records if r.review_due(at))
            session.due_reviews += due
            session.holding += due > 0
            for step in range(ANSWERS):
                offered = next_activities(state, catalog, learner, at, items_done_in_session=step, options=path)
                if step == 0 and due:
                    session.shown += any(a.reason["code"] == "review_due" for a in offered)
                act = offered[0]
                if act.item_id is None:  # a worked example or a lesson
                    kind = "lesson_viewed" if act.kind == "lesson" else "worked_example_viewed"
                    apply_event(state, {"kind": kind, "learner_id": learner, "skill_id": act.skill_id,
                                        "modality": act.modality, "at": at})
                else:
                    session.reviews += act.reason["code"] == "review_due"
                    session.checks += act.reason["code"] == "mastery_check"
                    apply_event(state, {"kind": "attempt", "learner_id": learner, "item_id": act.item_id,
                                        "skill_id": act.skill_id, "correct": rng.random() < 0.85, "at": at})
                at += 60
    for session in found:
        session.shown = session.shown / session.holding if session.holding else 1.0
        for name in ("due_reviews", "holding", "reviews", "checks"):
            setattr(session, name, getattr(session, name) / learners)
    return found


def test_a_learner_with_due_reviews_meets_them_every_session():
    for mastered in (3, 10):
        for away in (1, 7):
            found = sessions(mastered, away, count=4, learners=8)
            assert found[0].reviews >= 1.0, (mastered, away, found[0])
            for session in found:
                assert session.shown == 1.0, "a review due as a session opens is on its path"
                assert session.reviews + session.checks <= 0.25 * ANSWERS + 1, session
                if session.due_reviews >= 1:  # reviews due, checks too: both kinds are answered
                    assert session.reviews >= 0.75, (mastered, away, session)


def table(learners: int = 200) -> str:
    rows = ["| mastered skills | first session | reviews due as it opens (sessions 1 / 2 / 3 / 4 / 5) | "
            "reviews answered | check answers | path shows a due review |", "|---|---|---|---|---|---|"]
    for mastered in (1, 3, 5, 10, 20):
        for away in (1, 7):
            found = sessions(mastered, away, learners=learners)
            cells = [" / ".join(f"{getattr(s, name):.1f}" for s in found)
                     for name in ("due_reviews", "reviews", "checks")]
            shown = " / ".join(f"{s.shown:.0%}" for s in found)
            start = "the next day" if away == 1 else f"after {away} days away"
            rows.append(f"| {mastered} | {start} | " + " | ".join(cells) + f" | {shown} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
