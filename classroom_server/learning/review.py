"""Review scheduling of mastered skills with FSRS-6 (the `fsrs` package, default weights).

Why FSRS: with its default parameters it predicts forgetting better than SM-2 or half-life
regression without any fitting (srs-benchmark). We use binary grades, Again for a wrong answer and
Good for a right one, because a practice item gives right/wrong, not a self-rating.
The scheduler is built with no learning steps and no fuzzing: the card goes straight to the
review state when a skill is mastered, and fuzzing would draw random numbers, which would break
the rule that a projection rebuilt from the log is bit-identical.
Cards are stored as the package's own plain dicts (ISO times), with a fixed card id.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from fsrs import Card, Rating, Scheduler
from fsrs.card import CardDict

ALGORITHM_VERSION = "fsrs-6-default-binary-1"
SECONDS_PER_DAY = 86400.0

_SCHEDULER = Scheduler(
    desired_retention=0.9, learning_steps=(), relearning_steps=(), enable_fuzzing=False
)


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def new_review_card(at: float) -> dict[str, Any]:
    """The card of a skill that was just mastered: its first (Good) review happens at `at`."""
    card = Card(card_id=0, due=_moment(at))
    card, _ = _SCHEDULER.review_card(card, Rating.Good, _moment(at))
    return cast(dict[str, Any], card.to_dict())  # stored as a plain dict


def record_review(card: Mapping[str, Any], correct: bool, at: float) -> dict[str, Any]:
    """Schedule the next review after an answer on a mastered skill."""
    rating = Rating.Good if correct else Rating.Again
    updated, _ = _SCHEDULER.review_card(Card.from_dict(cast(CardDict, dict(card))), rating, _moment(at))
    return cast(dict[str, Any], updated.to_dict())  # stored as a plain dict


def due_at(card: Mapping[str, Any]) -> float:
    """When the review falls due (retrievability has dropped to the desired 0.9)."""
    return datetime.fromisoformat(card["due"]).timestamp()


def last_review_at(card: Mapping[str, Any]) -> float:
    return datetime.fromisoformat(card["last_review"]).timestamp()


def is_due(card: Mapping[str, Any], now: float) -> bool:
    return now >= due_at(card)


def retrievability(card: Mapping[str, Any], now: float) -> float:
    """FSRS's predicted chance that the skill is still remembered at `now`."""
    return _SCHEDULER.get_card_retrievability(Card.from_dict(cast(CardDict, dict(card))), _moment(now))
