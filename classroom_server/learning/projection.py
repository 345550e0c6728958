"""Folding the event log into the learner-model + mastery projection.

Events are the truth; this module is the one function from events to state, used by the hub after
each event and by the rebuild command (hub or district), which must give identical results.
Events must be given in the log's canonical order. Unknown kinds are ignored, so the hub can keep
other events (goal set, page views, ...) in the same stream.

A learner's projection is a function of that learner's events and of the ``model.calibrated``
events before them, nothing else: terms shared by many learners (item and skill difficulties,
the skills' guess and slip) are frozen in the fold and change only at a calibration event. So any
interleaving of different learners' events that keeps each learner's order, and keeps every
event on its side of each calibration, gives every learner the same projection (tested with
hypothesis). ``cohort_learning=True`` turns the old online learning of shared terms back on: it
is how a calibration is fitted (learning/calibration.py), never how the hub folds.

Event payloads (plain dicts; `at` is epoch seconds, an ISO-8601 string or a datetime):

    {"kind": "attempt", "learner_id": str, "item_id": str, "skill_id": str, "correct": bool,
     "hints_used": int = 0, "duration_ms": int | None = None, "mode": str | None = None, "at": time}
        (mode "check" or "test_out": the answer was asked as a check; the record keeps its time,
        ``SkillRecord.checked_at``, as it keeps a lesson view's, ``lesson_viewed_at``)
    {"kind": "override", "learner_id": str, "skill_id": str | None, "at": time,
     "action": "mark_mastered" | "reset" | "pause" | "resume" | "undo_mark_mastered"}
        (pause / resume with no skill_id pause the learner's whole playlist; undo_mark_mastered
        puts the skill's record back exactly as it was before the last mark_mastered, if
        nothing else happened on that skill since, and does nothing otherwise)
    Any event may also carry "event_id": an id already applied for that learner counts once.
    {"kind": "test_out_started", "learner_id": str, "skill_id": str, "at": time}
    {"kind": "lesson_viewed", "learner_id": str, "skill_id": str, "modality": str, "at": time}
    {"kind": "worked_example_viewed", "learner_id": str, "skill_id": str, "at": time}
    {"kind": "placement.finished", "learner_id": str, "skills": [skill id, ...], "at": time}
        (the skills a placement across a pack found known: each becomes proficient unless it
        is proficient or mastered already; learning/placement.py)
    {"kind": "model.calibrated", "items": {id: [difficulty, n]}, "skills": {id: [difficulty, n]},
     "guess_slip": {skill id: SkillStats.to_dict()}}   (no learner: it applies to every learner)
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import mastery as m
from . import tracing
from .elo import EloModel, EloParams
from .model import to_seconds
from .skill_graph import SkillGraph

ALGORITHM_VERSION = "projection-6"
ENGINE_KINDS = frozenset({"attempt", "override", "test_out_started", "lesson_viewed", "placement.finished",
                          "worked_example_viewed", "model.calibrated"})
UNDO_MARK_MASTERED = "undo_mark_mastered"
CHECK_MODES = frozenset({"check", "test_out"})  # an answer asked as a check (the attempt's mode)
RECENT_WINDOW = 20  # answers remembered per learner, for "recently seen" and the review share
SEEN_IDS = 1000  # event ids remembered per learner, so a re-delivered event counts once


@dataclass
class LearnerActivity:
    """What the policy needs about a learner's recent answers, beyond per-skill mastery."""

    recent_items: list[str] = field(default_factory=list)  # newest last
    recent_review: list[bool] = field(default_factory=list)  # was each answer a review/check?
    last_skill: str | None = None
    last_at: float | None = None
    attempts: int = 0
    paused: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "recent_items": list(self.recent_items), "recent_review": list(self.recent_review),
            "last_skill": self.last_skill, "last_at": self.last_at,
            "attempts": self.attempts, "paused": self.paused,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LearnerActivity:
        return cls(
            list(data["recent_items"]), [bool(x) for x in data["recent_review"]],
            data["last_skill"], data["last_at"], int(data["attempts"]), bool(data["paused"]),
        )


