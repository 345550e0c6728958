"""Hierarchical Elo: the default learner model.

    P(correct) = sigmoid(ability[learner] + offset[learner, skill] + momentum[learner] - difficulty[item])

Why Elo: it works from a classroom's very first answer with no training data, calibrates
teacher-made items on the fly from every learner's answers, and costs a few dict look-ups per
answer (microseconds on a Pi). Why hierarchical: a learner's general ability carries over to a
skill they have not tried, while the learner-by-skill offset captures what they know of *this*
skill. Step sizes shrink with evidence, K(n) = a / (1 + b*n), so early answers move estimates fast
and a well-measured item or learner stays put; the learner-by-skill step has a floor, so
the estimate keeps up with a learner who has just learned the skill (mastery depends on it).
The momentum term is a fast-decaying learner-level residual: it follows the learner's current
form (a good or bad run, fatigue) across skills.

Item difficulties start from the content pack's prior (logit scale, optional) or, when an item has
no prior, from the skill's current difficulty, which is itself learned from all answers on the skill.

Who learns what. Ability, offsets and momentum belong to one learner and move with that learner's
answers. Item and skill difficulties are shared by every learner, so in the hub's projection they
are *frozen* (``learn_items=False``): they change only when a ``model.calibrated`` event sets them
(``calibrate``), which keeps each learner's numbers a function of that learner's own events and
the recorded calibrations, whatever order other learners' answers arrive in. The calibration
itself is fitted by replaying the log with ``learn_items=True`` (learning/calibration.py), the
way this model used to learn online.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from .model import answer_credit, check_version, clamp_probability, sigmoid

ALGORITHM_VERSION = "elo-hierarchical-2"


@dataclass(frozen=True)
class EloParams:
    """Step sizes and priors. Defaults are set by measurement (docs/learning-engine.md)."""

    ability_a: float = 0.8
    ability_b: float = 0.05
    offset_a: float = 1.0
    offset_b: float = 0.1
    offset_floor: float = 0.6
    item_a: float = 0.4
    item_b: float = 0.05
    skill_a: float = 0.4
    skill_b: float = 0.05
    momentum_decay: float = 0.3
    momentum_step: float = 1.0
    momentum_in_mastery: bool = False
    default_difficulty: float = 0.0
    initial_ability: float = 0.0
    hint_credit: float = 0.5
    slow_after_ms: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EloParams:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class EloModel:
    """Per-class Elo state: learners, learner-by-skill offsets, items and skills.

    One instance holds every learner of a hub, because item difficulties are refined from all of
    them. State lives in plain dicts of lists so `to_dict` is cheap and exact.
    """

    ALGORITHM_VERSION = ALGORITHM_VERSION

    def __init__(
        self,
        params: EloParams | None = None,
        item_priors: Mapping[str, float] | None = None,
        skill_priors: Mapping[str, float] | None = None,
        learn_items: bool = True,
    ) -> None:
        self.params = params or EloParams()
        self.learn_items = learn_items
        self.item_priors: dict[str, float] = dict(item_priors or {})
        self.skill_priors: dict[str, float] = dict(skill_priors or {})
        self.learners: dict[str, list[float]] = {}  # id -> [ability, n, momentum]
        self.offsets: dict[str, dict[str, list[float]]] = {}  # learner -> skill -> [offset, n]
        self.items: dict[str, list[float]] = {}  # id -> [difficulty, n]
        self.skills: dict[str, list[float]] = {}  # id -> [difficulty, n]

    # -- reading -------------------------------------------------------------------------
    def skill_difficulty(self, skill_id: str) -> float:
        """Difficulty of a typical item of the skill, learned from everyone's answers."""
        entry = self.skills.get(skill_id)
        if entry is not None:
            return entry[0]
        return self.skill_priors.get(skill_id, self.params.default_difficulty)

    def item_difficulty(self, item_id: str, skill_id: str) -> float:
        """Current difficulty estimate; the pack prior until the item has been answered."""
        entry = self.items.get(item_id)
        if entry is not None:
            return entry[0]
        prior = self.item_priors.get(item_id)
        return prior if prior is not None else self.skill_difficulty(skill_id)

    def _learner_logit(self, learner_id: str, skill_id: str) -> float:
        learner = self.learners.get(learner_id)
        z = self.params.initial_ability
        if learner is not None:
            z = learner[0] + learner[2]
        skills = self.offsets.get(learner_id)
        if skills is not None:
            offset = skills.get(skill_id)
            if offset is not None:
                z += offset[0]
        return z

    def predict(self, learner_id: str, item_id: str, skill_id: str) -> float:
        """P(correct) before the learner answers `item_id`."""
        z = self._learner_logit(learner_id, skill_id) - self.item_difficulty(item_id, skill_id)
        return clamp_probability(sigmoid(z))

    def skill_probability(
        self, learner_id: str, skill_id: str, item_ids: Sequence[str] | None = None
    ) -> float:
        """P(correct) on a fresh item: the mastery rules ask this, not about a seen item.

        Momentum is left out on purpose: a lucky run should not declare a skill proficient.
        """
        z = self._learner_logit(learner_id, skill_id)
        learner = self.learners.get(learner_id)
        if learner is not None and not self.params.momentum_in_mastery:
            z -= learner[2]
        if item_ids:
            total = 0.0
            for item_id in item_ids:
                total += sigmoid(z - self.item_difficulty(item_id, skill_id))
            return clamp_probability(total / len(item_ids))
        return clamp_probability(sigmoid(z - self.skill_difficulty(skill_id)))

    # -- learning ------------------------------------------------------------------------
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
        """Move every term toward the evidence by K(n) * (credit - prediction)."""
        p = self.params
        learner = self.learners.get(learner_id)
        if learner is None:
            learner = self.learners[learner_id] = [p.initial_ability, 0.0, 0.0]
        skills = self.offsets.get(learner_id)
        if skills is None:
            skills = self.offsets[learner_id] = {}
        offset = skills.get(skill_id)
        if offset is None:
            offset = skills[skill_id] = [0.0, 0.0]
        difficulty = self.item_difficulty(item_id, skill_id)
        prediction = clamp_probability(sigmoid(learner[0] + learner[2] + offset[0] - difficulty))
        credit = answer_credit(
            correct, hints_used, duration_ms,
            hint_credit=p.hint_credit, slow_after_ms=p.slow_after_ms,
        )
        residual = credit - prediction
        learner[0] += p.ability_a / (1.0 + p.ability_b * learner[1]) * residual
        learner[1] += 1.0
        learner[2] = p.momentum_decay * learner[2] + p.momentum_step * residual
        offset[0] += max(p.offset_floor, p.offset_a / (1.0 + p.offset_b * offset[1])) * residual
        offset[1] += 1.0
        if not self.learn_items:
            return prediction
        item = self.items.get(item_id)
        if item is None:
            item = self.items[item_id] = [difficulty, 0.0]
        skill = self.skills.get(skill_id)
        if skill is None:
            skill = self.skills[skill_id] = [self.skill_difficulty(skill_id), 0.0]
        item[0] -= p.item_a / (1.0 + p.item_b * item[1]) * residual
        item[1] += 1.0
        # The skill's typical difficulty follows its items' residuals, more slowly.
        skill[0] -= p.skill_a / (1.0 + p.skill_b * skill[1]) * residual
        skill[1] += 1.0
        return prediction

    def reset_learner_skill(self, learner_id: str, skill_id: str) -> None:
        skills = self.offsets.get(learner_id)
        if skills is not None:
            skills.pop(skill_id, None)

    def calibrate(self, items: Mapping[str, Sequence[float]], skills: Mapping[str, Sequence[float]]) -> None:
        """Take fitted item and skill difficulties (``id -> [difficulty, answers]``) as the
        shared terms from now on; items and skills not named fall back to the pack's priors."""
        self.items = {str(k): [float(v[0]), float(v[1])] for k, v in items.items()}
        self.skills = {str(k): [float(v[0]), float(v[1])] for k, v in skills.items()}

    def without_learners(self) -> EloModel:
        """Keep calibrated items and skills, drop learners: a fitted prior for a new class."""
        fresh = EloModel(self.params, self.item_priors, self.skill_priors, self.learn_items)
        fresh.items = {k: list(v) for k, v in self.items.items()}
        fresh.skills = {k: list(v) for k, v in self.skills.items()}
        return fresh

    # -- persistence ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "algorithm_version": ALGORITHM_VERSION,
            "params": self.params.to_dict(),
            "learn_items": self.learn_items,
            "learners": {k: list(v) for k, v in self.learners.items()},
            "offsets": {k: {s: list(o) for s, o in v.items()} for k, v in self.offsets.items()},
            "items": {k: list(v) for k, v in self.items.items()},
            "skills": {k: list(v) for k, v in self.skills.items()},
        }

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        item_priors: Mapping[str, float] | None = None,
        skill_priors: Mapping[str, float] | None = None,
    ) -> EloModel:
        """Rebuild from `to_dict`; pack priors are passed again because the pack owns them."""
        check_version(data, ALGORITHM_VERSION)
        model = cls(EloParams.from_dict(data["params"]), item_priors, skill_priors,
                    bool(data.get("learn_items", True)))
        model.learners = {k: [float(x) for x in v] for k, v in data["learners"].items()}
        model.offsets = {
            k: {s: [float(x) for x in o] for s, o in v.items()} for k, v in data["offsets"].items()
        }
        model.items = {k: [float(x) for x in v] for k, v in data["items"].items()}
        model.skills = {k: [float(x) for x in v] for k, v in data["skills"].items()}
        return model
