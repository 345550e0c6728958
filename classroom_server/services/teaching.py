"""A teacher's use cases: who needs help, the mastery grid, overrides, assignments, accommodations.

Everything a teacher decides is an event (``override``, ``assignment.set``,
``learner.accommodations_set``), recorded through ``events.record`` and then folded by the
engine, so the decision travels with the log and a rebuild gives the same picture. The views
read the engine's projection (mastery records), never raw answers.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peewee import fn

from classroom_server import clock
from classroom_server.db import db
from classroom_server.errors import Invalid, NotFound
from classroom_server.models import CANONICAL_ORDER, ClassAssignment, Classroom, Event, LearnerAccommodations, Person
from classroom_server.numbers import parse_int
from classroom_server.services import accounts, courses, events, practice, setup_cache
from classroom_server.services.learning import Engine, qualify, split

OVERRIDE_ACTIONS = ("mark_mastered", "reset", "pause", "resume", "undo_mark_mastered")
LEARNER_ACTIONS = ("pause", "resume")
# What undoes an override, where something can: a reset cannot be taken back. Undoing "mark
# mastered" puts the skill back exactly as it was (learning/projection.py), until anything else
# happens on that skill.
UNDO = {"pause": "resume", "resume": "pause", "mark_mastered": "undo_mark_mastered"}
HIGH_STRUGGLE = 3  # misses in a row on one skill that a teacher should hear about
ITEMS_PER_SESSION = (1, 50)
NO_ACCOMMODATIONS: dict[str, Any] = {"items_per_session": None, "more_time": False, "read_aloud": False,
                                     "larger_text": False}


@dataclass
class Cell:
    """One learner's standing on one skill, as the teacher sees it."""

    pack_id: str
    skill_id: str
    title: str
    state: str
    attempts: int = 0
    correct: int = 0
    struggle: int = 0
    needs_help: bool = False
    paused: bool = False

    @property
    def needs_attention(self) -> bool:
        """Flagged by the engine, or missing again and again: the teacher should look."""
        return self.needs_help or self.struggle >= HIGH_STRUGGLE


@dataclass
class HelpNote:
    """A learner who needs the teacher now, on which skill, and why (a code the page phrases)."""

    learner: Person
    cell: Cell
    reason: str  # "needs_help" | "struggling"


@dataclass
class PackGrid:
    pack_id: str
    title: str
    skills: list[tuple[str, str]]  # (skill id, title) in the pack's topological order
    rows: list[tuple[Person, list[Cell], bool]] = field(default_factory=list)  # learner, cells, paused


def _title(thing: Any, lang: str, languages: list[str]) -> str:
    return thing.title.pick(lang if lang in languages else languages[0])


def _cell(snap: Any, learner_uid: str, pack_id: str, skill_id: str, title: str) -> Cell:
    record = snap.state.peek(learner_uid, qualify(pack_id, skill_id))
    return Cell(pack_id, skill_id, title, record.state, record.attempts, record.correct,
                record.struggle, bool(record.needs_help), bool(record.paused))


def _help_reason(cell: Cell) -> str | None:
    if cell.needs_help:
        return "needs_help"
    if cell.struggle >= HIGH_STRUGGLE:
        return "struggling"
    return None


def learner_paused(snap: Any, learner: Person) -> bool:
    activity = snap.state.activity.get(learner.uid)
    return bool(activity and activity.paused)


def pack_skills(engine: Engine, lang: str, studied: list[courses.Course]) -> list[PackGrid]:
    """Each pack of these courses with the courses' skills in the pack's topological order (no
    learners yet)."""
    catalogue = engine.catalogue_store.get().catalogue
    grids = []
    for pack_id, skill_ids in courses.course_skills(catalogue, studied).items():
        pack = catalogue.pack(pack_id)
        skills = [(skill_id, _title(catalogue.skill(pack_id, skill_id), lang, pack.languages))
                  for skill_id in skill_ids]
        grids.append(PackGrid(pack.id, _title(pack, lang, pack.languages), skills))
    return grids


