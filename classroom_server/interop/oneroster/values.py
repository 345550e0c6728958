"""OneRoster's vocabulary and how one value is read: the pure rules beneath every file.

Each file's columns in either version (``_Spec``), the file names, the roles and types with
their spellings; then dates, datetimes, booleans, lists and user ids, and the few words shared
by messages. Separate because none of it knows about files, rows or exports.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

VERSIONS = ("1.1", "1.2")
MODES = ("bulk", "delta", "absent")


# --- the vocabulary -----------------------------------------------------------------------------

_DROP = str.maketrans("", "", " _-\t")


def _key(text: str) -> str:
    """How two spellings of one name compare: no case, spaces, underscores or hyphens."""
    return text.strip().lstrip("\ufeff").lower().translate(_DROP)


def _vocabulary(*words: str) -> dict[str, str]:
    return {_key(word): word for word in words}


# Users' roles in 1.1 and 1.2, and enrollments' (a subset in both); the spec's spelling.
ROLES = ("administrator", "aide", "counselor", "districtAdministrator", "guardian", "parent", "principal",
         "proctor", "relative", "siteAdministrator", "student", "systemAdministrator", "teacher")
_ROLES = _vocabulary(*ROLES)
_ORG_TYPES = _vocabulary("department", "school", "district", "local", "state", "national")
_SESSION_TYPES = _vocabulary("gradingPeriod", "semester", "schoolYear", "term")
_CLASS_TYPES = _vocabulary("homeroom", "scheduled")
_ROLE_TYPES = _vocabulary("primary", "secondary")
_BOOLEANS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


@dataclass(frozen=True)
class _Spec:
    """A file's columns in either version; ``required`` ones the hub cannot do without (their
    absence is a problem); ``expected`` ones the specification requires and the hub does
    without (their absence is a note)."""

    name: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    expected: tuple[str, ...] = ()
    key: str = "sourcedId"


_COMMON = ("sourcedId", "status", "dateLastModified")
_MANIFEST = _Spec("manifest.csv", ("propertyName", "value"), ("propertyName", "value"), key="propertyName")
_ORGS = _Spec("orgs.csv", _COMMON + ("name", "type", "identifier", "parentSourcedId"), ("sourcedId", "name", "type"))
_SESSIONS = _Spec("academicSessions.csv", _COMMON + ("title", "type", "startDate", "endDate", "parentSourcedId",
                                                    "schoolYear"),
                  ("sourcedId", "title", "type", "startDate", "endDate"), ("schoolYear",))
_COURSES = _Spec("courses.csv", _COMMON + ("schoolYearSourcedId", "title", "courseCode", "grades", "orgSourcedId",
                                          "subjects", "subjectCodes", "resourceSourcedIds"),
                 ("sourcedId", "title"), ("orgSourcedId",))
_CLASSES = _Spec("classes.csv", _COMMON + ("title", "grades", "courseSourcedId", "classCode", "classType", "location",
                                          "schoolSourcedId", "termSourcedIds", "subjects", "subjectCodes", "periods",
                                          "resourceSourcedIds"),
                 ("sourcedId", "title"), ("courseSourcedId", "classType", "schoolSourcedId", "termSourcedIds"))
_USERS = _Spec("users.csv", _COMMON + ("enabledUser", "orgSourcedIds", "role", "username", "userIds", "givenName",
                                      "familyName", "middleName", "identifier", "email", "sms", "phone",
                                      "agentSourcedIds", "grades", "password", "userMasterIdentifier",
                                      "resourceSourcedIds", "preferredGivenName", "preferredMiddleName",
                                      "preferredFamilyName", "primaryOrgSourcedId", "pronouns"),
               ("sourcedId", "givenName", "familyName"), ("enabledUser", "username"))
_ROLES_FILE = _Spec("roles.csv", _COMMON + ("userSourcedId", "roleType", "role", "beginDate", "endDate", "orgSourcedId",
                                           "userProfileSourcedId"),
                    ("sourcedId", "userSourcedId", "roleType", "role"), ("orgSourcedId",))
_PROFILES = _Spec("userProfiles.csv", _COMMON + ("userSourcedId", "profileType", "vendorId", "applicationId",
                                                "description", "credentialType", "username", "password"),
                  ("sourcedId", "userSourcedId"), ("profileType", "vendorId", "credentialType"))
_ENROLLMENTS = _Spec("enrollments.csv", _COMMON + ("classSourcedId", "schoolSourcedId", "userSourcedId", "role",
                                                  "primary", "beginDate", "endDate"),
                     ("sourcedId", "classSourcedId", "userSourcedId", "role"), ("schoolSourcedId",))
# The order they are read in: each file's references point to files read before it.
_HUB_FILES = (_ORGS, _SESSIONS, _COURSES, _CLASSES, _USERS, _ROLES_FILE, _PROFILES, _ENROLLMENTS)
_OTHER_FILES = ("demographics.csv", "categories.csv", "classResources.csv", "courseResources.csv", "lineItems.csv",
                "resources.csv", "results.csv", "userResources.csv", "scoreScales.csv", "lineItemScoreScales.csv",
                "resultScoreScales.csv", "lineItemLearningObjectiveIds.csv", "resultLearningObjectiveIds.csv")
_KNOWN = {name.lower(): name for name in ("manifest.csv", *(s.name for s in _HUB_FILES), *_OTHER_FILES)}
_READ = {"manifest.csv", *(spec.name.lower() for spec in _HUB_FILES)}
_ALIASES = {"parent": "parentSourcedId", "agents": "agentSourcedIds"}  # names too far off for difflib


# --- values -------------------------------------------------------------------------------------

_ISO = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})"
                  r"(?:[Tt ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?)?")
_DAY_MONTH = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?:[Tt ].*)?")
_USER_ID = re.compile(r"\{[^}]*\}|[^,]+")
_VERSION = re.compile(r"v?1[.p]([12])(?:\.\d+)*")
_SEP_LINE = re.compile(r"sep=([,;\t])\s*")
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _Bad(Exception):
    """A value that is not what its column holds; the message is the rejection's reason."""


