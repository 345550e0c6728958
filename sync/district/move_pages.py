"""Moving a learner to another school from the dashboard (the district's staff only): a form on
the learner's page, a page that says in words what will happen, and the move itself, done by
``service.move_learner`` (``district move-learner`` is the same from a terminal). A school's own
staff move no one (403): a learner changing schools is the district's to decide.

The form is a plain GET to the confirmation page, so a wrong choice costs nothing; only the
confirmation's POST (with its CSRF token) changes anything, and the service does it all or
nothing, checking again what the pages checked (another tab may have moved the learner since).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from classroom_server.i18n import gettext as _
from sync import changes as change_rules
from sync.district import growth, service
from sync.district.models import DistrictClass, Learner, School
from sync.district.web import _scope, bp, signed_in

MAX_ID = 2**31 - 1  # the largest id a school or a hub can have (PostgreSQL's integer)


@dataclass(frozen=True)
class MoveForm:
    """What the learner page's form offers: where the learner is now, and where they may go."""

    action: str
    school: str  # the school the district has them at now (after a move, before the hubs sync: the new one)
    choices: list[tuple[str, str]]  # (value of ``to``, words): a school alone, or a school and a class


@dataclass(frozen=True)
class Plan:
    """A move the pages checked: who, from where, to where, and whether a hub made the learner
    (then no tombstone reaches its hubs, and its teachers archive them there themselves)."""

    uid: str
    name: str
    leaves: School
    joins: School
    class_id: str | None
    class_title: str | None
    made_on_hub: bool


class _Refused(Exception):
    """A move the page cannot offer, in words for the staff member, with the page's status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def roster_classes(school: School) -> list[tuple[str, str]]:
    """(sourcedId, title) of the active classes on the school's district roster, by title: the
    classes a moved learner can be enrolled in (a class made on a hub is not the district's to
    fill). One query per school."""
    found = [(str(c["sourcedId"]), str(c.get("title") or c["sourcedId"]))
             for c in service.published(school, "class") if c.get("status") == "active"]
    return sorted(found, key=lambda c: (c[1].casefold(), c[0]))


def move_form(registration_id: int, class_uid: str, uid: str) -> MoveForm | None:
    """The form for the learner page; None when the district knows no such learner (a hub's
    projection ahead of its events, which cannot be moved) or there is no other school."""
    held = Learner.get_or_none(Learner.uid == uid)
    if held is None:
        return None
    here = School.get_or_none(School.id == held.school)
    choices: list[tuple[str, str]] = []
    for school in service.schools():
        if int(school.id) == int(held.school):
            continue
        choices.append((str(school.id), school.name))
        choices += [(f"{school.id}:{class_id}", f"{school.name} — {title}")
                    for class_id, title in roster_classes(school)]
    if not choices:
        return None
    action = url_for("dashboard.move_learner", registration_id=registration_id, class_uid=class_uid,
                     learner_uid=uid)
    return MoveForm(action, here.name if here is not None else "", choices)


def _name(klass: DistrictClass, uid: str, roster: dict[str, object] | None) -> str:
    """The name the staff member read on the learner page (the hub's); else the roster's."""
    shown = dict(growth.learners_of(klass)).get(uid)
    if shown:
        return shown
    if roster is not None:
        return change_rules.display_name(roster)
    return uid


def _plan(klass: DistrictClass, uid: str, to: str) -> Plan:
    """The move asked for by ``to`` ("<school id>" or "<school id>:<class sourcedId>"), checked as
    the service will check it, so the confirmation page never offers a move that cannot be made;
    raises ``_Refused``."""
    held = Learner.get_or_none(Learner.uid == uid)
    if held is None:
        raise _Refused(_("The district knows no learner with the id %(uid)s: they have not been on a roster or "
                         "synced from a hub yet.", uid=uid), 404)
    leaves = School.get_or_none(School.id == held.school)
    if leaves is None:
        raise _Refused(_("The district knows no school for this learner."), 404)
    roster = service.current(leaves, "user", uid)
    name = _name(klass, uid, roster)
    school_part, _colon, class_id = to.strip().partition(":")
    if not school_part:
        raise _Refused(_("Choose the school %(name)s joins.", name=name))
    number = int(school_part) if school_part.isascii() and school_part.isdigit() else 0
    joins = School.get_or_none(School.id == number) if 0 < number <= MAX_ID else None
    if joins is None:
        raise _Refused(_("There is no such school. Go back and choose one from the list."))
    if int(joins.id) == int(leaves.id):
        raise _Refused(_("%(name)s is at %(school)s already.", name=name, school=joins.name))
    title = None
    if class_id:
        title = dict(roster_classes(joins)).get(class_id)
        if title is None:
            raise _Refused(_("%(school)s has no class %(class)s on the district's roster. Go back and choose one "
                             "from the list.", school=joins.name, **{"class": class_id}))
    if roster is not None and roster.get("status") == "active" and roster.get("role") != "student":
        raise _Refused(_("Only a student can be moved to another school."))
    return Plan(uid, name, leaves, joins, class_id or None, title, roster is None)


@bp.route("/hubs/<int:registration_id>/classes/<class_uid>/learners/<learner_uid>/move", methods=["GET", "POST"])
@signed_in(district_only=True)
def move_learner(registration_id: int, class_uid: str, learner_uid: str) -> ResponseReturnValue:
    if registration_id > MAX_ID or "\x00" in class_uid + learner_uid:
        abort(404)  # no such hub or learner, and PostgreSQL would refuse the query rather than find nothing
    klass = growth.find_class(_scope(), registration_id, class_uid)
    if klass is None:
        abort(404)
    back = url_for("dashboard.learner_page", registration_id=registration_id, class_uid=class_uid,
                   learner_uid=learner_uid)
    to = request.values.get("to", "")
    try:
        plan = _plan(klass, learner_uid, to)
    except _Refused as refused:
        return _page(None, to, back, refused.message), refused.status
    if request.method == "GET":
        return _page(plan, to, back)
    try:
        moved = service.move_learner(plan.uid, plan.joins, class_id=plan.class_id, by=g.staff.username)
    except change_rules.ChangeError as exc:  # changed since the page was read (another tab, the command)
        return _page(plan, to, back, _("Nothing was moved: %(why)s.", why=str(exc))), 400
    if plan.class_title:
        flash(_("Moved %(name)s to %(school)s, in %(class)s. Both schools' hubs apply it at their next sync.",
                name=plan.name, school=moved.to_school, **{"class": plan.class_title}))
    else:
        flash(_("Moved %(name)s to %(school)s. Both schools' hubs apply it at their next sync.", name=plan.name,
                school=moved.to_school))
    if moved.made_on_hub:
        flash(_("%(name)s was added on a hub of %(school)s, not by the district: ask that hub's teachers to "
                "archive them there.", name=plan.name, school=moved.from_school))
    # Back to the learner's page, where the staff member was: it still holds what they did at this
    # hub until the hub archives them, it now says which school they are at, and its form can move
    # them back at once if this was a mistake. The school's growth page would show no learner at
    # all, and the new school's none until its hubs sync.
    return redirect(back)


def _page(plan: Plan | None, to: str, back: str, error: str | None = None) -> str:
    return render_template("district/move_learner.html", plan=plan, to=to, back=back, error=error)
