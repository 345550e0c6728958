"""What ``read`` returns: frozen records keyed by ``sourced_id``, rejected rows and the ``Roster``.

Separate because this is the package's contract with the step that applies a roster to the hub:
plain data, nothing about how it was read.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any


def _plain(value: Any) -> Any:
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


@dataclass(frozen=True, slots=True)
class Record:
    """What every OneRoster record carries. ``status`` is ``active`` or ``tobedeleted``;
    ``date_last_modified`` is aware (UTC) or None."""

    sourced_id: str
    status: str
    date_last_modified: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data: dates as ISO 8601 text, tuples as lists."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class Org(Record):
    name: str
    type: str  # department, school, district, local, state, national (or ext:...)
    identifier: str | None
    parent_id: str | None


@dataclass(frozen=True, slots=True)
class AcademicSession(Record):
    title: str
    type: str  # gradingPeriod, semester, schoolYear, term (or ext:...)
    start_date: date
    end_date: date
    parent_id: str | None
    school_year: int | None


@dataclass(frozen=True, slots=True)
class Course(Record):
    title: str
    course_code: str | None
    grades: tuple[str, ...]
    org_id: str | None
    subjects: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Class(Record):
    title: str
    class_code: str | None
    class_type: str | None  # homeroom, scheduled (or ext:...)
    course_id: str | None
    school_id: str | None
    term_ids: tuple[str, ...]
    grades: tuple[str, ...]
    subjects: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class User(Record):
    enabled: bool
    org_ids: tuple[str, ...]
    role: str  # one of ROLES (or ext:...)
    username: str | None
    user_ids: tuple[tuple[str, str], ...]  # (type, identifier): "{Fed:1234}" is ("Fed", "1234")
    given_name: str | None  # at least one of the two names is there
    family_name: str | None
    middle_name: str | None
    preferred_given_name: str | None  # 1.2: the name a learner goes by
    preferred_family_name: str | None
    identifier: str | None
    email: str | None
    grades: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Enrollment(Record):
    class_id: str
    school_id: str | None
    user_id: str
    role: str  # one of ROLES (or ext:...)
    primary: bool | None
    begin_date: date | None
    end_date: date | None


@dataclass(frozen=True, slots=True)
class Rejected:
    """A row that could not be taken: its file (as named in the export), its first physical
    line (the header is line 1) and why, in words for the person who exported it."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file} line {self.line}: {self.reason}"


KINDS = ("orgs", "academic_sessions", "courses", "classes", "users", "enrollments")


@dataclass(frozen=True)
class Roster:
    """What an export holds, in file order, and what was said reading it. With ``problems``,
    every record tuple and ``rejected`` are empty (the notes made on the way are kept)."""

    version: str | None = None  # "1.1" or "1.2"; None when the export could not be read
    modes: dict[str, str] = field(default_factory=dict, hash=False)  # "users.csv": bulk, delta or absent
    orgs: tuple[Org, ...] = ()
    academic_sessions: tuple[AcademicSession, ...] = ()
    courses: tuple[Course, ...] = ()
    classes: tuple[Class, ...] = ()
    users: tuple[User, ...] = ()
    enrollments: tuple[Enrollment, ...] = ()
    rejected: tuple[Rejected, ...] = ()
    notes: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    # Where each record came from, for a later step that refuses one and must name its row:
    # per file read ("users.csv"), its name in the export and each record's line by sourcedId.
    lines: dict[str, tuple[str, dict[str, int]]] = field(default_factory=dict, hash=False, compare=False)

    @property
    def ok(self) -> bool:
        """Whether the export could be read at all (rows may still have been rejected)."""
        return not self.problems

    def counts(self) -> dict[str, int]:
        """Records of each kind, and rows rejected."""
        return {kind: len(getattr(self, kind)) for kind in KINDS} | {"rejected": len(self.rejected)}

    def to_dict(self) -> dict[str, Any]:
        """The roster as JSON-ready data."""
        return {"version": self.version, "modes": dict(self.modes),
                **{kind: [record.to_dict() for record in getattr(self, kind)] for kind in KINDS},
                "rejected": [{"file": r.file, "line": r.line, "reason": r.reason} for r in self.rejected],
                "notes": list(self.notes), "problems": list(self.problems)}