def class_progress(engine: Engine, classroom: Classroom, lang: str) -> tuple[list[HelpNote], list[PackGrid]]:
    """Who needs help now (most urgent first) and one mastery grid per pack the class studies."""
    learners = accounts.learners_in(classroom)
    grids = pack_skills(engine, lang, courses.courses_of(classroom))
    notes: list[HelpNote] = []
    with engine.reading() as snap:
        for grid in grids:
            for learner in learners:
                cells = [_cell(snap, learner.uid, grid.pack_id, s, t) for s, t in grid.skills]
                grid.rows.append((learner, cells, learner_paused(snap, learner)))
                notes += [HelpNote(learner, c, r) for c in cells if (r := _help_reason(c))]
    notes.sort(key=lambda n: (n.reason != "needs_help", -n.cell.struggle, n.learner.display_name))
    return notes, grids


def learner_skills(engine: Engine, learner: Person, lang: str) -> tuple[list[PackGrid], bool]:
    """One learner's skills by pack (their classes' courses), in order, and whether their whole
    playlist is paused."""
    grids = pack_skills(engine, lang, courses.learner_courses(learner))
    with engine.reading() as snap:
        for grid in grids:
            grid.rows.append((learner, [_cell(snap, learner.uid, grid.pack_id, s, t) for s, t in grid.skills],
                              False))
        paused = learner_paused(snap, learner)
    return grids, paused


def _check_skill(engine: Engine, qualified_skill: str) -> tuple[str, str]:
    pack_id, skill_id = split(qualified_skill)
    try:
        engine.catalogue_store.get().catalogue.skill(pack_id, skill_id)
    except KeyError:
        raise Invalid("There is no skill %(skill)s on this hub.", field="skill", skill=qualified_skill) from None
    return pack_id, skill_id


def override(engine: Engine, actor: Person, classroom: Classroom, learner: Person, action: str,
             skill: str | None) -> None:
    """A teacher's decision about a learner's skill (or whole playlist), as an ``override`` event.

    ``skill`` is ``<pack id>:<skill id>``, or None for a whole-learner pause or resume.
    """
    if action not in OVERRIDE_ACTIONS:
        raise Invalid("Choose one of the actions on the page.", field="action")
    if skill:
        pack_id, skill_id = _check_skill(engine, skill)
        payload: dict[str, Any] = {"pack": pack_id, "skill": skill_id, "action": action}
        if action == "undo_mark_mastered" and not engine.can_undo_mark(learner.uid, skill):
            raise Invalid("Something happened on this skill since it was marked, so the mark can no longer "
                          "be undone. Reset the skill or leave it as it is.", field="skill")
    elif action in LEARNER_ACTIONS:
        payload = {"pack": None, "skill": None, "action": action}
    else:
        raise Invalid("Choose a skill first.", field="skill")
    events.record("override", payload, learner_uid=learner.uid, actor_uid=actor.uid, class_uid=classroom.uid)


ASSIGNMENT_KINDS = ("practice", "lesson", "check")  # as learning/policy.ASSIGNMENT_KINDS (the engine loads late)


@dataclass(frozen=True)
class Assignment:
    """Skills a teacher asked some learners (``learners``: their uids; None, the whole class) to
    work on first, by a day (``due``) or whenever: to practise them, read their lesson or take
    their check (``kind``). ``id`` "class" is the whole class's standing assignment (the
    ``skills`` of ``assignment.set``: practice, no due date)."""

    id: str
    skills: tuple[str, ...]
    learners: tuple[str, ...] | None = None
    due: dt.date | None = None
    kind: str = "practice"

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"id": self.id, "skills": list(self.skills)}
        if self.learners is not None:
            found["learners"] = list(self.learners)
        if self.due is not None:
            found["due"] = self.due.isoformat()
        if self.kind != "practice":  # absent is practice: events from before kinds read the same
            found["kind"] = self.kind
        return found

    def includes(self, learner: Person) -> bool:
        return self.learners is None or learner.uid in self.learners


CLASS_WIDE = "class"


def _from_json(given: dict[str, Any]) -> Assignment:
    return Assignment(given["id"], tuple(given["skills"]), tuple(given["learners"]) if given.get("learners") else None,
                      dt.date.fromisoformat(given["due"]) if given.get("due") else None,
                      given.get("kind") or "practice")


def _given(row: Any) -> list[Assignment]:
    return [_from_json(g) for g in json.loads(row.given or "[]")]


def assignment_of(classroom: Classroom) -> list[str]:
    """The whole class's standing assignment (skills, in the teacher's order)."""
    row = ClassAssignment.get_or_none(ClassAssignment.class_uid == classroom.uid)
    return list(json.loads(row.skills)) if row else []


