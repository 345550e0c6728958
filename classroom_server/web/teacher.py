"""Teacher pages: my classes, the class list, learners (add, edit, remove with undo), and learning:
who needs help, the mastery grid, a learner's skills with overrides, assignments, accommodations.

A teacher sees only their own classes (an admin sees all); anything else is the same 404.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from classroom_server import clock
from classroom_server.errors import Invalid
from classroom_server.i18n import gettext as _
from classroom_server.numbers import optional_int, parse_int
from classroom_server.services import accounts, courses, placement, practice, school_admin, security, teaching
from classroom_server.services.learning import Engine
from classroom_server.web.access import requires
from classroom_server.web.learner import describe_path
from classroom_server.web.render import render_resource

bp = Blueprint("teacher", __name__, url_prefix="/teach")


def new_secret(classroom: accounts.Classroom) -> list[str] | str:
    """A fresh random picture sequence or PIN, shown once to the teacher to give the learner."""
    rng = secrets.SystemRandom()
    if classroom.login_kind == "picture":
        return [rng.choice(security.PICTURES) for _ in range(security.PICTURE_COUNT)]
    return f"{rng.randrange(10000):04d}"


@bp.route("/")
@requires("teacher", "admin")
def home() -> str:
    return render_template("teacher/home.html", classes=accounts.classes_for(g.person))


@bp.route("/classes/<int:class_id>")
@requires("teacher", "admin")
def class_page(class_id: int) -> str:
    classroom = accounts.get_class_for(g.person, class_id)
    return render_template(
        "teacher/class.html", classroom=classroom, learners=accounts.learners_in(classroom),
        colours=accounts.AVATAR_COLOURS, error=None, form={}, undo=_undo_id(), studies=_studies(classroom),
    )


@bp.route("/classes/<int:class_id>/placement", methods=["POST"])
@requires("teacher", "admin")
def request_placement(class_id: int) -> ResponseReturnValue:
    """Ask every learner of the class to take a pack's placement (next time they open My path)."""
    classroom = accounts.get_class_for(g.person, class_id)
    pack_id = request.form.get("pack", "")
    placement.request_for_class(g.person, classroom, pack_id)
    title = next((row["title"] for row in _studies(classroom) if row["pack"].id == pack_id), pack_id)
    flash(_("Asked: each learner of %(class)s finds their starting point in %(pack)s next time they open My path.",
            pack=title, **{"class": classroom.name}))
    return redirect(url_for("teacher.class_page", class_id=classroom.id))


def _studies(classroom: accounts.Classroom) -> list[dict[str, Any]]:
    """The class's courses as the class page names them."""
    catalogue = current_app.extensions["catalogue"].get().catalogue
    names = _grade_names()
    rows = _titled([row for row in courses.page_rows(catalogue, classroom) if row["chosen"]])
    for row in rows:
        low, high = row["band"]
        row["band_words"] = ("" if tuple(row["band"]) == row["whole"] else names[low] if low == high
                             else _("%(first)s to %(last)s", first=names[low], last=names[high]))
    return rows


def _undo_id() -> int | None:
    """The learner just taken off the list (``?undo=<id>``), for the Undo button; a wrong id, none."""
    try:
        return optional_int(request.args.get("undo"), "undo", 1)
    except Invalid:
        return None


@bp.route("/classes/<int:class_id>/learners", methods=["POST"])
@requires("teacher", "admin")
def add_learner(class_id: int) -> Response | tuple[str, int]:
    classroom = accounts.get_class_for(g.person, class_id)
    secret = new_secret(classroom)
    try:
        learner = accounts.create_learner(
            classroom, request.form.get("display_name", ""), request.form.get("avatar", ""), secret, g.person
        )
    except Invalid as exc:
        return render_template(
            "teacher/class.html", classroom=classroom, learners=accounts.learners_in(classroom),
            colours=accounts.AVATAR_COLOURS, error=_(exc.template, **exc.params), error_field=exc.field,
            form=request.form, studies=_studies(classroom),
        ), 400
    return render_template("teacher/secret_card.html", classroom=classroom, learner=learner, secret=secret), 201


