"""The export as a whole: which files to read and how, what they say to each other, and ``read``.

``_Reader`` reads the manifest, settles each file's mode, reads the files in dependency order
(building each row's record), gives 1.2 users their role and orgs from roles.csv, and checks
references across files. Separate because it is the only part that sees more than one file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from .csvfile import _File, _parse, _Row
from .records import AcademicSession, Class, Course, Enrollment, Org, Rejected, Roster, User
from .sources import _Folder, _Problem, _Source, _Zip
from .values import (
    _CLASS_TYPES,
    _CLASSES,
    _COURSES,
    _ENROLLMENTS,
    _HUB_FILES,
    _KNOWN,
    _MANIFEST,
    _ORG_TYPES,
    _ORGS,
    _PROFILES,
    _ROLE_TYPES,
    _ROLES,
    _ROLES_FILE,
    _SESSION_TYPES,
    _SESSIONS,
    _USERS,
    _VERSION,
    MODES,
    VERSIONS,
    _a,
    _listed,
    _names,
    _plural,
    _user_ids,
)


class _Reader:
    """Reads one export's files in dependency order and gathers what they hold and what was said."""

    def __init__(self, source: _Source) -> None:
        self.source = source
        self.notes: dict[str, None] = dict.fromkeys(source.notes)
        self.problems: list[str] = []
        self.rejected: list[Rejected] = []
        self.tables: dict[str, _File] = {}
        self.modes: dict[str, str] = {}
        self.version: str | None = None
        self.manifest: dict[str, str] | None = None  # its properties, by lower-case name


    # the files' records

    def _org(self, row: _Row) -> Org:
        return Org(sourced_id=row.id, status=row.status(), date_last_modified=row.modified(),
                   name=row.required("name"),
                   type=row.choice("type", _ORG_TYPES, "an org type", required=True) or "",
                   identifier=row.text("identifier"), parent_id=row.text("parentSourcedId"))

    def _session(self, row: _Row) -> AcademicSession:
        start, end = row.day("startDate", required=True), row.day("endDate", required=True)
        row.ordered(start, end, "startDate", "endDate")
        year = row.text("schoolYear")
        if year is not None and not re.fullmatch(r"\d{4}", year):
            row.errors.append(f"schoolYear '{year}' is not a year such as 2024")
        return AcademicSession(sourced_id=row.id, status=row.status(), date_last_modified=row.modified(),
                               title=row.required("title"),
                               type=row.choice("type", _SESSION_TYPES, "a session type", required=True) or "",
                               start_date=start or date.min, end_date=end or date.min,
                               parent_id=row.text("parentSourcedId"),
                               school_year=int(year) if year and year.isdigit() else None)

    def _course(self, row: _Row) -> Course:
        return Course(sourced_id=row.id, status=row.status(), date_last_modified=row.modified(),
                      title=row.required("title"), course_code=row.text("courseCode"), grades=row.listed("grades"),
                      org_id=row.text("orgSourcedId"), subjects=row.listed("subjects"))

    def _class(self, row: _Row) -> Class:
        return Class(sourced_id=row.id, status=row.status(), date_last_modified=row.modified(),
                     title=row.required("title"), class_code=row.text("classCode"),
                     class_type=row.choice("classType", _CLASS_TYPES, "a class type"),
                     course_id=row.text("courseSourcedId"), school_id=row.text("schoolSourcedId"),
                     term_ids=row.listed("termSourcedIds"), grades=row.listed("grades"),
                     subjects=row.listed("subjects"))

    def _user(self, row: _Row) -> User:
        role = row.choice("role", _ROLES, "a OneRoster role", required=not self._reads("roles.csv"))
        given, family = row.text("givenName"), row.text("familyName")
        if given is None and family is None:
            row.errors.append("givenName and familyName are both empty")
        enabled = row.boolean("enabledUser")
        primary_org = row.text("primaryOrgSourcedId")
        return User(sourced_id=row.id, status=row.status(), date_last_modified=row.modified(),
                    enabled=True if enabled is None else enabled,
                    org_ids=_listed(",".join(filter(None, (primary_org, row.text("orgSourcedIds"))))),
                    role=role or "", username=row.text("username"), user_ids=_user_ids(row.text("userIds")),
                    given_name=given, family_name=family, middle_name=row.text("middleName"),
                    preferred_given_name=row.text("preferredGivenName"),
                    preferred_family_name=row.text("preferredFamilyName"),
                    identifier=row.text("identifier"), email=row.text("email"), grades=row.listed("grades"))

    def _role(self, row: _Row) -> _Role:
        user_id = row.required("userSourcedId")
        if user_id:
            self._must_exist(row, "role", "users.csv", "user", user_id, bulk_only=False)
        return _Role(sourced_id=row.id, status=row.status(), user_id=user_id,
                     role_type=row.choice("roleType", _ROLE_TYPES, "a role type", required=True) or "",
                     role=row.choice("role", _ROLES, "a OneRoster role", required=True) or "",
                     org_id=row.text("orgSourcedId"), line=row.line)

    def _profile(self, row: _Row) -> str:
        user_id = row.required("userSourcedId")
        if user_id:
            self._must_exist(row, "user profile", "users.csv", "user", user_id, bulk_only=False)
        row.status()
        row.modified()
        return user_id

    def _enrollment(self, row: _Row) -> Enrollment:
        class_id, user_id = row.required("classSourcedId"), row.required("userSourcedId")
        if class_id:
            self._must_exist(row, "enrollment", "classes.csv", "class", class_id)
        if user_id:
            self._must_exist(row, "enrollment", "users.csv", "user", user_id)
        begin, end = row.day("beginDate"), row.day("endDate")
        row.ordered(begin, end, "beginDate", "endDate")
        return Enrollment(sourced_id=row.id, status=row.status(), date_last_modified=row.modified(),
                          class_id=class_id, school_id=row.text("schoolSourcedId"), user_id=user_id,
                          role=row.choice("role", _ROLES, "a OneRoster role", required=True) or "",
                          primary=row.boolean("primary"), begin_date=begin, end_date=end)

    def _reads(self, name: str) -> bool:
        return self.modes.get(name) in ("bulk", "delta")

    def _must_exist(self, row: _Row, what: str, target: str, kind: str, key: str, bulk_only: bool = True) -> None:
        """Rejects ``row`` when ``key`` is not among ``target``'s records (read in bulk, unless
        ``bulk_only`` is off: a role or profile can only belong to a user of this export)."""
        table = self.tables.get(target)
        if table is None or key in table.records or (bulk_only and self.modes.get(target) != "bulk"):
            return
        line = table.rejected_lines.get(key)
        where = f"which was rejected ({table.name} line {line})" if line else f"which is not in {table.name}"
        row.errors.append(f"{what} names {kind} '{key}', {where}")

    # the whole export

    def run(self) -> Roster:
        self._manifest()
        if not self.problems:
            self._plan()
        builders: dict[str, Callable[[_Row], Any]] = {
            _ORGS.name: self._org, _SESSIONS.name: self._session, _COURSES.name: self._course,
            _CLASSES.name: self._class, _USERS.name: self._user, _ROLES_FILE.name: self._role,
            _PROFILES.name: self._profile, _ENROLLMENTS.name: self._enrollment}
        for spec in _HUB_FILES if not self.problems else ():
            if spec is _PROFILES:
                self._finish_users()
            if not self._reads(spec.name):
                continue
            required = None
            if spec is _USERS and not self._reads("roles.csv"):
                required = spec.required + ("role",)
            try:
                table = _parse(self.source, spec, builders[spec.name], required)
            except _Problem as problem:
                self.problems.append(str(problem))
                continue
            self.tables[spec.name] = table
            self.rejected.extend(table.rejected)
            self.notes.update(table.notes)
            if spec is _USERS and not table.rows:
                self.problems.append(f"{table.name} has no rows: the hub will not take an export without users")
            elif not table.rows:
                self._note(f"{table.name} has no rows")
        self._check_references()
        return self._roster()

    def _note(self, text: str) -> None:
        self.notes[text] = None

    def _manifest(self) -> None:
        present = set(self.source.files)
        if "manifest.csv" in present:
            try:
                file = _parse(self.source, _MANIFEST, lambda row: row.required("value"))
            except _Problem as problem:
                self.problems.append(str(problem))
                return
            self.rejected.extend(file.rejected)
            self.notes.update(file.notes)
            self.manifest = {key.lower(): value for key, value in file.records.items()}
            name = file.name
            for key, value in file.records.items():
                if key.lower().startswith("file."):
                    target = _KNOWN.get(key[5:].lower() + ".csv")
                    mode = value.lower()
                    if target is None:
                        self._note(f"{name} names {key}, which OneRoster does not define; ignored")
                    elif mode not in MODES:
                        self.problems.append(f"{name} gives {key} as '{value}'; it should be bulk, delta or absent")
                    else:
                        self.modes[target] = mode
            version = self.manifest.get("oneroster.version")
            if version is not None:
                match = _VERSION.fullmatch(version.lower())
                if match is None:
                    self.problems.append(f"{name} says oneroster.version is '{version}'; the hub reads OneRoster "
                                         f"{_names(list(VERSIONS))}")
                self.version = f"1.{match[1]}" if match else None
                return
        guess = "1.2" if {"roles.csv", "userprofiles.csv"} & present else "1.1"
        why = " (roles.csv or userProfiles.csv is there)" if guess == "1.2" else ""
        self.version = guess
        if self.manifest is None:
            self._note(f"there is no manifest.csv: the export is read as OneRoster {guess}{why}, and every "
                       "file in it as bulk")
        else:
            self._note(f"manifest.csv has no oneroster.version: the export is read as OneRoster {guess}{why}")

    def _plan(self) -> None:
        """Each file's mode: what the manifest says, corrected by what is there."""
        present = set(self.source.files)
        for spec in _HUB_FILES:
            name, here = spec.name, spec.name.lower() in present
            mode = self.modes.get(name)
            if self.manifest is None or (mode is None and not here):
                mode = "bulk" if here else "absent"
            elif mode is None:
                mode = "bulk"
                self._note(f"manifest.csv does not mention {name}; it is read as bulk")
            elif mode == "absent" and here:
                self._note(f"{name} is in the export, but manifest.csv says it is absent; it is not read")
            elif mode != "absent" and not here:
                self._note(f"manifest.csv says {name} is {mode}, but the export has no {name}; taken as absent")
                mode = "absent"
            self.modes[name] = mode
        if self.modes["users.csv"] == "absent":
            said = "manifest.csv says users.csv is absent" if "users.csv" in present else "there is no users.csv"
            self.problems.append(f"{said}: the hub needs the export's users")
        unused = sorted(self.source.files[n] for n in present
                        if n not in ("manifest.csv", *(s.name.lower() for s in _HUB_FILES)))
        if unused:
            self._note(f"not read, the hub has no use for them: {_names(unused)}")
        self.modes = {name: self.modes[name] for name in sorted(self.modes, key=str.lower)}

    def _finish_users(self) -> None:
        """Gives 1.2 users their role and orgs from roles.csv, and rejects users left without a role."""
        users, roles = self.tables.get("users.csv"), self.tables.get("roles.csv")
        if users is None or roles is None:
            return
        by_user: dict[str, list[_Role]] = {}
        for role in roles.records.values():
            by_user.setdefault(role.user_id, []).append(role)
        for key, user in list(users.records.items()):
            mine = by_user.get(key, [])
            live = [r for r in mine if r.status == "active"] or mine
            primaries = [r for r in live if r.role_type == "primary"]
            for extra in primaries[1:]:
                self.rejected.append(Rejected(roles.name, extra.line, f"user '{key}' has a second primary role "
                                              f"(the first is at line {primaries[0].line}); only the first is taken"))
            chosen = primaries[0] if primaries else (live[0] if live else None)
            role = user.role
            if not role and chosen is None:
                line = users.lines.pop(key)
                del users.records[key]
                users.rejected_lines[key] = line
                said = "role is empty, and " if "role" in users.columns else ""
                self.rejected.append(Rejected(users.name, line, f"{said}{roles.name} gives this user no role"))
                continue
            if not role and chosen is not None:
                role = chosen.role
                if not primaries:
                    self._note(f"{roles.name}: user '{key}' has no primary role; their first role "
                               f"({chosen.role}, line {chosen.line}) is taken")
            org_ids = tuple(dict.fromkeys([*user.org_ids, *(r.org_id for r in live if r.org_id)]))
            if role != user.role or org_ids != user.org_ids:
                users.records[key] = replace(user, role=role, org_ids=org_ids)

    def _check_references(self) -> None:
        """Notes every reference that points nowhere, kept (an enrollment's class and user were
        checked as it was read); and the references that cannot be checked here at all."""
        def ids(table: str, get: Callable[[Any], Any]) -> list[tuple[str, str, Any]]:
            file = self.tables.get(table)
            if file is None:
                return []
            found: list[tuple[str, str, Any]] = []
            for key, record in file.records.items():
                value = get(record)
                if isinstance(value, tuple):
                    found.extend((key, one, record) for one in value)
                elif value:
                    found.append((key, value, record))
            return found

        checks: list[tuple[str, str, Callable[[Any], Any], str]] = [
            ("orgs.csv", "orgs.csv", lambda r: r.parent_id, "parent"),
            ("academicSessions.csv", "academicSessions.csv", lambda r: r.parent_id, "parent"),
            ("courses.csv", "orgs.csv", lambda r: r.org_id, "org"),
            ("classes.csv", "courses.csv", lambda r: r.course_id, "course"),
            ("classes.csv", "orgs.csv", lambda r: r.school_id, "school"),
            ("classes.csv", "academicSessions.csv", lambda r: r.term_ids, "term"),
            ("users.csv", "orgs.csv", lambda r: r.org_ids, "org"),
            ("enrollments.csv", "orgs.csv", lambda r: r.school_id, "school"),
            ("enrollments.csv", "classes.csv", lambda r: r.class_id, "class"),
            ("enrollments.csv", "users.csv", lambda r: r.user_id, "user"),
        ]
        for source, target, get, kind in checks:
            refs = ids(source, get)
            if not refs:
                continue
            name, lines = self.tables[source].name, self.tables[source].lines
            targets = self.tables.get(target)
            if self.modes.get(target) != "bulk" or targets is None:
                self._note(f"{name}: {target} is {self.modes.get(target, 'absent')} in this export, so the "
                           f"{_plural(kind)} it names are checked when the roster is applied, against those the "
                           "hub holds")
                continue
            missing = [(lines[key], ref) for key, ref, _ in refs if ref not in targets.records]
            if missing:
                shown = ", ".join(f"line {line}: '{ref}'" for line, ref in missing[:5])
                more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
                rows = "1 row names" if len(missing) == 1 else f"{len(missing)} rows name"
                kept = "it is kept" if len(missing) == 1 else "they are kept"
                self._note(f"{name}: {rows} {_a(kind)} that is not in {targets.name} ({shown}{more}); {kept}")
            if source == "enrollments.csv" and kind in ("class", "user"):
                doomed = [lines[key] for key, ref, record in refs if record.status == "active"
                          and ref in targets.records and targets.records[ref].status == "tobedeleted"]
                if doomed:
                    self._note(f"{name}: active enrollments of a {kind} marked tobedeleted are kept as the export "
                               f"gives them, to be archived with it (line {', '.join(map(str, doomed))})")

    def _roster(self) -> Roster:
        order = {self.source.files.get(name.lower(), name): i
                 for i, name in enumerate(["manifest.csv", *(s.name for s in _HUB_FILES)])}
        rejected = tuple(sorted(self.rejected, key=lambda r: (order.get(r.file, 99), r.line)))
        if self.problems:
            rejected = ()

        def records(name: str) -> tuple[Any, ...]:
            table = self.tables.get(name)
            return tuple(table.records.values()) if table and not self.problems else ()

        return Roster(version=self.version, modes=self.modes, orgs=records("orgs.csv"),
                      academic_sessions=records("academicSessions.csv"), courses=records("courses.csv"),
                      classes=records("classes.csv"), users=records("users.csv"),
                      enrollments=records("enrollments.csv"), rejected=rejected, notes=tuple(self.notes),
                      problems=tuple(self.problems),
                      lines={} if self.problems else {name: (table.name, dict(table.lines))
                                                       for name, table in self.tables.items()})


@dataclass(frozen=True, slots=True)
class _Role:
    """A row of 1.2's roles.csv: kept only to give users their role and orgs."""

    sourced_id: str
    status: str
    user_id: str
    role_type: str
    role: str
    org_id: str | None
    line: int


def read(path: str | os.PathLike[str]) -> Roster:
    """The OneRoster export at ``path`` (a folder of CSV files, or a zip of them). Never raises for a
    bad export: what stops it is in ``problems``, and what was left out in ``rejected``."""
    where = Path(path)
    try:
        if where.is_dir():  # OSError here (permissions, a dead mount) is a problem too
            source: _Source = _Folder(where)
        elif where.is_file():
            if where.suffix.lower() == ".csv":
                return Roster(problems=(f"{where.name} is one CSV file; give the folder or the zip that holds "
                                        "the export's files",))
            source = _Zip(where)
        else:
            return Roster(problems=(f"{where} is neither a folder nor a zip file (is the path right?)",))
    except _Problem as problem:
        return Roster(problems=(str(problem),))
    except OSError as exc:
        return Roster(problems=(f"{where} cannot be read: {exc.strerror or exc}",))
    try:
        return _Reader(source).run()
    finally:
        source.close()