def assignments_of(classroom: Classroom) -> list[Assignment]:
    """Every current assignment of the class: the whole class's first, then the others by due
    date (none last), as the latest ``assignment.set`` says."""
    row = ClassAssignment.get_or_none(ClassAssignment.class_uid == classroom.uid)
    if row is None:
        return []
    # Hubs before the fix recorded the district's "<pack>/<skill>" as it came: read in the engine's words.
    skills = tuple(s if "/" not in s else s.replace("/", ":", 1) for s in json.loads(row.skills))
    found = [Assignment(CLASS_WIDE, skills)] if skills else []
    return found + sorted(_given(row), key=lambda a: (a.due or dt.date.max, a.id))


def _checked_skills(engine: Engine, classroom: Classroom, skills: list[str]) -> list[str]:
    chosen: list[str] = []
    studied = courses.qualified_skills(engine.catalogue_store.get().catalogue, courses.courses_of(classroom))
    for skill in skills:
        _check_skill(engine, skill)
        if skill not in studied:
            raise Invalid("%(skill)s is not in this class's courses. Add its pack to the class first.",
                          field="skill", skill=skill)
        if skill not in chosen:
            chosen.append(skill)
    return chosen


def _record_assignments(actor: Person, classroom: Classroom, skills: list[str], given: list[Assignment]) -> None:
    payload: dict[str, Any] = {"skills": skills}
    if given:
        payload["given"] = [a.to_json() for a in given]
    events.record("assignment.set", payload, actor_uid=actor.uid, class_uid=classroom.uid)


def set_assignment(engine: Engine, actor: Person, classroom: Classroom, skills: list[str]) -> list[str]:
    """Ask the whole class to work on these skills first (an empty list clears that assignment;
    the assignments to groups stay)."""
    chosen = _checked_skills(engine, classroom, skills)
    _record_assignments(actor, classroom, chosen, [a for a in assignments_of(classroom) if a.id != CLASS_WIDE])
    return chosen


def parse_due(text: str | None, today: dt.date) -> dt.date | None:
    """A due date from the page's date field (YYYY-MM-DD); blank is none. A day before the hub's
    today is refused: it was probably mistyped (or the hub's clock is wrong, which the page says)."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        due = dt.date.fromisoformat(text)
    except ValueError:
        raise Invalid("Write the date as year-month-day, for example 2026-12-18.", field="due") from None
    if due < today:
        raise Invalid("The due date is already past.", field="due")
    return due


def _check_kind(engine: Engine, kind: str, skills: list[str], lang: str) -> None:
    """A lesson needs a lesson to read (in any language: the learner's, else the pack's own), a
    check needs check items: refused now, or the assignment would lead to nothing."""
    if kind not in ASSIGNMENT_KINDS:
        raise Invalid("Choose what the learners should do: practise, read the lesson or take the check.",
                      field="kind")
    if kind == "practice":
        return
    loaded = engine.catalogue_store.get()
    for skill in skills:
        pack_id, skill_id = split(skill)
        pack = loaded.catalogue.pack(pack_id)
        if kind == "lesson" and not practice.lessons_for(loaded, pack, skill_id, lang):
            raise Invalid("%(skill)s has no lesson on this hub. Assign it to practise or as a check instead.",
                          field="kind", skill=skill_title(engine, skill, lang))
        if kind == "check" and not any(i.check for i in loaded.catalogue.items_for(pack_id, skill_id)):
            raise Invalid("%(skill)s has no check questions. Assign it to practise instead.",
                          field="kind", skill=skill_title(engine, skill, lang))


def give_assignment(engine: Engine, actor: Person, classroom: Classroom, skills: list[str],
                    learner_ids: list[int] | None, due: dt.date | None, kind: str = "practice",
                    lang: str = "en") -> Assignment:
    """Ask some learners of the class (``learner_ids``; None, all of them) to practise these
    skills first, or read their lessons or take their checks (``kind``), by ``due`` if given.
    Recorded as the class's assignments, whole, with this one added, so the log says at every
    moment what was asked of whom. ``lang``: the teacher's, for the names in a refusal."""
    chosen = _checked_skills(engine, classroom, skills)
    if not chosen:
        raise Invalid("Choose at least one skill.", field="skills")
    _check_kind(engine, kind, chosen, lang)
    uids: tuple[str, ...] | None = None
    if learner_ids is not None:
        members = {p.id: p.uid for p in accounts.learners_in(classroom)}
        if not learner_ids or any(i not in members for i in learner_ids):
            raise Invalid("Choose learners of this class.", field="learners")
        uids = tuple(sorted({members[i] for i in learner_ids}))
    current = assignments_of(classroom)
    new = Assignment(uuid.uuid4().hex[:12], tuple(chosen), uids, due, kind)
    _record_assignments(actor, classroom, assignment_of(classroom),
                        [a for a in current if a.id != CLASS_WIDE] + [new])
    return new


