"""Fitting the Elo model to a log: step sizes by coordinate search, items by replay.

Elo needs no training to start, but once a hub (or the district) has a log, two things improve:
the step sizes, and the items' difficulties. `fit_elo` chooses step sizes that minimise the online
log loss of the replayed log (each answer predicted before it is learned from, exactly as in use),
then replays the log once more to calibrate items and keeps them, dropping the learners.
Deterministic: the search visits candidates in a fixed order and breaks ties by that order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from .elo import EloModel, EloParams

# One answer of one learner: (item_id, skill_id, correct, hints_used).
Answer = tuple[str, str, bool, int]

TUNED_FIELDS = (
    "offset_a", "offset_b", "offset_floor", "ability_a", "ability_b",
    "item_a", "item_b", "momentum_step", "momentum_decay",
)


def replay_log_loss(histories: Sequence[Sequence[Answer]], params: EloParams) -> float:
    """Mean online log loss of `params` on the histories, learners replayed one after another."""
    model = EloModel(params)
    total = 0.0
    count = 0
    for index, history in enumerate(histories):
        learner_id = f"fit-{index}"
        for item_id, skill_id, correct, hints in history:
            p = model.update(learner_id, item_id, skill_id, correct, hints)
            total -= math.log(p if correct else 1.0 - p)
            count += 1
    return total / count if count else 0.0


def fit_elo(
    histories: Sequence[Sequence[Answer]],
    start: EloParams | None = None,
    rounds: int = 2,
    factors: Sequence[float] = (0.6, 1.6),
) -> tuple[EloModel, EloParams]:
    """Return (model with calibrated items and no learners, the chosen params)."""
    best = start or EloParams()
    best_loss = replay_log_loss(histories, best)
    for _ in range(rounds):
        improved = False
        for name in TUNED_FIELDS:
            for factor in factors:
                value = getattr(best, name) * factor
                if name == "momentum_decay":
                    value = min(0.95, value)
                candidate = replace(best, **{name: value})
                loss = replay_log_loss(histories, candidate)
                if loss < best_loss - 1e-7:
                    best, best_loss, improved = candidate, loss, True
        if not improved:
            break
    model = EloModel(best)
    abilities = []
    for index, history in enumerate(histories):
        learner_id = f"fit-{index}"
        for item_id, skill_id, correct, hints in history:
            model.update(learner_id, item_id, skill_id, correct, hints)
        abilities.append(model.learners[learner_id][0] if learner_id in model.learners else 0.0)
    # A new learner starts at the population's mean ability, not at zero.
    mean_ability = sum(abilities) / len(abilities) if abilities else 0.0
    best = replace(best, initial_ability=mean_ability)
    calibrated = model.without_learners()
    calibrated.params = best
    return calibrated, best
