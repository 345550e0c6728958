"""The activity players: one practice item at a time, lessons, worked examples, test-out.

Plain HTML forms do everything; static/practice.js only adds the offline answer queue,
hints shown in place and read-aloud. Each item page carries a fresh event id, so a double tap or
a resent form is recorded once. The session remembers the activity a learner opened and has not
finished yet, for "Continue where I stopped" on My path.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from classroom_server import __version__, event_ids
from classroom_server.errors import Invalid
from classroom_server.i18n import gettext as _
from classroom_server.numbers import MAX_ID, optional_int
from classroom_server.services import placement, practice
from classroom_server.services.offline import path_ahead
from classroom_server.web import is_background
from classroom_server.web.access import requires
from classroom_server.web.local_grading import graded_on_device, local_grading, wrong_feedback
from classroom_server.web.render import inline, render_markdown, render_resource

bp = Blueprint("practice", __name__, url_prefix="/learn")
MODES = ("practice", "check", "review", "test_out", "placement")
PROFICIENT_CODES = {"became_proficient", "test_out_passed"}
MASTERED_CODES = {"mastery_confirmed", "mastery_restored"}
STOPPED_KEY = "stopped_at"  # the session's note of the activity opened and not finished


def learner_header(response: Response) -> Response:
    """Name the learner a page belongs to, so the service worker never keeps two learners' pages."""
    person = g.get("person")
    if person is not None and person.role == "learner":
        response.headers["X-Learner"] = person.uid
    return response


bp.after_request(learner_header)


def _stopped_at(kind: str, pack_id: str, thing_id: str, **extra: object) -> None:
    """Remember what the learner opened, unless the browser is only keeping it ready (prefetch)."""
    if is_background():
        return
    session[STOPPED_KEY] = {"kind": kind, "pack": pack_id, "id": thing_id, **extra}


def _finished(kind: str, pack_id: str, thing_id: str) -> None:
    stopped = session.get(STOPPED_KEY)
    if isinstance(stopped, dict) and (stopped.get("kind"), stopped.get("pack"), stopped.get("id")) == (
            kind, pack_id, thing_id):
        session.pop(STOPPED_KEY)


def _engine():
    return current_app.extensions["engine"]


def _loaded():
    return current_app.extensions["catalogue"].get()


def _template_function(name: str) -> Callable[..., Any]:
    """A function registered for templates (content_url, asset), to call it from a view."""
    return cast("Callable[..., Any]", current_app.jinja_env.globals[name])  # jinja types its globals as object


def _int_arg(name: str, default: int, high: int) -> int:
    """A count in the address (hints shown): a wrong one is the default, a big one ``high``."""
    try:
        number = optional_int(request.args.get(name), name)
    except Invalid:
        return default
    return default if number is None else min(number, high)


def _answer_duration(form: Mapping[str, Any]) -> int | None:
    """How long the learner took, in ms: the answer queue sends ``duration_ms``; a plain form,
    the ``started`` time of its page. A clock set back gives a negative time: unknown, then."""
    duration = optional_int(form.get("duration_ms"), "duration_ms", -MAX_ID, MAX_ID)
    if duration is None:
        started = optional_int(form.get("started"), "started", 0, MAX_ID)
        if started is not None:
            duration = int(time.time() * 1000) - started
    return duration if duration is None or duration >= 0 else None


def _audio_url(pack, item, lang):
    if item.audio is None:
        return None
    path = item.audio.get(lang) if lang in item.audio else None
    return _template_function("content_url")(pack.id, path) if path else None


def shown_order(item):
    """An ordering item's options in the order to show: the pack's `prompt_order`, else the order
    listed; never the answer's own order (then turned by one place), which would give it away."""
    by_id = {o.id: o for o in item.options}
    ids = [i for i in (item.prompt_order or ()) if i in by_id]
    ids += [o.id for o in item.options if o.id not in ids]
    if len(ids) > 1 and item.type == "ordering" and tuple(ids) == tuple(item.answer or ()):
        ids = ids[1:] + ids[:1]
    return [by_id[i] for i in ids]


