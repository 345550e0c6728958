"""A learner's use cases: what to do next, answering an item, viewing a lesson, testing out.

Every action is an event written in the same transaction as its effect. An answer carries the
event id its page was given (or that the learner's browser made), so a double tap, a resend
after a Wi-Fi drop, or an answer queued offline is counted exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from classroom_server import clock
from classroom_server.errors import Invalid, NotFound
from classroom_server.models import Person
from classroom_server.numbers import MAX_ID, parse_int
from classroom_server.services import courses, events
from classroom_server.services.learning import Engine, qualify, split

if TYPE_CHECKING:  # the learning engine is imported on first use (idle memory), not at start
    from classroom_server.learning import Activity

MODALITY_KINDS = {"text": ("text",), "images": ("image", "text"), "audio": ("audio",), "video": ("video",),
                  "printable": ("printable",), "pdf": ("pdf",)}
# The modality a lesson of each kind is recorded with (`lesson_viewed`) and offered as.
KIND_TO_MODALITY = {"text": "text", "printable": "printable", "audio": "audio", "video": "video",
                    "image": "images", "pdf": "text", "html5": "text"}
MAX_HINTS = 10


def content_language(pack: Any, lang: str) -> str:
    return lang if lang in pack.languages else pack.languages[0]


def find_item(loaded: Any, pack_id: str, item_id: str) -> tuple[Any, Any]:
    try:
        pack = loaded.catalogue.pack(pack_id)
        return pack, loaded.catalogue.item(pack_id, item_id)
    except KeyError:
        raise NotFound("There is no such activity.") from None


def find_pack(loaded: Any, pack_id: str) -> Any:
    try:
        return loaded.catalogue.pack(pack_id)
    except KeyError:
        raise NotFound("There is no such pack.") from None


def find_skill(loaded: Any, pack_id: str, skill_id: str) -> tuple[Any, Any]:
    try:
        return loaded.catalogue.pack(pack_id), loaded.catalogue.skill(pack_id, skill_id)
    except KeyError:
        raise NotFound("There is no such skill.") from None


def find_resource(loaded: Any, pack_id: str, resource_id: str) -> tuple[Any, Any]:
    try:
        pack = loaded.catalogue.pack(pack_id)
    except KeyError:
        raise NotFound("There is no such lesson.") from None
    for resource in pack.resources:
        if resource.id == resource_id and is_lesson(resource, _prompts(loaded, pack.id, resource.skills)):
            return pack, resource
    raise NotFound("There is no such lesson.")


def _prompts(loaded: Any, pack_id: str, skill_ids: Any) -> set[str]:
    """Paths of the read-aloud prompts of these skills' items (the items' `audio` field)."""
    return {path for skill_id in skill_ids for item in loaded.catalogue.items_for(pack_id, skill_id)
            if item.audio for path in item.audio.values()}


def is_lesson(resource: Any, prompts: set[str]) -> bool:
    """Is this resource something to learn from on its own page? Per SPEC.md an `image` is a
    picture used from Markdown (even when listed with the skills it illustrates) and an `audio`
    file named by an item's `audio` field is that item's read-aloud prompt: both are media, not
    lessons. A lesson teaches at least one skill."""
    if not resource.skills or resource.kind == "image":
        return False
    return not (resource.kind == "audio" and resource.path in prompts)


def lessons_for(loaded: Any, pack: Any, skill_id: str, lang: str) -> list[Any]:
    """A skill's lessons in the learner's language (or the pack's first): no pictures, no prompts."""
    want = content_language(pack, lang)
    prompts = _prompts(loaded, pack.id, (skill_id,))
    found = [r for r in loaded.catalogue.resources_for(pack.id, skill_id) if is_lesson(r, prompts)]
    own = [r for r in found if r.language in (want, None)]
    return own or found


def lesson_modalities(loaded: Any, lang: str) -> dict[str, tuple[str, ...]]:
    """Qualified skill id -> the modalities of its lessons in ``lang`` (``lessons_for``), for the
    policy's "learn it another way". Worked out once per installed catalogue and language."""
    found = loaded.modalities.get(lang)
    if found is None:
        found = {}
        for pack in loaded.catalogue.packs:
            for skill in pack.skills:
                modalities = tuple(dict.fromkeys(KIND_TO_MODALITY.get(r.kind, "text")
                                                 for r in lessons_for(loaded, pack, skill.id, lang)))
                if modalities:
                    found[qualify(pack.id, skill.id)] = modalities
        loaded.modalities[lang] = found
    return found


@dataclass
class Outcome:
    correct: bool
    feedback: str | None
    reason: str | None
    transitions: list[str]
    duplicate: bool
    event_id: str
    pack: Any = None
    item: Any = None
    response: Any = None
    skill: Any = None  # the pack's skill, for its title
    struggle: int = 0  # misses in a row on the skill, after this answer


def _jsonable(response: Any) -> Any:
    if isinstance(response, (set, frozenset, tuple)):
        return sorted(response) if isinstance(response, (set, frozenset)) else list(response)
    if isinstance(response, Mapping):
        return dict(response)
    return response


def record_attempt(
    engine: Engine, learner: Person, pack_id: str, item_id: str, response: Any, *,
    event_id: str | None, hints_used: int = 0, duration_ms: int | None = None, lang: str = "en",
    mode: str = "practice", class_uid: str | None = None,
) -> Outcome:
    """Grade an answer, append the attempt event, update the projection, return the feedback.

    ``response`` is the answer in the shape the pack's grading takes (a choice id, a list of ids,
    text, a mapping of left id to right id); the web layer decodes it from the item's form. One
    of the wrong shape for the item is refused like an empty answer, and nothing is recorded.
    """
    from content_packs import BadResponse, grade

    loaded = engine.catalogue_store.get()
    pack, item = find_item(loaded, pack_id, item_id)
    content_lang = content_language(pack, lang)
    try:
        verdict = grade(item, response, content_lang)
    except BadResponse:
        raise Invalid("Please answer the question first.", field="answer") from None
    hints_used = min(parse_int(hints_used or 0, "hints_used"), MAX_HINTS)
    if duration_ms is not None:
        duration_ms = max(0, min(parse_int(duration_ms, "duration_ms", -MAX_ID), 3_600_000))
    payload = {
        "pack": pack.id, "version": pack.version, "item": item.id, "skill": item.skill,
        "response": _jsonable(response), "correct": verdict.correct, "hints_used": hints_used,
        "duration_ms": duration_ms, "mode": mode, "lang": content_lang,
    }
    recorded = events.record(
        "attempt", payload, event_id=event_id, learner_uid=learner.uid, actor_uid=learner.uid,
        class_uid=class_uid, result={"correct": verdict.correct},
    )
    if recorded.duplicate:
        stored = json.loads(recorded.event.payload)
        if stored.get("item") != item.id:
            raise Invalid("This answer id was already used for another question.", field="event_id")
        response = stored["response"]
        verdict = grade(item, response, stored.get("lang", content_lang))
    if recorded.event.id > engine.last_row_id:  # recorded without this engine watching (another process's)
        engine.catch_up()
    with engine.lock:
        transitions = engine.transitions_for(recorded.event.id)
        state = engine.state
        struggle = state.peek(learner.uid, qualify(pack.id, item.skill)).struggle if state is not None else 0
    return Outcome(
        correct=verdict.correct, feedback=verdict.feedback, reason=verdict.reason,
        transitions=transitions, duplicate=recorded.duplicate,
        event_id=recorded.event.event_id, pack=pack, item=item, response=response,
        skill=loaded.catalogue.skill(pack.id, item.skill), struggle=struggle,
    )


def record_learning_step(
    engine: Engine, learner: Person, kind: str, payload: dict[str, Any], event_id: str | None = None,
) -> None:
    """lesson_viewed, worked_example_viewed, test_out_started: small facts the engine learns from."""
    events.record(kind, payload, event_id=event_id, learner_uid=learner.uid, actor_uid=learner.uid)


@dataclass
class Choice:
    """One option on the learner's path, ready for a page."""

    kind: str
    pack_id: str | None
    skill_id: str | None
    item_id: str | None
    resource_id: str | None
    reason_code: str
    reason_params: dict[str, Any] = field(default_factory=dict)
    support: str | None = None


def _to_choice(activity: Activity, loaded: Any, lang: str) -> Choice:
    pack_id = skill_id = item_id = resource_id = None
    if activity.skill_id:
        pack_id, skill_id = split(activity.skill_id)
    if activity.item_id:
        item_id = split(activity.item_id)[1]
    params = dict(activity.reason.get("params", {}))
    for key in ("skill", "prerequisite", "for_skill"):
        value = params.get(key)
        if isinstance(value, str) and ":" in value:
            params[key] = split(value)[1]
    kind = activity.kind
    if kind == "lesson" and pack_id and skill_id is not None:  # both come from the activity's skill
        pack = loaded.catalogue.pack(pack_id)
        options = lessons_for(loaded, pack, skill_id, lang)
        wanted = MODALITY_KINDS.get(activity.modality or "", ())
        pick = next((r for r in options if r.kind in wanted), options[0] if options else None)
        resource_id = pick.id if pick else None
        if pick is None:
            kind = "practice"
    return Choice(kind, pack_id, skill_id, item_id, resource_id, activity.reason.get("code", ""), params,
                  activity.support)


# The one vocabulary of path reasons: the engine's codes and the two the hub adds itself (a lesson
# offered beside practice, and "continue where I stopped", which the learner page puts first).
HUB_REASONS = ("read_lesson", "resume")  # beside learning.REASON_CODES (the engine loads on first use)
PATH_CHOICES = 5  # the learner chooses among the next 3 to 5 activities
PATH_MINIMUM = 3


def _lesson_choices(loaded: Any, chosen: list[Choice], lang: str, room: int,
                    read_aloud: bool = False) -> list[Choice]:
    """Lessons for the skills already offered, so a learner with one ready skill still chooses:
    the text lesson, or the audio one for a learner with read-aloud."""
    extra: list[Choice] = []
    offered = {(c.pack_id, c.skill_id) for c in chosen if c.kind == "lesson"}
    for choice in chosen:
        key = (choice.pack_id, choice.skill_id)
        if len(extra) >= room or not choice.pack_id or not choice.skill_id or key in offered:
            continue
        if choice.kind not in ("practice", "check", "review", "worked_example"):
            continue
        lessons = lessons_for(loaded, loaded.catalogue.pack(choice.pack_id), choice.skill_id, lang)
        if lessons:
            first = "audio" if read_aloud else "text"
            pick = next((r for r in lessons if r.kind == first),
                        next((r for r in lessons if r.kind == "text"), lessons[0]))
            offered.add(key)
            extra.append(Choice("lesson", choice.pack_id, choice.skill_id, None, pick.id,
                                "read_lesson", {"skill": choice.skill_id}))
    return extra


def path_for(engine: Engine, learner: Person, lang: str, items_done_in_session: int = 0,
             challenge: str = "normal", assignments: Sequence[Any] = (),
             accommodations: Mapping[str, Any] | None = None,
             within: frozenset[str] | None = None) -> list[Choice]:
    """The learner's next options (3 to 5 when there are that many), best first, each with its reason,
    the teacher's ``assignments`` first (skill ids to practise, or ``learning.Assigned``:
    teaching.assigned_for),
    among the skills of their classes' courses (none when no class of theirs has a course), or
    among ``within`` when given (one class's skills, read once for a whole class's plan).

    The engine offers one activity per ready skill, up to five. When that is fewer than three
    (a new learner has one ready skill per pack), the offered skills' lessons fill the list.
    """
    from classroom_server.learning import PolicyOptions, next_activities

    loaded = engine.catalogue_store.get()
    if within is None:
        within = courses.skills_studied_by(loaded.catalogue, learner)
    if not within:  # no class of theirs has a course yet: the page says so
        return []
    options = PolicyOptions(challenge=challenge, accommodations=dict(accommodations or {}),
                            choices=PATH_CHOICES, lesson_modalities=lesson_modalities(loaded, lang))
    with engine.reading() as snap:
        activities = next_activities(
            snap.state, snap.catalog, learner.uid, clock.now().timestamp(), assignments=assignments,
            options=options, items_done_in_session=items_done_in_session, within=within,
        )
    damaged = loaded.damaged  # a damaged installed pack is skipped (services/catalogue.py): not offered
    chosen = [_to_choice(a, loaded, lang) for a in activities
              if not (a.skill_id and split(a.skill_id)[0] in damaged)]
    # An assigned lesson whose skill lost its lessons (a pack update) has nothing to open.
    chosen = [c for c in chosen if c.reason_code != "teacher_assigned_lesson" or c.resource_id]
    if 0 < len(chosen) < PATH_MINIMUM:
        chosen += _lesson_choices(loaded, chosen, lang, PATH_MINIMUM - len(chosen),
                                  bool(options.accommodations.get("read_aloud")))
    return chosen


def next_for_skill(engine: Engine, learner: Person, lang: str, pack_id: str, skill_id: str,
                   items_done_in_session: int = 0, challenge: str = "normal",
                   accommodations: Mapping[str, Any] | None = None) -> Choice | None:
    """What to do next on one skill the learner picked (My skills): the engine's own choice of
    item, worked example or lesson for it, or None when it offers nothing for that skill now
    (mastered, paused, or time for a break)."""
    from classroom_server.learning import PolicyOptions, next_activities

    loaded = engine.catalogue_store.get()
    find_skill(loaded, pack_id, skill_id)
    wanted = qualify(pack_id, skill_id)
    within = courses.skills_studied_by(loaded.catalogue, learner)
    if wanted not in within:  # not a skill their classes study
        return None
    options = PolicyOptions(challenge=challenge, accommodations=dict(accommodations or {}), choices=1,
                            lesson_modalities=lesson_modalities(loaded, lang))
    with engine.reading() as snap:
        activities = next_activities(
            snap.state, snap.catalog, learner.uid, clock.now().timestamp(), assignments=(wanted,),
            options=options, items_done_in_session=items_done_in_session, within=within,
        )
    for activity in activities:
        params = activity.reason.get("params", {})
        if activity.skill_id == wanted or params.get("for_skill") == wanted:
            return _to_choice(activity, loaded, lang)
    return None


def is_paused(engine: Engine, learner: Person) -> bool:
    """Has a teacher paused all of this learner's practice?"""
    with engine.reading() as snap:
        activity = snap.state.activity.get(learner.uid)
        return bool(activity is not None and activity.paused)


def skill_states(engine: Engine, learner: Person) -> dict[str, str]:
    """Qualified skill id -> mastery state, for this learner only."""
    with engine.reading() as snap:
        return {skill: record.state for skill, record in snap.state.mastery.get(learner.uid, {}).items()}
