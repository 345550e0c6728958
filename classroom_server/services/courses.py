"""Courses: the packs (and grade bands) a class studies (DESIGN.md, "Classes study courses").

A class's courses are a ``class.courses_set`` event; the latest for a class is the whole answer,
kept in the ``class_course`` projection (services/projections.py). A learner studies the courses
of every class they are in. Their path, My skills, the teacher's grids and the reports show
those skills only. Installing a pack offers it to classes (the class page lists it); it is on no
class until a teacher or the district gives it one.

A course is a pack, or a pack and a grade band [lowest, highest]. The band's skills are those
whose grades meet the band (a skill without grades is in every band), and with them every
prerequisite they rest on in the pack, so a path never asks for a skill whose groundwork it
hides. A grade 4 class with fractions for grade 4 also meets the grade 3 skills grade 4 needs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from classroom_server.db import db
from classroom_server.errors import Invalid
from classroom_server.growth_rules import Course, course_skills, qualified_skills
from classroom_server.growth_rules import installed as _installed
from classroom_server.models import CANONICAL_ORDER, ClassCourse, Classroom, Enrollment, Event, InstalledPack, Person
from classroom_server.numbers import optional_int
from classroom_server.services import events, hub, setup_cache

GRADES = (0, 13)  # 0 is kindergarten, as in the pack format
MAX_COURSES = 100
ACTOR_UPGRADE = "hub"
KEY_UPGRADED = "courses.upgraded"


def _decode(text: str) -> list[Course]:
    return [Course.from_json(c) for c in json.loads(text)]


def courses_of(classroom: Classroom) -> list[Course]:
    """The class's courses, in the order the teacher gave them (none: it has no course yet)."""
    row = ClassCourse.get_or_none(ClassCourse.class_uid == classroom.uid)
    return _decode(row.courses) if row else []


def learner_courses(learner: Person) -> list[Course]:
    """The courses of every class the learner is in (not archived), without repeats (kept
    while the classes' setup is unchanged: services/setup_cache.py)."""
    return list(setup_cache.for_learner("courses", learner.id, lambda: tuple(_read_learner_courses(learner))))


def _read_learner_courses(learner: Person) -> list[Course]:
    rows = (ClassCourse.select(ClassCourse.courses)
            .join(Classroom, on=(Classroom.uid == ClassCourse.class_uid))
            .join(Enrollment, on=(Enrollment.classroom == Classroom.id))
            .where(Enrollment.learner == learner, Classroom.archived == False)  # noqa: E712
            .order_by(Classroom.name))
    found: list[Course] = []
    for row in rows:
        found += [c for c in _decode(row.courses) if c not in found]
    return found


def skills_studied_by(catalogue: Any, learner: Person) -> frozenset[str]:
    """Every skill the learner's classes study, as the engine names them."""
    return qualified_skills(catalogue, learner_courses(learner))


def offered(catalogue: Any, classroom: Classroom) -> list[Any]:
    """Installed packs the class does not study: the class page offers them."""
    taken = {c.pack_id for c in courses_of(classroom)}
    return [pack for pack in catalogue.packs if pack.id not in taken]


def page_rows(catalogue: Any, classroom: Classroom, form: Any = None) -> list[dict[str, Any]]:
    """One row per pack installed here for the class's courses page: the class's courses first,
    in its order, then the packs it could study. ``form``: what the teacher sent, shown again
    with the error (a form mapping with ``getlist``)."""
    studied = courses_of(classroom)
    order = [c.pack_id for c in studied if _installed(catalogue, c.pack_id)]
    order += [pack.id for pack in catalogue.packs if pack.id not in order]
    rows = []
    for pack_id in order:
        pack = catalogue.pack(pack_id)
        whole = tuple(pack.grades or GRADES)
        course = next((c for c in studied if c.pack_id == pack_id), None)
        band = (course.grades if course and course.grades else whole)
        chosen = course is not None
        if form is not None:
            chosen = pack_id in form.getlist("pack")
            band = (_given(form.get(f"from-{pack_id}"), band[0]), _given(form.get(f"to-{pack_id}"), band[1]))
        skills = course_skills(catalogue, [Course(pack_id, band if band != whole else None)]).get(pack_id, [])
        rows.append({"pack": pack, "chosen": chosen, "band": band, "whole": whole, "skills": len(skills),
                     "all_skills": len(pack.skills)})
    return rows


