"""A learner's own choices: the weekly goal (a ``goal.set`` event, read from its stored
projection) and how hard their practice should be (a ``learner.challenge_set`` event, read once
at sign-in, so it follows the learner from device to device and sign-in to sign-in).

Progress toward it is the learner's own (never anyone else's): minutes practised this week (the
durations of their answers) or skills that became proficient this week (the engine's records).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from classroom_server import clock
from classroom_server.errors import Invalid
from classroom_server.models import Event, Person, WeeklyGoal
from classroom_server.numbers import parse_int
from classroom_server.services import events

GOAL_TARGETS = {"skills": (1, 2, 3, 4, 5), "minutes": (30, 60, 90, 120)}


def week_start(now: dt.datetime | None = None) -> dt.datetime:
    now = now or clock.now()
    return (now - dt.timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)


def parse_target(text: str) -> int:
    """The number of a goal chosen on the page ("skills:3" sends "3")."""
    try:
        return parse_int(text, "goal", 1, max(max(targets) for targets in GOAL_TARGETS.values()))
    except Invalid:
        raise Invalid("Choose one of the goals on the page.", field="goal") from None


CHALLENGES = ("easier", "normal", "harder")


def set_challenge(learner: Person, level: str, current: str | None = None) -> str:
    """Record the learner's "How hard?" choice (nothing when it is what it was); returns it."""
    if level not in CHALLENGES:
        raise Invalid("Choose one of the actions on the page.", field="challenge")
    if level != (current or challenge_of(learner)):
        events.record("learner.challenge_set", {"challenge": level}, learner_uid=learner.uid, actor_uid=learner.uid)
    return level


def challenge_of(learner: Person) -> str:
    """The learner's latest "How hard?" choice, "normal" if they never made one."""
    row = (Event.select(Event.payload)
           .where(Event.learner_uid == learner.uid, Event.kind == "learner.challenge_set")
           .order_by(Event.id.desc()).first())
    return str(json.loads(row.payload)["challenge"]) if row else "normal"


def set_goal(learner: Person, kind: str, target: int) -> None:
    if kind not in GOAL_TARGETS or target not in GOAL_TARGETS[kind]:
        raise Invalid("Choose one of the goals on the page.", field="goal")
    events.record("goal.set", {"kind": kind, "target": target, "week_of": clock.iso(week_start())},
                  learner_uid=learner.uid, actor_uid=learner.uid)


def current_goal(engine: Any, learner: Person) -> dict[str, Any] | None:
    """This week's goal and the learner's progress toward it, or None when none is set this week."""
    start = week_start()
    goal = WeeklyGoal.get_or_none(WeeklyGoal.learner_uid == learner.uid)
    if goal is None or goal.week_of < clock.iso(start):
        return None
    if goal.kind == "minutes":
        total_ms = 0
        for row in Event.select(Event.payload).where(Event.kind == "attempt", Event.learner_uid == learner.uid,
                                                      Event.recorded_at >= clock.iso(start)):
            total_ms += json.loads(row.payload).get("duration_ms") or 0
        done = total_ms // 60000
    else:
        since = start.timestamp()
        with engine.reading() as snap:
            records = snap.state.mastery.get(learner.uid, {}).values()
            done = sum(1 for r in records if r.proficient_at and r.proficient_at >= since)
    target = goal.target
    return {"kind": goal.kind, "target": target, "done": min(done, target),
            "percent": int(100 * min(done, target) / target) if target else 0}
