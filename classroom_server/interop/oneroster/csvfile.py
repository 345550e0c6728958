"""One file of an export, read tolerantly into records: one attempt per encoding.

Decoding (UTF-8, Windows-1252, UTF-16), the delimiter, matching headers to the specification's
columns, rows too wide or too short, duplicate keys, and each row's values through ``_Row``.
Separate because it knows one file and its ``_Spec`` only: what a file means for the others is
the reader's business.
"""

from __future__ import annotations

import csv
import difflib
import io
import itertools
from collections.abc import Callable, Generator, Iterator, Mapping
from datetime import date, datetime
from typing import Any

from .records import Rejected
from .sources import _Guarded, _Problem, _Source, _Unreadable
from .values import (
    _ALIASES,
    _BOOLEANS,
    _NOT_TEXT,
    _SEP_LINE,
    _USERS,
    _Bad,
    _day,
    _key,
    _listed,
    _moment,
    _names,
    _Spec,
    _too_wide,
)

FUZZY_CUTOFF = 0.85  # givenNmae/givenName is 0.89; schoolSourcedId/classSourcedId is 0.69


# --- one file, one attempt ------------------------------------------------------------------------


class _File:
    """One reading of one file: its records by key, the lines they came from, what was rejected
    and noted. A reading in the wrong encoding is thrown away whole and done again."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.records: dict[str, Any] = {}
        self.lines: dict[str, int] = {}
        self.rejected_lines: dict[str, int] = {}  # keys whose first row was rejected
        self.rejected: list[Rejected] = []
        self.notes: dict[str, None] = {}
        self.columns: set[str] = set()
        self.width = 0  # cells in the header row
        self.rows = 0

    def note(self, text: str) -> None:
        self.notes[f"{self.name}: {text}"] = None

    def reject(self, line: int, reason: str) -> None:
        self.rejected.append(Rejected(self.name, line, reason))


class _Row:
    """One data row's values by the spec's column names (blank ones left out), and every problem
    found reading them: the row is rejected with all of them at once."""

    __slots__ = ("file", "line", "values", "id", "errors")

    def __init__(self, file: _File, line: int, values: dict[str, str], key: str) -> None:
        self.file = file
        self.line = line
        self.values = values
        self.id = values.get(key, "")
        self.errors: list[str] = []

    def text(self, column: str) -> str | None:
        return self.values.get(column)

    def required(self, column: str) -> str:
        value = self.values.get(column)
        if value is None:
            self.errors.append(f"{column} is empty")
            return ""
        return value

    def listed(self, column: str) -> tuple[str, ...]:
        return _listed(self.values.get(column))

    def choice(self, column: str, vocabulary: Mapping[str, str], what: str, required: bool = False) -> str | None:
        value = self.values.get(column)
        if value is None:
            if required:
                self.errors.append(f"{column} is empty")
            return None
        if value[:4].lower() == "ext:":
            return value
        found = vocabulary.get(value) or vocabulary.get(_key(value))  # most are spelt as the spec spells them
        if found is None:
            self.errors.append(f"{column} '{value}' is not {what} ({_names(sorted(vocabulary.values()), 'or')})")
        return found

    def boolean(self, column: str) -> bool | None:
        value = self.values.get(column)
        if value is None:
            return None
        found = _BOOLEANS.get(value.lower())
        if found is None:
            self.errors.append(f"{column} '{value}' is not true or false")
        return found

    def day(self, column: str, required: bool = False) -> date | None:
        value = self.values.get(column)
        if value is None:
            if required:
                self.errors.append(f"{column} is empty")
            return None
        try:
            return _day(column, value)
        except _Bad as bad:
            self.errors.append(str(bad))
            return None

    def status(self) -> str:
        value = self.values.get("status")
        if value is None or value == "active":
            return "active"
        key = _key(value)
        if key in ("active", "tobedeleted"):
            return key
        if key == "inactive":
            self.file.note("status 'inactive' (OneRoster 1.0) is read as tobedeleted")
            return "tobedeleted"
        self.errors.append(f"status '{value}' is not active or tobedeleted")
        return "active"

    def modified(self) -> datetime | None:
        value = self.values.get("dateLastModified")
        if value is None:
            return None
        try:
            moment, zoned = _moment("dateLastModified", value)
        except _Bad as bad:
            self.errors.append(str(bad))
            return None
        if not zoned:
            self.file.note("dateLastModified values without a time zone are taken as UTC")
        return moment

    def ordered(self, start: date | None, end: date | None, start_name: str, end_name: str) -> None:
        if start is not None and end is not None and end < start:
            self.errors.append(f"{end_name} {end.isoformat()} is before {start_name} {start.isoformat()}")


# --- reading one file -----------------------------------------------------------------------------


def _lines(source: _Source, file: _File, name: str, encoding: str) -> Generator[str, None, None]:
    """The file's lines, decoded; raises UnicodeDecodeError, ``_Unreadable`` or ``_Problem``."""
    buffer = io.BufferedReader(_Guarded(source.open(name)))
    start = buffer.peek(4)[:4]
    if encoding == "cp1252":
        file.note("the file is not UTF-8; it was read as Windows-1252 (Western European)")
        if start[:3] == b"\xef\xbb\xbf":
            buffer.read(3)
    elif start[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"
        file.note("the file is UTF-16 (a spreadsheet's Unicode text); it was read as such")
    else:
        encoding = "utf-8-sig"  # with or without a byte order mark
    with io.TextIOWrapper(buffer, encoding=encoding, newline="") as text:
        for line in text:
            if _NOT_TEXT.search(line):
                raise _Problem(f"{file.name} is not a CSV text file (it holds binary data)")
            yield line


def _parse(source: _Source, spec: _Spec, build: Callable[[_Row], Any],
           required: tuple[str, ...] | None = None) -> _File:
    """Every row of one file, built; a file not valid as UTF-8 is read again as Windows-1252."""
    name = source.files[spec.name.lower()]
    for encoding in ("utf-8", "cp1252"):
        file = _File(name)
        try:
            lines = _lines(source, file, spec.name.lower(), encoding)
            try:
                _fill(file, lines, spec, build, required)
            finally:
                lines.close()  # the member's stream, at once, even when the file turns out bad
        except UnicodeDecodeError:
            if encoding == "utf-8":
                continue
            raise _Problem(f"{name} is not text in UTF-8 or Windows-1252; save it as CSV (UTF-8)") from None
        except _Unreadable as exc:
            raise _Problem(f"{name} cannot be read from the export: {exc}") from None
        return file
    raise AssertionError("unreachable: the second encoding returns or raises")


def _fill(file: _File, lines: Iterator[str], spec: _Spec, build: Callable[[_Row], Any],
          required: tuple[str, ...] | None) -> None:
    first = next(lines, None)
    offset, delimiter = 0, ""
    hint = _SEP_LINE.fullmatch(first.rstrip("\r\n")) if first is not None else None
    if hint:
        offset, delimiter, first = 1, hint[1], next(lines, None)
    if first is None or not first.strip():
        raise _Problem(f"{file.name} is empty (it has no header row)")
    if not delimiter:
        try:
            delimiter = csv.Sniffer().sniff(first, delimiters=",;\t").delimiter
        except csv.Error:
            delimiter = ","
    if delimiter != ",":
        file.note(f"values are separated by {'semicolons' if delimiter == ';' else 'tabs'}, not commas")
    reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter)
    try:
        columns = _columns(next(reader), spec, file, required or spec.required)
        width = len(columns)
        read = [(i, column) for i, column in enumerate(columns) if column is not None]
        regular = 0  # rows no wider than the header
        padded: list[tuple[int, str, int]] = []  # rows kept with blank values past the header: line, key, width
        while True:
            line = reader.line_num + 1 + offset
            cells = next(reader, None)
            if cells is None:
                break
            if not "".join(cells).strip():
                continue
            file.rows += 1
            count = len(cells)  # a short row's last values are blank
            values = {column: value for i, column in read if i < count and (value := cells[i].strip())}
            if len(cells) > width and any(c.strip() for c in cells[width:]):
                file.reject(line, _too_wide(len(cells), width))
                continue
            row = _Row(file, line, values, spec.key)
            if _take(file, row, spec, build) and len(cells) > width:
                padded.append((line, row.id, len(cells)))
            regular += len(cells) <= width
    except csv.Error as exc:
        raise _Problem(f"{file.name} cannot be read past line {reader.line_num + offset}: {exc} "
                       "(a value may open a quote it never closes)") from None
    if padded and len(padded) <= regular:
        # Most rows are as wide as the header: a row with one blank value more most likely had a
        # value pushed right by a comma without quotes. Padding on every row is an export's habit.
        for line, key, cells_count in padded:
            del file.records[key]
            file.rejected_lines[key] = file.lines.pop(key)
            file.reject(line, _too_wide(cells_count, width))