@dataclass
class EngineState:
    """The whole projection of one hub (or one class): model, mastery records, recent activity."""

    model: EloModel
    config: m.MasteryConfig = field(default_factory=m.MasteryConfig)
    catalog: SkillGraph | None = None
    mastery: dict[str, dict[str, m.SkillRecord]] = field(default_factory=dict)
    activity: dict[str, LearnerActivity] = field(default_factory=dict)
    events_applied: int = 0
    skill_stats: dict[str, tracing.SkillStats] = field(default_factory=dict)
    # learner -> the last SEEN_IDS event ids applied (a dict used as an ordered set)
    seen_ids: dict[str, dict[str, None]] = field(default_factory=dict)
    cohort_learning: bool = False  # True only while fitting a calibration (see the module docstring)
    calibrations: int = 0  # model.calibrated events applied
    # (learner, skill) -> the record as it was before a "mark_mastered" override, kept until
    # anything else happens on that skill: an "undo_mark_mastered" puts it back exactly.
    undoable: dict[tuple[str, str], m.SkillRecord] = field(default_factory=dict)

    def guess_slip(self, skill_id: str) -> tuple[float, float]:
        """The skill's guess and slip: cohort estimates, or the config's when that is off."""
        stats = self.skill_stats.get(skill_id)
        return (stats or tracing.SkillStats()).guess_slip(self.config)

    def record(self, learner_id: str, skill_id: str) -> m.SkillRecord:
        skills = self.mastery.setdefault(learner_id, {})
        record = skills.get(skill_id)
        if record is None:
            record = skills[skill_id] = m.SkillRecord()
        return record

    def peek(self, learner_id: str, skill_id: str) -> m.SkillRecord:
        """The record if it exists, else a blank one that is *not* stored (for reading)."""
        return self.mastery.get(learner_id, {}).get(skill_id) or m.SkillRecord()

    def learner(self, learner_id: str) -> LearnerActivity:
        activity = self.activity.get(learner_id)
        if activity is None:
            activity = self.activity[learner_id] = LearnerActivity()
        return activity

    def p_fresh(self, learner_id: str, skill_id: str) -> float:
        """Chance on a fresh item of the skill: averaged over the pack's items when known."""
        ids = self.catalog.item_ids(skill_id) if self.catalog is not None else None
        return self.model.skill_probability(learner_id, skill_id, ids or None)

    def p_known(self, learner_id: str, skill_id: str) -> float:
        """P(the learner knows the skill): the knowledge-tracing posterior of the record."""
        return tracing.known_probability(self.peek(learner_id, skill_id), self.config)

    def evidence(self, learner_id: str, skill_id: str) -> float:
        """What the mastery thresholds compare: p_known or p_fresh, per `config.evidence`."""
        if self.config.evidence == "fresh":
            return self.p_fresh(learner_id, skill_id)
        return self.p_known(learner_id, skill_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "algorithm_version": ALGORITHM_VERSION,
            "mastery_version": m.ALGORITHM_VERSION,
            "model": self.model.to_dict(),
            "config": self.config.to_dict(),
            "mastery": {
                lid: {sid: r.to_dict() for sid, r in skills.items()}
                for lid, skills in self.mastery.items()
            },
            "activity": {lid: a.to_dict() for lid, a in self.activity.items()},
            "events_applied": self.events_applied,
            "skill_stats": {sid: st.to_dict() for sid, st in self.skill_stats.items()},
            "seen_ids": {lid: list(ids) for lid, ids in self.seen_ids.items()},
            "cohort_learning": self.cohort_learning,
            "calibrations": self.calibrations,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], catalog: SkillGraph | None = None) -> EngineState:
        if data.get("algorithm_version") != ALGORITHM_VERSION or (
            data.get("mastery_version") != m.ALGORITHM_VERSION
        ):
            raise ValueError("projection written by another algorithm version; rebuild it")
        priors = catalog.item_priors() if catalog else None
        skill_priors = catalog.skill_priors() if catalog else None
        return cls(
            model=EloModel.from_dict(data["model"], priors, skill_priors),
            config=m.MasteryConfig.from_dict(data["config"]),
            catalog=catalog,
            mastery={
                lid: {sid: m.SkillRecord.from_dict(r) for sid, r in skills.items()}
                for lid, skills in data["mastery"].items()
            },
            activity={lid: LearnerActivity.from_dict(a) for lid, a in data["activity"].items()},
            events_applied=int(data["events_applied"]),
            skill_stats={sid: tracing.SkillStats.from_dict(st)
                         for sid, st in data.get("skill_stats", {}).items()},
            seen_ids={lid: dict.fromkeys(str(x) for x in ids)
                      for lid, ids in data.get("seen_ids", {}).items()},
            cohort_learning=bool(data.get("cohort_learning", False)),
            calibrations=int(data.get("calibrations", 0)),
        )