def withdraw_assignment(actor: Person, classroom: Classroom, assignment_id: str) -> Assignment:
    """Take one assignment back (the whole class's, with id "class")."""
    current = assignments_of(classroom)
    found = next((a for a in current if a.id == assignment_id), None)
    if found is None:
        raise NotFound("There is no such assignment.")
    whole = [] if assignment_id == CLASS_WIDE else assignment_of(classroom)
    _record_assignments(actor, classroom, whole, [a for a in current if a.id not in (CLASS_WIDE, assignment_id)])
    return found


def restore_assignment(actor: Person, classroom: Classroom, assignment: Assignment) -> None:
    """Undo a withdrawal: the assignment comes back as it was (same id, skills, learners, date)."""
    current = assignments_of(classroom)
    if any(a.id == assignment.id for a in current):
        return
    whole = list(assignment.skills) if assignment.id == CLASS_WIDE else assignment_of(classroom)
    others = [a for a in current if a.id != CLASS_WIDE]
    if assignment.id != CLASS_WIDE:
        others.append(assignment)
    _record_assignments(actor, classroom, whole, others)


def previous_assignment(classroom: Classroom, assignment_id: str) -> Assignment | None:
    """The assignment with this id as the class's earlier ``assignment.set`` events held it:
    what Undo after a withdrawal restores."""
    query = (Event.select(Event.payload).where(Event.kind == "assignment.set", Event.class_uid == classroom.uid)
             .order_by(Event.id.desc()).limit(50))
    for row in query:
        payload = json.loads(row.payload)
        if assignment_id == CLASS_WIDE and payload.get("skills"):
            return Assignment(CLASS_WIDE, tuple(payload["skills"]))
        for given in payload.get("given", []):
            if given["id"] == assignment_id:
                return _from_json(given)
    return None


def assignments_for(learner: Person) -> tuple[str, ...]:
    """Every skill the learner's teachers asked them to practise, most urgent first: by due date
    (overdue first, none last), class by class, without repeats. The policy offers each first
    until it is met (learning/policy.py). ``assigned_for`` gives lessons and checks too."""
    found: list[str] = []
    for assignment, _classroom in _assignments_of_learner(learner):
        if assignment.kind == "practice":
            found += [s for s in assignment.skills if s not in found]
    return tuple(found)


def _assignments_of_learner(learner: Person) -> list[tuple[Assignment, Classroom]]:
    mine: list[tuple[Assignment, Classroom]] = []
    for classroom in accounts.classes_for(learner):
        mine += [(a, classroom) for a in assignments_of(classroom) if a.includes(learner)]
    mine.sort(key=lambda pair: pair[0].due or dt.date.max)
    return mine


def assigned_for(learner: Person) -> tuple[Any, ...]:
    """What the learner's teachers asked of them, most urgent first (as ``assignments_for``), as
    the policy reads it (``learning.Assigned``): each skill to practise once, each lesson and
    check with the time it was given, so the policy knows whether the learner did it since.
    Kept while the classes' setup is unchanged (services/setup_cache.py): the times come from
    the ``assignment.set`` events that the class's assignment row names."""
    return setup_cache.for_learner("assigned", learner.id, lambda: _read_assigned(learner))


def _read_assigned(learner: Person) -> tuple[Any, ...]:
    from classroom_server.learning import Assigned

    mine = _assignments_of_learner(learner)
    times: dict[tuple[str, str], float] = {}
    for classroom in {c.uid: c for a, c in mine if a.kind != "practice"}.values():
        wanted = {a.id for a, c in mine if c.uid == classroom.uid and a.kind != "practice"}
        times.update({(classroom.uid, i): t for i, t in given_times(classroom, wanted).items()})
    found: list[Any] = []
    practised: set[str] = set()
    for assignment, classroom in mine:
        if assignment.kind == "practice":
            found += [Assigned(s) for s in assignment.skills if s not in practised]
            practised.update(assignment.skills)
        else:
            since = times.get((classroom.uid, assignment.id))
            found += [Assigned(s, assignment.kind, since) for s in assignment.skills]
    return tuple(found)


