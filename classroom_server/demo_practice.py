"""A few days of simulated practice for the demo school, through the real services.

Each demo learner has a hidden ability; they follow their own path as the hub offers it and
answer right with a chance that grows with ability and practice. Answers are real responses
(the item's key, or a plausible wrong answer) filled in the item's form, then decoded, graded
and recorded exactly as a learner's would be, with the clock set to past school days. Demo data
only: nothing here runs on a real hub.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

from classroom_server import clock
from classroom_server.db import db
from classroom_server.models import Person
from classroom_server.services import practice
from classroom_server.services.learning import Engine
from classroom_server.web.practice import decode_answer
from content_packs.testing import key_response


def wrong_form(item: Any, lang: str, rng: random.Random) -> dict[str, Any]:
    """A plausible wrong answer of the right shape for any item type."""
    if item.type in ("single_choice", "multiple_choice"):
        wrong = [c.id for c in item.choices if not c.correct]
        return {"answer": [rng.choice(wrong)] if wrong else []}
    if item.type == "numeric":
        values = [w.value for w in item.wrong_answers]
        return {"answer": rng.choice(values) if values else "0"}
    if item.type == "short_text":
        return {"answer": "?"}
    if item.type == "ordering":
        return {"answer": list(reversed(key_response(item, lang)))}
    pairs = key_response(item, lang)
    keys = list(pairs)
    values = [pairs[k] for k in keys[1:] + keys[:1]]
    return {f"match.{k}": v for k, v in zip(keys, values, strict=True)}


def right_form(item: Any, lang: str) -> dict[str, Any]:
    response = key_response(item, lang)
    if item.type == "matching":
        return {f"match.{k}": v for k, v in response.items()}
    if item.type in ("multiple_choice", "ordering"):
        return {"answer": list(response)}
    return {"answer": response}


def simulate(engine: Engine, learners: list[Person], days: int = 3, steps_per_day: int = 12,
             seed: int = 2026, lang: str = "en") -> int:
    """Let every learner practise for ``days`` past school days; returns the number of answers."""
    rng = random.Random(seed)
    loaded = engine.catalogue_store.get()
    if not loaded.catalogue.packs:
        return 0
    ability = {p.uid: rng.gauss(0.3, 0.9) for p in learners}
    today = clock.now().replace(hour=9, minute=0, second=0, microsecond=0)
    answers = 0
    with db.atomic():  # one commit: the demo's history is written in a second or two
        for day in range(days, 0, -1):
            start = today - dt.timedelta(days=day)
            for n, learner in enumerate(learners):
                moment = start + dt.timedelta(minutes=2 * n)
                for step in range(steps_per_day):
                    moment += dt.timedelta(seconds=rng.randint(20, 90))
                    with clock.pretend(moment):
                        choices = practice.path_for(engine, learner, lang, items_done_in_session=step)
                        choice = choices[0] if choices else None
                        if choice is None or choice.kind == "break":
                            break
                        pack_id = choice.pack_id
                        assert pack_id is not None  # every choice but a break is about one pack's skill
                        if choice.kind == "lesson" and choice.resource_id:
                            resource = practice.find_resource(loaded, pack_id, choice.resource_id)[1]
                            practice.record_learning_step(engine, learner, "lesson_viewed", {
                                "pack": choice.pack_id, "resource": resource.id, "skill": choice.skill_id,
                                "modality": practice.KIND_TO_MODALITY.get(resource.kind, "text")})
                            continue
                        if choice.kind == "worked_example" or not choice.item_id:
                            practice.record_learning_step(engine, learner, "worked_example_viewed", {
                                "pack": choice.pack_id, "item": choice.item_id, "skill": choice.skill_id})
                            continue
                        item = loaded.catalogue.item(pack_id, choice.item_id)
                        assert engine.state is not None  # path_for above caught the engine up
                        skill_id = practice.qualify(pack_id, item.skill)
                        skill_practice = engine.state.peek(learner.uid, skill_id).attempts
                        chance = 1 / (1 + math.exp(-(ability[learner.uid] + 0.25 * skill_practice
                                                     - (item.difficulty or 0))))
                        form = right_form(item, lang) if rng.random() < chance else wrong_form(item, lang, rng)
                        practice.record_attempt(
                            engine, learner, pack_id, choice.item_id, decode_answer(item, form),
                            event_id=None, hints_used=0, duration_ms=rng.randint(8000, 60000), lang=lang,
                            mode=choice.kind,
                        )
                        answers += 1
    return answers