def item_view(pack, item, lang: str, hints: int) -> dict:
    """Everything a template needs to show one item, rendered from the pack's Markdown."""
    md = lambda loc: render_markdown(loc.pick(lang), pack.id)  # noqa: E731
    md_inline = lambda loc: inline(loc.pick(lang), pack.id)  # noqa: E731
    return {
        "pack": pack, "item": item, "lang": lang, "stem": md(item.stem),
        "hints": [md(h) for h in item.hints[:hints]], "more_hints": hints < len(item.hints),
        "all_hints": [md(h) for h in item.hints],
        "choices": [{"id": c.id, "text": md_inline(c.text)} for c in item.choices],
        "options": [{"id": o.id, "text": md_inline(o.text)} for o in shown_order(item)],
        "left": [{"id": o.id, "text": md_inline(o.text)} for o in item.left],
        "right": [{"id": o.id, "text": md_inline(o.text)} for o in item.right],
        "audio": _audio_url(pack, item, lang),
    }


def answered_view(pack, item, response: Any, lang: str) -> dict:
    """The question as the learner saw it, with their answer and the right one, for the
    feedback page: without them, feedback such as "Only the first line does that" pointed at
    lines no longer on the screen (#19). Choices are listed as they were shown, marked; other
    items give both answers. An answer of an unexpected shape shows what can be read of it."""
    md_inline = lambda loc: inline(loc.pick(lang), pack.id)  # noqa: E731
    view: dict[str, Any] = {"stem": render_markdown(item.stem.pick(lang), pack.id), "lang": lang,
                            "choices": [], "yours": [], "right": [], "ordered": item.type == "ordering"}
    if item.type in ("single_choice", "multiple_choice"):
        chosen = {response} if isinstance(response, str) else set(response or ())
        view["choices"] = [{"text": md_inline(c.text), "chosen": c.id in chosen, "correct": c.correct}
                           for c in item.choices]
    elif item.type == "numeric":
        view["yours"], view["right"] = [str(response)], [item.answer.value]
    elif item.type == "short_text":
        view["yours"], view["right"] = [str(response)], [item.answer.pick(lang)[0]]
    elif item.type == "ordering":
        by_id = {o.id: md_inline(o.text) for o in item.options}
        order = response if isinstance(response, list) else []
        view["yours"] = [by_id[i] for i in order if i in by_id]
        view["right"] = [by_id[i] for i in item.answer if i in by_id]
    elif item.type == "matching":
        left = {o.id: md_inline(o.text) for o in item.left}
        right = {o.id: md_inline(o.text) for o in item.right}
        matched = response if isinstance(response, Mapping) else {}
        pair = lambda a, b: Markup("{} → {}").format(left[a], right[b])  # noqa: E731
        view["yours"] = [pair(a, b) for a, b in matched.items() if a in left and b in right]
        view["right"] = [pair(a, b) for a, b in item.answer if a in left and b in right]
    return view


def shown_reason() -> dict[str, Any] | None:
    """Why this activity is shown, when the learner came by "Next": the path's reason, carried
    in the address (``why``, and ``days`` for a review), in the words My path uses. Moves
    without a word left learners wondering why "Next" opened another skill (#19)."""
    from classroom_server.web.learner import REASON_WORDS, reason_words  # it imports this module

    code = request.args.get("why", "")
    if code not in REASON_WORDS or code in ("session_complete", "nothing_ready", "resume"):
        return None
    days = _int_arg("days", 0, 10_000)
    args: dict[str, Any] = {"why": code}
    if "days" in request.args:
        args["days"] = days
    return {"words": reason_words(code, {"days_since": days}), "args": args}