_GIVEN_TIMES: dict[tuple[str, str, int, frozenset[str]], dict[str, float]] = {}


def given_times(classroom: Classroom, ids: set[str]) -> dict[str, float]:
    """When each of these assignments of the class was given: the time of the first
    ``assignment.set`` (in the log's canonical order) that held it, as the engine reads event
    times. An assignment taken back and restored keeps its first time (undo puts it back as it
    was). Remembered while the class's latest ``assignment.set`` stays the same."""
    from classroom_server.learning import to_seconds

    row = ClassAssignment.get_or_none(ClassAssignment.class_uid == classroom.uid)
    if row is None or not ids:
        return {}
    key = (str(db.database), classroom.uid, int(row.event_id), frozenset(ids))
    found = _GIVEN_TIMES.get(key)
    if found is not None:
        return dict(found)
    found = {}
    query = (Event.select(Event.payload, Event.recorded_at)
             .where(Event.kind == "assignment.set", Event.class_uid == classroom.uid).order_by(*CANONICAL_ORDER))
    for event in query.iterator():
        for given in json.loads(event.payload).get("given", []):
            if given.get("id") in ids and given["id"] not in found:
                found[given["id"]] = to_seconds(event.recorded_at)
        if len(found) == len(ids):
            break
    if len(_GIVEN_TIMES) > 512:
        _GIVEN_TIMES.clear()
    _GIVEN_TIMES[key] = dict(found)
    return found


def accommodations_of(learner: Person) -> dict[str, Any]:
    """The learner's accommodations (the stored projection of ``learner.accommodations_set``),
    read on every learner page: kept while the classes' setup is unchanged (services/setup_cache.py)."""
    return setup_cache.for_learner("accommodations", learner.id, lambda: _read_accommodations(learner), copy=dict)


def _read_accommodations(learner: Person) -> dict[str, Any]:
    row = LearnerAccommodations.get_or_none(LearnerAccommodations.learner_uid == learner.uid)
    if row is None:
        return dict(NO_ACCOMMODATIONS)
    return {"items_per_session": row.items_per_session, "more_time": bool(row.more_time),
            "read_aloud": bool(row.read_aloud), "larger_text": bool(row.larger_text)}


def policy_accommodations(learner: Person) -> dict[str, Any]:
    """What the playlist policy reads: a shorter session and audio lessons first, when set."""
    return setup_cache.for_learner("policy_accommodations", learner.id,
                                   lambda: policy_accommodations_of([learner])[learner.uid], copy=dict)


def policy_accommodations_of(learners: list[Person]) -> dict[str, dict[str, Any]]:
    """``policy_accommodations`` for many learners in one query (a class's plan)."""
    rows = {r.learner_uid: r for r in
            LearnerAccommodations.select().where(LearnerAccommodations.learner_uid.in_([p.uid for p in learners]))}
    found: dict[str, dict[str, Any]] = {}
    for learner in learners:
        row = rows.get(learner.uid)
        chosen: dict[str, Any] = {"read_aloud": bool(row and row.read_aloud)}
        if row is not None and row.items_per_session:
            chosen["items_per_session"] = row.items_per_session
        found[learner.uid] = chosen
    return found


def parse_items_per_session(text: str) -> int | None:
    """Empty means "the usual"; anything else must be a whole number in range."""
    text = (text or "").strip()
    if not text:
        return None
    low, high = ITEMS_PER_SESSION
    try:
        return parse_int(text, "items_per_session", low, high)
    except Invalid:
        raise Invalid("Items per session must be a whole number from %(low)s to %(high)s.",
                      field="items_per_session", low=low, high=high) from None


def set_accommodations(actor: Person, classroom: Classroom, learner: Person,
                       choices: Mapping[str, Any]) -> dict[str, Any]:
    """Record a learner's accommodations; ``choices`` holds the four keys of NO_ACCOMMODATIONS."""
    payload = {
        "items_per_session": parse_items_per_session(str(choices.get("items_per_session") or "")),
        "more_time": bool(choices.get("more_time")), "read_aloud": bool(choices.get("read_aloud")),
        "larger_text": bool(choices.get("larger_text")),
    }
    events.record("learner.accommodations_set", payload, learner_uid=learner.uid, actor_uid=actor.uid,
                  class_uid=classroom.uid)
    return payload