def _take(file: _File, row: _Row, spec: _Spec, build: Callable[[_Row], Any]) -> bool:
    """Builds a row's record and keeps it (True), or rejects the row; the first row of a key claims it."""
    key = row.id
    if not key:
        file.reject(row.line, f"{spec.key} is empty")
        return False
    first = file.lines.get(key) or file.rejected_lines.get(key)
    if first is not None:
        kept = "is kept" if key in file.lines else "was rejected, and this one is not taken in its place"
        file.reject(row.line, f"{spec.key} '{key}' appears twice in {file.name}; "
                              f"the first row (line {first}) {kept}")
        return False
    record = build(row)
    if row.errors:
        file.reject(row.line, "; ".join(row.errors))
        file.rejected_lines[key] = row.line
        return False
    file.records[key] = record
    file.lines[key] = row.line
    return True


def _columns(header: list[str], spec: _Spec, file: _File, required: tuple[str, ...]) -> list[str | None]:
    """Each header cell's column in the spec (None: not read), with notes on how they were read."""
    known = {_key(name): name for name in spec.columns} | {k: v for k, v in _ALIASES.items() if v in spec.columns}
    columns: list[str | None] = [known.get(_key(cell)) for cell in header]
    renamed: list[str] = []
    unknown: list[str] = []
    repeated: dict[int, str] = {}
    taken: set[str] = set()
    for i, column in enumerate(columns):  # exact matches first: a near miss never takes a real column
        if column is not None and column in taken:
            repeated[i] = header[i].strip()
            columns[i] = None
        elif column is not None:
            taken.add(column)
    for i, cell in enumerate(header):
        raw = cell.strip().lstrip("\ufeff")
        if columns[i] is None and raw and i not in repeated:
            free = [k for k, name in known.items() if name not in taken]
            close = difflib.get_close_matches(_key(raw), free, n=1, cutoff=FUZZY_CUTOFF)
            if close and not raw.lower().startswith("metadata."):
                columns[i] = known[close[0]]
                taken.add(known[close[0]])
            else:
                unknown.append(raw)
        if columns[i] is not None and raw != columns[i]:
            renamed.append(f"'{cell}' as {columns[i]}")
    file.columns, file.width = taken, len(header)
    missing = [name for name in required if name not in taken]
    if missing:
        found = ", ".join(f"'{c.strip()}'" for c in header if c.strip()) or "none"
        hint = ("; OneRoster 1.2 gives users their roles in roles.csv, and there is none here"
                if spec is _USERS and "role" in missing else "")
        raise _Problem(f"{file.name} has no {_names(missing)} column{'s' if len(missing) > 1 else ''}, so none of "
                       f"its rows can be read (its columns: {found}){hint}")
    if renamed:
        file.note(f"columns read as OneRoster's: {', '.join(renamed)}")
    if unknown:
        file.note(f"columns OneRoster does not define, ignored: {', '.join(repr(c) for c in unknown)}")
    if repeated:
        file.note(f"repeated columns, only the first read: {', '.join(repr(c) for c in repeated.values())}")
    absent = [name for name in spec.expected if name not in taken]
    if absent:
        file.note(f"no {_names(absent)} column{'s' if len(absent) > 1 else ''}, which OneRoster requires; "
                  "read as blank")
    return columns