def _upcoming(pack, found, mode: str) -> list[str]:
    """The next activities of the learner's path, for their device to keep with every picture and
    sound they use, so practice goes on if the Wi-Fi drops (services/offline.py). None on a page
    the device is only keeping (its list would be the one the device keeps already: the policy
    is not run ten times more for nothing), nor during a placement, which the hub leads, nor
    while the teacher has paused the learner's practice."""
    from classroom_server.web.learner import path_choices, url_for_choice  # it imports this module

    count = current_app.config["SETTINGS"]["offline_activities"]
    if is_background() or mode == placement.MODE or count <= 0 or practice.is_paused(_engine(), g.person):
        return []
    choices = path_choices(g.person, session.get("session_items", 0), session.get("challenge", "normal"))
    ahead = path_ahead(_engine(), g.person, choices, pack.id, found.id, count)
    return [url for url in (url_for_choice(c, why=True) for c in ahead) if url]


@bp.route("/item/<pack_id>/<item_id>")
@requires("learner")
def item(pack_id: str, item_id: str) -> str:
    pack, found = practice.find_item(_loaded(), pack_id, item_id)
    lang = practice.content_language(pack, g.lang)
    hints = _int_arg("hints", 0, len(found.hints))
    mode = request.args.get("mode", "practice")
    mode = mode if mode in MODES else "practice"
    why = shown_reason()
    if mode == placement.MODE:
        going = placement.progress(_engine(), g.person, pack.id)
        if going is None:  # finished or never started: an ordinary question
            mode = "practice"
        else:
            why = {"words": _("Finding where you start in %(pack)s: question %(n)d of at most %(most)d. "
                              "Answer without hints, as well as you can.", pack=pack.title.pick(lang),
                              n=going[0] + 1, most=going[1]), "args": {}}
    _stopped_at("item", pack.id, found.id, mode=mode, hints=hints)
    local = None
    if graded_on_device(mode):  # the feedback the browser shows if the answer cannot be sent
        local = {**local_grading(pack, found, lang), "asked": answered_view(pack, found, None, lang),
                 "solution": render_markdown(found.solution.pick(lang), pack.id)}
    return render_template(
        "learner/item.html", v=item_view(pack, found, lang, hints), hints_used=hints,
        upcoming=_upcoming(pack, found, mode), local=local,
        event_id=request.args.get("event_id") or event_ids.new(), started=int(time.time() * 1000),
        mode=mode, error=None, why=why,
    )


def decode_answer(item, form: Mapping[str, Any]) -> Any:
    """The answer an item's plain HTML form sends, in the shape the pack's grading takes.

    A missing or malformed field is refused like an empty answer, so the page asks again.
    """
    from content_packs import BadResponse, parse_response  # at the first answer, not at start

    try:
        return parse_response(item, form)
    except BadResponse:
        raise Invalid("Please answer the question first.", field="answer") from None


@bp.route("/item/<pack_id>/<item_id>", methods=["POST"])
@requires("learner")
def answer(pack_id: str, item_id: str):
    form = request.form
    hints = min(optional_int(form.get("hints_used"), "hints_used") or 0, practice.MAX_HINTS)
    duration = _answer_duration(form)
    mode = form.get("mode", "practice")
    try:
        response = decode_answer(practice.find_item(_loaded(), pack_id, item_id)[1], form)
        outcome = practice.record_attempt(
            _engine(), g.person, pack_id, item_id, response, event_id=form.get("event_id") or None,
            hints_used=hints, duration_ms=duration, lang=g.lang, mode=mode if mode in MODES else "practice",
        )
    except Invalid as exc:
        if exc.field != "answer" or request.accept_mimetypes.best == "application/json":
            raise  # the answer queue gets the one JSON error shape (docs: GET /api/openapi.json)
        pack, found = practice.find_item(_loaded(), pack_id, item_id)
        lang = practice.content_language(pack, g.lang)
        return render_template(
            "learner/item.html", v=item_view(pack, found, lang, hints), hints_used=hints, upcoming=[],
            event_id=form.get("event_id") or event_ids.new(), started=form.get("started", ""),
            mode=mode, error=_("Please answer the question first."),
        ), 400
    if not outcome.duplicate:
        session["session_items"] = session.get("session_items", 0) + 1
    _finished("item", outcome.pack.id, outcome.item.id)
    if mode == placement.MODE and request.accept_mimetypes.best != "application/json":
        return _placement_next(outcome.pack.id)  # no right or wrong shown: the next question
    return _feedback(outcome)


