"""A class list as a simple CSV of names, or names pasted one a line: the learners to add.

Teachers keep class lists in whatever spreadsheet they have, so the file is taken as it comes:
with or without a header row; a column of names, or of first and last names (in English,
Spanish or French headings); an optional grade and an optional way to sign in (pictures, a PIN,
or empty for the class's way). Commas, semicolons (a European spreadsheet's CSV) and tabs are
told apart by ``csv.Sniffer``; a byte-order mark, CRLF and a file that is not UTF-8 (read as
Windows-1252, and said so) are taken too. Cells copied from a spreadsheet and pasted are
tab-separated; anything else pasted is one name a line ("Kamau, Amani" is one name), unless
its first line is a CSV's heading row ("name,grade").

Pure, like the OneRoster parser next door: plain data in, plain data out, no Flask, no peewee.
What is wrong is said in codes with parameters (``REASONS``, ``PROBLEMS``, ``NOTES`` hold the
English words), so the web layer can phrase them in the teacher's language. A row that cannot
be a learner is rejected with its line and the reason; every other row is kept. A name that
appears twice is never merged: the second is rejected, naming the first's line.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

MAX_BYTES = 100_000  # a class list of 60 names is about 2 KB; under the csv module's field limit
MAX_ROWS = 500  # far more than a class: the whole school is a OneRoster import
NAME_MAX = 60  # the hub's own limit (services/accounts.NAME_MAX); callers pass theirs
GRADE_MAX = 20  # a grade is only shown, so a longer one is cut, never a reason to refuse a learner
KINDS = ("picture", "pin")

# Why a row was left out (the row's line and these words with ``Rejected.params``).
EMPTY_NAME = "empty_name"
NAME_TOO_LONG = "name_too_long"
DUPLICATE = "duplicate"
UNREADABLE = "unreadable"
BROKEN_QUOTES = "broken_quotes"
UNKNOWN_SIGN_IN = "unknown_sign_in"
CLASS_USES_PICTURES = "class_uses_pictures"
CLASS_USES_PIN = "class_uses_pin"
REASONS = {
    EMPTY_NAME: "This row has no name.",
    NAME_TOO_LONG: "The name has %(length)d characters; a name can have at most %(max)d.",
    DUPLICATE: "The same name as line %(first)d: two learners with one name could not tell which is theirs when "
               "they sign in. Add an initial to one of them.",
    UNREADABLE: "The name has characters that could not be read. Save the file as CSV UTF-8 and choose it again.",
    BROKEN_QUOTES: "This row runs over several lines: a quotation mark is probably missing.",
    UNKNOWN_SIGN_IN: "\"%(value)s\" is not a way to sign in: write picture or PIN, or leave it empty for the "
                     "class's way.",
    CLASS_USES_PICTURES: "Everyone in this class signs in with pictures, so this learner cannot have a PIN.",
    CLASS_USES_PIN: "Everyone in this class signs in with a PIN, so this learner cannot have pictures.",
}

# Why nothing could be read (nothing is added).
EMPTY = "empty"
TOO_BIG = "too_big"
TOO_MANY = "too_many"
SPREADSHEET = "spreadsheet"
NOT_TEXT = "not_text"
NO_NAME_COLUMN = "no_name_column"
PROBLEMS = {
    EMPTY: "There are no names in it.",
    TOO_BIG: "It is larger than %(max)d KB, and a list of names is much smaller. Is it the right file?",
    TOO_MANY: "It has more than %(max)d names. Add one class's learners at a time.",
    SPREADSHEET: "This is a spreadsheet file, not CSV. In the spreadsheet, choose Save as (or Download) and CSV, "
                 "then choose that file.",
    NOT_TEXT: "This file is not text. Choose a CSV file, or paste the names instead.",
    NO_NAME_COLUMN: "The first row looks like column headings, but none of them is for names. Call the column of "
                    "names \"name\" (or \"first name\" and \"last name\").",
}

# What was read in a way worth checking.
WINDOWS_1252 = "windows_1252"
UNUSED_COLUMN = "unused_column"
UNUSED_COLUMN_NUMBER = "unused_column_number"
NOTES = {
    WINDOWS_1252: "The file is not UTF-8, so it was read as Windows-1252 (Western European letters). Check that "
                  "the names look right.",
    UNUSED_COLUMN: "The column \"%(column)s\" was not used.",
    UNUSED_COLUMN_NUMBER: "Column %(number)d was not used.",
}

# Column headings, compared without case, accents, dots, dashes or underscores.
_NAME = {"name", "names", "full name", "fullname", "display name", "learner", "learner name", "student",
         "student name", "pupil", "nombre", "nombre completo", "estudiante", "alumno", "alumna", "nom",
         "nom complet", "eleve", "nom de l eleve"}
_GIVEN = {"given name", "givenname", "given", "first name", "firstname", "first", "forename", "prenom",
          "nombres", "nombre de pila"}
_FAMILY = {"family name", "familyname", "family", "last name", "lastname", "last", "surname", "apellido",
           "apellidos", "nom de famille"}
_GRADE = {"grade", "grade level", "year", "year group", "level", "class level", "grado", "curso", "nivel",
          "niveau", "classe"}
_SIGN_IN = {"sign in", "signin", "sign in kind", "sign in with", "sign in method", "login", "login kind",
            "password", "password kind", "acceso", "inicio de sesion", "contrasena", "connexion",
            "mot de passe"}
_HEADINGS = _NAME | _GIVEN | _FAMILY | _GRADE | _SIGN_IN
# Values of the sign-in column (``None``: the class's own way).
_KIND_WORDS = {
    "picture": "picture", "pictures": "picture", "picture password": "picture", "image": "picture",
    "images": "picture", "imagen": "picture", "imagenes": "picture", "dibujo": "picture",
    "dibujos": "picture",
    "pin": "pin", "pin code": "pin", "code": "pin", "code pin": "pin", "codigo": "pin",
    "default": None, "class default": None, "class": None, "as the class": None,
    "por defecto": None, "clase": None, "la clase": None, "par defaut": None, "classe": None,
    "comme la classe": None,
}
_YOUNG_GRADES = {"K", "KG", "PK", "TK", "PREK", "PRE K", "R", "CP", "GS", "MS", "PS"}
_DELIMITERS = ",;\t"


@dataclass(frozen=True)
class Learner:
    """A row that can be a learner: their name, cleaned (spaces collapsed, NFC)."""

    line: int
    name: str
    grade: str = ""
    sign_in: str | None = None  # "picture" or "pin" when the row says so; None: the class's way


@dataclass(frozen=True)
class Rejected:
    """A row left out: its first line, what it held, and why (``code`` in ``REASONS``)."""

    line: int
    text: str
    code: str
    params: dict[str, object] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return REASONS[self.code] % self.params


@dataclass(frozen=True)
class Message:
    """A problem (``PROBLEMS``) or a note (``NOTES``)."""

    code: str
    params: dict[str, object] = field(default_factory=dict)

    @property
    def words(self) -> str:
        return {**PROBLEMS, **NOTES}[self.code] % self.params


@dataclass
class Names:
    """What a list gave. ``text`` is the list as text (a file decoded): a preview sends it back
    to be read again, the same way, when the teacher confirms."""

    text: str
    learners: list[Learner] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    problems: list[Message] = field(default_factory=list)  # nothing could be read: nothing is added
    notes: list[Message] = field(default_factory=list)

    @property
    def readable(self) -> bool:
        return not self.problems


def name_key(name: str) -> str:
    """Two names are the same learner's when this is equal: case, accents' encoding and spaces aside."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def _heading(text: str) -> str:
    """A heading or a value as compared with the words above: lower case, no accents or punctuation."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[._\-'’/()]+", " ", plain.casefold()).split())


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join(text.split()))


def _decode(data: bytes) -> tuple[str | None, list[Message], list[Message]]:
    """The text of a file with its notes, or None and the problem."""
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):  # .xlsx/.ods (a zip), .xls
        return None, [Message(SPREADSHEET)], []
    if data.startswith(codecs.BOM_UTF8):
        text = data[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text"
        text = data.decode("utf-16", errors="replace")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("cp1252", errors="replace"), [], [Message(WINDOWS_1252)]
    return text, [], []


def _delimiter(text: str, pasted: bool) -> str | None:
    """The separator between columns; None when each line is one name."""
    lines = [line for line in text.splitlines() if line.strip()]
    if pasted:  # cells copied from a spreadsheet; a CSV pasted whole, known by its heading row
        if any("\t" in line for line in lines):
            return "\t"
        first = lines[0] if lines else ""
        headed = [d for d in ",;" if d in first and any(_heading(cell) in _HEADINGS for cell in first.split(d))]
        return headed[0] if headed else None
    try:
        return csv.Sniffer().sniff("\n".join(lines[:50]), delimiters=_DELIMITERS).delimiter
    except csv.Error:
        pass
    # The sniffer wants every line alike; a heading "name" over rows "Ana;4" still has columns.
    counts = {d: sum(d in line for line in lines) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] * 2 >= len(lines) > 0 else None


def _one_cell(line: str) -> list[str]:
    cell = line.strip()
    if len(cell) >= 2 and cell[0] == cell[-1] == '"':
        cell = cell[1:-1].replace('""', '"')
    return [cell]


def _rows(text: str, delimiter: str | None) -> Iterator[tuple[int, list[str]]]:
    """Each record with the line it starts on, cells stripped, trailing empty cells dropped."""
    if delimiter is None:
        records: Iterator[tuple[int, list[str]]] = ((n, _one_cell(line))
                                                    for n, line in enumerate(text.splitlines(), 1))
    else:
        records = _csv_records(text, delimiter)
    for line, cells in records:
        cells = [c.strip() for c in cells]
        while cells and not cells[-1]:
            cells.pop()
        yield line, cells


def _csv_records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', skipinitialspace=True)
    start = 1
    try:
        for cells in reader:
            yield start, cells
            start = reader.line_num + 1
    except csv.Error:  # the csv module gave up on what follows: one broken row, said as such
        first = (text.splitlines()[start - 1:] or [""])[0]
        yield start, [first + "\n"]


def _looks_like_grade(value: str) -> bool:
    return len(value) <= 12 and (any(c.isdigit() for c in value) or _heading(value).upper() in _YOUNG_GRADES)


def _looks_like_kind(value: str) -> bool:
    return _heading(value) in _KIND_WORDS


@dataclass
class _Columns:
    name: int | None = None
    given: int | None = None
    family: int | None = None
    grade: int | None = None
    sign_in: int | None = None


def _from_headings(cells: list[str], data: list[list[str]]) -> tuple[_Columns | None, list[Message]]:
    """Which column is which, from a heading row (None: it is not one)."""
    found: dict[str, list[int]] = {}
    words = [_heading(c) for c in cells]
    for index, word in enumerate(words):
        for role, known in (("name", _NAME), ("given", _GIVEN), ("family", _FAMILY), ("grade", _GRADE),
                            ("sign_in", _SIGN_IN)):
            if word in known:
                found.setdefault(role, []).append(index)
    if not found:
        return None, []
    columns = _Columns(**{role: indexes[0] for role, indexes in found.items()})
    if columns.name is not None and (columns.given is None) != (columns.family is None):
        # "nom" beside "prénom" is the family name; "nombre" beside "apellidos" the given name
        if columns.given is None:
            columns.given = columns.name
        else:
            columns.family = columns.name
        columns.name = None
    elif columns.name is not None:
        columns.given = columns.family = None  # a full name wins over its parts
    used = {i for i in (columns.name, columns.given, columns.family, columns.grade, columns.sign_in) if i is not None}
    widest = max([len(cells), *(len(row) for row in data)])
    notes = []
    for index in range(widest):
        if index not in used and any(len(row) > index and row[index] for row in data):
            heading = cells[index] if index < len(cells) else ""
            notes.append(Message(UNUSED_COLUMN, {"column": heading}) if heading
                         else Message(UNUSED_COLUMN_NUMBER, {"number": index + 1}))
    return columns, notes


def _from_values(data: list[list[str]]) -> tuple[_Columns, list[Message]]:
    """Which column is which, with no heading row: the first is the name; after it, a column
    of ways to sign in, a column of grades, and (second only) a column of family names."""
    columns, notes = _Columns(given=0), []
    widest = max(len(row) for row in data)
    for index in range(1, widest):
        values = [row[index] for row in data if len(row) > index and row[index]]
        if not values:
            continue
        if columns.sign_in is None and all(_looks_like_kind(v) for v in values):
            columns.sign_in = index
        elif columns.grade is None and all(_looks_like_grade(v) for v in values):
            columns.grade = index
        elif index == 1:
            columns.family = index
        else:
            notes.append(Message(UNUSED_COLUMN_NUMBER, {"number": index + 1}))
    return columns, notes


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index] if index is not None and index < len(cells) else ""


def read_names(data: bytes | str, *, pasted: bool = False, class_kind: str | None = None,
               name_max: int = NAME_MAX) -> Names:
    """Read a list of names: a file's bytes (or its text, as a preview sends it back), or text
    pasted (``pasted``: tab-separated cells, or one name a line). ``class_kind`` ("picture" or
    "pin"), when given, rejects a row asking for the other way to sign in: a class's learners
    all sign in the same way."""
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", errors="replace"))
    if size > MAX_BYTES:
        return Names(text="", problems=[Message(TOO_BIG, {"max": MAX_BYTES // 1000})])
    notes: list[Message] = []
    if isinstance(data, bytes):
        decoded, problems, notes = _decode(data)
        if decoded is None:
            return Names(text="", problems=problems)
        text = decoded
    else:
        text = data[1:] if data.startswith("\ufeff") else data
    if "\x00" in text:
        return Names(text="", problems=[Message(NOT_TEXT)])
    names = Names(text=text, notes=notes)
    delimiter = _delimiter(text, pasted)
    rows = [(line, cells) for line, cells in _rows(text, delimiter) if cells]
    if not rows:
        names.problems.append(Message(EMPTY))
        return names
    columns, column_notes = _from_headings(rows[0][1], [cells for _line, cells in rows[1:]])
    if columns is not None:
        rows = rows[1:]
        if columns.name is None and columns.given is None and columns.family is None:
            names.problems.append(Message(NO_NAME_COLUMN))
            return names
        if not rows:
            names.problems.append(Message(EMPTY))
            return names
    else:
        columns, column_notes = _from_values([cells for _line, cells in rows])
    if len(rows) > MAX_ROWS:
        names.problems.append(Message(TOO_MANY, {"max": MAX_ROWS}))
        return names
    names.notes.extend(column_notes)
    seen: dict[str, int] = {}
    for line, cells in rows:
        row = _check(line, cells, _shown(cells, delimiter), columns, class_kind, name_max, seen)
        if isinstance(row, Rejected):
            names.rejected.append(row)
        else:
            names.learners.append(row)
    return names


def _shown(cells: list[str], delimiter: str | None) -> str:
    """A row as the page shows it: line breaks as spaces, other control characters marked."""
    text = (delimiter or " ").join(cells)
    return "".join(" " if c in "\r\n" else "\ufffd" if unicodedata.category(c) == "Cc" and c != "\t" else c
                   for c in text)


def _check(line: int, cells: list[str], text: str, columns: _Columns, class_kind: str | None, name_max: int,
           seen: dict[str, int]) -> Learner | Rejected:
    """The learner a row gives, or why it gives none."""
    raw = [_cell(cells, i) for i in (columns.name, columns.given, columns.family)]
    if any("\n" in part or "\r" in part for part in cells):
        return Rejected(line, text, BROKEN_QUOTES)
    name = _clean(" ".join(part for part in raw if part))
    if not name:
        return Rejected(line, text, EMPTY_NAME)
    if "\ufffd" in name or any(unicodedata.category(c) == "Cc" for c in name):
        return Rejected(line, text, UNREADABLE)
    if len(name) > name_max:
        return Rejected(line, text, NAME_TOO_LONG, {"length": len(name), "max": name_max})
    written = _cell(cells, columns.sign_in)
    if _heading(written) not in _KIND_WORDS and written:
        return Rejected(line, text, UNKNOWN_SIGN_IN, {"value": _clean(written)[:20]})
    kind = _KIND_WORDS.get(_heading(written)) if written else None
    if class_kind is not None and kind is not None and kind != class_kind:
        return Rejected(line, text, CLASS_USES_PICTURES if class_kind == "picture" else CLASS_USES_PIN)
    key = name_key(name)
    if key in seen:
        return Rejected(line, text, DUPLICATE, {"first": seen[key]})
    seen[key] = line
    return Learner(line=line, name=name, grade=_clean(_cell(cells, columns.grade))[:GRADE_MAX], sign_in=kind)