def _valid_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _not_a_date(column: str, value: str) -> _Bad:
    """Why ``value`` is no date, naming both readings of a day/month form when they differ."""
    match = _DAY_MONTH.fullmatch(value)
    if match and len(match[3]) == 4:
        first, second, year = int(match[1]), int(match[2]), int(match[3])
        readings = sorted({d.isoformat() for d in (_valid_date(year, first, second), _valid_date(year, second, first))
                           if d is not None})
        if len(readings) == 2:
            return _Bad(f"{column} '{value}' is ambiguous ({readings[0]} or {readings[1]}?); "
                        "write dates as YYYY-MM-DD")
    if _ISO.fullmatch(value):
        return _Bad(f"{column} '{value}' is not a date")
    return _Bad(f"{column} '{value}' is not a date (write dates as YYYY-MM-DD)")


def _zone(text: str) -> timezone:
    if text in ("Z", "z"):
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(text)
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if text[0] == "-" else offset)


@functools.lru_cache(maxsize=4096)  # an export repeats its timestamps: one run stamps thousands of rows
def _moment(column: str, value: str) -> tuple[datetime, bool]:
    """A date or datetime as an aware UTC datetime, and whether it named its zone."""
    match = _ISO.fullmatch(value)
    if match is None:
        raise _not_a_date(column, value)
    year, _, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                          int((fraction or "0")[:6].ljust(6, "0")), tzinfo=_zone(zone) if zone else UTC)
        return moment.astimezone(UTC), zone is not None
    except (ValueError, OverflowError):
        raise _not_a_date(column, value) from None


@functools.lru_cache(maxsize=4096)
def _day(column: str, value: str) -> date:
    """A date as written (a datetime's date part, its zone unapplied)."""
    match = _ISO.fullmatch(value)
    found = _valid_date(int(match[1]), int(match[3]), int(match[4])) if match else None
    if found is None:
        raise _not_a_date(column, value)
    return found


def _listed(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))


def _user_ids(value: str | None) -> tuple[tuple[str, str], ...]:
    """``{Fed:1234},{LDAP:ann}`` as pairs; an entry without a type has an empty one."""
    pairs: list[tuple[str, str]] = []
    for entry in _USER_ID.findall(value or ""):
        entry = entry.strip().strip("{}").strip()
        if entry:
            kind, colon, identifier = entry.partition(":")
            pairs.append((kind.strip(), identifier.strip()) if colon else ("", entry))
    return tuple(dict.fromkeys(pairs))


def _mb(size: int) -> str:
    return f"{math.ceil(size / 100_000) / 10:g} MB"  # rounded up: one byte over 50 MB is not "50 MB"


def _a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def _plural(word: str) -> str:
    return word + ("es" if word.endswith("s") else "s")


def _too_wide(cells: int, width: int) -> str:
    return (f"this row has {cells} values but the header has {width} columns "
            "(is there a comma in a value without quotes around it?)")


def _names(items: list[str], word: str = "and") -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"