def _feedback(outcome: practice.Outcome):
    pack, found, skill, struggle = outcome.pack, outcome.item, outcome.skill, outcome.struggle
    lang = practice.content_language(pack, g.lang)
    feedback = None if outcome.correct else wrong_feedback(outcome.feedback, outcome.reason, pack.id)
    celebrate = None
    if set(outcome.transitions) & MASTERED_CODES:
        celebrate = "mastered"
    elif set(outcome.transitions) & PROFICIENT_CODES:
        celebrate = "proficient"
    wants_json = request.accept_mimetypes.best == "application/json"
    if wants_json:
        return {"correct": outcome.correct, "feedback": str(feedback) if feedback else None,
                "event_id": outcome.event_id, "duplicate": outcome.duplicate, "celebrate": celebrate}
    from classroom_server.web.learner import next_url  # it imports this module

    return render_template(
        "learner/feedback.html", correct=outcome.correct, feedback=feedback, celebrate=celebrate,
        next_url=next_url(),
        skill_title=skill.title.pick(lang), show_solution=not outcome.correct and struggle >= 2,
        solution=render_markdown(found.solution.pick(lang), pack.id), duplicate=outcome.duplicate,
        pack=pack, item=found, asked=answered_view(pack, found, outcome.response, lang),
    )


def _done(kind: str, event_id: str | None) -> ResponseReturnValue:
    """After a lesson's or worked example's "Done": on to the path's next activity. The device's
    queue (static/practice.js) sends a Done the way it sends an answer, kept on the device while
    the Wi-Fi is away (#19), and opens the next activity itself: it is answered in JSON. Sent
    again with its event id, a Done is recorded once (services/events.py); the lesson or item of
    a Done that a pack update removed meanwhile is a 404, which the queue takes as settled."""
    if request.accept_mimetypes.best == "application/json":
        return {"done": kind, "event_id": event_id}
    return redirect(url_for("learner.next_activity"))


@bp.route("/lesson/<pack_id>/<resource_id>", methods=["GET", "POST"])
@requires("learner")
def lesson(pack_id: str, resource_id: str):
    loaded = _loaded()
    pack, resource = practice.find_resource(loaded, pack_id, resource_id)
    # A lesson that teaches several skills counts for the one it was opened for (an assigned
    # lesson's address names it), else for its first.
    wanted = request.args.get("skill")
    skill_id = wanted if wanted in resource.skills else resource.skills[0]
    if request.method == "POST":
        event_id = request.form.get("event_id") or None
        practice.record_learning_step(_engine(), g.person, "lesson_viewed", {
            "pack": pack.id, "resource": resource.id, "skill": skill_id,
            "modality": practice.KIND_TO_MODALITY.get(resource.kind, "text"),
        }, event_id=event_id)
        _finished("lesson", pack.id, resource.id)
        return _done("lesson", event_id)
    _stopped_at("lesson", pack.id, resource.id)
    lang = practice.content_language(pack, g.lang)
    body = transcript = None
    if resource.kind in ("text", "printable"):
        body = render_resource(loaded.files[loaded.sha_for(pack.id, resource.path)].path, pack.id, resource.path)
    elif resource.kind in ("audio", "video") and resource.transcript:
        transcript = render_markdown(resource.transcript, pack.id)
    skill = loaded.catalogue.skill(pack.id, skill_id)
    others = [r for r in practice.lessons_for(loaded, pack, skill.id, lang) if r.id != resource.id]
    return render_template(
        "learner/lesson.html", pack=pack, resource=resource, title=resource.title.pick(lang), body=body,
        transcript=transcript,
        file_url=_template_function("content_url")(pack.id, resource.path),
        content_lang=resource.language or lang, skill_title=skill.title.pick(lang), event_id=event_ids.new(),
        others=[(r, r.title.pick(lang)) for r in others], why=shown_reason(),
    )


