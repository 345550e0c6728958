"""Fitting the terms that many learners share, for a ``model.calibrated`` event.

Item and skill difficulties and the skills' guess and slip are learned from everyone's answers,
so the projection does not learn them as answers arrive (a learner's numbers would then depend on
other learners' timing). Instead a calibration replays the log with those terms learning online
(``cohort_learning=True``, exactly the way the model used to run) and returns them as the
payload of a ``model.calibrated`` event; the fold applies it at its place in the log. The hub
fits one nightly; the district can fit one on every school's data and send it down.

Deterministic: the same events in the same order give the same payload.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from . import mastery as m
from .elo import EloParams
from .projection import EngineState, fold_events
from .skill_graph import SkillGraph

DIGITS = 4  # 1e-4 on the logit scale is far below what an answer moves; it keeps events small


def fit_calibration(
    events: Iterable[Mapping[str, Any]],
    catalog: SkillGraph | None = None,
    params: EloParams | None = None,
    config: m.MasteryConfig | None = None,
) -> dict[str, Any]:
    """{"items": {id: [difficulty, answers]}, "skills": {...}, "guess_slip": {...}, "answers": n}."""
    return calibration_of(fold_events(events, catalog, params, config, cohort_learning=True))


def calibration_of(state: EngineState) -> dict[str, Any]:
    """The calibration payload of a state folded with ``cohort_learning`` (what ``fit_calibration``
    returns for the events that state has seen)."""
    if not state.cohort_learning:
        raise ValueError("only a state folded with cohort_learning holds fitted shared terms")
    model = state.model

    def rounded(terms: Mapping[str, list[float]]) -> dict[str, list[float]]:
        return {key: [round(value[0], DIGITS), int(value[1])] for key, value in sorted(terms.items())}

    return {
        "items": rounded(model.items),
        "skills": rounded(model.skills),
        "guess_slip": {key: [round(x, DIGITS) for x in stats.to_dict()]
                       for key, stats in sorted(state.skill_stats.items())},
        "answers": sum(int(v[1]) for v in model.items.values()),
    }
