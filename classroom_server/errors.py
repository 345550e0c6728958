"""One exception tree for the whole hub; web/errors.py renders it as JSON or a friendly page.

    ClassroomError (500)
      Invalid (400)        bad input; ``field`` names the form field or JSON key
      NotSignedIn (401)
      Forbidden (403)
      NotFound (404)
      Conflict (409)
      Throttled (429)      ``retry_after`` seconds
      StorageUnavailable (503)  the disk under the database cannot be written
      StorageFull (507)    the disk under the database is full (or failing)

``storage_problem`` tells the disk's troubles apart from other errors, for the CLI and the web.
"""

from __future__ import annotations

import errno
import sqlite3
import sys


class ClassroomError(Exception):
    status = 500
    code = "internal"

    def __init__(self, message: str, field: str | None = None, code: str | None = None,
                 **params: object) -> None:
        """``message`` is the English text and the translation key; ``%(name)s`` takes ``params``."""
        super().__init__(message % params if params else message)
        self.template = message
        self.params = params
        self.message = message % params if params else message
        self.field = field
        if code:
            self.code = code

    def to_dict(self) -> dict[str, dict[str, str | None]]:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}


class Invalid(ClassroomError):
    status = 400
    code = "invalid"


class NotSignedIn(ClassroomError):
    status = 401
    code = "not_signed_in"


class Forbidden(ClassroomError):
    status = 403
    code = "forbidden"


class NotFound(ClassroomError):
    status = 404
    code = "not_found"


class Conflict(ClassroomError):
    status = 409
    code = "conflict"


class Throttled(ClassroomError):
    status = 429
    code = "throttled"

    def __init__(self, message: str, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class StorageFull(ClassroomError):
    status = 507
    code = "storage_full"


class StorageUnavailable(ClassroomError):
    """The disk under the database cannot be written (mounted read-only, or failing)."""

    status = 503
    code = "storage_read_only"


_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO}


def _is_sqlite_operational_error(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.OperationalError):
        return True
    peewee = sys.modules.get("peewee")  # not imported here: the CLI loads peewee only when needed
    return peewee is not None and isinstance(exc, peewee.OperationalError)


def storage_problem(exc: BaseException | None) -> str | None:
    """``"full"``, ``"read_only"`` or ``"cannot_open"`` when ``exc`` is the disk's fault, else None.

    SQLite says "database or disk is full", or "disk I/O error" when it cannot even grow its
    shared-memory file on a full disk; the operating system says ENOSPC. The error raised is not
    always the first one: when COMMIT fails on a full disk, SQLite has already rolled back, and
    the ROLLBACK that follows fails with "no transaction is active". So the chain of errors
    (``__cause__``, ``__context__``) is searched too.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        found = _own_storage_problem(exc)
        if found:
            return found
        exc = exc.__cause__ or exc.__context__
    return None


def _own_storage_problem(exc: BaseException) -> str | None:
    if isinstance(exc, OSError):
        if exc.errno in _FULL_ERRNOS:
            return "full"
        if exc.errno == errno.EROFS:
            return "read_only"
        return None
    if not _is_sqlite_operational_error(exc):
        return None
    text = str(exc).lower()
    if "database or disk is full" in text or "disk i/o error" in text:
        return "full"
    if "readonly database" in text:
        return "read_only"
    if "unable to open database" in text:
        return "cannot_open"
    return None