def _given(text: Any, default: int) -> int:
    try:
        value = optional_int(text, "grades", *GRADES)
    except Invalid:
        return default
    return default if value is None else value


def _history(classroom: Classroom, limit: int) -> list[list[Course]]:
    """The class's latest ``class.courses_set`` events, newest first, as courses."""
    query = (Event.select(Event.payload).where(Event.kind == "class.courses_set", Event.class_uid == classroom.uid)
             .order_by(*[field.desc() for field in CANONICAL_ORDER]).limit(limit))
    return [[Course.from_json(c) for c in json.loads(row.payload)["courses"]] for row in query]


def has_previous(classroom: Classroom) -> bool:
    """Whether the class's courses were changed at least once (so there is something to undo)."""
    return len(_history(classroom, 1)) == 1


def previous(classroom: Classroom) -> list[Course]:
    """The class's courses before their latest change (none, before the first): what Undo restores."""
    history = _history(classroom, 2)
    return history[1] if len(history) == 2 else []


def _band(pack: Any, low: int | None, high: int | None) -> tuple[int, int] | None:
    """The band a teacher chose for a pack; None for the pack's whole band."""
    whole = pack.grades or GRADES
    where = "grades-" + pack.id
    low = whole[0] if low is None else low
    high = whole[1] if high is None else high
    if not (GRADES[0] <= low <= GRADES[1] and GRADES[0] <= high <= GRADES[1]):
        raise Invalid("Grades run from kindergarten (0) to 13.", field=where)
    if low > high:
        raise Invalid("The first grade must not come after the last.", field=where)
    if not (whole[0] <= high and low <= whole[1]):
        raise Invalid("%(pack)s has no skills for those grades.", field=where, pack=pack.id)
    return None if (low, high) == tuple(whole) else (low, high)


def from_form(catalogue: Any, form: Mapping[str, Any], chosen: Sequence[str]) -> list[Course]:
    """The courses a teacher ticked on the class page (``pack`` values, ``from-<pack>`` and
    ``to-<pack>`` grades), checked against the packs installed here."""
    courses: list[Course] = []
    for pack_id in chosen:
        if not _installed(catalogue, pack_id):
            raise Invalid("There is no pack %(pack)s on this hub.", field="pack", pack=pack_id)
        pack = catalogue.pack(pack_id)
        low = optional_int(form.get(f"from-{pack_id}"), f"grades-{pack_id}", *GRADES)
        high = optional_int(form.get(f"to-{pack_id}"), f"grades-{pack_id}", *GRADES)
        course = Course(pack_id, _band(pack, low, high))
        if all(c.pack_id != pack_id for c in courses):
            courses.append(course)
    return courses


def set_courses(actor: Person, classroom: Classroom, courses: Sequence[Course]) -> list[Course]:
    """Give the class these courses (an empty list: none). Recorded as ``class.courses_set``;
    nothing is recorded when they are the class's courses already."""
    if len(courses) > MAX_COURSES:
        raise Invalid("A class can study at most %(num)d packs.", field="pack", num=MAX_COURSES)
    chosen = list(courses)
    if chosen == courses_of(classroom):
        return chosen
    events.record("class.courses_set", {"courses": [c.to_json() for c in chosen]}, actor_uid=actor.uid,
                  class_uid=classroom.uid)
    return chosen


def upgrade_classes() -> int:
    """Once, on a hub upgraded from before courses: give each class without courses every pack
    installed now, as events (actor ``hub``), so its learners keep the paths they had. Returns
    the number of classes given courses. A new hub has no classes yet and records nothing."""
    if hub.get_meta(KEY_UPGRADED) is not None:
        return 0
    given = 0
    with db.atomic("IMMEDIATE"):
        installed = [Course(row.pack_id) for row in
                     InstalledPack.select().where(InstalledPack.status == "active").order_by(InstalledPack.pack_id)]
        have = {row.class_uid for row in ClassCourse.select(ClassCourse.class_uid)}
        for classroom in Classroom.select().order_by(Classroom.id):
            if classroom.uid in have or not installed:
                continue
            events.record("class.courses_set", {"courses": [c.to_json() for c in installed]},
                          actor_uid=ACTOR_UPGRADE, class_uid=classroom.uid)
            given += 1
        hub.set_meta(KEY_UPGRADED, "1")
    return given
