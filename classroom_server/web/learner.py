"""Learner pages: my path, my skills, my goals. A learner sees only their own things."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from classroom_server.errors import NotFound
from classroom_server.i18n import gettext as _
from classroom_server.i18n import ngettext
from classroom_server.services import accounts, courses, placement, practice, teaching
from classroom_server.services import goals as weekly_goals
from classroom_server.web.access import requires
from classroom_server.web.practice import STOPPED_KEY, learner_header

bp = Blueprint("learner", __name__, url_prefix="/learn")
bp.after_request(learner_header)

CHALLENGES = weekly_goals.CHALLENGES
GOAL_TARGETS = weekly_goals.GOAL_TARGETS


def engine():
    return current_app.extensions["engine"]


REASON_WORDS = {  # REASON_CODES and practice.HUB_REASONS, in the learner's words (tests/test_i18n.py checks)
    "teacher_assigned": lambda p: _("Your teacher asked"),
    "teacher_assigned_lesson": lambda p: _("Your teacher asked you to read this lesson"),
    "teacher_assigned_check": lambda p: _("Your teacher asked you to show what you know"),
    "test_out": lambda p: _("Show what you already know"),
    "review_due": lambda p: ngettext("Review: last practised %(num)d day ago",
                                     "Review: last practised %(num)d days ago", int(p.get("days_since") or 0)),
    "mastery_check": lambda p: _("Check: do you still know it?"),
    "continue": lambda p: _("Keep practising"),
    "ready": lambda p: _("Ready for something new"),
    "review_missed": lambda p: _("Practise again: you missed it on review"),
    "hint_offered": lambda p: _("Try another one, with a hint ready"),
    "worked_example": lambda p: _("See how to solve one first"),
    "lesson_other_modality": lambda p: _("Learn it another way"),
    "lesson_only_modality": lambda p: _("Learn it with the lesson: this skill has only this one"),
    "remediate_prerequisite": lambda p: _("Practise this first: it helps"),
    "recheck": lambda p: _("Try this skill again"),
    "keep_practising": lambda p: _("Extra practice"),
    "review_early": lambda p: _("Review a skill you know"),
    "session_complete": lambda p: _("Well done! Time for a break."),
    "nothing_ready": lambda p: _("Nothing ready yet. Ask your teacher."),
    "read_lesson": lambda p: _("Learn about it with a lesson"),
    "resume": lambda p: _("Continue where I stopped"),
}


def reason_words(code: str, params: dict) -> str:
    """The reason for an activity, in the learner's words and language."""
    phrase = REASON_WORDS.get(code)
    return phrase(params) if phrase else _("Keep practising")


_PATH_SAFE = "!$&'()*+,/:;=@"  # what werkzeug leaves unquoted in a path segment, and in a query
_QUERY_SAFE = "!$'()*,/:;?@"


def item_url(pack_id: str, item_id: str, query: dict[str, Any]) -> str:
    """``url_for("practice.item", pack_id=..., item_id=..., **query)``, the same address built
    without werkzeug's URL builder: a page names up to a dozen items (the path ahead kept for
    offline use), and each ``url_for`` cost more than the rest of the item's work (#21).
    The route's address is asked of ``url_for`` once per application and script root."""
    key = ("practice.item", request.script_root)
    shapes = current_app.extensions.setdefault("url_shapes", {})
    shape = shapes.get(key)
    if shape is None:
        before, rest = url_for("practice.item", pack_id="PACKID", item_id="ITEMID").split("PACKID", 1)
        shape = shapes[key] = (before, *rest.split("ITEMID", 1))
    address = (f"{shape[0]}{quote(str(pack_id), safe=_PATH_SAFE)}{shape[1]}"
               f"{quote(str(item_id), safe=_PATH_SAFE)}{shape[2]}")
    pairs = [(k, v) for k, v in query.items() if v is not None]
    return f"{address}?{urlencode(pairs, safe=_QUERY_SAFE)}" if pairs else address


def url_for_choice(choice: practice.Choice, why: bool = False) -> str | None:
    """The page of an option. ``why``: the address also carries the path's reason, for a page
    reached without seeing My path ("Next", a skill tapped, a test-out), which then says why it
    is shown (web/practice.shown_reason)."""
    reason: dict[str, Any] = {}
    if why:
        reason["why"] = choice.reason_code
        if "days_since" in choice.reason_params:
            reason["days"] = choice.reason_params["days_since"]
    if choice.kind in ("practice", "check", "review") and choice.pack_id and choice.item_id:
        return item_url(choice.pack_id, choice.item_id,
                        {"hints": 1 if choice.support == "hint" else None, "mode": choice.kind, **reason})
    if choice.kind == "lesson" and choice.resource_id:
        if choice.reason_code == "teacher_assigned_lesson":  # the view counts for this skill
            reason["skill"] = choice.skill_id                 # (a lesson may teach several)
        return url_for("practice.lesson", pack_id=choice.pack_id, resource_id=choice.resource_id, **reason)
    if choice.kind == "worked_example" and choice.item_id:
        return url_for("practice.example", pack_id=choice.pack_id, item_id=choice.item_id, **reason)
    return None


