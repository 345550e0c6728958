"""Problems, reports and the exception hierarchy.

A pack author fixes a pack faster when they see every problem at once, so checks never stop at
the first one: they add a Problem to a Report and carry on. Exceptions carry the whole Report.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a pack.

    `where` is a JSON pointer into `file` ("/skills/2/id", "" for the whole document) or
    "line N" when the file could not be parsed. `code` is a short stable tag ("schema",
    "unknown-field", "unsafe-path", ...) for programs and tests; people read `message`.
    """

    severity: str
    file: str
    where: str
    message: str
    code: str = ""

    def format(self) -> str:
        """Render as `file:pointer: severity: message`, the shape editors and CI logs link on."""
        where = self.where[5:] if self.where.startswith("line ") else self.where
        return f"{self.file}:{where}: {self.severity}: {self.message}"


@dataclass(slots=True)
class Report:
    """Every problem found in one pack, in the order found."""

    problems: list[Problem] = field(default_factory=list)

    def error(self, file: str, where: str, message: str, code: str = "") -> None:
        self.problems.append(Problem(ERROR, file, where, message, code))

    def warning(self, file: str, where: str, message: str, code: str = "") -> None:
        self.problems.append(Problem(WARNING, file, where, message, code))

    def extend(self, other: Report) -> None:
        self.problems.extend(other.problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def ok(self) -> bool:
        """True when the pack has no errors (warnings do not block import)."""
        return not any(p.severity == ERROR for p in self.problems)

    @property
    def unsafe(self) -> bool:
        return any(p.code.startswith("unsafe") for p in self.errors)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.problems)

    def __len__(self) -> int:
        return len(self.problems)

    def summary(self) -> str:
        e, w = len(self.errors), len(self.warnings)
        return f"{e} error{'s' * (e != 1)}, {w} warning{'s' * (w != 1)}"

    def format(self) -> str:
        return "\n".join(p.format() for p in self.problems)


class PackError(Exception):
    """Base of every pack problem that stops an import; `report` holds the details."""

    def __init__(self, message: str, report: Report | None = None) -> None:
        super().__init__(message)
        self.report = report if report is not None else Report()


class PackInvalid(PackError):
    """The pack is readable but breaks the format: fix the content and rebuild."""


class UnsafePack(PackError):
    """The pack tried something dangerous (path traversal, symlink, zip bomb...): never import it."""


class PackNotFound(PackError):
    """The path is neither a pack folder nor a .zip file."""


class BadResponse(ValueError):
    """A learner response has the wrong shape for the item (a bug in the caller, not a wrong answer)."""


def raise_for(report: Report, what: str) -> None:
    """Raise the right PackError subclass if the report holds errors; do nothing otherwise."""
    if report.ok:
        return
    first = report.errors[0].format()
    kind = UnsafePack if report.unsafe else PackInvalid
    raise kind(f"{what}: {report.summary()}; first: {first}", report)
