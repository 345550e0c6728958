"""OneRoster 1.1 and 1.2 CSV exports, read as school systems really write them. Pure.

``read(path)`` takes a folder of CSV files, or a zip of them (at its root or in one folder inside
it), and returns a ``Roster``: plain frozen records (orgs, academic sessions, courses, classes,
users, enrollments) keyed by ``sourced_id``, and three lists of things to tell the school's IT
person. It never writes, never touches the database and never raises for a bad export: a later
step applies the roster to the hub and shows what was said.

What is said, and what it costs:

- ``problems`` mean the export as a whole cannot be trusted, and no record is returned: not a
  folder or zip, a damaged zip, a file too large once unpacked, no ``users.csv`` (or one without
  rows), a file the hub reads that is not text or lacks a column without which no row means
  anything, a manifest that names a version or mode this hub does not know. A file the hub
  reads is all or nothing because the manifest makes most files *bulk*: "these are all the
  classes". Taking a bulk export with one of its files unreadable would tell the hub that every
  class is gone. Every problem is collected before giving up, so one round of fixes is enough;
  rows are then neither taken nor rejected (most rejections would follow from the problem).
- ``rejected`` rows are left out one by one (file, physical line, every reason found on the row).
- ``notes`` reject nothing: a column read under its proper name, an extra column, a file in
  Windows-1252 rather than UTF-8, times without a time zone, references the parser could not
  or need not check, files present but not read.

Leniency follows what the hub needs, which is less than the specification requires. A row is
rejected when its record would mean nothing (no ``sourcedId``, a class without a title, a user
with neither given nor family name, an enrollment without its class, user or role) or when a
value is malformed (a date that is not a date, a role outside the vocabulary); a column the
specification requires but the hub can do without (``enabledUser``, ``classType``,
``schoolSourcedId``...) may be missing, with a note, and its values may be blank.

Decisions on dirty input, each tested in tests/interop/test_oneroster.py:

- Encoding: UTF-8 with or without a byte order mark; a file that is not valid UTF-8 is read
  again from its start as Windows-1252 (a superset of Latin-1's printable characters, and what
  spreadsheet programs on Windows write), with a note; UTF-16 with a byte order mark (a
  spreadsheet's "Unicode text") is read too. A file with control characters, or that decodes
  in none of these, is not text: a problem.
- Delimiter: sniffed on the header line among comma, semicolon and tab; a first line
  ``sep=;`` (Excel's hint) is honoured. Line endings are any of LF, CRLF and CR.
- Headers: matched to the specification's names regardless of case, spaces, underscores and
  hyphens (``date_last_modified``), then by close spelling (``difflib`` at 0.85:
  ``givenNmae``, ``sourceID``); every renaming is noted, and unknown columns are ignored with a
  note. A repeated column: the first is read.
- Rows: blank rows are skipped; missing trailing values are blank. A row with values past the
  header is rejected when any of them is not blank (an unquoted comma shifted every value after
  it); blank ones are an export's padding when most rows carry them, and otherwise a shift too.
  Values are stripped; a blank value is ``None`` (or an empty tuple for lists).
- Dates: ``YYYY-MM-DD`` or ``YYYY/MM/DD``, optionally followed (after ``T`` or a space) by a
  time with optional seconds, fraction and zone (``Z``, ``+02:00``, ``+0200``, ``+02``).
  Datetimes come back aware, in UTC; one without a zone is taken as UTC, with a note once per
  file. Day/month/year and month/day/year forms are never read, even when a value could only
  be one of them: within one file ``3/4/2024`` could not be told apart, so the row is rejected
  with both readings named. A date column given a datetime keeps its date as written.
- Booleans: true/false, 1/0, yes/no, in any case. Lists: comma-separated within one value,
  stray spaces and repeats dropped. Vocabularies (status, org and session types, roles...)
  match regardless of case, spaces and underscores and come back in the specification's
  spelling; ``ext:`` extension values are kept as given. A status left blank is ``active``
  (as in 1.1 bulk files); ``inactive`` (OneRoster 1.0) is read as ``tobedeleted``, noted.
- Duplicate ``sourcedId`` within a file: the first row claims it; later ones are rejected,
  naming the first row's line.
- References are checked only against files read in *bulk*: a delta or absent file says
  nothing about the records the hub already holds, so its references are left to the step
  that applies the roster (and a note says so). An enrollment naming a class or user that is
  not there is rejected, since it cannot be applied; any other missing reference (a class's
  course, school or terms, a user's orgs, an org's parent) keeps the record, with one note per
  kind of reference. An active enrollment of a user or class marked ``tobedeleted`` is kept as
  given, with a note: the applier archives the class or user, and the enrollment with it.
- Roles in 1.2: a user's role is ``users.csv``'s ``role`` when it has one, otherwise their
  primary role in ``roles.csv`` (active roles first; a second primary role is rejected; with no
  primary role their first role is taken, noted). Their orgs are ``primaryOrgSourcedId``,
  ``orgSourcedIds`` and their roles' orgs, in that order. ``userProfiles.csv`` is checked
  (columns, duplicates, its users) and not returned.
- The manifest: ``oneroster.version`` gives the version; without a manifest (or the
  property) the version is guessed from the files (``roles.csv`` or ``userProfiles.csv`` mean
  1.2), noted. ``file.X`` gives each file's mode (``Roster.modes``, by file name): ``absent``
  is honoured even when the file is there; a file named bulk or delta but not there is absent;
  a file the manifest does not mention is read as bulk. ``modes`` says what was read.
- Zips are read member by member in memory, never extracted: a member whose path is absolute
  or climbs out with ``..`` is never opened, only the known file names are read, and a member
  larger than 50 MB unpacked, or 200 MB in all, is refused before anything is unpacked.
- Large files stream through ``csv.reader``: one row in memory at a time, besides the records.

Line numbers are physical lines (the header is line 1), counted by the CSV reader itself, so a
quoted value holding line breaks moves the next row's number as an editor shows it.

The package, one module per concern, each importing only the standard library and the modules
listed before it:

- ``records``: what ``read`` returns (the frozen records, ``Rejected``, ``Roster``);
- ``values``: OneRoster's vocabulary (each file's columns, roles, types) and how one value is
  read (dates, booleans, lists, user ids), with the wording shared by messages;
- ``sources``: where the files are (a folder, or a zip read in memory behind its size guard);
- ``csvfile``: one file read tolerantly into records (encodings, delimiters, headers, rows);
- ``reader``: the export as a whole (manifest, modes, 1.2 roles, references) and ``read``.
"""

from __future__ import annotations

from .csvfile import FUZZY_CUTOFF as FUZZY_CUTOFF
from .reader import read
from .records import KINDS as KINDS
from .records import AcademicSession, Class, Course, Enrollment, Org, Record, Rejected, Roster, User
from .sources import MAX_MEMBER_BYTES as MAX_MEMBER_BYTES
from .sources import MAX_TOTAL_BYTES as MAX_TOTAL_BYTES
from .values import MODES as MODES
from .values import ROLES as ROLES
from .values import VERSIONS as VERSIONS

__all__ = ["AcademicSession", "Class", "Course", "Enrollment", "Org", "Record", "Rejected", "Roster", "User", "read"]