def new_state(
    catalog: SkillGraph | None = None,
    params: EloParams | None = None,
    config: m.MasteryConfig | None = None,
    model: EloModel | None = None,
    cohort_learning: bool = False,
) -> EngineState:
    """An empty projection; item difficulties start from the catalog's priors."""
    if model is None:
        priors = catalog.item_priors() if catalog else None
        skill_priors = catalog.skill_priors() if catalog else None
        model = EloModel(params, priors, skill_priors, learn_items=cohort_learning)
    return EngineState(model=model, config=config or m.MasteryConfig(), catalog=catalog,
                       cohort_learning=cohort_learning)


def _field(event: Mapping[str, Any], name: str) -> Any:
    if name not in event or event[name] is None:
        raise ValueError(f"{event.get('kind', 'event')} event is missing {name!r}")
    return event[name]


def apply_event(state: EngineState, event: Mapping[str, Any]) -> list[str]:
    """Apply one event in place; return transition codes (empty for ignored kinds).

    An event carrying an "event_id" that was already applied for the same learner (among that
    learner's last SEEN_IDS ids) is skipped and returns ["duplicate"]: delivery twice counts once.
    Events without an id are always applied (the hub dedupes by its own row id first).
    """
    kind = event.get("kind")
    if kind not in ENGINE_KINDS:
        return []
    if kind == "model.calibrated":
        return apply_calibration(state, event)
    learner_id = str(_field(event, "learner_id"))
    at = to_seconds(_field(event, "at"))
    event_id = event.get("event_id")
    if event_id is None:
        return _apply_new(state, kind, learner_id, event, at)
    seen = state.seen_ids.get(learner_id)
    key = str(event_id)
    if seen is not None and key in seen:
        return ["duplicate"]
    codes = _apply_new(state, kind, learner_id, event, at)  # a malformed event raises first
    seen = state.seen_ids.setdefault(learner_id, {})
    seen[key] = None
    if len(seen) > SEEN_IDS:
        del seen[next(iter(seen))]
    return codes


def apply_calibration(state: EngineState, event: Mapping[str, Any]) -> list[str]:
    """Shared terms from a fitted calibration, in force for every answer after it in the log.

    In a calibration fit (``cohort_learning``) the shared terms are being learned, not set.
    """
    if state.cohort_learning:
        return []
    items, skills = event.get("items"), event.get("skills")
    if not isinstance(items, Mapping) or not isinstance(skills, Mapping):
        raise ValueError("model.calibrated event needs 'items' and 'skills'")
    state.model.calibrate(items, skills)
    state.skill_stats = {str(sid): tracing.SkillStats.from_dict(st)
                         for sid, st in (event.get("guess_slip") or {}).items()}
    state.calibrations += 1
    return ["calibrated"]


