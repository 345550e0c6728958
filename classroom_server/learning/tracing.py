"""Bayesian knowledge tracing for the mastery records: P(the learner knows the skill).

Each record carries its own posterior (`SkillRecord.p_known`), moved by every answer on the skill
with hand-set textbook parameters (MasteryConfig: prior 0.3, learn 0.1, guess 0.2, slip 0.1; see
mastery.py for why this is the evidence mastery decisions use). `SkillStats` estimates guess and
slip per skill from the cohort's answers when `MasteryConfig.guess_slip_weight` is on.

Pure arithmetic on floats, in a fixed order, so every projection rebuilds bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for annotations only: mastery.py imports this module
    from .mastery import MasteryConfig, SkillRecord


def known_probability(record: SkillRecord, config: MasteryConfig) -> float:
    """P(the learner knows the skill) from this record's answers (the prior if none yet)."""
    return config.prior_known if record.p_known is None else record.p_known


def condition_known(p: float, correct: bool, guess: float, slip: float) -> float:
    """P(known | this answer) from P(known) before it (Bayes' rule, no learning step)."""
    if correct:
        yes = p * (1.0 - slip)
        return yes / (yes + (1.0 - p) * guess)
    yes = p * slip
    return yes / (yes + (1.0 - p) * (1.0 - guess))


def update_known(p: float, correct: bool, hints_used: int, config: MasteryConfig,
                 guess: float | None = None, slip: float | None = None) -> float:
    """One Bayesian knowledge-tracing step: condition on the answer, then allow for learning.

    A right answer reached with hints is no evidence either way (the hint may have carried it);
    the practice still counts as a learning opportunity. `guess` / `slip` default to the config's
    (the skill's cohort estimates are passed in when `guess_slip_weight` is on); with
    guess + slip < 1 a right answer never lowers the result.
    """
    guess = config.guess if guess is None else guess
    slip = config.slip if slip is None else slip
    posterior = p if hints_used and correct else condition_known(p, bool(correct), guess, slip)
    return posterior + (1.0 - posterior) * config.learn_rate


@dataclass
class SkillStats:
    """Expected answer counts for one skill over the cohort: the guess / slip estimate.

    Each unhinted answer is split between "knew it" and "did not" by the learner's posterior
    P(known | this answer) (the E step of EM, done online with the filtering posterior); the
    estimates are the right-answer share among non-knowers (guess) and the wrong-answer share
    among knowers (slip), shrunk toward the config's values by `guess_slip_weight`
    pseudo-answers and capped so guess + slip stays well below 1. Deterministic and order-bound,
    like everything in the projection.
    """

    known: float = 0.0
    known_wrong: float = 0.0
    unknown: float = 0.0
    unknown_right: float = 0.0

    def guess_slip(self, config: MasteryConfig) -> tuple[float, float]:
        w = config.guess_slip_weight
        if w <= 0.0:
            return config.guess, config.slip
        guess = (self.unknown_right + w * config.guess) / (self.unknown + w)
        slip = (self.known_wrong + w * config.slip) / (self.known + w)
        return min(config.max_guess, guess), min(config.max_slip, slip)

    def add(self, p_before: float, correct: bool, config: MasteryConfig,
            next_correct: bool | None = None) -> None:
        """Count one answer; `next_correct`, the learner's next answer on the skill, sharpens
        the split (one step of smoothing: a right answer followed by a wrong one was more
        probably a guess)."""
        guess, slip = config.guess, config.slip  # not the estimates: no feedback loop
        if next_correct is None:
            k = condition_known(p_before, correct, guess, slip)
        else:
            def answer(known: bool, right: bool) -> float:
                if known:
                    return 1.0 - slip if right else slip
                return guess if right else 1.0 - guess
            learn = config.learn_rate
            yes = p_before * answer(True, correct) * answer(True, next_correct)
            no = (1.0 - p_before) * answer(False, correct) * (
                learn * answer(True, next_correct) + (1.0 - learn) * answer(False, next_correct))
            k = yes / (yes + no)
        self.known += k
        self.unknown += 1.0 - k
        if correct:
            self.unknown_right += 1.0 - k
        else:
            self.known_wrong += k

    def to_dict(self) -> list[float]:
        return [self.known, self.known_wrong, self.unknown, self.unknown_right]

    @classmethod
    def from_dict(cls, data: list[float]) -> SkillStats:
        return cls(*(float(x) for x in data))