@bp.route("/classes/<int:class_id>/learners/<int:learner_id>", methods=["GET", "POST"])
@requires("teacher", "admin")
def edit_learner(class_id: int, learner_id: int) -> ResponseReturnValue:
    classroom = accounts.get_class_for(g.person, class_id)
    learner = accounts.get_learner_in(classroom, learner_id)
    if request.method == "POST":
        try:
            accounts.update_learner(
                classroom, learner, request.form.get("display_name", ""), request.form.get("avatar", ""), g.person
            )
        except Invalid as exc:
            return _learner_page(classroom, learner, error=_(exc.template, **exc.params), form=request.form), 400
        flash(_("Saved."))
        return redirect(url_for("teacher.class_page", class_id=classroom.id))
    return _learner_page(classroom, learner)


def _learner_page(classroom: accounts.Classroom, learner: accounts.Person, error: str | None = None,
                  form: Any = None, move_error: str | None = None) -> str:
    targets = school_admin.move_targets(g.person, classroom)
    try:
        came_from = optional_int(request.args.get("moved_from"), "moved_from", 1)
    except Invalid:
        came_from = None
    return render_template(
        "teacher/learner.html", classroom=classroom, learner=learner, colours=accounts.AVATAR_COLOURS,
        error=error, form=form or {"display_name": learner.display_name, "avatar": learner.avatar},
        move_targets=targets, move_error=move_error,
        undo_move=next((c for c in targets if c.id == came_from), None),  # the class just left: Undo
        **learning_view(learner),
    )


@bp.route("/classes/<int:class_id>/learners/<int:learner_id>/move", methods=["POST"])
@requires("teacher", "admin")
def move_learner(class_id: int, learner_id: int) -> ResponseReturnValue:
    """Move a learner to another of the teacher's classes; Undo (on the new class's page) moves
    them back."""
    classroom = accounts.get_class_for(g.person, class_id)
    learner = accounts.get_learner_in(classroom, learner_id)
    try:
        target = school_admin.move_learner(g.person, classroom, learner,
                                           parse_int(request.form.get("to_class"), "to_class", 1))
    except Invalid as exc:
        return _learner_page(classroom, learner, move_error=_(exc.template, **exc.params)), 400
    flash(_("%(name)s is now in %(class)s.", name=learner.display_name, **{"class": target.name}))
    return redirect(url_for("teacher.edit_learner", class_id=target.id, learner_id=learner.id,
                            moved_from=classroom.id))


@bp.route("/classes/<int:class_id>/learners/<int:learner_id>/secret", methods=["POST"])
@requires("teacher", "admin")
def reset_secret(class_id: int, learner_id: int) -> str:
    classroom = accounts.get_class_for(g.person, class_id)
    learner = accounts.get_learner_in(classroom, learner_id)
    secret = new_secret(classroom)
    accounts.reset_learner_secret(classroom, learner, secret, g.person)
    return render_template("teacher/secret_card.html", classroom=classroom, learner=learner, secret=secret)


@bp.route("/classes/<int:class_id>/learners/<int:learner_id>/remove", methods=["GET", "POST"])
@requires("teacher", "admin")
def remove_learner(class_id: int, learner_id: int) -> ResponseReturnValue:
    classroom = accounts.get_class_for(g.person, class_id)
    learner = accounts.get_learner_in(classroom, learner_id)
    if request.method == "GET":
        return render_template("teacher/confirm_remove.html", classroom=classroom, learner=learner)
    accounts.remove_from_class(classroom, learner, g.person)
    flash(_("%(name)s was taken off the class list. Their work is kept.", name=learner.display_name))
    return redirect(url_for("teacher.class_page", class_id=classroom.id, undo=learner.id))


@bp.route("/classes/<int:class_id>/learners/<int:learner_id>/restore", methods=["POST"])
@requires("teacher", "admin")
def restore_learner(class_id: int, learner_id: int) -> ResponseReturnValue:
    classroom = accounts.get_class_for(g.person, class_id)
    learner = accounts.restore_to_class(classroom, learner_id, g.person)
    flash(_("%(name)s is back on the class list.", name=learner.display_name))
    return redirect(url_for("teacher.class_page", class_id=classroom.id))