@bp.route("/example/<pack_id>/<item_id>", methods=["GET", "POST"])
@requires("learner")
def example(pack_id: str, item_id: str):
    pack, found = practice.find_item(_loaded(), pack_id, item_id)
    if request.method == "POST":
        event_id = request.form.get("event_id") or None
        practice.record_learning_step(_engine(), g.person, "worked_example_viewed",
                                      {"pack": pack.id, "item": found.id, "skill": found.skill}, event_id=event_id)
        _finished("example", pack.id, found.id)
        return _done("worked_example", event_id)
    _stopped_at("example", pack.id, found.id)
    lang = practice.content_language(pack, g.lang)
    return render_template("learner/example.html", v=item_view(pack, found, lang, 0),
                           solution=render_markdown(found.solution.pick(lang), pack.id), event_id=event_ids.new(),
                           why=shown_reason())


@bp.route("/test-out/<pack_id>/<skill_id>", methods=["POST"])
@requires("learner")
def test_out(pack_id: str, skill_id: str) -> ResponseReturnValue:
    """ "I already know this": a short check; all right and the skill counts as proficient.

    On to that skill's check, not to the path's first choice: that was the class assignment
    whenever there was one, so the learner never met the check they asked for (#19)."""
    pack, skill = practice.find_skill(_loaded(), pack_id, skill_id)
    practice.record_learning_step(_engine(), g.person, "test_out_started", {"pack": pack.id, "skill": skill.id},
                           event_id=request.form.get("event_id") or None)
    return redirect(url_for("learner.skill_next", pack_id=pack.id, skill_id=skill.id))


# --- placement across a pack (services/placement.py) ---------------------------------------------------

def _placement_next(pack_id: str) -> ResponseReturnValue:
    """The placement's next question, or its result page once it has placed the learner."""
    step = placement.step(_engine(), g.person, pack_id)
    if step.item_id is not None:
        return redirect(url_for("practice.item", pack_id=pack_id, item_id=step.item_id, mode=placement.MODE))
    return redirect(url_for("practice.placement_page", pack_id=pack_id))


@bp.route("/placement/<pack_id>")
@requires("learner")
def placement_page(pack_id: str) -> str:
    """Before a placement: what it is; during one: go on; after: where it placed the learner."""
    loaded = _loaded()
    pack = practice.find_pack(loaded, pack_id)
    lang = practice.content_language(pack, g.lang)
    going = placement.in_progress(g.person, pack_id)
    done = None if going else placement.result(g.person, pack_id)
    placed = []
    if done is not None:
        placed = [loaded.catalogue.skill(pack_id, s).title.pick(lang) for s in done.get("placed", [])
                  if (pack_id, s) in loaded.catalogue]
    return render_template("learner/placement.html", pack=pack, title=pack.title.pick(lang), going=going,
                           done=done, placed=placed, skills=len(pack.skills))


@bp.route("/placement/<pack_id>", methods=["POST"])
@requires("learner")
def placement_start(pack_id: str) -> ResponseReturnValue:
    placement.start(_engine(), g.person, pack_id)
    return _placement_next(pack_id)


@bp.route("/offline")
@requires("learner")
def offline() -> str:
    """The page the service worker shows for any learner page it has not kept, when the hub
    cannot be reached. It is kept on the device for whoever signs in next: no name on it."""
    return render_template("learner/offline.html", neutral=True)


@bp.route("/sw.js")
@requires("learner")
def service_worker() -> Response:
    """The offline shell's service worker, served under /learn/ so it may control learner pages.

    It is given the hub's version: it keeps the very URLs pages ask for (`/static/app.css?v=…`),
    and an upgraded hub installs a new worker that drops the old copies."""
    source = (Path(current_app.static_folder or "") / "sw.js").read_text(encoding="utf-8")
    shell = [_template_function("asset")(name) for name in ("app.css", "practice.js")]
    source = source.replace("var VERSION = 'dev';", f"var VERSION = {json.dumps(__version__)};", 1)
    source = source.replace("var SHELL = ['/static/app.css', '/static/practice.js'];",
                            f"var SHELL = {json.dumps(shell)};", 1)
    response = Response(source, mimetype="text/javascript")
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/learn/"
    return response