def path_choices(learner, items_done: int = 0, challenge: str = "normal") -> list[practice.Choice]:
    """The learner's path as the engine gives it, with their teacher's assignments and accommodations."""
    return practice.path_for(engine(), learner, g.lang, items_done, challenge,
                             assignments=teaching.assigned_for(learner),
                             accommodations=teaching.policy_accommodations(learner))


def describe_path(learner, items_done: int = 0, challenge: str = "normal") -> list[dict]:
    """A learner's next options with title, link and reason in their words (the teacher sees the same)."""
    loaded = current_app.extensions["catalogue"].get()
    choices = path_choices(learner, items_done, challenge)
    shown = []
    for choice in choices:
        title = ""
        if choice.pack_id and choice.skill_id:
            pack, skill = practice.find_skill(loaded, choice.pack_id, choice.skill_id)
            title = skill.title.pick(practice.content_language(pack, g.lang))
        shown.append({"choice": choice, "title": title, "url": url_for_choice(choice),
                      "reason": reason_words(choice.reason_code, choice.reason_params)})
    return shown


def choices_for_page():
    return describe_path(g.person, session.get("session_items", 0), session.get("challenge", "normal"))


def resume_entry() -> dict | None:
    """The item, lesson or worked example this learner opened last and left unfinished."""
    stopped = session.get(STOPPED_KEY)
    if not isinstance(stopped, dict):
        return None
    loaded = current_app.extensions["catalogue"].get()
    kind, pack_id, thing = stopped.get("kind"), str(stopped.get("pack")), str(stopped.get("id"))
    try:
        if kind == "item":
            pack, found = practice.find_item(loaded, pack_id, thing)
            skill_id = found.skill
            mode = stopped.get("mode")
            url = url_for("practice.item", pack_id=pack.id, item_id=found.id,
                          mode=mode if mode in ("check", "review", "test_out") else None,
                          hints=stopped.get("hints") or None)
        elif kind == "lesson":
            pack, resource = practice.find_resource(loaded, pack_id, thing)
            skill_id = resource.skills[0]
            url = url_for("practice.lesson", pack_id=pack.id, resource_id=resource.id)
        elif kind == "example":
            pack, found = practice.find_item(loaded, pack_id, thing)
            skill_id = found.skill
            url = url_for("practice.example", pack_id=pack.id, item_id=found.id)
        else:
            return None
        skill = loaded.catalogue.skill(pack.id, skill_id)
    except (NotFound, KeyError):
        session.pop(STOPPED_KEY, None)
        return None
    title = skill.title.pick(practice.content_language(pack, g.lang))
    return {"choice": None, "kind": kind, "id": thing, "title": title, "url": url,
            "reason": reason_words("resume", {})}


def _same_activity(shown: dict, resume: dict) -> bool:
    choice = shown["choice"]
    if resume["kind"] == "lesson":
        return choice.kind == "lesson" and choice.resource_id == resume["id"]
    return choice.item_id == resume["id"] and choice.kind != "lesson"


@bp.route("/")
@requires("learner")
def home() -> str:
    choices = choices_for_page()
    paused = practice.is_paused(engine(), g.person)
    resume = None if paused else resume_entry()
    if resume is not None:
        choices = [resume] + [c for c in choices if not _same_activity(c, resume)]
    return render_template(
        "learner/home.html", classes=accounts.classes_for(g.person), choices=choices,
        goal=current_goal(), challenge=session.get("challenge", "normal"), challenges=CHALLENGES,
        paused=paused, placements=[] if paused else _placements(),
    )


def _placements() -> list[dict[str, str]]:
    """The packs whose placement this learner is offered, with their titles in the page's language."""
    loaded = current_app.extensions["catalogue"].get()
    found = []
    for pack_id in placement.offered(engine(), g.person):
        pack = practice.find_pack(loaded, pack_id)
        found.append({"id": pack_id, "title": pack.title.pick(practice.content_language(pack, g.lang))})
    return found


