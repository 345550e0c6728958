"""What the district gives a class from the dashboard: its courses (the packs it studies, with a
grade band) and the skills the whole class works on first. No Flask.

Only a class of the district's roster (a ``class`` record the district published for the school)
takes them: the hub holds it read-only and applies what the district publishes at its next sync
or stick (classroom_server/services/district_changes.py). A class made on a hub is its teachers'
to plan. A request that cannot be published raises ``Invalid`` with an English message the page
translates. Publishing goes through ``service.publish``, as the command line's ``district publish``
does, so the same checks hold; publishing the same thing again changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from classroom_server.errors import Invalid
from classroom_server.growth_rules import Course
from sync import changes as change_rules
from sync.district import service
from sync.district.growth import words
from sync.district.models import DistrictAssignment, DistrictClass, DistrictCourse, DistrictPack, Hub, School

GRADES = (0, 13)


@dataclass(frozen=True)
class PackChoice:
    pack_id: str
    title: str
    grades: tuple[int, int] | None  # the pack's own band
    chosen: bool
    band: tuple[int, int]  # the band chosen (the pack's own when none)


@dataclass(frozen=True)
class Classwork:
    """A district class's courses and assignment: as published, and as its hub last reported."""

    owned: bool  # the class is the district's (its roster); otherwise the hub's own
    packs: list[PackChoice]  # the packs active on the class's hub
    published_courses: list[Course] | None  # None: the district never gave it courses
    hub_courses: list[Course]  # what the hub's events say now
    published_skills: list[str] | None  # engine ids ("<pack>:<skill>")
    hub_skills: list[str]

    @property
    def courses_pending(self) -> bool:
        return self.published_courses is not None and self.published_courses != self.hub_courses

    @property
    def skills_pending(self) -> bool:
        return self.published_skills is not None and self.published_skills != self.hub_skills


def _school(klass: DistrictClass) -> School:
    return School.get_by_id(klass.hub.school_id)


def owned(klass: DistrictClass) -> bool:
    found = service.current(_school(klass), "class", klass.class_uid)
    return found is not None and found.get("status") == "active"


def classwork_of(klass: DistrictClass, lang: str) -> Classwork:
    school = _school(klass)
    course = service.current(school, "course", klass.class_uid)
    published = ([Course.from_json(c) for c in course["courses"]] if course and course["status"] == "active"
                 else ([] if course else None))
    assignment = service.current(school, "assignment", klass.class_uid)
    skills = ([s.replace("/", ":", 1) for s in assignment["skills"]] if assignment and assignment["status"] == "active"
              else ([] if assignment else None))
    row = DistrictCourse.get_or_none(DistrictCourse.hub == klass.hub_id, DistrictCourse.class_uid == klass.class_uid)
    hub_courses = [Course.from_json(c) for c in json.loads(row.courses)] if row else []
    given = DistrictAssignment.get_or_none(DistrictAssignment.hub == klass.hub_id,
                                           DistrictAssignment.class_uid == klass.class_uid)
    hub_skills = [s.replace("/", ":", 1) for s in json.loads(given.skills)] if given else []
    current = {c.pack_id: c for c in (published if published is not None else hub_courses)}
    packs = []
    for pack in DistrictPack.select().where(DistrictPack.hub == klass.hub_id).order_by(DistrictPack.pack_id):
        whole = tuple(json.loads(pack.grades)) if pack.grades else None
        chosen = current.get(pack.pack_id)
        band = (chosen.grades if chosen and chosen.grades else whole) or GRADES
        packs.append(PackChoice(pack.pack_id, words(json.loads(pack.title), lang, pack.pack_id),
                                (int(whole[0]), int(whole[1])) if whole else None, chosen is not None,
                                (int(band[0]), int(band[1]))))
    return Classwork(owned(klass), packs, published, hub_courses, skills, hub_skills)


def _grade(value: Any) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise Invalid("Grades run from kindergarten (0) to 13.", field="courses") from None
    if not GRADES[0] <= number <= GRADES[1]:
        raise Invalid("Grades run from kindergarten (0) to 13.", field="courses")
    return number


def courses_from(klass: DistrictClass, chosen: Sequence[str], bands: Mapping[str, tuple[Any, Any]]) -> list[Course]:
    """The courses ticked on the page, checked against the packs on the class's hub."""
    packs = {p.pack_id: p for p in DistrictPack.select().where(DistrictPack.hub == klass.hub_id)}
    lacking = [p for p in chosen if p not in packs]
    if lacking:
        raise Invalid("The hub of this class has no pack %(pack)s.", field="courses", pack=lacking[0])
    return _courses(packs, chosen, bands)


