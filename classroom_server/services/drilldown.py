"""Under the mastery grid (#18, item 4): one learner's answers one by one, and one skill across
the class (where everyone is, its hardest questions, the wrong answers given most).

Read-only projections: the numbers come from ``attempt`` events (what the learner answered, right
or wrong as recorded, hints, time) and the engine's projection (state, chance of knowing), so a
rebuild gives the same page. Only the words come from the installed packs: a question's prompt,
a choice's text and the misconception a wrong answer reveals, which is the feedback the pack
wrote for that wrong choice or wrong answer (SPEC.md: "feedback that names the misconception").
The log keeps ids (of items, choices, options), which stay stable across pack versions; a
question no longer in the installed version is shown by its id.

Cost: a page is one or two queries on the event log, whatever the class's size. A learner's
history counts their attempts and reads one page of them (``PAGE``); a skill's page groups the
class's attempts on the skill by item, answer and learner in one query, so Python sees one row
per distinct wrong answer of a learner, never one per attempt. Both read the learners' events
through the index by learner; the skill's page reads all of the class's (about 30 ms for 60
learners and a term, 43,000 answers, on a laptop); an expression index on the payload's skill
(a migration) would make it a lookup.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, cast

from peewee import SQL, fn

from classroom_server.errors import NotFound
from classroom_server.eventkinds import canonical_json
from classroom_server.models import Classroom, Event, Person
from classroom_server.services import accounts, courses
from classroom_server.services.learning import Engine, qualify

PAGE = 50  # attempts on a page of a learner's history
FEW_ANSWERS = 5  # below this many answers from the class, an item's share right says little
COMMON_WRONG = 10  # wrong answers listed on a skill's page
PROMPT_CHARS = 120  # a prompt shown as a line of plain text
FEEDBACK_CHARS = 200
STATES = ("mastered", "proficient", "learning", "needs_review", "not_started")


@dataclass(frozen=True)
class Attempt:
    """One answer as the history shows it."""

    when: str  # ISO 8601, as the event says
    pack_id: str
    skill_id: str
    skill_title: str
    item_id: str
    prompt: str  # the question as a line of plain text (its id when the pack no longer has it)
    answer: str  # what the learner answered, in words (a choice's text, not its id)
    correct: bool
    hints_used: int
    duration_ms: int | None
    misconception: str | None  # the pack's feedback for this wrong answer, if it names one
    in_pack: bool = True


@dataclass(frozen=True)
class HistoryPage:
    attempts: list[Attempt]
    page: int  # 1-based, clamped to the pages there are
    pages: int
    total: int  # attempts matching the filter, on every page


@dataclass(frozen=True)
class Standing:
    """Where one learner is on the skill (the engine's projection)."""

    learner: Person
    state: str
    p_known: float | None  # the learner model's chance that they know it; None before an answer
    attempts: int
    correct: int
    last_seen: str | None  # ISO 8601 of their last answer on the skill
    needs_help: bool
    paused: bool

    @property
    def chance(self) -> int | None:
        """The chance of knowing as a whole percent (None before an answer)."""
        return None if self.p_known is None else int(100 * self.p_known + 0.5)


@dataclass(frozen=True)
class ItemStats:
    """One question of the skill, answered by the class's learners."""

    item_id: str
    prompt: str
    attempts: int
    correct: int
    learners: int
    in_pack: bool = True

    @property
    def enough(self) -> bool:
        return self.attempts >= FEW_ANSWERS

    @property
    def percent(self) -> int | None:
        """Share right as a whole percent, rounded half up (None before any answer)."""
        return percent(self.correct, self.attempts)


@dataclass(frozen=True)
class CommonWrong:
    """A wrong answer the class gave to one question: how often, by how many, and what it shows."""

    item_id: str
    prompt: str
    answer: str
    learners: int
    attempts: int
    misconception: str | None
    in_pack: bool = True


@dataclass
class SkillOverview:
    pack_id: str
    skill_id: str
    title: str
    pack_title: str
    standings: list[Standing] = field(default_factory=list)
    items: list[ItemStats] = field(default_factory=list)
    wrong: list[CommonWrong] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # state -> learners


def percent(part: int, whole: int) -> int | None:
    """``part`` of ``whole`` as a whole percent, half up, in integers (the same on every machine)."""
    if whole <= 0:
        return None
    return (200 * part + whole) // (2 * whole)


# --- words from the packs ------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _parser() -> Any:
    from markdown_it import MarkdownIt  # imported on the first drill-down, not at start

    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:.") + "…"


@lru_cache(maxsize=4096)
def plain_text(markdown: str, limit: int = PROMPT_CHARS) -> str:
    """Pack Markdown as one short line of plain text: pictures by their description, no marks."""
    words: list[str] = []
    for token in _parser().parse(markdown or ""):
        for child in token.children or ():
            if child.type in ("text", "code_inline"):
                words.append(child.content)
            elif child.type == "image":
                words.append(f"[{child.content}]" if child.content else "")
            elif child.type in ("softbreak", "hardbreak"):
                words.append(" ")
        if token.type in ("code_block", "fence"):
            words.append(token.content)
        if token.block and token.nesting <= 0:
            words.append(" ")
    return _short("".join(words), limit)


def _pick(localized: Any, lang: str) -> str:
    return str(localized.pick(lang) or "") if localized is not None else ""


def _find_item(catalogue: Any, pack_id: str, item_id: str) -> Any:
    try:
        return catalogue.item(pack_id, item_id)
    except KeyError:
        return None


def _raw(response: Any) -> str:
    return response if isinstance(response, str) else json.dumps(response, ensure_ascii=False, sort_keys=True)


def answer_text(item: Any, response: Any, lang: str) -> str:
    """What the learner answered, in the words they saw: choice and option texts, not ids."""
    if item is None:
        return _short(_raw(response), PROMPT_CHARS)
    kind = item.type
    try:
        if kind == "single_choice" and isinstance(response, str):
            texts = {c.id: c.text for c in item.choices}
            return plain_text(_pick(texts[response], lang)) if response in texts else response
        if kind == "multiple_choice" and isinstance(response, list):
            chosen = set(response)
            return ", ".join(plain_text(_pick(c.text, lang)) for c in item.choices if c.id in chosen)
        if kind == "ordering" and isinstance(response, list):
            texts = {o.id: o.text for o in item.options}
            return ", ".join(plain_text(_pick(texts[o], lang)) if o in texts else str(o) for o in response)
        if kind == "matching" and isinstance(response, dict):
            right = {o.id: o.text for o in item.right}
            return "; ".join(f"{plain_text(_pick(o.text, lang))} → "
                             f"{plain_text(_pick(right[response[o.id]], lang)) if response.get(o.id) in right else '?'}"
                             for o in item.left if o.id in response)
    except TypeError:  # a response of another shape than the item's (a changed pack): shown as stored
        pass
    return _short(_raw(response), PROMPT_CHARS)


def misconception(item: Any, response: Any, answered_in: str, lang: str) -> str | None:
    """The misconception a wrong answer reveals: the pack's feedback for the wrong choice or the
    common wrong answer it matched (graded as the answer was, in the language it was given in),
    in the teacher's language. None for a right answer or one the pack names nothing for."""
    from content_packs import BadResponse, grade

    if item is None or item.type not in ("single_choice", "multiple_choice", "numeric", "short_text"):
        return None
    try:
        verdict = grade(item, response, answered_in)
    except BadResponse:
        return None
    if verdict.correct or verdict.matched is None:
        return None
    feedback = None
    if item.type in ("single_choice", "multiple_choice"):
        feedback = next((c.feedback for c in item.choices if c.id == verdict.matched and not c.correct), None)
    elif item.type == "numeric":
        feedback = next((w.feedback for w in item.wrong_answers if w.value == verdict.matched), None)
    else:
        feedback = next((w.feedback for w in item.wrong_answers if _pick(w.value, answered_in) == verdict.matched),
                        None)
    return plain_text(_pick(feedback, lang), FEEDBACK_CHARS) if feedback is not None else None


def _prompt(item: Any, item_id: str, lang: str) -> str:
    return plain_text(_pick(item.stem, lang)) if item is not None else item_id


# --- a learner's history -------------------------------------------------------------------------

def _field(name: str) -> Any:
    """A field of an event's payload, in SQL (its own type: peewee would make the text column's str)."""
    return fn.json_extract(Event.payload, f"$.{name}").coerce(False)


def _names(name: str, value: str) -> Any:
    """The payload's ``name`` is ``value``. Payloads are stored as canonical JSON (eventkinds.py),
    so a plain search for ``"name":"value"`` first spares SQLite parsing the JSON of every other
    answer; ``json_extract`` then checks what the search found."""
    return (fn.instr(Event.payload, f'"{name}":{canonical_json(value)}') > 0) & (_field(name) == value)


# Attempts of some learners. ``kind || ''`` keeps SQLite from the index on kind (every answer on
# the hub, in every class) and on the index by learner: their own events only.
_ATTEMPTS = Event.kind.concat("") == "attempt"


def class_pack_ids(engine: Engine, classroom: Classroom) -> list[str]:
    """The packs the class studies and the hub has (a teacher's pages show only these)."""
    catalogue = engine.catalogue_store.get().catalogue
    return list(courses.course_skills(catalogue, courses.courses_of(classroom)))


def learner_history(engine: Engine, classroom: Classroom, learner: Person, lang: str, *,
                    pack_id: str | None = None, skill_id: str | None = None, page: int = 1,
                    per_page: int = PAGE) -> HistoryPage:
    """The learner's answers on the class's packs (or one pack, or one skill), newest first in
    the log's canonical order, one page at a time. ``page`` past the last gives the last."""
    catalogue = engine.catalogue_store.get().catalogue
    packs = [p for p in class_pack_ids(engine, classroom) if pack_id is None or p == pack_id]
    if not packs:
        return HistoryPage([], 1, 1, 0)
    query = Event.select().where(Event.learner_uid == learner.uid, _ATTEMPTS,
                                 _names("pack", packs[0]) if len(packs) == 1 else _field("pack").in_(packs))
    if skill_id is not None:
        query = query.where(_names("skill", skill_id))
    total = query.count()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = cast("Iterable[tuple[str, str]]", query.select(Event.occurred_at, Event.payload)
                .order_by(Event.hlc.desc(), Event.origin.desc(), Event.seq.desc())
                .limit(per_page).offset((page - 1) * per_page).tuples())  # peewee's stubs keep the model type
    titles: dict[tuple[str, str], str] = {}
    attempts = []
    for occurred_at, payload_text in rows:
        payload = json.loads(payload_text)
        pack, skill = payload["pack"], payload["skill"]
        if (pack, skill) not in titles:
            titles[(pack, skill)] = _skill_title(catalogue, pack, skill, lang)
        item = _find_item(catalogue, pack, payload["item"])
        response, correct = payload["response"], bool(payload["correct"])
        attempts.append(Attempt(
            when=occurred_at, pack_id=pack, skill_id=skill, skill_title=titles[(pack, skill)],
            item_id=payload["item"], prompt=_prompt(item, payload["item"], lang),
            answer=answer_text(item, response, lang), correct=correct, hints_used=int(payload["hints_used"]),
            duration_ms=payload.get("duration_ms"),
            misconception=None if correct else misconception(item, response, payload.get("lang") or lang, lang),
            in_pack=item is not None,
        ))
    return HistoryPage(attempts, page, pages, total)


def _skill_title(catalogue: Any, pack_id: str, skill_id: str, lang: str) -> str:
    try:
        return _pick(catalogue.skill(pack_id, skill_id).title, lang) or skill_id
    except KeyError:
        return skill_id


# --- one skill across the class ------------------------------------------------------------------

def find_class_skill(engine: Engine, classroom: Classroom, pack_id: str, skill_id: str) -> tuple[Any, Any]:
    """The pack and skill, if the class studies it; else the same 404 as a skill that does not exist."""
    catalogue = engine.catalogue_store.get().catalogue
    if qualify(pack_id, skill_id) not in courses.qualified_skills(catalogue, courses.courses_of(classroom)):
        raise NotFound("There is no such skill.")
    return catalogue.pack(pack_id), catalogue.skill(pack_id, skill_id)


def _moment(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="seconds")


def standings(engine: Engine, learners: Iterable[Person], pack_id: str, skill_id: str) -> list[Standing]:
    """Each learner's record on the skill, read from the engine's projection in one go."""
    skill = qualify(pack_id, skill_id)
    found = []
    with engine.reading() as snap:
        for learner in learners:
            record = snap.state.peek(learner.uid, skill)
            found.append(Standing(learner, record.state, record.p_known if record.attempts else None,
                                  record.attempts, record.correct, _moment(record.last_attempt_at),
                                  bool(record.needs_help), bool(record.paused)))
    return found


def _answer_key(item: Any, response: Any) -> str:
    """Answers that are the same answer once written alike (the order of ticked boxes, spaces,
    capitals in a typed word) count together."""
    if isinstance(response, list) and (item is None or item.type == "multiple_choice"):
        return json.dumps(sorted(map(str, response)))
    if isinstance(response, str):
        spaced = " ".join(response.split())
        return spaced.casefold() if item is not None and item.type == "short_text" else spaced
    return _raw(response)


def _class_answers(uids: list[str], pack_id: str, skill_id: str) -> list[tuple[Any, ...]]:
    """The class's attempts on the skill, grouped: (item, right, wrong response as JSON, language,
    learner, attempts). A right answer's response is left out, so right answers group together."""
    if not uids:
        return []
    correct = _field("correct")
    wrong_response = SQL("CASE WHEN json_extract(payload, '$.correct') THEN NULL "
                         "ELSE json_quote(json_extract(payload, '$.response')) END")
    language = SQL("CASE WHEN json_extract(payload, '$.correct') THEN NULL ELSE json_extract(payload, '$.lang') END")
    query = (Event.select(_field("item"), correct, wrong_response, language, Event.learner_uid, fn.COUNT(Event.id))
             .where(_ATTEMPTS, Event.learner_uid.in_(uids), _names("skill", skill_id), _names("pack", pack_id))
             .group_by(SQL("1, 2, 3, 4, 5")))
    return list(cast("Iterable[tuple[Any, ...]]", query.tuples()))


def skill_overview(engine: Engine, classroom: Classroom, pack_id: str, skill_id: str, lang: str,
                   common: int = COMMON_WRONG) -> SkillOverview:
    """Where every learner of the class is on the skill, its questions hardest first, and the
    wrong answers the class gave most, with the misconception each reveals."""
    pack, skill = find_class_skill(engine, classroom, pack_id, skill_id)
    catalogue = engine.catalogue_store.get().catalogue
    learners = accounts.learners_in(classroom)
    overview = SkillOverview(pack_id, skill_id, _pick(skill.title, lang) or skill_id, _pick(pack.title, lang))
    overview.standings = standings(engine, learners, pack_id, skill_id)
    overview.counts = {s: sum(1 for st in overview.standings if st.state == s) for s in STATES}

    order = {item.id: n for n, item in enumerate(catalogue.items_for(pack_id, skill_id))}
    totals: dict[str, list[int]] = {item_id: [0, 0] for item_id in order}  # item -> [attempts, right]
    who: dict[str, set[str]] = {item_id: set() for item_id in order}
    wrong: dict[tuple[str, str], dict[str, Any]] = {}
    for item_id, right, response_json, answered_in, learner_uid, count in _class_answers(
            [p.uid for p in learners], pack_id, skill_id):
        totals.setdefault(item_id, [0, 0])[0] += count
        who.setdefault(item_id, set()).add(learner_uid)
        if right:
            totals[item_id][1] += count
            continue
        item = _find_item(catalogue, pack_id, item_id)
        response = json.loads(response_json) if response_json is not None else None
        found = wrong.setdefault((item_id, _answer_key(item, response)), {
            "item": item, "response": response, "lang": answered_in or lang, "learners": set(), "attempts": 0})
        found["learners"].add(learner_uid)
        found["attempts"] += count

    items = []
    for item_id, (attempts, right) in totals.items():
        item = _find_item(catalogue, pack_id, item_id)
        items.append(ItemStats(item_id, _prompt(item, item_id, lang), attempts, right, len(who[item_id]),
                               item is not None))
    last = len(order)
    items.sort(key=lambda s: ((0, s.correct / s.attempts, -s.attempts) if s.enough else (1, 0.0, -s.attempts),
                              order.get(s.item_id, last), s.item_id))
    overview.items = items

    ranked = sorted(wrong.items(), key=lambda kv: (-kv[1]["attempts"], -len(kv[1]["learners"]),
                                                   order.get(kv[0][0], last), kv[0]))
    for (item_id, _key), found in ranked[:common]:
        item = found["item"]
        overview.wrong.append(CommonWrong(
            item_id, _prompt(item, item_id, lang), answer_text(item, found["response"], lang), len(found["learners"]),
            found["attempts"], misconception(item, found["response"], found["lang"], lang), item is not None))
    return overview


def parse_filter(engine: Engine, classroom: Classroom, value: str | None) -> tuple[str | None, str | None]:
    """``?show=`` of a learner's history: ``<pack>`` or ``<pack>:<skill>`` of the class's courses.
    Anything else (a typo, a pack the class dropped) shows every answer: (None, None)."""
    if not value or len(value) > 400:
        return None, None
    pack_id, _, skill_id = value.partition(":")
    catalogue = engine.catalogue_store.get().catalogue
    studied = courses.course_skills(catalogue, courses.courses_of(classroom))
    if pack_id not in studied or (skill_id and skill_id not in studied[pack_id]):
        return None, None
    return pack_id, skill_id or None