@bp.route("/next")
@requires("learner")
def next_activity() -> ResponseReturnValue:
    """Go straight to the best next activity (after a lesson, a worked example, "Keep going"),
    with its reason; at a break, to My path, which offers to keep going."""
    return redirect(next_url())


def next_url() -> str:
    """Where "Next" leads now: the path's first activity that has a page, the address carrying
    its reason; at a break, My path. The feedback page names it itself (web/practice.py), so an
    answer is one request and "Next" goes straight to the next item, without a redirect (#21)."""
    for choice in path_choices(g.person, session.get("session_items", 0), session.get("challenge", "normal")):
        url = url_for_choice(choice, why=True)
        if url:
            return url
    return url_for("learner.home")


@bp.route("/keep-going", methods=["POST"])
@requires("learner")
def keep_going() -> ResponseReturnValue:
    """After the session's break, a new session: the break was shown and chosen past, not a
    wall. Before, "Time for a break" had no way on but signing out and in again (#19)."""
    session["session_items"] = 0
    return redirect(url_for("learner.next_activity"))


@bp.route("/challenge", methods=["POST"])
@requires("learner")
def set_challenge() -> ResponseReturnValue:
    """Kept as the learner's own event, so the choice comes back at their next sign-in."""
    level = request.form.get("challenge", "normal")
    session["challenge"] = weekly_goals.set_challenge(
        g.person, level if level in CHALLENGES else "normal", session.get("challenge", "normal"))
    return redirect(url_for("learner.home"))


# The learning engine's mastery states (classroom_server.learning.mastery), named here so that
# this module does not load the engine at start.
MASTERED, PROFICIENT, NEEDS_REVIEW, LEARNING, NOT_STARTED = (
    "mastered", "proficient", "needs_review", "learning", "not_started")
STATE_ORDER = (MASTERED, PROFICIENT, NEEDS_REVIEW, LEARNING, NOT_STARTED)


@bp.route("/skills")
@requires("learner")
def skills() -> str:
    loaded = current_app.extensions["catalogue"].get()
    states = practice.skill_states(engine(), g.person)
    unlocked = (MASTERED, NEEDS_REVIEW, PROFICIENT)
    packs = []
    studied = courses.course_skills(loaded.catalogue, courses.learner_courses(g.person))
    for studied_pack, skill_ids in studied.items():  # only the packs their classes study
        pack = loaded.catalogue.pack(studied_pack)
        lang = practice.content_language(pack, g.lang)
        rows = []
        for pack_id, skill_id in ((pack.id, s) for s in skill_ids):
            skill = loaded.catalogue.skill(pack_id, skill_id)
            state = states.get(practice.qualify(pack_id, skill_id), NOT_STARTED)
            ready = all(states.get(practice.qualify(pack_id, p), NOT_STARTED) in unlocked
                        for p in skill.prerequisites)
            open_now = state in (LEARNING, NEEDS_REVIEW) or (
                ready and state == NOT_STARTED)
            rows.append({"skill": skill, "title": skill.title.pick(lang), "state": state,
                         "ready": ready or state != NOT_STARTED,
                         "url": url_for("learner.skill_next", pack_id=pack_id, skill_id=skill_id) if open_now else None,
                         "after": [loaded.catalogue.skill(pack_id, p).title.pick(lang) for p in skill.prerequisites]})
        done = sum(1 for r in rows if r["state"] in (MASTERED, PROFICIENT))
        packs.append({"pack": pack, "title": pack.title.pick(lang), "rows": rows, "done": done})
    return render_template("learner/skills.html", packs=packs)


@bp.route("/skills/<pack_id>/<skill_id>")
@requires("learner")
def skill_next(pack_id: str, skill_id: str) -> ResponseReturnValue:
    """A skill tapped on My skills: straight to what to do next on it."""
    choice = practice.next_for_skill(
        engine(), g.person, g.lang, pack_id, skill_id, session.get("session_items", 0),
        session.get("challenge", "normal"), accommodations=teaching.policy_accommodations(g.person))
    url = url_for_choice(choice, why=True) if choice is not None else None
    return redirect(url or url_for("learner.home"))


def current_goal() -> dict | None:
    return weekly_goals.current_goal(engine(), g.person)


@bp.route("/goals", methods=["GET", "POST"])
@requires("learner")
def goals():
    if request.method == "POST":
        kind, _sep, number = request.form.get("goal", "").partition(":")
        weekly_goals.set_goal(g.person, kind, weekly_goals.parse_target(number))
        return redirect(url_for("learner.goals"))
    return render_template("learner/goals.html", goal=current_goal(), targets=GOAL_TARGETS)
