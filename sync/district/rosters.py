"""A school's roster at the district, from a OneRoster 1.1 or 1.2 CSV export (a folder or a zip).

District staff used to publish roster records by hand (``district publish``); a school system
gives them as OneRoster files instead. The files are read by the hub's own reader
(classroom_server/interop/oneroster: dirty exports, every rejected row with its file and line),
turned into the district's change records for ONE school, named by the staff (the files' orgs
only inform: an export may name several schools, or the district only), and published with
``service.publish``, so hubs get them at their next sync or USB stick as any published record.

What becomes what (sync/changes.py gives each record's fields):

- classes: ``class`` records (title, classCode);
- users whose role is ``student``: ``user`` records, role student (a learner belongs to one
  school: one already on another school's roster is a rejected row); ``teacher`` and ``aide``:
  role teacher, with their username (a hub makes them its teachers: the change records know
  students, teachers and administrators, and a class only students and teachers). Other roles
  (guardians, administrators, principals...) are no one on a hub: skipped and counted, as the
  hub's own roster import does. A name is the one a person goes by (1.2's preferred names first);
- enrollments: ``enrollment`` records, role student or teacher (an aide's as teacher's);
- ``tobedeleted`` (or ``enabledUser`` false): the record's tombstone, made as ``service.withdraw``
  makes it (its last published state, marked ``tobedeleted``), only for a record published for
  this school before; one never published is skipped and counted. An active enrollment of a
  class or user withdrawn in the same files goes with it.

Every record is checked here by the rules ``publish`` applies (sync/changes.py's shape of each
kind, an enrollment's class and user in this school's roster and not withdrawn, a student's
school), one by one and in the order they are published, so a bad record is a rejected row with
its file and line instead of a refusal of the whole import. The good records are then published
in one call, in the same transaction as the checks: all of them or none, never half an import.
A record equal to its published state changes nothing, so importing the same files again
changes nothing.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classroom_server.interop import oneroster
from sync import changes as change_rules
from sync.district import service
from sync.district.models import Learner, School, district_db

# OneRoster's roles that a hub holds, as the change records name them (the others are skipped).
ROLES = {"student": "student", "teacher": "teacher", "aide": "teacher"}
FILES = {"class": "classes.csv", "user": "users.csv", "enrollment": "enrollments.csv"}
_CHUNK = 1000

Lines = dict[str, tuple[str, dict[str, int]]]  # file (the spec's name) -> its name in the export, line by id


@dataclass
class Imported:
    """What an import did, for the command line and the dashboard. With ``problems`` nothing was
    published (the files could not be read, or the district refused the import as a whole)."""

    school: str
    version: str | None = None  # "1.1" or "1.2"
    problems: list[str] = field(default_factory=list)
    new: int = 0  # records published for the first time
    updated: int = 0  # records whose published state changed (a withdrawn one brought back too)
    unchanged: int = 0  # records equal to their published state (a tombstone already published too)
    archived: int = 0  # tombstones published
    skipped: int = 0  # tobedeleted records never published here, and roles a hub does not hold
    rejected: list[oneroster.Rejected] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    orgs: list[str] = field(default_factory=list)  # the schools (orgs of type school) the files name

    @property
    def readable(self) -> bool:
        """Whether anything was imported (rows may still have been rejected)."""
        return not self.problems

    @property
    def changed(self) -> int:
        return self.new + self.updated + self.archived


@dataclass(frozen=True)
class _Item:
    """One record of the export, as the district will publish it: ``body`` the active record, or
    None for a tombstone of what was published (made from that, as ``withdraw`` makes it)."""

    kind: str
    key: str
    file: str
    line: int
    body: dict[str, Any] | None


def import_roster(path: str | os.PathLike[str], school: School) -> Imported:
    """Read the OneRoster export at ``path`` and publish it as ``school``'s roster (see the
    module's docstring). Never raises for a bad export or a bad record: what stopped the import
    is in ``problems``, what was left out in ``rejected``."""
    roster, lines = _read(Path(path))
    result = Imported(school=school.name, version=roster.version, problems=list(roster.problems),
                      rejected=list(roster.rejected), notes=list(roster.notes))
    if roster.problems:
        return result
    named, what = _orgs(roster)
    result.orgs = named if what == "schools" else []
    if len(named) > 1:
        result.notes.append(f"the files name {len(named)} {what} ({', '.join(named)}); everything in them was "
                            f"imported into {school.name}, as asked")
    items = _items(roster, lines, result)
    with service._transaction():
        if service._postgres():  # what publish takes: the checks below see what it will see
            district_db.execute_sql("LOCK TABLE change IN SHARE ROW EXCLUSIVE MODE")
        records = _Check(school, items, result).run()
        if not records:
            return result
        try:
            service.publish(school, records)
        except change_rules.ChangeError as exc:  # a rule checked here changed under the import: none of it
            kept = Imported(school=school.name, version=roster.version, rejected=result.rejected,
                            notes=result.notes, orgs=result.orgs)
            kept.problems.append(f"the district refused the import as a whole ({exc}); nothing was published. "
                                 "Import the files again: each record is checked anew")
            return kept
    return result


def _read(path: Path) -> tuple[oneroster.Roster, Lines]:
    """The export, and the line each record came from (``Roster.lines``): the district names the
    row of a record its own rules refuse."""
    roster = oneroster.read(path)
    return roster, roster.lines


def _orgs(roster: oneroster.Roster) -> tuple[list[str], str]:
    """The schools the files name (or, with no org of type school, every org), and which of the
    two: informational (a district and its one school is the usual export, and says nothing)."""
    live = [org for org in roster.orgs if org.status == "active"]
    schools = [org for org in live if org.type == "school"]
    return sorted({org.name for org in schools or live}), "schools" if schools else "orgs"


def _name(given: str | None, preferred: str | None) -> str:
    return preferred or given or ""


def _stamp(record: oneroster.Record) -> dict[str, str]:
    return {"dateLastModified": record.date_last_modified.isoformat()} if record.date_last_modified else {}


def _items(roster: oneroster.Roster, lines: Lines, result: Imported) -> list[_Item]:
    """The export's classes, users and enrollments as records to publish, in that order (an
    enrollment's class and user come before it). Skipped ones are counted and said."""

    def where(kind: str, key: str) -> tuple[str, int]:
        name, by_key = lines.get(FILES[kind], (FILES[kind], {}))
        return name, by_key.get(key, 0)

    items: list[_Item] = []
    withdrawn: set[tuple[str, str]] = set()
    for klass in roster.classes:
        body = None
        if klass.status == "active":
            body = {"sourcedId": klass.sourced_id, "status": "active", "title": klass.title, **_stamp(klass)}
            if klass.class_code is not None:
                body["classCode"] = klass.class_code
        else:
            withdrawn.add(("class", klass.sourced_id))
        items.append(_Item("class", klass.sourced_id, *where("class", klass.sourced_id), body))

    other_roles: Counter[str] = Counter()
    aides = disabled = 0
    not_held: set[str] = set()
    for user in roster.users:
        role = ROLES.get(user.role)
        if role is None:
            other_roles[user.role] += 1
            not_held.add(user.sourced_id)
            continue
        aides += user.role == "aide"
        body = None
        if user.status == "active" and user.enabled:
            body = {"sourcedId": user.sourced_id, "status": "active", "role": role,
                    "givenName": _name(user.given_name, user.preferred_given_name),
                    "familyName": _name(user.family_name, user.preferred_family_name), **_stamp(user)}
            if role == "teacher" and user.username is not None:  # a hub's teachers sign in with it
                body["username"] = user.username
        else:
            disabled += user.status == "active"
            withdrawn.add(("user", user.sourced_id))
        items.append(_Item("user", user.sourced_id, *where("user", user.sourced_id), body))

    other_enrollments: Counter[str] = Counter()
    of_others = going_with = 0
    for enrollment in roster.enrollments:
        role = ROLES.get(enrollment.role)
        if role is None:
            other_enrollments[enrollment.role] += 1
            continue
        if enrollment.user_id in not_held:
            of_others += 1
            continue
        body = None
        if enrollment.status == "active":
            if {("class", enrollment.class_id), ("user", enrollment.user_id)} & withdrawn:
                going_with += 1
            else:
                body = {"sourcedId": enrollment.sourced_id, "status": "active", "classSourcedId": enrollment.class_id,
                        "userSourcedId": enrollment.user_id, "role": role, **_stamp(enrollment)}
        items.append(_Item("enrollment", enrollment.sourced_id, *where("enrollment", enrollment.sourced_id), body))

    users_file, enrollments_file = where("user", "")[0], where("enrollment", "")[0]
    for role, count in sorted(other_roles.items()):
        result.notes.append(f"{users_file}: {count} {role} record{'' if count == 1 else 's'} not imported (a hub "
                            "holds students and teachers)")
    for role, count in sorted(other_enrollments.items()):
        result.notes.append(f"{enrollments_file}: {count} enrollment{'' if count == 1 else 's'} as {role} not "
                            "imported (a class holds students and teachers)")
    if of_others:
        result.notes.append(f"{enrollments_file}: {of_others} enrollment{'' if of_others == 1 else 's'} of people "
                            "not imported (their role) left out")
    if aides:
        result.notes.append(f"{users_file}: {aides} aide{'' if aides == 1 else 's'} imported as teachers")
    if disabled:
        result.notes.append(f"{users_file}: {disabled} user{'' if disabled == 1 else 's'} with enabledUser false "
                            "taken as tobedeleted")
    if going_with:
        result.notes.append(f"{enrollments_file}: {going_with} active enrollment{'' if going_with == 1 else 's'} "
                            "of a class or user marked tobedeleted withdrawn with it")
    result.skipped += sum(other_roles.values()) + sum(other_enrollments.values()) + of_others
    return items


