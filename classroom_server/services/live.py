"""The live class view (#18, item 3): what each learner is doing now and since when, who needs
help (with the evidence) and who is ready to move on, for the teacher during class.

**Why the page polls instead of streaming.** Waitress serves every request from a small thread
pool (6 threads on a Pi). A server-sent-events stream keeps its thread for as long as the page is
open, so a few teachers with the view open (or one teacher with two tabs, or a tablet that went
to sleep without closing its socket) would leave almost nothing for 40 learners' answers. A
conditional poll holds a thread for a few milliseconds: every 10 s the page asks for its cards
with the ETag it has, and when nothing happened in the class since, the hub answers 304 after
one indexed query (``version``) and loads nothing else. A poll also survives the classroom Wi-Fi
dropping (the next one just works) and needs no keep-alive or proxy buffering settings.

**What the version covers.** The newest event of the class's learners (answers, lessons,
sign-ins, overrides: one lookup per learner in the ``event_learner (learner_uid, id)`` index),
the class's own changes (what it studies, learners taken off, its name), pack changes and model
calibrations (rare kinds, through the ``event_kind (kind, id)`` index), and the minute: "2
minutes ago" and "idle" move with the clock alone, so the cards are rebuilt at most once a
minute when nothing else happens. A sign-out is no event; it shows within that minute.

**Where the numbers come from.** The engine's projection (mastery states and when they were
reached, P(knows the skill), misses in a row, the "needs help" flag) and the last few events of
each learner, read at one moment ``now``: the same log and the same ``now`` give the same view.
The fall of P(known) over the last answers is the engine's own knowledge-tracing step
(learning/tracing.update_known) run backwards from the current value, so it is the number the
mastery decisions used, answer by answer, not a second estimate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from classroom_server import clock
from classroom_server.db import db
from classroom_server.errors import Invalid
from classroom_server.models import Classroom, Person, WebSession
from classroom_server.services import accounts, courses, teaching
from classroom_server.services.learning import Engine, qualify, split

IDLE_AFTER_S = 5 * 60  # no event for this long: idle
CLASS_AWAKE_S = 10 * 60  # the class is in session while any of its learners did something this recently
NOW_S = 60 * 60  # older answers are not "now" (the engine's gap between two sessions)
RECENT_EVENTS = 12  # events read per learner
WRONG_IN_A_ROW = teaching.HIGH_STRUGGLE
FALLING_ANSWERS = 5  # P(known) compared across at most this many answers on the skill...
FALLING_DROP = 0.2  # ...and a fall of this much, over at least FALLING_MISSES misses, is worth a look
FALLING_MISSES = 2  # (one slip is no trend; so the page always speaks of answers, plural)
HINT_ANSWERS, MANY_HINTS = 5, 3  # hints on MANY_HINTS of the last HINT_ANSWERS answers
ACTIVITY_KINDS = ("attempt", "lesson_viewed", "worked_example_viewed", "test_out_started", "learner.signed_in")
CLASS_KINDS = ("class.courses_set", "class.updated", "class.archived", "learner.unenrolled")
HUB_KINDS = ("pack.installed", "pack.removed", "model.calibrated")
KNOWN_STATES = ("proficient", "mastered")
READY_SHOWN = 3  # skills learned this lesson named on a learner's card, latest first

# The class's newest event: per learner the top of event_learner (learner_uid, id), and the rare
# class and hub kinds through event_kind (kind, id). Every part is an index search: no scan of event.
_VERSION_SQL = f"""
SELECT MAX(newest) FROM (
  SELECT (SELECT MAX(e.id) FROM event AS e WHERE e.learner_uid = p.uid) AS newest
    FROM enrollment AS en JOIN person AS p ON p.id = en.learner_id WHERE en.classroom_id = ?
  UNION ALL
  SELECT MAX(id) FROM event WHERE kind IN ({", ".join("?" * len(CLASS_KINDS))}) AND class_uid = ?
  UNION ALL
  {" UNION ALL ".join("SELECT MAX(id) FROM event WHERE kind = ?" for _ in HUB_KINDS)}
)"""
# The last RECENT_EVENTS events of each learner of the class: for each, one index search for
# the oldest of them and one index range from there. Only the payload's fields the view reads
# (an answer's payload also holds the response).
_RECENT_SQL = """
SELECT e.id, e.kind, e.learner_uid, e.occurred_at, json_extract(e.payload, '$.pack'),
       json_extract(e.payload, '$.skill'), json_extract(e.payload, '$.correct'),
       json_extract(e.payload, '$.hints_used')
  FROM enrollment AS en JOIN person AS p ON p.id = en.learner_id
  JOIN event AS e ON e.learner_uid = p.uid AND e.id >= COALESCE(
    (SELECT x.id FROM event AS x WHERE x.learner_uid = p.uid ORDER BY x.id DESC LIMIT 1 OFFSET ?), 0)
 WHERE en.classroom_id = ?"""


def latest_event_id(classroom: Classroom) -> int:
    """The id of the newest event that can change the class's live view (0 for none)."""
    row = db.execute_sql(_VERSION_SQL, (classroom.id, *CLASS_KINDS, classroom.uid, *HUB_KINDS)).fetchone()
    return int(row[0] or 0)


