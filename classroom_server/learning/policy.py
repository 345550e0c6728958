"""The playlist policy: the learner's next few options, each with a reason.

Order of candidates (the first three distinct skills are offered; the learner chooses):
1. a test-out the learner started ("I already know this"), the one asked for last first: their
   own request, three items long;
2. the teacher's assignments (teachers override the engine), each an `Assigned`: practice until
   the skill is proficient (then it waits for its delayed check like any skill, and the path
   goes on); a lesson until the learner opens one of the skill's lessons after it was given; a
   check (check items, as the delayed check asks them) until the learner answers the skill as a
   check after it was given, right or wrong (the engine's rules then decide mastery);
3. a check under way, then due reviews (FSRS) and delayed mastery checks, when they have had less
   than their share (20 %) of this session's answers: one of each kind, the kind the session has
   served less first: interleaved review, bounded so it never crowds out new learning;
4. the ready fringe: skills whose prerequisites are proficient or better (`prerequisite_level`;
   "mastered" waits for their delayed checks), the skill in progress first, then new skills in
   the pack's order. A prerequisite that fails its check falls back to learning, which locks its
   dependents again until it is proficient. A proficient skill leaves the fringe: no more
   practice until its check. Repeated failure switches a skill's activity along the ladder:
   hint, worked example, a lesson in another modality than the last one the learner opened
   (among the modalities the skill's lessons have for this learner, `lesson_modalities`; the
   one there is, said to be the only one, when there is one), the weakest prerequisite (only
   one whose evidence is below the threshold, at most `remediation_items` answers), re-check;
5. if that leaves room: the other due reviews and checks, then extra practice on proficient
   skills waiting for their check, then early review.
Within a skill the item is the one whose predicted success is nearest the target (0.75; "easier"
0.85, "harder" 0.6), skipping items seen recently: success often enough to keep going, hard enough
to learn from. Evidence is asked on hard items instead: delayed checks and due reviews use the
check item the learner is least likely to get right, and so does practice whose right answer would
(nearly) make the skill proficient (`check_item`, `decisive_item`), so a partly-known skill does
not pass on a run of easy items. Reasons are codes (REASON_CODES) with parameters for the
web layer to phrase in the learner's language.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, cast

from . import mastery as m
from . import review, tracing
from .model import to_seconds
from .projection import EngineState, LearnerActivity
from .skill_graph import Item, SkillGraph

ALGORITHM_VERSION = "policy-5"
CHALLENGE_TARGETS = {"easier": 0.85, "normal": 0.75, "harder": 0.6}
# What a learner can learn from on their own, in order of preference. A printable is a plan for
# the teacher (steps for a small group, what to listen for): never the learner's "other way".
DEFAULT_MODALITIES = ("text", "images", "audio", "video")

# Why an activity is offered: the one vocabulary of path reasons. The engine gives a code and its
# parameters; the hub phrases each code in the learner's language (web/learner.REASON_WORDS,
# checked against this list by tests/test_i18n.py). services/practice.HUB_REASONS adds the hub's own.
REASON_CODES = (
    "teacher_assigned",        # the teacher assigned the skill (practice)
    "teacher_assigned_lesson",  # the teacher asked for the skill's lesson to be read
    "teacher_assigned_check",  # the teacher asked for the skill's check to be taken
    "test_out",                # "I already know this": answered / needed
    "review_due",              # a mastered skill's review is due: days_since
    "mastery_check",           # the delayed check of a proficient skill: days_since
    "continue",                # a skill being learned
    "ready",                   # a new skill whose prerequisites are unlocked
    "review_missed",           # practise again after a missed review
    "hint_offered",            # after misses: another item, with the hint ready
    "worked_example",          # after more misses: a worked example first
    "lesson_other_modality",   # a lesson in another modality: modality, previous_modality
    "lesson_only_modality",    # the skill's lessons have one modality for this learner: modality
    "remediate_prerequisite",  # practise a prerequisite first: prerequisite, for_skill
    "recheck",                 # a skill that failed its check, again
    "keep_practising",         # extra practice while a check waits for its day
    "review_early",            # review before it is due (room left in the session)
    "session_complete",        # the session's items are done: a break
    "nothing_ready",           # nothing to offer: ask the teacher
)


ASSIGNMENT_KINDS = ("lesson", "check", "practice")  # the order they lead in, on one skill


@dataclass(frozen=True)
class Assigned:
    """One of the teacher's assignments on a learner's path: the skill, what was asked of it
    (ASSIGNMENT_KINDS) and when it was given (epoch seconds: the time of the event that gave
    it; None, as if always). A plain skill id given to `next_activities` is practice."""

    skill_id: str
    kind: str = "practice"
    since: float | None = None

    def met_by(self, record: m.SkillRecord) -> bool:
        """A lesson or check assignment is met once the learner opened the skill's lesson, or
        answered it as a check, at or after the time it was given (practice: never; it steps
        aside by the skill's state instead)."""
        done = {"lesson": record.lesson_viewed_at, "check": record.checked_at}.get(self.kind)
        return done is not None and (self.since is None or done >= self.since)


@dataclass(frozen=True)
class PolicyOptions:
    challenge: str | float = "normal"
    review_share: float = 0.2
    avoid_recent: int = 5
    items_per_session: int = 15
    choices: int = 3
    prerequisite_level: str = "proficient"  # or "mastered": wait for the delayed check
    # Delayed checks and due reviews: "hardest" asks the check item the learner is least likely
    # to get right (a pass then means more); "target" picks it like practice (nearest the target).
    check_item: str = "hardest"
    # Decisive practice, an answer that if right would bring P(known) within `decisive_margin` of
    # the proficiency threshold (so the last two of a run of three): "hardest" asks it on the
    # skill's hardest non-recent item for the learner, "target" like any practice. Easy items
    # chosen for a 75 % success rate let a partly-known skill string together lucky runs.
    decisive_item: str = "hardest"
    decisive_margin: float = 0.15
    modalities: tuple[str, ...] = DEFAULT_MODALITIES
    # Skill id -> the modalities its lessons have for this learner (in their language), as the
    # hub can serve them. None: unknown, every one of `modalities` is assumed (simulations).
    lesson_modalities: Mapping[str, Collection[str]] | None = None
    accommodations: Mapping[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> float:
        if isinstance(self.challenge, (int, float)):
            return float(self.challenge)
        return CHALLENGE_TARGETS[self.challenge]


@dataclass
class Activity:
    kind: str  # practice | check | review | worked_example | lesson | break
    skill_id: str | None
    reason: dict[str, Any]  # {"code": one of REASON_CODES, "params": {...}}
    item_id: str | None = None
    predicted: float | None = None
    support: str | None = None  # "hint": offer the hint up front
    modality: str | None = None
    accommodations: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _activity(kind: str, skill_id: str | None, code: str, params: dict[str, Any],
              options: PolicyOptions, **extra: Any) -> Activity:
    assert code in REASON_CODES, code
    return Activity(kind, skill_id, {"code": code, "params": params},
                    accommodations=dict(options.accommodations), **extra)


def _pick_item(state: EngineState, catalog: SkillGraph, learner_id: str, skill_id: str,
               options: PolicyOptions, prefer_check: bool = False,
               hardest: bool = False) -> tuple[Item | None, float | None]:
    """The item nearest the target success, skipping recent ones (checks prefer check items)."""
    items = catalog.items_by_skill.get(skill_id, [])
    if not items:
        return None, None
    activity = state.activity.get(learner_id)
    own = {i.id for i in items}
    # Skip this skill's most recent items, but always leave at least one to choose from.
    seen = [x for x in (activity.recent_items if activity else []) if x in own]
    keep = min(options.avoid_recent, len(items) - 1)
    recent_ids = set(seen[-keep:]) if keep > 0 else set()
    pool = [i for i in items if i.id not in recent_ids] or list(items)
    if prefer_check:
        pool = [i for i in pool if i.check] or pool
    target = 0.0 if hardest else options.target
    best, best_p, best_gap = None, None, 2.0
    for item in pool:
        p = state.model.predict(learner_id, item.id, skill_id)
        gap = abs(p - target)
        if gap < best_gap:
            best, best_p, best_gap = item, p, gap
    return best, best_p


CHECK_CODES = ("mastery_check", "review_due", "teacher_assigned_check")  # evidence: the hardest item


def _item_activity(kind: str, state: EngineState, catalog: SkillGraph, learner_id: str,
                   skill_id: str, code: str, params: dict[str, Any], options: PolicyOptions,
                   support: str | None = None, decisive: bool = False) -> Activity | None:
    hardest = (options.check_item == "hardest" and code in CHECK_CODES) or (
        decisive and options.decisive_item == "hardest")
    item, p = _pick_item(state, catalog, learner_id, skill_id, options, kind in ("check", "review"),
                         hardest)
    if item is None:
        return None
    return _activity(kind, skill_id, code, params, options, item_id=item.id,
                     predicted=p, support=support)


def _lesson_modalities(skill_id: str, options: PolicyOptions) -> list[str]:
    """The modalities a lesson of the skill may be offered in, best first: `modalities` (audio
    first for a learner with read-aloud), those the skill's lessons have when the hub says."""
    order = list(options.modalities)
    if options.accommodations.get("read_aloud") and "audio" in order:
        order.remove("audio")
        order.insert(0, "audio")
    if options.lesson_modalities is None:
        return order
    have = options.lesson_modalities.get(skill_id, ())
    return [x for x in order if x in have]


def _ladder_activity(state: EngineState, catalog: SkillGraph, learner_id: str, skill_id: str,
                     record: m.SkillRecord, options: PolicyOptions) -> Activity | None:
    """The remediation ladder's activity for a struggling skill, or None if not struggling."""
    level, misses = record.support_level, record.struggle
    if level == m.SUPPORT_HINT or (level in (2, 3) and record.support_done >= level):
        return _item_activity("practice", state, catalog, learner_id, skill_id, "hint_offered",
                              {"misses": misses}, options, support="hint")
    if level == m.SUPPORT_WORKED_EXAMPLE:
        item, _ = _pick_item(state, catalog, learner_id, skill_id, options)
        return _activity("worked_example", skill_id, "worked_example", {"misses": misses},
                         options, item_id=item.id if item else None)
    if level == m.SUPPORT_LESSON:
        # Another way to learn it: a modality the learner did not open last. A skill whose
        # lessons have one modality for this learner gets that one, and the reason says so
        # (offering "another way" that is the same lesson again misled learners, #19); a
        # skill without lessons gets another item with the hint ready.
        modalities = _lesson_modalities(skill_id, options)
        if not modalities:
            return _item_activity("practice", state, catalog, learner_id, skill_id, "hint_offered",
                                  {"misses": misses}, options, support="hint")
        params = {"previous_modality": record.last_modality, "misses": misses}
        if len(modalities) == 1:
            return _activity("lesson", skill_id, "lesson_only_modality",
                             {"modality": modalities[0], **params}, options, modality=modalities[0])
        choice = next(x for x in modalities if x != record.last_modality)
        return _activity("lesson", skill_id, "lesson_other_modality", {"modality": choice, **params},
                         options, modality=choice)
    if level == m.SUPPORT_PREREQUISITE:
        prerequisites = catalog.skills[skill_id].prerequisites if skill_id in catalog.skills else ()
        # Only a prerequisite that is not yet solid is worth the time (remediation is capped).
        shaky = [s for s in prerequisites
                 if state.evidence(learner_id, s) < state.config.proficient_threshold]
        if shaky and record.remediation_attempts < state.config.remediation_items:
            weakest = min(shaky, key=lambda s: (state.evidence(learner_id, s), s))
            return _item_activity("practice", state, catalog, learner_id, weakest,
                                  "remediate_prerequisite",
                                  {"for_skill": skill_id, "prerequisite": weakest}, options)
        level = m.SUPPORT_RECHECK
    if level >= m.SUPPORT_RECHECK:
        return _item_activity("check", state, catalog, learner_id, skill_id, "recheck",
                              {"misses": misses}, options)
    return None


def _days(now: float, then: float | None) -> int:
    return int((now - then) // 86400) if then is not None else 0


def _due_work(state: EngineState, catalog: SkillGraph, learner_id: str, order: Sequence[str],
              now_s: float, options: PolicyOptions) -> list[tuple[float, str, Activity | None]]:
    """Due checks and reviews as (due time, kind, activity), the oldest first.

    Each is ordered by the time it fell due: a check at proficient + the delay, a review at its
    FSRS date. Checks used to be ordered by the time they became proficient, a day ahead of
    their due time, so a waiting check always came before every review (#19).
    """
    due: list[tuple[float, str, Activity | None]] = []
    for skill_id in order:
        record = state.peek(learner_id, skill_id)
        if record.paused:
            continue
        if record.review_due(now_s):
            card = record.review_card or {}
            since = review.last_review_at(card)
            due.append((review.due_at(card), "review", _item_activity(
                "review", state, catalog, learner_id, skill_id, "review_due",
                {"days_since": _days(now_s, since)}, options)))
        elif record.check_due(now_s, state.config):
            due.append(((record.proficient_at or 0.0) + state.config.confirm_delay_s, "check",
                        _item_activity("check", state, catalog, learner_id, skill_id,
                                       "mastery_check",
                                       {"days_since": _days(now_s, record.proficient_at)},
                                       options)))
    due.sort(key=lambda entry: entry[0])
    return due


def _due_served(state: EngineState, catalog: SkillGraph, learner_id: str,
                activity: LearnerActivity | None, session: Sequence[bool]) -> dict[str, int]:
    """Skills given a check or a review in this session's answers, by kind.

    The log keeps no kind per answer, so it is read from the skill's record: a skill answered as
    due work that is mastered (or needs review) and was mastered before that answer had a
    review; any other had its check (under way, passed or missed). A skill restored from
    needs_review counts as a check: it only decides which kind of due work leads next.
    """
    served = {"check": 0, "review": 0}
    answered = activity.recent_items[-len(session):] if activity is not None and session else []
    seen: set[str] = set()
    for item_id, was_due in zip(answered, session, strict=True):
        item = catalog.items.get(item_id)
        if not was_due or item is None or item.skill_id in seen:
            continue
        seen.add(item.skill_id)
        record = state.peek(learner_id, item.skill_id)
        reviewed = (record.state in (m.MASTERED, m.NEEDS_REVIEW)
                    and record.mastered_at != record.last_attempt_at)
        served["review" if reviewed else "check"] += 1
    return served


def next_activities(
    state: EngineState,
    catalog: SkillGraph,
    learner_id: str,
    now: Any,
    assignments: Sequence[str | Assigned] = (),
    options: PolicyOptions | None = None,
    items_done_in_session: int = 0,
    within: Collection[str] | None = None,
) -> list[Activity]:
    """Up to `choices` options, best first; every one carries a reason.

    ``within``: the skills the learner studies (their classes' courses); None for every skill.
    """
    options = options or PolicyOptions()
    order = catalog.order if within is None else [s for s in catalog.order if s in within]
    now_s = to_seconds(now)
    limit = int(options.accommodations.get("items_per_session", options.items_per_session))
    if items_done_in_session >= limit:
        return [_activity("break", None, "session_complete", {"items": items_done_in_session}, options)]
    activity = state.activity.get(learner_id)
    if activity is not None and activity.paused:
        return []
    rec = lambda s: state.peek(learner_id, s)  # noqa: E731
    unlocked = {m.MASTERED, m.NEEDS_REVIEW}
    if options.prerequisite_level == "proficient":
        unlocked.add(m.PROFICIENT)

    chosen: list[Activity] = []
    taken: set[str | None] = set()

    def offer(act: Activity | None) -> None:
        if act is not None and act.skill_id not in taken and len(chosen) < options.choices:
            chosen.append(act)
            taken.add(act.skill_id)

    def practice(skill_id: str, code: str, params: dict[str, Any]) -> Activity | None:
        record = rec(skill_id)
        ladder = _ladder_activity(state, catalog, learner_id, skill_id, record, options)
        if ladder is not None:
            ladder.reason["params"].setdefault("skill", skill_id)
            if code == "teacher_assigned":
                ladder.reason["params"]["assigned"] = True
            return ladder
        decisive = False
        if options.decisive_item != "target" and record.state == m.LEARNING:
            config = state.config
            guess, slip = state.guess_slip(skill_id)
            after = tracing.update_known(tracing.known_probability(record, config), True, 0, config, guess, slip)
            decisive = after >= config.proficient_threshold - options.decisive_margin
        return _item_activity("practice", state, catalog, learner_id, skill_id, code, params,
                              options, decisive=decisive)

    # A test-out is the learner's own request, three items long: it goes first, the one asked
    # last before others, or "I already know this" would lead to whatever else comes first.
    testing = {s: rec(s).test_out for s in order if rec(s).test_out is not None and not rec(s).paused}
    for skill_id, test_out in sorted(testing.items(), key=lambda pair: -float((pair[1] or {})["started_at"])):
        offer(_item_activity("check", state, catalog, learner_id, skill_id, "test_out",
                             {"answered": (test_out or {})["answered"],
                              "needed": state.config.test_out_items}, options))

    # An assignment leads until the skill is proficient, then steps aside and waits for its
    # delayed check like any skill: leading until *mastered* kept a learner who knew it on the
    # same few items until the session's break (#19).
    # A lesson or a check leads until it was done after the teacher gave it (Assigned.met_by).
    # One activity per skill, in the order the skills are first assigned: of what is asked of a
    # skill and not yet met, the lesson, then the check (one-off asks), then practice (open-ended:
    # it would hold a lesson asked of the same skill back until the skill is proficient).
    by_skill: dict[str, list[Assigned]] = {}
    for wanted in assignments:
        assigned = wanted if isinstance(wanted, Assigned) else Assigned(str(wanted))
        by_skill.setdefault(assigned.skill_id, []).append(assigned)
    for skill_id, asked in by_skill.items():
        record = rec(skill_id)
        studied = skill_id in catalog.skills and (within is None or skill_id in within)
        open_asks = [a for a in asked if not a.met_by(record)]
        if not studied or record.paused or not open_asks:
            continue
        assigned = min(open_asks, key=lambda a: ASSIGNMENT_KINDS.index(a.kind) if a.kind in ASSIGNMENT_KINDS
                       else len(ASSIGNMENT_KINDS))
        if assigned.kind == "lesson":  # the first the skill has: text, or audio for read-aloud
            modality = next(iter(_lesson_modalities(skill_id, options)), "text")
            offer(_activity("lesson", skill_id, "teacher_assigned_lesson", {"skill": skill_id}, options,
                            modality=modality))
        elif assigned.kind == "check":
            offer(_item_activity("check", state, catalog, learner_id, skill_id, "teacher_assigned_check",
                                 {"skill": skill_id}, options))
        elif record.state not in (m.PROFICIENT, m.MASTERED):
            offer(practice(skill_id, "teacher_assigned", {"skill": skill_id}))

    # A check already under way (right so far, more items needed) goes on first.
    under_way = [s for s in order
                 if rec(s).check_passed > 0 and rec(s).check_due(now_s, state.config)
                 and not rec(s).paused]
    for skill_id in under_way:
        record = rec(skill_id)
        offer(_item_activity("check", state, catalog, learner_id, skill_id, "mastery_check",
                             {"days_since": _days(now_s, record.proficient_at)}, options))
    due = _due_work(state, catalog, learner_id, [s for s in order if s not in under_way], now_s,
                    options)
    # The share counts this session's answers only: over the last 20 answers, the previous
    # session's reviews kept a learner who came back a week later from meeting any (#19).
    recent = activity.recent_review if activity else []
    session = recent[-items_done_in_session:] if items_done_in_session > 0 else []
    share = sum(session) / len(session) if session else 0.0
    if due and share < options.review_share:
        # One of each kind when both are due, the kind this session has served less first (the
        # older first on a tie). With one slot, oldest first, a learner who makes a skill
        # proficient most days always had a check older than their reviews, and one back from
        # a holiday had reviews older than every check: one kind took every slot (#19).
        served = _due_served(state, catalog, learner_id, activity, session)
        kinds = [entry[1] for entry in due]
        lead = min(set(kinds), key=lambda kind: (served[kind], kinds.index(kind)))
        for kind in [lead] + [k for k in ("check", "review") if k != lead and k in kinds]:
            entry = due[kinds.index(kind)]
            due.remove(entry)
            kinds.remove(kind)
            offer(entry[2])

    fringe_started: list[tuple[str, str, dict[str, Any]]] = []
    fringe_new: list[tuple[str, str, dict[str, Any]]] = []
    for skill_id in order:
        record = rec(skill_id)
        if record.paused or record.state in (m.PROFICIENT, m.MASTERED):
            continue
        if not all(rec(p).state in unlocked for p in catalog.skills[skill_id].prerequisites):
            continue
        if record.state == m.NEEDS_REVIEW:
            fringe_started.insert(0, (skill_id, "review_missed", {"skill": skill_id}))
        elif record.state == m.LEARNING:
            params: dict[str, Any] = {"skill": skill_id, "attempts": record.attempts}
            if activity is not None and activity.last_skill == skill_id:
                fringe_started.insert(0, (skill_id, "continue", params))
            else:
                fringe_started.append((skill_id, "continue", params))
        else:
            pres = list(catalog.skills[skill_id].prerequisites)
            fringe_new.append((skill_id, "ready", {"skill": skill_id, "prerequisites": pres}))
    for skill_id, code, params in fringe_started + fringe_new:
        offer(practice(skill_id, code, params))

    for _, _, act in due:  # after new learning: the review share bounds only what comes first
        offer(act)
    # Extra practice for a skill still waiting for its check (one whose check is due is in `due`:
    # an answer on it *is* its check, mastery.apply_attempt). After due reviews, which FSRS asks
    # for, where extra practice on a skill already proficient is only a way to keep busy.
    waiting = [s for s in order if rec(s).state == m.PROFICIENT and not rec(s).paused
               and not rec(s).check_due(now_s, state.config)]
    for skill_id in waiting:
        record = rec(skill_id)
        hours = max(0, int((record.proficient_at or now_s) + state.config.confirm_delay_s - now_s) // 3600)
        offer(_item_activity("practice", state, catalog, learner_id, skill_id, "keep_practising",
                             {"skill": skill_id, "hours_until_check": hours}, options))
    mastered = [s for s in order if rec(s).state == m.MASTERED and rec(s).review_card
                and not rec(s).paused]
    # every skill in `mastered` has a review card (filtered just above)
    mastered.sort(key=lambda s: (review.retrievability(cast("dict[str, Any]", rec(s).review_card), now_s), s))
    for skill_id in mastered:
        offer(_item_activity("review", state, catalog, learner_id, skill_id, "review_early",
                             {"skill": skill_id}, options))
    if not chosen:
        chosen.append(_activity("break", None, "nothing_ready", {}, options))
    return chosen