def _apply_new(state: EngineState, kind: str, learner_id: str, event: Mapping[str, Any],
               at: float) -> list[str]:
    state.events_applied += 1
    if kind != "override" and event.get("skill_id") is not None:
        # The skill moved on: a "mark mastered" before this can no longer be undone exactly.
        state.undoable.pop((learner_id, str(event["skill_id"])), None)
    if kind == "attempt":
        return _apply_attempt(state, learner_id, event, at)
    if kind == "placement.finished":
        placed = [str(s) for s in _field(event, "skills")]
        moved = [s for s in placed if m.place(state.record(learner_id, s), at, state.config,
                                                 state.p_fresh(learner_id, s))]
        for placed_id in moved:
            state.undoable.pop((learner_id, placed_id), None)
        return ["placed"] if moved else []
    if kind == "override":
        action = str(_field(event, "action"))
        skill_id = event.get("skill_id")
        if skill_id is None:
            if action not in ("pause", "resume"):
                raise ValueError(f"override {action!r} needs a skill_id")
            state.learner(learner_id).paused = action == "pause"
            return [f"learner_{action}d"]
        skill_id = str(skill_id)
        before = state.undoable.pop((learner_id, skill_id), None)
        if action == UNDO_MARK_MASTERED:
            if before is None:  # something happened on the skill since: nothing to put back
                return []
            state.mastery.setdefault(learner_id, {})[skill_id] = before
            return ["override_undone"]
        if action == "mark_mastered":
            state.undoable[(learner_id, skill_id)] = copy.deepcopy(state.record(learner_id, skill_id))
        record = m.apply_override(state.record(learner_id, skill_id), action, at, state.config)
        state.mastery[learner_id][skill_id] = record
        if action == "reset":
            state.model.reset_learner_skill(learner_id, skill_id)
        return [f"override_{action}"]
    skill_id = str(_field(event, "skill_id"))
    record = state.record(learner_id, skill_id)
    if kind == "test_out_started":
        m.start_test_out(record, at)
        return ["test_out_started"]
    modality = event.get("modality") if kind == "lesson_viewed" else None
    if kind == "lesson_viewed":
        record.lesson_viewed_at = at
    m.note_support_viewed(record, "lesson" if kind == "lesson_viewed" else "worked_example", modality)
    return [f"{kind}"]


def _apply_attempt(
    state: EngineState, learner_id: str, event: Mapping[str, Any], at: float
) -> list[str]:
    item_id = str(_field(event, "item_id"))
    skill_id = str(_field(event, "skill_id"))
    correct = bool(_field(event, "correct"))
    hints = int(event.get("hints_used") or 0)
    duration = event.get("duration_ms")
    activity = state.learner(learner_id)
    record = state.record(learner_id, skill_id)

    mixed = (
        activity.last_skill is None
        or activity.last_skill != skill_id
        or (activity.last_at is not None and at - activity.last_at >= state.config.new_session_gap_s)
    )
    was_review = record.state in (m.MASTERED, m.NEEDS_REVIEW) or record.check_due(at, state.config)

    state.model.update(learner_id, item_id, skill_id, correct, hints, duration, at)
    guess, slip = state.guess_slip(skill_id)
    p_before = tracing.known_probability(record, state.config)
    codes = m.apply_attempt(
        record, item_id=item_id, correct=correct, hints_used=hints, at=at,
        p_fresh=state.p_fresh(learner_id, skill_id), mixed=mixed, config=state.config,
        guess=guess, slip=slip,
    )
    if event.get("mode") in CHECK_MODES:
        record.checked_at = at
    if state.config.guess_slip_weight > 0.0 and not hints:
        if state.cohort_learning and record.pending is not None:
            stats = state.skill_stats.get(skill_id)
            if stats is None:
                stats = state.skill_stats[skill_id] = tracing.SkillStats()
            stats.add(float(record.pending[0]), bool(record.pending[1]), state.config, correct)
        record.pending = [p_before, correct]
    # Practice on other skills counts toward a struggling skill's prerequisite remediation.
    for other_id, other in state.mastery[learner_id].items():
        if other_id != skill_id and other.support_level == m.SUPPORT_PREREQUISITE:
            other.remediation_attempts += 1

    activity.recent_items = (activity.recent_items + [item_id])[-RECENT_WINDOW:]
    activity.recent_review = (activity.recent_review + [was_review])[-RECENT_WINDOW:]
    activity.last_skill = skill_id
    activity.last_at = at
    activity.attempts += 1
    return codes


def fold_events(
    events: Iterable[Mapping[str, Any]],
    catalog: SkillGraph | None = None,
    params: EloParams | None = None,
    config: m.MasteryConfig | None = None,
    model: EloModel | None = None,
    cohort_learning: bool = False,
) -> EngineState:
    """Rebuild the projection from the log. Same events in, bit-identical `to_dict()` out."""
    state = new_state(catalog, params, config, model, cohort_learning)
    for event in events:
        apply_event(state, event)
    return state
