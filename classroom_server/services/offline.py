"""What a learner's device keeps so practice goes on when the classroom Wi-Fi drops (#19).

The hub cannot choose the next activity for a learner it cannot hear from, so it chooses ahead:
while the learner is online, each item page names the next few activities of their path, and
the browser keeps those pages with every picture and sound they use (static/sw.js). Offline,
"Next" walks that list in order. The list is a guess at what the path would do, never a record:
answers given offline go to the hub, which grades them again and folds them like any other.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from classroom_server.models import Person
from classroom_server.services import courses
from classroom_server.services.learning import Engine, qualify
from classroom_server.services.practice import Choice, find_item, skill_states

ITEM_KINDS = ("practice", "check", "review")  # the path's activities that are items (answered with the queue)
DONE = ("mastered", "proficient")  # a skill in these states opens the skills that need it


def _after(items: tuple[Any, ...], item_id: str) -> list[Any]:
    """A skill's items from the one after ``item_id`` on, then round to the start (pack order)."""
    at = next((n for n, i in enumerate(items) if i.id == item_id), -1)
    return [i for i in items[at + 1:] + items[:max(at, 0)] if i.id != item_id]


def path_ahead(engine: Engine, learner: Person, choices: Iterable[Choice], pack_id: str, item_id: str,
               count: int) -> list[Choice]:
    """The next ``count`` items of the learner's path after this one, in the order to take them
    offline: more of the skill being practised (up to half the list), then the first items of the
    path's other skills and of the skills practising this one opens, one per skill in turn.

    ``choices``: the path as My path shows it now (services/practice.path_for). The skills opened
    are the dependents of the skills on the path whose every prerequisite is known or on the
    path, and that the learner's classes study: the way the path goes once the learner knows what
    they practise now. Lessons and worked examples are not kept: their "Done" needs the hub.
    """
    if count <= 0:
        return []
    loaded = engine.catalogue_store.get()
    catalogue = loaded.catalogue
    pack, current = find_item(loaded, pack_id, item_id)
    within = courses.skills_studied_by(catalogue, learner)
    states = skill_states(engine, learner)
    here = (pack.id, current.skill)
    queues: dict[tuple[str, str], list[Choice]] = {here: [
        Choice("practice", pack.id, current.skill, i.id, None, "continue")
        for i in _after(catalogue.items_for(pack.id, current.skill), current.id)]}
    for choice in choices:
        if choice.kind not in ITEM_KINDS or not (choice.pack_id and choice.skill_id and choice.item_id):
            continue
        key = (choice.pack_id, choice.skill_id)
        if key == here or key in queues or choice.pack_id in loaded.damaged:
            continue
        queues[key] = [choice] + [Choice("practice", key[0], key[1], i.id, None, "continue")
                                  for i in _after(catalogue.items_for(*key), choice.item_id)]
    on_path = set(queues)
    for key in list(on_path):
        for skill in catalogue.dependents(*key):
            opened = (key[0], skill.id)
            if opened in queues or qualify(*opened) not in within or states.get(qualify(*opened)) in DONE:
                continue
            if all((key[0], p) in on_path or states.get(qualify(key[0], p)) in DONE for p in skill.prerequisites):
                queues[opened] = [Choice("practice", key[0], skill.id, i.id, None, "ready")
                                  for i in catalogue.items_for(*opened)]
    ahead = queues.pop(here)
    kept = ahead[:(count + 1) // 2]
    turns = list(queues.values()) + [ahead[len(kept):]]
    seen = {(pack.id, current.id)} | {(c.pack_id, c.item_id) for c in kept}
    while len(kept) < count and any(turns):
        for queue in turns:
            while queue and (queue[0].pack_id, queue[0].item_id) in seen:  # kept once, at its first place
                queue.pop(0)
            if queue and len(kept) < count:
                seen.add((queue[0].pack_id, queue[0].item_id))
                kept.append(queue.pop(0))
    return kept