def _courses(packs: Mapping[str, DistrictPack], chosen: Sequence[str],
             bands: Mapping[str, tuple[Any, Any]]) -> list[Course]:
    """The courses ticked, with their bands checked against the packs (each one of ``packs``)."""
    found: list[Course] = []
    for pack_id in chosen:
        pack = packs[pack_id]
        whole = tuple(json.loads(pack.grades)) if pack.grades else GRADES
        low, high = bands.get(pack_id, (whole[0], whole[1]))
        band = (_grade(low if str(low).strip() else whole[0]), _grade(high if str(high).strip() else whole[1]))
        if band[0] > band[1]:
            raise Invalid("The first grade must not come after the last.", field="courses")
        if not (whole[0] <= band[1] and band[0] <= whole[1]):
            raise Invalid("%(pack)s has no skills for those grades.", field="courses", pack=pack_id)
        course = Course(pack_id, None if band == tuple(whole) else band)
        if all(c.pack_id != pack_id for c in found):
            found.append(course)
    return found


def give_courses(klass: DistrictClass, courses: Sequence[Course]) -> service.Published:
    """Publish the class's courses for its hub's next sync or stick."""
    if not owned(klass):
        raise Invalid("This class was made on its hub: its teachers choose its courses there.", field="courses")
    return _publish(klass, {"kind": "course", "sourcedId": klass.class_uid, "status": "active",
                            "courses": [c.to_json() for c in courses]})


def give_skills(klass: DistrictClass, skills: Sequence[str]) -> service.Published:
    """Publish the skills (engine ids, among the class's course skills) the whole class works on first."""
    if not owned(klass):
        raise Invalid("This class was made on its hub: its teachers choose its courses there.", field="courses")
    studied = [s for pack in json.loads(klass.skills) for s in (f"{pack['id']}:{k}" for k, _ in pack["skills"])]
    chosen = []
    for skill in skills:
        if skill not in studied:
            raise Invalid("%(skill)s is not in this class's courses.", field="courses", skill=skill)
        if skill not in chosen:
            chosen.append(skill)
    return _publish(klass, {"kind": "assignment", "sourcedId": klass.class_uid, "status": "active",
                            "skills": [s.replace(":", "/", 1) for s in chosen]})


def _publish(klass: DistrictClass, record: dict[str, Any]) -> service.Published:
    try:
        return service.publish(_school(klass), [record])
    except change_rules.ChangeError as exc:
        raise Invalid(str(exc), field="class") from None


# --- every class of a school's roster at once ---------------------------------------------------------

def _school_packs(school_id: int) -> dict[str, DistrictPack]:
    """The packs active on any of the school's hubs (the newest version of each)."""
    found: dict[str, DistrictPack] = {}
    for pack in (DistrictPack.select(DistrictPack).join(Hub, on=(Hub.id == DistrictPack.hub))
                 .where(Hub.school == school_id).order_by(DistrictPack.pack_id)):
        if pack.pack_id not in found or _newer(pack.version, found[pack.pack_id].version):
            found[pack.pack_id] = pack
    return found


def _newer(version: str, than: str) -> bool:
    from sync.district.calibrate import _version_key

    return _version_key(version) > _version_key(than)


def roster_classes(school_id: int) -> list[dict[str, Any]]:
    """The school's classes in the district's roster (not withdrawn), by title."""
    school = School.get_or_none(School.id == school_id)
    if school is None:
        return []
    return sorted((r for r in service.published(school, "class") if r.get("status") == "active"),
                  key=lambda r: (str(r.get("title", "")), str(r["sourcedId"])))


def school_packs(school_id: int, lang: str) -> list[PackChoice]:
    return [PackChoice(p.pack_id, words(json.loads(p.title), lang, p.pack_id),
                       tuple(json.loads(p.grades)) if p.grades else None, False,
                       tuple(json.loads(p.grades)) if p.grades else GRADES)
            for p in _school_packs(school_id).values()]


def give_school_courses(school_id: int, chosen: Sequence[str], bands: Mapping[str, tuple[Any, Any]]
                        ) -> tuple[service.Published, int]:
    """Give every class of the school's roster the same courses; returns what was published and
    how many classes it went to."""
    school = School.get_or_none(School.id == school_id)
    classes = roster_classes(school_id)
    if school is None or not classes:
        raise Invalid("This school has no class in the district's roster.", field="courses")
    packs = _school_packs(school_id)
    lacking = [p for p in chosen if p not in packs]
    if lacking:
        raise Invalid("No hub of this school has the pack %(pack)s.", field="courses", pack=lacking[0])
    courses = _courses(packs, chosen, bands)
    records = [{"kind": "course", "sourcedId": c["sourcedId"], "status": "active",
                "courses": [course.to_json() for course in courses]} for c in classes]
    try:
        return service.publish(school, records), len(classes)
    except change_rules.ChangeError as exc:
        raise Invalid(str(exc), field="courses") from None