def version(classroom: Classroom, now: dt.datetime | None = None) -> str:
    """What the live view of the class depends on, as a short token (the ETag's body)."""
    minute = int((now or clock.now()).timestamp() // 60)
    return f"{classroom.id}.{latest_event_id(classroom)}.{minute}"


@dataclass
class Doing:
    """A learner's latest activity: ``kind`` is one of ACTIVITY_KINDS, or "nothing"."""

    kind: str
    skill: str | None = None  # its title
    at: str | None = None  # ISO 8601
    idle: bool = True


@dataclass
class Evidence:
    """Why a learner needs the teacher now; the page says it in words.

    ``reason``: "stuck" (still failing after every kind of help), "wrong_in_a_row", "falling"
    (P(known) fell from ``before`` to ``after`` percent over ``count`` answers), "hints" (hints on
    ``count`` of the last ``total`` answers), "idle" (signed in, nothing done for ``count`` minutes
    while the class works).
    """

    reason: str
    skill: str | None = None
    count: int = 0
    total: int = 0
    before: int = 0
    after: int = 0


@dataclass
class Ready:
    """Why a learner is ready to move on: "proficient" or "mastered" (just now, on ``skill``, at
    ``at``), or "finished" (nothing left to learn in the class's courses)."""

    reason: str
    skill: str | None = None
    at: str | None = None


@dataclass
class LearnerNow:
    learner: Person
    doing: Doing
    help: list[Evidence] = field(default_factory=list)
    ready: list[Ready] = field(default_factory=list)
    signed_in: bool = False
    paused: bool = False


@dataclass
class ClassNow:
    learners: list[LearnerNow]  # by name
    needs_help: list[LearnerNow]  # most urgent first
    ready: list[LearnerNow]  # latest first
    studies: bool  # the class has a course


def known_before(p_after: float, correct: bool, hints_used: int, learn: float, guess: float,
                 slip: float) -> float:
    """P(known) before an answer, from P(known) after it: ``tracing.update_known`` backwards.

    Forwards, the answer conditions P(known) by Bayes' rule (unless it was right with hints),
    then learning moves it by ``learn``; both steps are monotonic, so each has one inverse.
    """
    posterior = min(1.0, max(0.0, (p_after - learn) / (1.0 - learn)))
    if hints_used and correct:
        return posterior
    yes, no = (1.0 - slip, guess) if correct else (slip, 1.0 - guess)  # P(answer | known), P(answer | not)
    below = yes * (1.0 - posterior) + posterior * no
    return posterior * no / below if below > 0 else posterior


@dataclass(frozen=True, slots=True)
class _Recent:
    """One of a learner's last events, as much of it as the view reads."""

    id: int
    kind: str
    at: str  # ISO 8601
    seconds: float
    skill: str | None  # <pack>:<skill>, for an event about one skill
    correct: bool
    hints: int


def _recent_events(classroom: Classroom, learners: list[Person]) -> dict[str, list[_Recent]]:
    """Each learner's last RECENT_EVENTS events, newest first."""
    found: dict[str, list[_Recent]] = {p.uid: [] for p in learners}
    for row_id, kind, uid, at, pack, skill, correct, hints in db.execute_sql(
            _RECENT_SQL, (RECENT_EVENTS - 1, classroom.id)):
        if uid in found:  # an archived learner is still enrolled
            found[uid].append(_Recent(row_id, kind, at, _seconds(at) or 0.0,
                                      qualify(pack, skill) if pack and skill else None, bool(correct),
                                      int(hints or 0)))
    for rows in found.values():
        rows.sort(key=lambda r: -r.id)
    return found


def _signed_in(learners: list[Person], now: dt.datetime) -> set[int]:
    ids = [p.id for p in learners]
    if not ids:
        return set()
    rows = WebSession.select(WebSession.person_id).where(WebSession.person_id.in_(ids),
                                                         WebSession.expires_at > now.timestamp())
    return {row.person_id for row in rows}


def _seconds(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).timestamp()


def _iso(seconds: float) -> str:
    return clock.iso(dt.datetime.fromtimestamp(seconds, dt.UTC))


def _answers_since_override(events: list[_Recent], skill: str, since: float) -> list[_Recent]:
    """The answers on ``skill`` (newest first, not older than ``since``) after the last override
    of it: a mark, a reset or an undo sets P(known) by itself, so the answers before it do not
    lead to the value now."""
    found = []
    for event in events:
        if event.skill != skill:
            continue
        if event.kind == "override":
            break
        if event.kind == "attempt" and event.seconds >= since:
            found.append(event)
    return found


class _View:
    """One build of the view: the moment, the snapshot, titles looked up once."""

    def __init__(self, engine: Engine, snap: Any, lang: str, now: float, studied: frozenset[str]) -> None:
        self.engine, self.snap, self.lang, self.now, self.studied = engine, snap, lang, now, studied
        self.titles: dict[str, str] = {}

    def title(self, skill: str | None) -> str | None:
        if skill is None:
            return None
        if skill not in self.titles:
            try:
                self.titles[skill] = teaching.skill_title(self.engine, skill, self.lang)
            except Invalid:  # a pack removed since: its id is better than nothing
                self.titles[skill] = split(skill)[1]
        return self.titles[skill]

    def doing(self, learner: Person, events: list[_Recent]) -> Doing:
        latest = next((e for e in events if e.kind in ACTIVITY_KINDS), None)
        if latest is not None:
            kind, skill, at = latest.kind, latest.skill, latest.at
        else:  # nothing in the last few events: the engine remembers the last answer
            activity = self.snap.state.activity.get(learner.uid)
            if activity is None or activity.last_at is None:
                return Doing("nothing")
            kind, skill, at = "attempt", activity.last_skill, _iso(activity.last_at)
        seconds = _seconds(at)
        idle = seconds is None or self.now - seconds >= IDLE_AFTER_S
        return Doing(kind, self.title(skill), at, idle)

    def falling(self, uid: str, skill: str, answers: list[_Recent]) -> Evidence | None:
        """P(known) now against its highest over the last FALLING_ANSWERS answers on the skill
        (``answers``: newest first, since the last override of the skill)."""
        record = self.snap.state.peek(uid, skill)
        if record.p_known is None:
            return None
        config = self.snap.state.config
        guess, slip = self.snap.state.guess_slip(skill)
        p_now = p = peak = record.p_known
        since_peak = 0
        for n, answer in enumerate(answers[:FALLING_ANSWERS], start=1):
            p = known_before(p, answer.correct, answer.hints, config.learn_rate, guess, slip)
            if p > peak:
                peak, since_peak = p, n
        misses = sum(1 for a in answers[:since_peak] if not a.correct)
        if peak - p_now < FALLING_DROP or misses < FALLING_MISSES:
            return None
        return Evidence("falling", self.title(skill), count=since_peak, before=round(peak * 100),
                        after=round(p_now * 100))

    def help(self, uid: str, events: list[_Recent], idle_minutes: int | None) -> list[Evidence]:
        found: list[Evidence] = []
        answers = [e for e in events if e.kind == "attempt" and e.seconds >= self.now - NOW_S]
        for skill in dict.fromkeys(a.skill for a in answers if a.skill):  # latest skill first
            record = self.snap.state.peek(uid, skill)
            if record.needs_help:
                found.append(Evidence("stuck", self.title(skill)))
            elif record.struggle >= WRONG_IN_A_ROW:
                found.append(Evidence("wrong_in_a_row", self.title(skill), count=record.struggle))
            fall = self.falling(uid, skill, _answers_since_override(events, skill, self.now - NOW_S))
            if fall is not None:
                found.append(fall)
        hinted = [a for a in answers[:HINT_ANSWERS] if a.hints]
        if len(hinted) >= MANY_HINTS:
            found.append(Evidence("hints", count=len(hinted), total=min(HINT_ANSWERS, len(answers))))
        if idle_minutes is not None:
            found.append(Evidence("idle", count=idle_minutes))
        return found

    def ready(self, uid: str) -> list[Ready]:
        records = self.snap.state.mastery.get(uid, {})
        found: list[Ready] = []
        for skill, record in records.items():
            if skill not in self.studied:
                continue
            at = record.mastered_at if record.state == "mastered" else record.proficient_at
            if record.state in KNOWN_STATES and at is not None and at >= self.now - NOW_S:
                found.append(Ready(record.state, self.title(skill), _iso(at)))
        found.sort(key=lambda r: r.at or "", reverse=True)
        del found[READY_SHOWN:]
        if self.studied and all(self.snap.state.peek(uid, s).state in KNOWN_STATES for s in self.studied):
            found.append(Ready("finished"))
        return found


def class_now(engine: Engine, classroom: Classroom, lang: str, now: dt.datetime | None = None) -> ClassNow:
    """What every learner of the class is doing at ``now``, who needs help and who is ready to
    move on (in the class's courses only)."""
    moment = now or clock.now()
    seconds = moment.timestamp()
    learners = accounts.learners_in(classroom)
    recent = _recent_events(classroom, learners)
    signed_in = _signed_in(learners, moment)
    catalogue = engine.catalogue_store.get().catalogue
    studied = courses.qualified_skills(catalogue, courses.courses_of(classroom))
    rows: list[LearnerNow] = []
    with engine.reading() as snap:
        view = _View(engine, snap, lang, seconds, studied)
        doings = {p.uid: view.doing(p, recent[p.uid]) for p in learners}
        latest = [s for d in doings.values() if (s := _seconds(d.at)) is not None]
        awake = any(seconds - s < CLASS_AWAKE_S for s in latest)  # the class is working now
        for learner in learners:
            doing = doings[learner.uid]
            activity = snap.state.activity.get(learner.uid)
            paused = bool(activity and activity.paused)  # nothing to do: idle is expected
            idle_for = None
            last = _seconds(doing.at)
            if awake and doing.idle and learner.id in signed_in and not paused and last is not None:
                idle_for = int((seconds - last) // 60)
            rows.append(LearnerNow(learner, doing, view.help(learner.uid, recent[learner.uid], idle_for),
                                   view.ready(learner.uid), learner.id in signed_in, paused))
    urgent = sorted((r for r in rows if r.help),
                    key=lambda r: (all(e.reason != "stuck" for e in r.help), -len(r.help), r.learner.display_name))
    ready = sorted((r for r in rows if r.ready), key=lambda r: r.ready[0].at or "", reverse=True)
    return ClassNow(rows, urgent, ready, bool(studied))
