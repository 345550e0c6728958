"""PFA-log: the alternative learner model, a logistic regression refit nightly.

    logit P = bias[item or skill] + g[skill]*log(1+successes) + r[skill]*log(1+failures)
              + global log counts + recency (per-skill EMA, last answers on any skill, run length)

Why keep it: with a night's fit on local data it can be more accurate than Elo (see
docs/learning-engine.md), and its weights are readable ("each success on fractions adds 0.3").
Why it is not the default: it needs training data, so it predicts nothing useful on a new hub's
first day, and a new item is unknown until the next fit. The features are computed from the
learner's own history before each answer, so online use needs only counters per learner.

`fit_pfa` is plain Python (Adagrad on the log loss with a small L2), fast enough for a nightly job
on a Pi: about a minute per 200k answers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .model import answer_credit, check_version, clamp_probability, sigmoid

ALGORITHM_VERSION = "pfa-log-1"
EMA_ALPHA = 0.3


class _LearnerHistory:
    """Counters for one learner: everything the features need, nothing more."""

    __slots__ = ("succ", "fail", "ema", "total_s", "total_f", "last", "last_skill", "run")

    def __init__(self) -> None:
        self.succ: dict[str, float] = {}
        self.fail: dict[str, float] = {}
        self.ema: dict[str, float] = {}
        self.total_s = 0.0
        self.total_f = 0.0
        self.last: list[float] = []  # up to 3 most recent credits, newest first
        self.last_skill: str | None = None
        self.run = 0

    def features(self, item_id: str, skill_id: str) -> list[tuple[str, float]]:
        s = self.succ.get(skill_id, 0.0)
        f = self.fail.get(skill_id, 0.0)
        seen = skill_id in self.ema
        feats = [
            ("bias", 1.0),
            ("item:" + item_id, 1.0),
            ("s:" + skill_id, math.log1p(s)),
            ("f:" + skill_id, math.log1p(f)),
            ("S", math.log1p(self.total_s)),
            ("F", math.log1p(self.total_f)),
            ("ema", (self.ema[skill_id] - 0.5) if seen else 0.0),
            ("seen", 1.0 if seen else 0.0),
        ]
        for k, credit in enumerate(self.last):
            feats.append((f"last{k}", credit - 0.5))
        same = self.last_skill == skill_id
        feats.append(("same_skill", 1.0 if same else 0.0))
        if self.last:
            feats.append(("same_x_last", (self.last[0] - 0.5) if same else 0.0))
        feats.append(("run", math.log1p(self.run) if same else 0.0))
        return feats

    def record(self, skill_id: str, credit: float) -> None:
        self.succ[skill_id] = self.succ.get(skill_id, 0.0) + credit
        self.fail[skill_id] = self.fail.get(skill_id, 0.0) + (1.0 - credit)
        self.total_s += credit
        self.total_f += 1.0 - credit
        prev = self.ema.get(skill_id, 0.5)
        self.ema[skill_id] = (1.0 - EMA_ALPHA) * prev + EMA_ALPHA * credit
        self.last = ([credit] + self.last)[:3]
        self.run = self.run + 1 if self.last_skill == skill_id else 1
        self.last_skill = skill_id

    def to_dict(self) -> dict[str, Any]:
        return {
            "succ": dict(self.succ), "fail": dict(self.fail), "ema": dict(self.ema),
            "total_s": self.total_s, "total_f": self.total_f, "last": list(self.last),
            "last_skill": self.last_skill, "run": self.run,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> _LearnerHistory:
        h = cls()
        h.succ, h.fail, h.ema = dict(data["succ"]), dict(data["fail"]), dict(data["ema"])
        h.total_s, h.total_f = float(data["total_s"]), float(data["total_f"])
        h.last, h.last_skill, h.run = list(data["last"]), data["last_skill"], int(data["run"])
        return h


class PfaModel:
    """Online PFA-log predictions with weights from the last `fit_pfa` run."""

    ALGORITHM_VERSION = ALGORITHM_VERSION

    def __init__(
        self,
        weights: Mapping[str, float] | None = None,
        item_priors: Mapping[str, float] | None = None,
        hint_credit: float = 0.5,
    ) -> None:
        self.weights: dict[str, float] = dict(weights or {})
        self.item_priors: dict[str, float] = dict(item_priors or {})
        self.hint_credit = hint_credit
        self.histories: dict[str, _LearnerHistory] = {}

    def _logit(self, feats: Sequence[tuple[str, float]], item_id: str) -> float:
        w = self.weights
        z = 0.0
        for key, value in feats:
            z += w.get(key, 0.0) * value
        if "item:" + item_id not in w and item_id in self.item_priors:
            z -= self.item_priors[item_id]  # unfitted item: fall back on the pack's prior
        return z

    def predict(self, learner_id: str, item_id: str, skill_id: str) -> float:
        history = self.histories.get(learner_id) or _LearnerHistory()
        return clamp_probability(sigmoid(self._logit(history.features(item_id, skill_id), item_id)))

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
        history = self.histories.get(learner_id)
        if history is None:
            history = self.histories[learner_id] = _LearnerHistory()
        prediction = clamp_probability(
            sigmoid(self._logit(history.features(item_id, skill_id), item_id))
        )
        history.record(skill_id, answer_credit(correct, hints_used, hint_credit=self.hint_credit))
        return prediction

    def skill_probability(
        self, learner_id: str, skill_id: str, item_ids: Sequence[str] | None = None
    ) -> float:
        ids = list(item_ids) if item_ids else [skill_id]
        return clamp_probability(sum(self.predict(learner_id, i, skill_id) for i in ids) / len(ids))

    def reset_learner_skill(self, learner_id: str, skill_id: str) -> None:
        history = self.histories.get(learner_id)
        if history is not None:
            for table in (history.succ, history.fail, history.ema):
                table.pop(skill_id, None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "algorithm_version": ALGORITHM_VERSION,
            "weights": dict(self.weights),
            "hint_credit": self.hint_credit,
            "histories": {k: h.to_dict() for k, h in self.histories.items()},
        }

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], item_priors: Mapping[str, float] | None = None
    ) -> PfaModel:
        check_version(data, ALGORITHM_VERSION)
        model = cls(data["weights"], item_priors, float(data["hint_credit"]))
        model.histories = {k: _LearnerHistory.from_dict(h) for k, h in data["histories"].items()}
        return model


def fit_pfa(
    sequences: Iterable[Sequence[tuple[str, str, float]]],
    epochs: int = 4,
    learning_rate: float = 0.1,
    l2: float = 1e-5,
) -> dict[str, float]:
    """Fit PFA-log weights from learners' histories, each a list of (item_id, skill_id, credit).

    Deterministic: rows are visited in the order given, epoch after epoch (no shuffling), so the
    nightly refit gives the same weights from the same log.
    """
    rows: list[tuple[list[tuple[str, float]], float]] = []
    for sequence in sequences:
        history = _LearnerHistory()
        for item_id, skill_id, credit in sequence:
            rows.append((history.features(item_id, skill_id), credit))
            history.record(skill_id, credit)
    weights: dict[str, float] = {}
    grad_sq: dict[str, float] = {}
    for _ in range(epochs):
        for feats, target in rows:
            z = 0.0
            for key, value in feats:
                z += weights.get(key, 0.0) * value
            error = sigmoid(z) - target
            for key, value in feats:
                if value == 0.0:
                    continue
                w = weights.get(key, 0.0)
                g = error * value + l2 * w
                acc = grad_sq.get(key, 1e-8) + g * g
                grad_sq[key] = acc
                weights[key] = w - learning_rate * g / math.sqrt(acc)
    return weights
