"""What a learner's device keeps so practice goes on when the classroom Wi-Fi drops (#19).

The hub cannot choose the next activity for a learner it cannot hear from, so it chooses ahead:
while the learner is online, each item page names the next few activities of their path, and
the browser keeps those pages with every picture and sound they use (static/sw.js). Offline,
"Next" walks that list in order. The list is a guess at what the path would do, never a record:
answers given offline go to the hub, which grades them again and folds them like any other.
The path's lessons and worked examples are kept too: their "Done" is queued on the device like
an answer (static/practice.js) and recorded once, by its event id, when the hub is back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from classroom_server.models import Person
from classroom_server.services import courses
from classroom_server.services.learning import Engine, qualify
from classroom_server.services.practice import Choice, find_item, skill_states

ITEM_KINDS = ("practice", "check", "review")  # the path's activities that are items (answered with the queue)
SUPPORT_KINDS = ("lesson", "worked_example")  # kept too: their "Done" goes through the same queue
BESIDE = "read_lesson"  # a lesson offered beside practice: the learner's other choice, not the path's way
DONE = ("mastered", "proficient")  # a skill in these states opens the skills that need it


def _after(items: tuple[Any, ...], item_id: str) -> list[Any]:
    """A skill's items from the one after ``item_id`` on, then round to the start (pack order)."""
    at = next((n for n, i in enumerate(items) if i.id == item_id), -1)
    return [i for i in items[at + 1:] + items[:max(at, 0)] if i.id != item_id]


def kept_as(choice: Choice) -> tuple[str, str | None, str | None]:
    """What a kept activity is, to keep it once: a lesson by its resource, a worked example or an
    item by the item (an item and the worked example showing its solution are two activities)."""
    if choice.kind == "lesson":
        return ("lesson", choice.pack_id, choice.resource_id)
    return ("example" if choice.kind == "worked_example" else "item", choice.pack_id, choice.item_id)


def _is_support(choice: Choice) -> bool:
    """A lesson or worked example the path leads to, with the page to open."""
    if choice.kind not in SUPPORT_KINDS or choice.reason_code == BESIDE:
        return False
    return bool(choice.resource_id if choice.kind == "lesson" else choice.item_id)


def path_ahead(engine: Engine, learner: Person, choices: Iterable[Choice], pack_id: str, item_id: str,
               count: int) -> list[Choice]:
    """The next ``count`` activities of the learner's path after this item, in the order to take
    them offline: more of the skill being practised (up to half the list), then the first
    activities of the path's other skills and of the skills practising this one opens, one per
    skill in turn.

    ``choices``: the path as My path shows it now (services/practice.path_for). A lesson or worked
    example the path gives a skill (the teacher's lesson, or the formative loop's worked example
    or lesson in another way) comes first in that skill's turn, the skill's items after it (after
    a worked example, from the item after the one it solves); one for the skill practised now
    comes first of all. A lesson offered beside practice (``read_lesson``) is the learner's other
    choice, not the way the path goes: not kept. The skills opened are the dependents of the
    skills on the path whose every prerequisite is known or on the path, and that the learner's
    classes study: the way the path goes once the learner knows what they practise now.
    """
    if count <= 0:
        return []
    loaded = engine.catalogue_store.get()
    catalogue = loaded.catalogue
    pack, current = find_item(loaded, pack_id, item_id)
    within = courses.skills_studied_by(catalogue, learner)
    states = skill_states(engine, learner)
    here = (pack.id, current.skill)

    def practise(key: tuple[str, str], items: Iterable[Any], why: str = "continue") -> list[Choice]:
        return [Choice("practice", key[0], key[1], i.id, None, why) for i in items]

    queues: dict[tuple[str, str], list[Choice]] = {
        here: practise(here, _after(catalogue.items_for(pack.id, current.skill), current.id))}
    supported: set[tuple[str, str]] = set()  # the skills whose queue starts with a lesson or worked example
    for choice in choices:
        if not (choice.pack_id and choice.skill_id) or choice.pack_id in loaded.damaged:
            continue
        key = (choice.pack_id, choice.skill_id)
        if _is_support(choice):
            if key in supported:
                continue
            supported.add(key)
            if key in queues:  # the skill practised now, or one whose item came first on the path
                queues[key].insert(0, choice)
                continue
            items = catalogue.items_for(*key)
            queues[key] = [choice] + practise(key, _after(items, choice.item_id) if choice.item_id else items)
        elif choice.kind in ITEM_KINDS and choice.item_id and key not in queues:
            queues[key] = [choice] + practise(key, _after(catalogue.items_for(*key), choice.item_id))
    on_path = set(queues)
    for key in list(on_path):
        for skill in catalogue.dependents(*key):
            opened = (key[0], skill.id)
            if opened in queues or qualify(*opened) not in within or states.get(qualify(*opened)) in DONE:
                continue
            if all((key[0], p) in on_path or states.get(qualify(key[0], p)) in DONE for p in skill.prerequisites):
                queues[opened] = practise(opened, catalogue.items_for(*opened), "ready")
    ahead = queues.pop(here)
    kept = ahead[:(count + 1) // 2]
    turns = list(queues.values()) + [ahead[len(kept):]]
    seen = {("item", pack.id, current.id)} | {kept_as(c) for c in kept}
    while len(kept) < count and any(turns):
        for queue in turns:
            while queue and kept_as(queue[0]) in seen:  # kept once, at its first place
                queue.pop(0)
            if queue and len(kept) < count:
                seen.add(kept_as(queue[0]))
                kept.append(queue.pop(0))
    return kept
