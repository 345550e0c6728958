"""A learner's weekly goal: set as a ``goal.set`` event, read from its stored projection.

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