class _Check:
    """The records of one import checked one by one by the rules ``publish`` applies, against
    the school's published roster and the good records before them; counts what each will do."""

    def __init__(self, school: School, items: list[_Item], result: Imported) -> None:
        self.school, self.items, self.result = school, items, result
        self.state: dict[tuple[str, str], dict[str, Any]] = {
            (record["kind"], record["sourcedId"]): {k: v for k, v in record.items() if k != "kind"}
            for record in service.published(school) if record["kind"] in FILES}
        self.rejected_at: dict[tuple[str, str], tuple[str, int]] = {}
        self.never: Counter[str] = Counter()

    def run(self) -> list[dict[str, Any]]:
        """The records to publish (new, changed and tombstones), in order."""
        learners = self._learners()
        records: list[dict[str, Any]] = []
        for item in self.items:
            earlier = self.state.get((item.kind, item.key))
            if item.body is None:
                self._withdraw(item, earlier, records)
                continue
            reason = self._refusal(item, learners)
            if reason is not None:
                self.result.rejected.append(oneroster.Rejected(item.file, item.line, reason))
                self.rejected_at[(item.kind, item.key)] = (item.file, item.line)
                continue
            if earlier is not None and _same(earlier, item.body):
                self.result.unchanged += 1
                continue
            if earlier is None:
                self.result.new += 1
            else:
                self.result.updated += 1
            records.append({"kind": item.kind, **item.body})
            self.state[(item.kind, item.key)] = item.body
        for file, count in sorted(self.never.items()):
            self.result.notes.append(f"{file}: {count} tobedeleted record{'' if count == 1 else 's'} never published "
                                     f"for {self.school.name}: nothing to withdraw")
        self.result.skipped += sum(self.never.values())
        self.result.rejected.sort(key=lambda r: (_order(r.file), r.line))
        return records

    def _withdraw(self, item: _Item, earlier: dict[str, Any] | None, records: list[dict[str, Any]]) -> None:
        if earlier is None:
            self.never[item.file] += 1
        elif earlier["status"] == "tobedeleted":
            self.result.unchanged += 1
        else:
            tombstone = {**{k: v for k, v in earlier.items() if k != "dateLastModified"}, "status": "tobedeleted"}
            records.append({"kind": item.kind, **tombstone})
            self.state[(item.kind, item.key)] = tombstone
            self.result.archived += 1

    def _learners(self) -> dict[str, int]:
        """The school at the district of every student of this import who has one already."""
        uids = sorted(item.key for item in self.items if item.kind == "user" and item.body is not None
                      and item.body["role"] == "student")
        found: dict[str, int] = {}
        for start in range(0, len(uids), _CHUNK):
            query = Learner.select(Learner.uid, Learner.school).where(Learner.uid.in_(uids[start:start + _CHUNK]))
            found.update({row.uid: int(row.school) for row in query})
        return found

    def _refusal(self, item: _Item, learners: Mapping[str, int]) -> str | None:
        """Why ``publish`` would refuse this record, in words for the person who exported it."""
        assert item.body is not None
        try:
            change_rules.check(item.kind, item.body)
        except change_rules.ChangeError as exc:
            return _in_words(item.body, str(exc))
        if item.kind == "user" and item.body["role"] == "student":
            school_id = learners.get(item.key, int(self.school.id))
            if school_id != int(self.school.id):
                other = School.get_or_none(School.id == school_id)
                return (f"student '{item.key}' is on the roster of {other.name if other else 'another school'} at "
                        "the district; a learner belongs to one school (to move them here: district move-learner)")
        if item.kind == "enrollment":
            for kind, key in (("class", item.body["classSourcedId"]), ("user", item.body["userSourcedId"])):
                found = self.state.get((kind, key))
                if found is not None and found["status"] == "active":
                    continue
                if (kind, key) in self.rejected_at:
                    file, line = self.rejected_at[(kind, key)]
                    return f"enrollment names {kind} '{key}', which was rejected ({file} line {line})"
                if found is not None:
                    return f"enrollment names {kind} '{key}', which is withdrawn from {self.school.name}'s roster"
                return f"enrollment names {kind} '{key}', which is not in {self.school.name}'s roster"
            user = self.state[("user", item.body["userSourcedId"])]
            if (user["role"] == "student") != (item.body["role"] == "student"):
                return (f"enrollment enrols user '{item.body['userSourcedId']}' as a {item.body['role']}, but they "
                        f"are a {user['role']}")
        return None