def skill_title(engine: Engine, qualified_skill: str, lang: str) -> str:
    """A skill's title in the teacher's language, for confirmations and messages."""
    pack_id, skill_id = _check_skill(engine, qualified_skill)
    catalogue = engine.catalogue_store.get().catalogue
    return _title(catalogue.skill(pack_id, skill_id), lang, catalogue.pack(pack_id).languages)


@dataclass
class Activity:
    """A printable activity of a pack: a plan for the teacher to lead (steps, what to listen
    for, common misconceptions), for one or more skills."""

    pack_id: str
    resource_id: str
    title: str
    skills: list[str]


def activities(loaded: Any, lang: str) -> list[tuple[str, list[Activity]]]:
    """Every pack's printable activities, by pack title, in the pack's skill order."""
    found = []
    for pack in loaded.catalogue.packs:
        skill_titles = {s.id: s.title.pick(lang) for s in pack.skills}
        order = {s.id: n for n, s in enumerate(pack.skills)}
        printables = sorted((r for r in pack.resources if r.kind == "printable"),
                            key=lambda r: min(order.get(s, len(order)) for s in r.skills))
        if printables:
            found.append((pack.title.pick(lang), [
                Activity(pack.id, r.id, r.title.pick(lang), [skill_titles.get(s, s) for s in r.skills])
                for r in printables]))
    return found


def printable(loaded: Any, pack_id: str, resource_id: str) -> tuple[Any, Any, Path]:
    """A pack's printable activity and the file that holds its Markdown, or NotFound."""
    try:
        pack = loaded.catalogue.pack(pack_id)
    except KeyError:
        raise NotFound("There is no such activity.") from None
    for resource in pack.resources:
        if resource.id == resource_id and resource.kind == "printable":
            return pack, resource, Path(loaded.files[loaded.sha_for(pack.id, resource.path)].path)
    raise NotFound("There is no such activity.")


# --- who decided what: the class's history -------------------------------------------------------

HISTORY_KINDS = ("override", "assignment.set", "class.courses_set", "learner.accommodations_set",
                 "learner.created", "learner.updated", "learner.secret_reset", "learner.enrolled",
                 "learner.unenrolled")
HISTORY_PAGE = 50


@dataclass
class Decision:
    """One recorded decision about a class or one of its learners, with who made it and when."""

    event_id: int
    kind: str
    occurred_at: str
    actor: str  # the person's name; "district" or "hub" for changes made by the system
    learner: str | None
    payload: dict[str, Any]


def history(classroom: Classroom, before: int | None = None, limit: int = HISTORY_PAGE) -> list[Decision]:
    """The class's decisions, newest first: every override, assignment, course, accommodation
    and class-list change recorded for it, with its author (the audit view). ``before``: an
    event id, for the next page."""
    query = Event.select().where(Event.class_uid == classroom.uid, Event.kind.in_(HISTORY_KINDS))
    if before is not None:
        query = query.where(Event.id < before)
    rows = list(query.order_by(Event.id.desc()).limit(limit))
    uids = {r.actor_uid for r in rows if r.actor_uid} | {r.learner_uid for r in rows if r.learner_uid}
    names = {p.uid: p.display_name for p in Person.select(Person.uid, Person.display_name).where(Person.uid.in_(uids))}
    return [Decision(r.id, r.kind, r.occurred_at, names.get(r.actor_uid or "", r.actor_uid or ""),
                     names.get(r.learner_uid) if r.learner_uid else None, json.loads(r.payload)) for r in rows]


def display_names(uids: set[str]) -> dict[str, str]:
    """People's names by uid (one query)."""
    if not uids:
        return {}
    return {p.uid: p.display_name for p in Person.select(Person.uid, Person.display_name)
            .where(Person.uid.in_(sorted(uids)))}


def clock_doubt() -> str | None:
    """The time of the newest event when the hub's clock is behind it (a Pi has no clock
    battery: after a power cut its clock may restart in the past), else None. Due dates and
    "today" are then wrong, so the teacher is told; nothing recorded is lost either way, since
    events keep the order they were recorded in, whatever their times say."""
    newest = Event.select(fn.MAX(Event.recorded_at)).scalar()
    if not newest:
        return None
    try:
        moment = dt.datetime.fromisoformat(newest)
    except ValueError:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return str(newest) if clock.now() < moment - dt.timedelta(minutes=5) else None
