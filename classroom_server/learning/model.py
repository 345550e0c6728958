"""The learner-model interface, and the small helpers every model shares.

A learner model answers one question for the rest of the hub: "what is the chance this learner
answers this item right, now?" The mastery rules and the playlist policy only ever ask that
question, so swapping the model (hierarchical Elo by default, PFA-log as the alternative) does not
touch them. Models are deterministic: no wall clock, no randomness, so a projection rebuilt from
the event log gives bit-identical numbers.

Times are float seconds since the Unix epoch; `to_seconds` accepts the shapes events arrive in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

# Predictions are kept away from 0 and 1 so log loss and logits stay finite.
P_MIN = 1e-4
P_MAX = 1.0 - 1e-4

Moment = float | int | str | datetime


def sigmoid(z: float) -> float:
    """Logistic function, written to avoid overflow for large |z|."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def logit(p: float) -> float:
    """Inverse of `sigmoid`, with p clamped into (P_MIN, P_MAX)."""
    p = min(P_MAX, max(P_MIN, p))
    return math.log(p / (1.0 - p))


def clamp_probability(p: float) -> float:
    """Keep a probability strictly inside (0, 1), as the interface promises."""
    return min(P_MAX, max(P_MIN, p))


def to_seconds(moment: Moment) -> float:
    """Normalise an event time to float epoch seconds.

    Events are JSON, so times arrive as numbers or ISO-8601 strings; naive datetimes are read as
    UTC so that the same log gives the same projection on every machine.
    """
    if isinstance(moment, bool):
        raise TypeError("a time cannot be a bool")
    if isinstance(moment, (int, float)):
        return float(moment)
    if isinstance(moment, str):
        text = moment.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        moment = datetime.fromisoformat(text)
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    raise TypeError(f"cannot read a time from {type(moment).__name__}")


def answer_credit(
    correct: bool,
    hints_used: int = 0,
    duration_ms: float | None = None,
    *,
    hint_credit: float = 0.5,
    slow_after_ms: float | None = None,
    slow_credit: float = 0.8,
) -> float:
    """Turn one answer into evidence between 0 and 1.

    A correct answer reached with hints shows less independent skill than one without, so it
    counts as partial credit (hint_credit per hint, multiplied). Slowness is *off* by default:
    many of our learners type slowly or have a "more time" accommodation, and penalising time
    would read those as weak skill. A deployment can opt in with `slow_after_ms`.
    """
    if not correct:
        return 0.0
    credit = 1.0
    if hints_used and hints_used > 0:
        credit *= hint_credit ** int(hints_used)
    if slow_after_ms is not None and duration_ms is not None and duration_ms > slow_after_ms:
        credit *= slow_credit
    return credit


class LearnerModel(Protocol):
    """What the mastery rules and the playlist policy need from any learner model."""

    ALGORITHM_VERSION: str

    def predict(self, learner_id: str, item_id: str, skill_id: str) -> float:
        """P(correct) for this learner on this item, strictly inside (0, 1)."""

    def update(
        self,
        learner_id: str,
        item_id: str,
        skill_id: str,
        correct: bool,
        hints_used: int = 0,
        duration_ms: float | None = None,
        at: float | None = None,
    ) -> float:
        """Learn from one answer; return the prediction made just before it."""

    def skill_probability(
        self, learner_id: str, skill_id: str, item_ids: Sequence[str] | None = None
    ) -> float:
        """P(correct) on a fresh item of the skill (average over `item_ids` if given)."""

    def reset_learner_skill(self, learner_id: str, skill_id: str) -> None:
        """Forget what is known about one learner on one skill (teacher "reset")."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able state, including ALGORITHM_VERSION."""


def check_version(data: Mapping[str, Any], expected: str) -> None:
    """Refuse state written by another algorithm version: it must be rebuilt from events."""
    found = data.get("algorithm_version")
    if found != expected:
        raise ValueError(f"state has algorithm_version {found!r}, expected {expected!r}; rebuild it")