# --- learning: progress, a learner's skills, overrides, assignments, accommodations ---

def _engine() -> Engine:
    return current_app.extensions["engine"]


def next_for(learner: accounts.Person) -> list[dict[str, Any]]:
    """What the hub offers this learner next, with the reason the learner sees."""
    return describe_path(learner)


def learning_view(learner: accounts.Person) -> dict[str, Any]:
    """The learning half of the teacher's learner page (skills, next activity, accommodations)."""
    grids, paused = teaching.learner_skills(_engine(), learner, g.lang)
    done = request.args.get("done", "")
    return {"grids": grids, "paused": paused, "next_up": next_for(learner),
            "accommodations": teaching.accommodations_of(learner),
            "undo": teaching.UNDO.get(done), "done": done, "done_skill": request.args.get("skill", "")}


@bp.route("/classes/<int:class_id>/courses", methods=["GET", "POST"])
@requires("teacher", "admin")
def class_courses(class_id: int) -> ResponseReturnValue:
    """What the class studies: the packs installed here, each ticked or not, with a grade band."""
    classroom = accounts.get_class_for(g.person, class_id)
    catalogue = current_app.extensions["catalogue"].get().catalogue
    error = field = None
    if request.method == "POST":
        try:
            if request.form.get("action") == "undo":
                chosen = courses.set_courses(g.person, classroom, courses.previous(classroom))
            else:
                chosen = courses.set_courses(g.person, classroom, courses.from_form(
                    catalogue, request.form, request.form.getlist("pack")))
        except Invalid as exc:
            error, field = _(exc.template, **exc.params), exc.field
        else:
            if request.form.get("action") == "undo":
                flash(_("The change is undone."))
                return redirect(url_for("teacher.class_courses", class_id=classroom.id))
            flash(_("Saved. The class studies these packs.") if chosen else
                  _("Saved. The class studies no pack for now."))
            return redirect(url_for("teacher.class_courses", class_id=classroom.id, changed=1))
    rows = _titled(courses.page_rows(catalogue, classroom, request.form if error else None))
    return render_template("teacher/courses.html", classroom=classroom, error=error, error_field=field, rows=rows,
                           changed=request.args.get("changed") == "1" and courses.has_previous(classroom),
                           grade_names=_grade_names()), 400 if error else 200


