"""Placement across a pack, on the hub: start one, ask its questions, record where it placed the
learner (learning/placement.py has the rules).

Everything is in the event log: ``placement.started`` {pack}, then the learner's attempts with
mode ``placement`` (graded and folded like any answer), then ``placement.finished`` {pack,
placed, asked}: the skills found known, which the fold makes proficient. A placement in progress
is the latest ``placement.started`` of the learner and pack with no ``placement.finished`` after
it, so a learner who leaves half-way (or whose tablet runs out of battery) goes on where they
stopped. A teacher may ask a class to take a pack's placement (``placement.requested`` with the
class): its learners are offered it until they finish one after the request. A learner who has
never answered in a pack their class studies is offered it too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from classroom_server.errors import Invalid, NotFound
from classroom_server.models import Classroom, Event, Person
from classroom_server.services import accounts, courses, events
from classroom_server.services.learning import Engine, qualify

MODE = "placement"


@dataclass(frozen=True)
class Step:
    """Where a placement stands: the next question's item, or the result."""

    pack_id: str
    asked: int
    budget: int
    item_id: str | None  # None: finished
    placed: tuple[str, ...]  # skill ids found known so far (the result, once finished)
    undecided: int


def _graph(loaded: Any, pack_id: str) -> tuple[list[str], dict[str, list[str]]]:
    catalogue = loaded.catalogue
    if not courses._installed(catalogue, pack_id):
        raise NotFound("There is no such pack.")
    pack = catalogue.pack(pack_id)
    order = [skill_id for _, skill_id in catalogue.topological_order(pack_id)]
    return order, {s.id: list(s.prerequisites) for s in pack.skills}


def _started(learner: Person, pack_id: str) -> Event | None:
    """The placement of this pack in progress: its start event, or None."""
    for row in (Event.select(Event.id, Event.kind, Event.payload)
                .where(Event.learner_uid == learner.uid, Event.kind.in_(("placement.started", "placement.finished")))
                .order_by(Event.id.desc())):
        if json.loads(row.payload).get("pack") == pack_id:
            return row if row.kind == "placement.started" else None
    return None


def _answers(learner: Person, pack_id: str, since_row: int) -> list[tuple[str, bool, str]]:
    """(skill, clean right, item) of the learner's placement answers in the pack since the start."""
    found = []
    for row in (Event.select(Event.payload).where(Event.learner_uid == learner.uid, Event.kind == "attempt",
                                                  Event.id > since_row).order_by(Event.id)):
        payload = json.loads(row.payload)
        if payload.get("mode") == MODE and payload.get("pack") == pack_id:
            right = bool(payload.get("correct")) and not payload.get("hints_used")
            found.append((str(payload["skill"]), right, str(payload["item"])))
    return found


def in_progress(learner: Person, pack_id: str) -> bool:
    return _started(learner, pack_id) is not None


def start(engine: Engine, learner: Person, pack_id: str) -> None:
    """Start a placement of the pack (going on with the one in progress, if any)."""
    _graph(engine.catalogue_store.get(), pack_id)
    if pack_id not in {c.pack_id for c in courses.learner_courses(learner)}:
        raise Invalid("Your class does not study this pack.", field="pack")
    if _started(learner, pack_id) is None:
        events.record("placement.started", {"pack": pack_id}, learner_uid=learner.uid, actor_uid=learner.uid)


def _current(engine: Engine, learner: Person, pack_id: str) -> tuple[Any, list[tuple[str, bool, str]], list[str]]:
    """The placement in progress as the rules see it, its answers, and the pack's order."""
    from classroom_server.learning.placement import place

    order, prerequisites = _graph(engine.catalogue_store.get(), pack_id)
    started = _started(learner, pack_id)
    if started is None:
        raise NotFound("There is no placement in progress for this pack.")
    answers = _answers(learner, pack_id, int(started.id))
    return place(order, prerequisites, [(skill, right) for skill, right, _ in answers]), answers, order


def progress(engine: Engine, learner: Person, pack_id: str) -> tuple[int, int] | None:
    """(questions answered, the most it may ask) of the placement in progress, or None."""
    if _started(learner, pack_id) is None:
        return None
    found, _, _ = _current(engine, learner, pack_id)
    return found.asked, found.budget


