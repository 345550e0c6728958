"""Competency-based mastery: one record per learner and skill, moved only by events.

States, lowest to highest: not_started < learning < proficient / needs_review < mastered.

- learning: the learner has started.
- proficient: the estimate that the learner knows the skill reached the threshold (0.95), with
  evidence from several distinct items (3), on a correct answer without hints. Not yet trusted:
  a quick run of right answers can be short-term memory.
- mastered: a *delayed* check confirmed it: right, unhinted answers on two check items in a row
  (`check_items`) in a later session (at least 20 hours after becoming proficient, so
  "tomorrow's lesson" counts whatever its hour), the first mixed with other skills (the previous
  answer was on another skill, or it starts a new session). Two, because a learner who is right
  two times in three passes a one-item check that often.
  Review is then scheduled with FSRS.
- needs_review: a mastered skill whose review was missed (one level down). It was confirmed once
  already, so a correct answer at the threshold restores mastery without another day's wait.
A miss on a mastery check or on a review demotes exactly one level. Teacher overrides
(mark_mastered, reset, pause, resume) and "I already know this" test-outs are events too.

The evidence for these decisions ("the predicted chance on a fresh item", `MasteryConfig.evidence`):
- "known" (default): P(the learner knows the skill), a per-record Bayesian knowledge-tracing
  posterior with hand-set textbook parameters (prior 0.3, learn 0.1, guess 0.2, slip 0.1; not
  fitted to anything). Why: a learner who knows a skill still slips now and then, so their chance
  of a right answer hovers near 0.9 and a rule "P(correct) >= 0.9" fires late and by luck; the
  posterior accounts for slips and guesses, recovers in a few right answers after early misses
  (the Elo offset needs a dozen), and weighs recent answers most, because learning can happen
  between any two of them. Its guess/slip-corrected chance on a fresh item is
  guess + P(known) * (1 - slip - guess), so "P(known) >= 0.95" means "P(correct) >= 0.87 on a
  fresh item, of which only slips are missing".
- "fresh": the learner model's (Elo) chance on a fresh item, averaged over the skill's items.
Elo keeps choosing items and predicting answers either way. The knowledge-tracing maths (the
update, the posterior and the cohort's guess / slip estimate) is in tracing.py.

The record also carries the remediation ladder (why: a learner who keeps failing needs a different
kind of help, not more of the same item): `struggle` counts misses since the last right answer and
`support_level` climbs one rung per miss after `fail_threshold`: 1 hint, 2 worked example,
3 lesson in another modality, 4 practice on the weakest prerequisite, 5 re-check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from . import review
from .tracing import known_probability, update_known

ALGORITHM_VERSION = "mastery-5"

NOT_STARTED = "not_started"
LEARNING = "learning"
PROFICIENT = "proficient"
MASTERED = "mastered"
NEEDS_REVIEW = "needs_review"
STATES = (NOT_STARTED, LEARNING, PROFICIENT, NEEDS_REVIEW, MASTERED)

SUPPORT_HINT, SUPPORT_WORKED_EXAMPLE, SUPPORT_LESSON, SUPPORT_PREREQUISITE, SUPPORT_RECHECK = 1, 2, 3, 4, 5


@dataclass(frozen=True)
class MasteryConfig:
    proficient_threshold: float = 0.95
    min_distinct_items: int = 3
    confirm_delay_s: float = 72000.0  # 20 h: the next day's session, whatever its hour
    new_session_gap_s: float = 3600.0
    demote_margin: float = 0.35  # a proficient skill falls back below threshold - margin
    evidence: str = "known"  # "known": P(knows the skill); "fresh": the model's P(correct)
    prior_known: float = 0.3
    learn_rate: float = 0.1
    guess: float = 0.2
    slip: float = 0.1
    min_p_fresh: float = 0.0  # proficiency also needs the learner model's P(correct) this high
    # Guess and slip per skill, estimated from the cohort's answers (expected counts, shrunk
    # toward `guess` / `slip` by `guess_slip_weight` pseudo-answers each); 0 turns it off.
    guess_slip_weight: float = 0.0
    max_guess: float = 0.5
    max_slip: float = 0.3
    # The delayed check needs `check_items` right answers in a row (the first mixed with other
    # skills), one more when the learner model's P(correct) on a fresh item was below
    # `second_check_p_fresh` as the skill became proficient (0 = off). Two items cut false
    # mastery in the graded-knowledge simulated world by more than half, for about 0.02 of the
    # binary world's post-test at 60 items (docs/learning-engine.md).
    check_items: int = 2
    second_check_p_fresh: float = 0.0
    fail_threshold: int = 2
    remediation_items: int = 2
    test_out_items: int = 3

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MasteryConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class SkillRecord:
    state: str = NOT_STARTED
    attempts: int = 0
    correct: int = 0
    items: list[str] = field(default_factory=list)  # distinct items answered, first-seen order
    proficient_at: float | None = None
    mastered_at: float | None = None
    last_attempt_at: float | None = None
    struggle: int = 0
    support_level: int = 0
    support_done: int = 0
    remediation_attempts: int = 0
    needs_help: bool = False
    paused: bool = False
    test_out: dict[str, Any] | None = None  # {"started_at", "answered", "correct"}
    review_card: dict[str, Any] | None = None
    last_modality: str | None = None
    p_known: float | None = None  # P(knows the skill); None before the first answer
    pending: list[Any] | None = None  # [P(known) before, correct]: the last unhinted answer,
    # counted in the skill's guess / slip estimate when the next one arrives
    check_needed: int = 1  # right answers the delayed check needs (set on becoming proficient)
    check_passed: int = 0  # right answers given so far in the delayed check
    # When the learner last opened a lesson of the skill, and last answered it as a check (an
    # answer given in the check or test-out mode): what a teacher's lesson or check assignment
    # asks for, so the policy knows at no cost whether one given at some time is met.
    lesson_viewed_at: float | None = None
    checked_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["items"] = list(self.items)
        if data["pending"] is not None:
            data["pending"] = list(data["pending"])
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SkillRecord:
        known = {f.name for f in fields(cls)}
        record = cls(**{k: v for k, v in data.items() if k in known})
        record.items = list(record.items)
        return record

    def check_due(self, now: float, config: MasteryConfig) -> bool:
        """A proficient skill is ready for its delayed confirmation."""
        return (
            self.state == PROFICIENT
            and self.proficient_at is not None
            and now - self.proficient_at >= config.confirm_delay_s
        )

    def review_due(self, now: float) -> bool:
        return self.state == MASTERED and self.review_card is not None and review.is_due(
            self.review_card, now
        )


def evidence_level(record: SkillRecord, p_fresh: float, config: MasteryConfig) -> float:
    """The number the thresholds are compared with (see `MasteryConfig.evidence`)."""
    if config.evidence == "fresh":
        return p_fresh
    if config.evidence == "known":
        return known_probability(record, config)
    raise ValueError(f"unknown mastery evidence {config.evidence!r}")


def _reset_ladder(record: SkillRecord) -> None:
    record.struggle = 0
    record.support_level = 0
    record.support_done = 0
    record.remediation_attempts = 0
    record.needs_help = False


def _become_proficient(record: SkillRecord, at: float, config: MasteryConfig,
                       p_fresh: float = 1.0) -> None:
    record.state = PROFICIENT
    record.proficient_at = at
    record.check_passed = 0
    borderline = p_fresh < config.second_check_p_fresh
    record.check_needed = max(1, config.check_items) + (1 if borderline else 0)


def _master(record: SkillRecord, at: float) -> None:
    record.state = MASTERED
    record.check_passed = 0
    record.mastered_at = at
    record.review_card = review.new_review_card(at)
    record.test_out = None
    _reset_ladder(record)


def apply_attempt(
    record: SkillRecord,
    *,
    item_id: str,
    correct: bool,
    hints_used: int,
    at: float,
    p_fresh: float,
    mixed: bool,
    config: MasteryConfig,
    guess: float | None = None,
    slip: float | None = None,
) -> list[str]:
    """Move the record on one answer; return transition codes (for logs and tests).

    `p_fresh` is the learner model's chance on a fresh item of the skill *after* learning from
    this answer; `mixed` says the answer was interleaved with other skills or opened a session.
    """
    events: list[str] = []
    clean = bool(correct) and not hints_used
    record.p_known = update_known(known_probability(record, config), bool(correct), hints_used,
                                  config, guess, slip)
    level = evidence_level(record, p_fresh, config)
    record.attempts += 1
    record.correct += 1 if correct else 0
    if item_id not in record.items:
        record.items.append(item_id)
    record.last_attempt_at = at

    if record.test_out is not None:
        record.test_out["answered"] += 1
        if not clean:
            record.test_out = None
            if record.state == NOT_STARTED:
                record.state = LEARNING
            return ["test_out_failed"]
        record.test_out["correct"] += 1
        if record.test_out["correct"] >= config.test_out_items:
            record.test_out = None
            if record.state not in (MASTERED, PROFICIENT):
                _become_proficient(record, at, config, p_fresh)
            _reset_ladder(record)
            return ["test_out_passed"]
        return ["test_out_progress"]

    if record.state == MASTERED:
        assert record.review_card is not None
        record.review_card = review.record_review(record.review_card, clean, at)
        if not clean:
            record.state = NEEDS_REVIEW
            events.append("review_missed")
        return events or ["review_passed"]

    if record.state == NEEDS_REVIEW:
        if not clean:
            record.state = LEARNING
            events.append("demoted")
        elif level >= config.proficient_threshold:
            record.state = MASTERED
            record.mastered_at = at
            if record.review_card is not None:
                record.review_card = review.record_review(record.review_card, True, at)
            else:
                record.review_card = review.new_review_card(at)
            _reset_ladder(record)
            return ["mastery_restored"]
    elif record.state == PROFICIENT:
        if record.check_due(at, config) and (mixed or record.check_passed > 0):
            if clean:
                record.check_passed += 1
                if record.check_passed < record.check_needed:
                    return ["check_progress"]
                _master(record, at)
                return ["mastery_confirmed"]
            record.state = LEARNING
            record.check_passed = 0
            events.append("check_missed")
        elif level < config.proficient_threshold - config.demote_margin:
            record.state = LEARNING
            events.append("fell_below")
    elif record.state == NOT_STARTED:
        record.state = LEARNING
        events.append("started")

    if (
        record.state == LEARNING
        and clean
        and level >= config.proficient_threshold
        and p_fresh >= config.min_p_fresh
        and len(record.items) >= config.min_distinct_items
    ):
        _become_proficient(record, at, config, p_fresh)
        _reset_ladder(record)
        events.append("became_proficient")
        return events

    if clean:
        _reset_ladder(record)
    elif correct:
        record.struggle = 0  # right with hints: progress, but keep the current support
    else:
        record.struggle += 1
        if record.struggle >= config.fail_threshold:
            if record.support_level >= SUPPORT_RECHECK:
                # The re-check failed too: go round again with another modality, flag the teacher.
                record.support_level = SUPPORT_LESSON
                record.support_done = 0
                record.remediation_attempts = 0
                record.needs_help = True
                events.append("needs_help")
            else:
                record.support_level += 1
                events.append(f"support_{record.support_level}")
    return events


def apply_override(record: SkillRecord, action: str, at: float,
                   config: MasteryConfig | None = None) -> SkillRecord:
    """Teacher overrides; returns the record to keep (reset returns a fresh one)."""
    if action == "mark_mastered":
        if record.proficient_at is None:
            record.proficient_at = at
        _master(record, at)
        # The teacher's judgement is evidence: the skill counts as known from here on.
        record.p_known = max(record.p_known or 0.0, (config or MasteryConfig()).proficient_threshold)
        return record
    if action == "reset":  # what the learner did (a lesson opened, a check taken) stays true
        return SkillRecord(paused=record.paused, lesson_viewed_at=record.lesson_viewed_at,
                           checked_at=record.checked_at)
    if action == "pause":
        record.paused = True
        return record
    if action == "resume":
        record.paused = False
        return record
    raise ValueError(f"unknown override action {action!r}")


def place(record: SkillRecord, at: float, config: MasteryConfig, p_fresh: float = 1.0) -> bool:
    """Placement across a pack found the skill known (learning/placement.py): proficient, as a
    passed "I already know this" makes it, so the delayed check still asks about it. A skill
    proficient or mastered already stays as it is. Returns whether the record moved."""
    if record.state in (MASTERED, PROFICIENT):
        return False
    _become_proficient(record, at, config, p_fresh)
    record.test_out = None
    _reset_ladder(record)
    record.p_known = max(record.p_known or 0.0, config.proficient_threshold)
    return True


def start_test_out(record: SkillRecord, at: float) -> None:
    """"I already know this": the next few answers on the skill are a short check."""
    record.test_out = {"started_at": at, "answered": 0, "correct": 0}


def note_support_viewed(record: SkillRecord, kind: str, modality: str | None) -> None:
    """A worked example or lesson was opened: that rung of the ladder is done."""
    if kind == "lesson" and modality:
        record.last_modality = modality
    rung = SUPPORT_WORKED_EXAMPLE if kind == "worked_example" else SUPPORT_LESSON
    if record.support_level == rung:
        record.support_done = rung