_TOO_LONG = re.compile(r"data\.(\w+) must be shorter than or equal to (\d+) characters")
_PATTERN = re.compile(r"data\.(\w+) must match pattern")


def _in_words(body: Mapping[str, Any], message: str) -> str:
    """sync/changes.py's refusal of a record, said as the reader says a row's problems."""
    found = _TOO_LONG.search(message)
    if found:
        return f"{found[1]} is longer than the {found[2]} characters the district takes"
    found = _PATTERN.search(message)
    if found:
        return (f"{found[1]} '{body.get(found[1])}' has characters the district does not take in ids (letters, "
                "digits and . _ : @ / + - only)")
    return f"the district does not take this record: {message.split(': ', 1)[-1]}"


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """``publish``'s rule: a record equal to its published state, ``dateLastModified`` aside."""
    return ({k: v for k, v in a.items() if k != "dateLastModified"}
            == {k: v for k, v in b.items() if k != "dateLastModified"})


def _order(file: str) -> int:
    """Rejected rows in the reader's file order (the district's come after the row's own file)."""
    names = ["manifest.csv", "orgs.csv", "academicsessions.csv", "courses.csv", "classes.csv", "users.csv",
             "roles.csv", "userprofiles.csv", "enrollments.csv"]
    return names.index(file.lower()) if file.lower() in names else len(names)


def counts(result: Imported) -> Iterable[tuple[str, int]]:
    """The counts in the order the command line and the page give them."""
    return (("new", result.new), ("updated", result.updated), ("unchanged", result.unchanged),
            ("archived", result.archived), ("skipped", result.skipped), ("rejected", len(result.rejected)))