def step(engine: Engine, learner: Person, pack_id: str) -> Step:
    """The next question of the placement in progress, or, when it is done, its result (recorded
    once as ``placement.finished``). Raises ``NotFound`` when none is in progress."""
    found, answers, order = _current(engine, learner, pack_id)
    placed = tuple(s for s in order if s in found.known)
    if found.next_skill is None:
        events.record("placement.finished", {"pack": pack_id, "placed": list(placed), "asked": found.asked},
                      learner_uid=learner.uid, actor_uid=learner.uid)
        return Step(pack_id, found.asked, found.budget, None, placed, len(found.undecided))
    item = _item_for(engine, learner, pack_id, found.next_skill, {item for _, _, item in answers})
    return Step(pack_id, found.asked, found.budget, item, placed, len(found.undecided))


def _item_for(engine: Engine, learner: Person, pack_id: str, skill_id: str, asked: set[str]) -> str:
    """An item of the skill for the next question: one not asked in this placement, one the
    learner never answered if there is one, in the pack's order."""
    items = [i.id for i in engine.catalogue_store.get().catalogue.items_for(pack_id, skill_id)]
    with engine.reading() as snap:
        seen = set(snap.state.peek(learner.uid, qualify(pack_id, skill_id)).items)
    fresh = [i for i in items if i not in asked]
    if not fresh:
        fresh = items  # a skill with fewer items than questions asked of it (it has one at least)
    unseen = [i for i in fresh if qualify(pack_id, i) not in seen and i not in seen]
    return (unseen or fresh)[0]


def result(learner: Person, pack_id: str) -> dict[str, Any] | None:
    """The latest finished placement of the pack: its payload (placed, asked), or None."""
    for row in (Event.select(Event.payload).where(Event.learner_uid == learner.uid,
                                                  Event.kind == "placement.finished").order_by(Event.id.desc())):
        payload = json.loads(row.payload)
        if payload.get("pack") == pack_id:
            return dict(payload)
    return None


def request_for_class(actor: Person, classroom: Classroom, pack_id: str) -> None:
    """A teacher asks the class to take the pack's placement (a pack the class studies)."""
    if pack_id not in {c.pack_id for c in courses.courses_of(classroom)}:
        raise Invalid("The class does not study this pack.", field="pack")
    events.record("placement.requested", {"pack": pack_id}, class_uid=classroom.uid, actor_uid=actor.uid)


def offered(engine: Engine, learner: Person) -> list[str]:
    """Packs whose placement the learner is offered, in their courses' order: one in progress;
    one their teacher asked their class for since their last finished placement of it; one they
    have never answered in (nor placed in)."""
    studied = [c.pack_id for c in courses.learner_courses(learner)]
    installed = {p.id for p in engine.catalogue_store.get().catalogue.packs}
    studied = [p for p in studied if p in installed]
    if not studied:
        return []
    # Packs answered in: from the engine's state, not from every answer in the log. My path has
    # just caught the engine up; a state a moment old is good enough to offer a placement.
    with engine.lock:
        state = engine.state
        records = dict(state.mastery.get(learner.uid, {})) if state is not None else None
    if records is None:
        with engine.reading() as snap:
            records = dict(snap.state.mastery.get(learner.uid, {}))
    answered = {skill.split(":", 1)[0] for skill, record in records.items() if record.attempts}
    started: dict[str, int] = {}
    finished: dict[str, int] = {}
    # ``learner_uid || ''`` keeps SQLite on the index by kind (placements are few) rather than the
    # index by learner (every answer they ever gave).
    for row in Event.select(Event.id, Event.kind, Event.payload).where(
            Event.learner_uid.concat("") == learner.uid, Event.kind.in_(("placement.started", "placement.finished"))):
        pack = json.loads(row.payload).get("pack")
        target = started if row.kind == "placement.started" else finished
        target[pack] = max(target.get(pack, 0), int(row.id))
    classes = [c.uid for c in accounts.classes_for(learner)]
    requested: dict[str, int] = {}
    if classes:
        for row in Event.select(Event.id, Event.payload).where(Event.kind == "placement.requested",
                                                               Event.class_uid.in_(classes)):
            pack = json.loads(row.payload).get("pack")
            requested[pack] = max(requested.get(pack, 0), int(row.id))
    found = []
    for pack in studied:
        going = started.get(pack, 0) > finished.get(pack, 0)
        asked = requested.get(pack, 0) > finished.get(pack, 0)
        new = pack not in answered and pack not in finished
        if going or asked or new:
            found.append(pack)
    return found