def _titled(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        row["title"] = row["pack"].title.pick(practice.content_language(row["pack"], g.lang))
    return rows


def _grade_names() -> dict[int, str]:
    names = {0: _("Kindergarten")}
    names.update({n: _("Grade %(num)d", num=n) for n in range(1, 14)})
    return names


@bp.route("/classes/<int:class_id>/progress")
@requires("teacher", "admin")
def progress(class_id: int) -> str:
    classroom = accounts.get_class_for(g.person, class_id)
    notes, grids = teaching.class_progress(_engine(), classroom, g.lang)
    assigned = [teaching.skill_title(_engine(), s, g.lang) for s in teaching.assignment_of(classroom)
                if _known_skill(s)]
    others = len([a for a in teaching.assignments_of(classroom) if a.id != teaching.CLASS_WIDE])
    return render_template("teacher/progress.html", classroom=classroom, notes=notes, grids=grids,
                           assigned=assigned, others=others, words=state_words(), needs_help=_("Needs help"))


def state_words() -> dict[str, tuple[str, str]]:
    """Each mastery state's symbol and label, worked out once for the grid's thousands of cells
    (teacher/_states.html has the same words for the legend and single cells)."""
    return {"mastered": ("★", _("Mastered")), "proficient": ("✓", _("Knows it")),
            "learning": ("…", _("In progress")), "needs_review": ("↻", _("Needs review")),
            "not_started": ("·", _("Not started"))}


@bp.route("/classes/<int:class_id>/activities")
@requires("teacher", "admin")
def activities(class_id: int) -> str:
    """The packs' printable activities, for the teacher to open and print (#18: they were only
    folded inside learners' lesson pages, which a teacher could not open)."""
    classroom = accounts.get_class_for(g.person, class_id)
    return render_template("teacher/activities.html", classroom=classroom,
                           packs=teaching.activities(current_app.extensions["catalogue"].get(), g.lang))


@bp.route("/classes/<int:class_id>/activities/<pack_id>/<resource_id>")
@requires("teacher", "admin")
def activity(class_id: int, pack_id: str, resource_id: str) -> str:
    classroom = accounts.get_class_for(g.person, class_id)
    pack, resource, path = teaching.printable(current_app.extensions["catalogue"].get(), pack_id, resource_id)
    lang = practice.content_language(pack, g.lang)
    return render_template(
        "teacher/activity.html", classroom=classroom, pack=pack, resource=resource,
        title=resource.title.pick(lang), content_lang=resource.language or lang,
        skills=[s.title.pick(lang) for s in pack.skills if s.id in resource.skills],
        body=render_resource(path, pack.id, resource.path),
    )


def _known_skill(qualified_skill: str) -> bool:
    """An assignment may name a skill of a pack removed since: leave it out of the page."""
    try:
        teaching.skill_title(_engine(), qualified_skill, g.lang)
    except Invalid:
        return False
    return True


@bp.route("/classes/<int:class_id>/history")
@requires("teacher", "admin")
def history(class_id: int) -> str:
    """Who decided what for the class, newest first: the audit view of overrides, assignments,
    courses, accommodations and class-list changes (each an event with its author)."""
    classroom = accounts.get_class_for(g.person, class_id)
    try:
        before = optional_int(request.args.get("before"), "before", 1)
    except Invalid:
        before = None
    decisions = teaching.history(classroom, before)
    given = {uid for d in decisions if d.kind == "assignment.set"
             for part in d.payload.get("given", []) for uid in part.get("learners", [])}
    names = teaching.display_names(given)
    rows = [{"decision": d, "words": _decision_words(d, names)} for d in decisions]
    older = decisions[-1].event_id if len(decisions) == teaching.HISTORY_PAGE else None
    return render_template("teacher/history.html", classroom=classroom, rows=rows, older=older,
                           newest=before is None)


def _skill_words(payload: dict[str, Any]) -> str | None:
    if not payload.get("pack") or not payload.get("skill"):
        return None
    qualified = practice.qualify(payload["pack"], payload["skill"])
    return teaching.skill_title(_engine(), qualified, g.lang) if _known_skill(qualified) else payload["skill"]


def _decision_words(d: teaching.Decision, names: dict[str, str] | None = None) -> str:
    """A recorded decision in the teacher's words (their language, not the event's). ``names``:
    learners' names by uid, for assignments to some learners."""
    name, p = d.learner or "", d.payload
    if d.kind == "override":
        skill = _skill_words(p)
        if skill is None:
            return _override_message(p["action"], name, None)
        return _override_message(p["action"], name, skill)
    if d.kind == "assignment.set":
        return _assignment_words(p, names or {})
    if d.kind == "class.courses_set":
        catalogue = current_app.extensions["catalogue"].get().catalogue
        titles = [next((pk.title.pick(practice.content_language(pk, g.lang)) for pk in catalogue.packs
                        if pk.id == c["pack"]), c["pack"]) for c in p["courses"]]
        return _("The class studies: %(packs)s", packs=", ".join(titles)) if titles else \
            _("The class studies no pack.")
    return {
        "learner.accommodations_set": _("Accommodations changed for %(name)s.", name=name),
        "learner.created": _("%(name)s was added to the class.", name=name),
        "learner.updated": _("%(name)s's name or colour was changed.", name=name),
        "learner.secret_reset": _("%(name)s was given a new picture password or PIN.", name=name),
        "learner.enrolled": _("%(name)s joined the class.", name=name),
        "learner.unenrolled": _("%(name)s was taken off the class list.", name=name),
    }.get(d.kind, d.kind)


def _assignment_words(payload: dict[str, Any], names: dict[str, str]) -> str:
    """An ``assignment.set`` says what the class's assignments are from then on, whole: said so,
    part by part (to the class; to some learners, with a due date), or that none is left."""
    def titles(skills: list[str]) -> str:
        return ", ".join(teaching.skill_title(_engine(), s, g.lang) if _known_skill(s) else s for s in skills)

    parts = [_("to the class: %(skills)s", skills=titles(payload["skills"]))] if payload["skills"] else []
    for given in payload.get("given", []):
        learners = sorted((names.get(uid, "?") for uid in given.get("learners", [])), key=str.casefold)
        what = titles(given["skills"])
        if given.get("kind") in ("lesson", "check"):
            what = f"{what} ({assignment_kinds()[given['kind']].lower()})"
        part = (_("to %(learners)s: %(skills)s", learners=", ".join(learners), skills=what)
                if learners else _("to the class: %(skills)s", skills=what))
        if given.get("due"):
            part += " " + _("(due %(date)s)", date=given["due"])
        parts.append(part)
    if not parts:
        return _("No assignment from then on: the class's assignments were cleared.")
    return _("Assignments from then on: %(parts)s.", parts="; ".join(parts))


def _override_message(action: str, name: str, skill: str | None) -> str:
    if not skill:
        if action == "pause":
            return _("Practice is paused for %(name)s.", name=name)
        return _("Practice is back on for %(name)s.", name=name)
    return {
        "mark_mastered": _("%(skill)s is marked as mastered for %(name)s.", skill=skill, name=name),
        "reset": _("%(skill)s starts again from the beginning for %(name)s.", skill=skill, name=name),
        "pause": _("%(skill)s is paused for %(name)s: it will not be offered.", skill=skill, name=name),
        "resume": _("%(skill)s is offered to %(name)s again.", skill=skill, name=name),
        "undo_mark_mastered": _("%(skill)s is back to where %(name)s was before it was marked.",
                                skill=skill, name=name),
    }[action]


@bp.route("/classes/<int:class_id>/learners/<int:learner_id>/override", methods=["POST"])
@requires("teacher", "admin")
def override(class_id: int, learner_id: int) -> ResponseReturnValue:
    """Mark mastered, reset, pause or resume; a reset asks first, since it cannot be undone."""
    classroom = accounts.get_class_for(g.person, class_id)
    learner = accounts.get_learner_in(classroom, learner_id)
    action, skill = request.form.get("action", ""), request.form.get("skill", "").strip() or None
    if action not in teaching.OVERRIDE_ACTIONS:
        raise Invalid("Choose one of the actions on the page.", field="action")
    title = teaching.skill_title(_engine(), skill, g.lang) if skill else None
    if action == "reset" and request.form.get("confirmed") != "yes":
        if not skill:
            raise Invalid("Choose a skill first.", field="skill")
        return render_template("teacher/confirm_reset.html", classroom=classroom, learner=learner,
                               skill=skill, title=title)
    teaching.override(_engine(), g.person, classroom, learner, action, skill)
    flash(_override_message(action, learner.display_name, title))
    return redirect(url_for("teacher.edit_learner", class_id=classroom.id, learner_id=learner.id,
                            done=action, skill=skill, _anchor="learning"))


@bp.route("/classes/<int:class_id>/learners/<int:learner_id>/accommodations", methods=["POST"])
@requires("teacher", "admin")
def accommodations(class_id: int, learner_id: int) -> ResponseReturnValue:
    classroom = accounts.get_class_for(g.person, class_id)
    learner = accounts.get_learner_in(classroom, learner_id)
    teaching.set_accommodations(g.person, classroom, learner, {
        "items_per_session": request.form.get("items_per_session", ""),
        **{key: request.form.get(key) == "on" for key in ("more_time", "read_aloud", "larger_text")},
    })
    flash(_("Saved."))
    return redirect(url_for("teacher.edit_learner", class_id=classroom.id, learner_id=learner.id,
                            _anchor="accommodations"))


@bp.route("/classes/<int:class_id>/assignment", methods=["GET", "POST"])
@requires("teacher", "admin")
def assignment(class_id: int) -> ResponseReturnValue:
    """What learners work on first: the whole class's standing assignment, and assignments to
    some learners or by a day (each can be taken back, and the taking back undone)."""
    classroom = accounts.get_class_for(g.person, class_id)
    if request.method == "GET":
        return _assignment_page(classroom)
    action = request.form.get("action", "")
    here = url_for("teacher.assignment", class_id=classroom.id)
    try:
        if action == "give":
            learner_ids = None
            if request.form.get("who") == "some":
                learner_ids = [parse_int(v, "learners", 1) for v in request.form.getlist("learners")]
            due = teaching.parse_due(request.form.get("due"), clock.now().astimezone().date())
            kind = request.form.get("kind", "practice")
            teaching.give_assignment(_engine(), g.person, classroom, request.form.getlist("given_skills"),
                                     learner_ids, due, kind, g.lang)
            flash({"lesson": _("Assigned. Those learners see the lesson first until they have opened it."),
                   "check": _("Assigned. Those learners see the check first until they have taken it.")}.get(
                kind, _("Assigned. Those learners see these skills first until they know them.")))
            return redirect(here)
        if action == "withdraw":
            taken = teaching.withdraw_assignment(g.person, classroom, request.form.get("id", ""))
            flash(_("The assignment is taken back."))
            return redirect(url_for("teacher.assignment", class_id=classroom.id, withdrawn=taken.id))
        if action == "restore":
            found = teaching.previous_assignment(classroom, request.form.get("id", ""))
            if found is not None:
                teaching.restore_assignment(g.person, classroom, found)
                flash(_("The assignment is back."))
            return redirect(here)
        if action:
            raise Invalid("Choose one of the actions on the page.", field="action")
        chosen = teaching.set_assignment(_engine(), g.person, classroom, request.form.getlist("skills"))
    except Invalid as exc:
        return _assignment_page(classroom, _(exc.template, **exc.params), exc.field, request.form,
                                given_form=action == "give"), 400
    flash(_("The class will see these skills first.") if chosen else _("The assignment is cleared."))
    return redirect(url_for("teacher.progress", class_id=classroom.id))


def assignment_kinds() -> dict[str, str]:
    """What an assignment asks, in the teacher's words: the form's choices and the list's labels."""
    return {"practice": _("Practise"), "lesson": _("Read the lesson"), "check": _("Take the check")}


def _assignment_page(classroom: accounts.Classroom, error: str | None = None, error_field: str | None = None,
                     form: Any = None, given_form: bool = False) -> str:
    learners = accounts.learners_in(classroom)
    names = {p.uid: p.display_name for p in learners}
    place = {p.uid: n for n, p in enumerate(learners)}  # names in the class list's order, not the uids'
    today = clock.now().astimezone().date()
    current = [{"assignment": a, "titles": [teaching.skill_title(_engine(), s, g.lang) for s in a.skills
                                             if _known_skill(s)],
                "who": None if a.learners is None else
                [names.get(u, "?") for u in sorted(a.learners, key=lambda u: place.get(u, len(place)))],
                "overdue": a.due is not None and a.due < today} for a in teaching.assignments_of(classroom)]
    return render_template(
        "teacher/assignment.html", classroom=classroom, learners=learners, current=current,
        grids=teaching.pack_skills(_engine(), g.lang, courses.courses_of(classroom)),
        chosen=set(teaching.assignment_of(classroom)), error=error, error_field=error_field,
        form=form, given_form=given_form, kinds=assignment_kinds(),
        withdrawn=request.args.get("withdrawn"), today=today.isoformat(), clock_doubt=teaching.clock_doubt())


@bp.app_context_processor
def learner_accommodations() -> dict[str, str]:
    """Body classes for a learner's accommodations (larger text, read-aloud first), on every page.

    Registered here because the teacher sets them; base.html shows them on the learner's pages.
    """
    person = g.get("person")
    if person is None or person.role != "learner":
        return {"accommodation_classes": ""}
    chosen = teaching.accommodations_of(person)
    names = {"larger_text": "larger-text", "read_aloud": "read-aloud-first", "more_time": "more-time"}
    return {"accommodation_classes": " ".join(css for key, css in names.items() if chosen[key])}
