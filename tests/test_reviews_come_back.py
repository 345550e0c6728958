"""#19: on a copy of the demo with the clock moved 7 and 21 days ahead, a due review reached the
path of 4 learners in 31, though 28 of them held mastered skills. Three things kept reviews off
the path (learning/policy.py): the review share counted the previous session's answers, so a
learner who had reviewed last time met no due work when they came back; checks and reviews
shared one slot, with checks ordered a day early, so a waiting check always took it; and extra
practice on proficient skills came before the other due reviews, past the path's five choices.
"""

import datetime as dt

import pytest

from classroom_server import clock, demo
from classroom_server.app import create_app
from classroom_server.db import db
from classroom_server.demo_practice import simulate
from classroom_server.models import Person
from classroom_server.services import practice


def review_on_path(engine, learners, moment):
    """(learners holding a due review, those whose path shows one) at ``moment``, as each one's
    My path looks when they sign in."""
    holding = seeing = 0
    with clock.pretend(moment):
        for learner in learners:
            with engine.reading() as snap:
                records = snap.state.mastery.get(learner.uid, {}).values()
                due = any(r.review_due(moment.timestamp()) for r in records)
            if not due:
                continue
            holding += 1
            codes = [c.reason_code for c in practice.path_for(engine, learner, "en")]
            seeing += "review_due" in codes
    return holding, seeing


@pytest.mark.slow
def test_due_reviews_reach_the_path_a_week_and_three_weeks_later(tmp_path):
    app = create_app(tmp_path, {"TESTING": True, "log_level": "warning", "insecure_fast_hashes": True})
    engine = app.extensions["engine"]
    demo.build(tmp_path, seed=7, engine=engine)  # 30 learners, two classes, three days of practice
    with db.connection_context():
        learners = list(Person.select().where(Person.role == "learner").order_by(Person.id))
        with engine.reading() as snap:
            mastered = [p for p in learners
                        if any(r.state == "mastered" for r in snap.state.mastery.get(p.uid, {}).values())]
        assert len(mastered) >= 20, "the demo's learners master skills in three days"
        today = clock.now()

        holding, seeing = review_on_path(engine, learners, today + dt.timedelta(days=7))
        assert holding >= 0.8 * len(mastered), "every mastered skill is due a week later"
        assert seeing >= 0.9 * holding, f"{seeing} of {holding} learners with a due review see it"

        with clock.pretend(today + dt.timedelta(days=8)):  # a school day's session, a week later
            assert simulate(engine, learners, days=1, steps_per_day=15, seed=11) > 0
        holding, seeing = review_on_path(engine, learners, today + dt.timedelta(days=21))
        assert holding >= 0.5 * len(mastered)
        assert seeing >= 0.9 * holding, f"{seeing} of {holding} learners with a due review see it"
    db.close_all()
