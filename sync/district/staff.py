"""District staff: their accounts, signing in (with growing delays after failures, as on the
hub), and what each may see: a school's staff their school, the district's staff every school.

No Flask here: sync/district/web.py turns HTTP into these calls, and tests call them directly.
Passwords are hashed as the hub hashes its staff's (classroom_server/services/security.py).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from peewee import JOIN

from classroom_server.services import security
from sync.district.models import DistrictMeta, School, SignInFailure, Staff, district_db
from sync.district.service import _transaction, now

FREE_FAILURES = 5  # wrong passwords per account (and 4 times as many per address) before delays
MAX_DELAY_SECONDS = 15 * 60
FORGET_AFTER_SECONDS = 24 * 3600
SESSION_KEY = "session_key"


class SignInRefused(Exception):
    """A sign-in that did not work; ``retry_after`` when it must wait first."""

    def __init__(self, message: str, retry_after: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def session_key() -> str:
    """The key that signs staff sessions: made once, kept with the district's data (so every
    worker and every restart agree, and a new key signs everyone out)."""
    with _transaction():
        DistrictMeta.insert(key=SESSION_KEY, value=secrets.token_urlsafe(48)).on_conflict_ignore().execute()
        return str(DistrictMeta.get_by_id(SESSION_KEY).value)


def add(username: str, display_name: str, password: str, school: School | None) -> Staff:
    """A new staff account; raises ValueError (a taken or empty username) or ``Invalid`` (a
    password too short)."""
    username = username.strip().lower()
    if not username or len(username) > 64 or any(ch.isspace() for ch in username):
        raise ValueError("A username is one word of at most 64 letters, digits or signs.")
    if Staff.get_or_none(Staff.username == username) is not None:
        raise ValueError(f"There is already a staff account called {username!r}.")
    password_hash = security.hash_password(password)
    with _transaction():
        return Staff.create(username=username, display_name=" ".join(display_name.split()) or username,
                            password_hash=password_hash, school=school, created_at=now())


def accounts() -> list[Staff]:
    return list(Staff.select(Staff, School).join(School, JOIN.LEFT_OUTER).order_by(Staff.username))


def by_username(username: str) -> Staff:
    found = Staff.get_or_none(Staff.username == username.strip().lower())
    if found is None:
        raise ValueError(f"There is no staff account called {username!r}.")
    return found


def disable(account: Staff) -> None:
    with _transaction():
        Staff.update(disabled_at=now(), session_version=Staff.session_version + 1).where(
            Staff.id == account.id).execute()


def sign_out_everywhere(account: Staff) -> None:
    with _transaction():
        Staff.update(session_version=Staff.session_version + 1).where(Staff.id == account.id).execute()


def set_password(account: Staff, password: str) -> None:
    """A new password ends every session the account had."""
    password_hash = security.hash_password(password)
    with _transaction():
        Staff.update(password_hash=password_hash, session_version=Staff.session_version + 1).where(
            Staff.id == account.id).execute()


def current(staff_id: object, version: object) -> Staff | None:
    """The account a session names, if it is still valid (not disabled, not signed out everywhere)."""
    if not isinstance(staff_id, int) or not isinstance(version, int):
        return None
    found = Staff.select(Staff, School).join(School, JOIN.LEFT_OUTER).where(Staff.id == staff_id).first()
    if found is None or found.disabled_at or found.session_version != version:
        return None
    return found


def _locked_until(failures: int, allowance: int, at: float) -> float:
    over = failures - allowance  # from the allowance-th failure on, each try waits: 1 s, 2 s, 4 s ...
    return at + min(MAX_DELAY_SECONDS, 2 ** over) if over >= 0 else 0.0


def sign_in(username: str, password: str, address: str, clock: Callable[[], float] = time.time) -> Staff:
    """The account whose password this is, or ``SignInRefused``. Failures count per account and
    per address; past a few, each try waits longer (up to 15 minutes). The password is checked
    with the same work whether or not the account exists."""
    at = clock()
    name = username.strip().lower()
    keys = {f"user:{name}": FREE_FAILURES, f"addr:{address}": FREE_FAILURES * 4}
    rows = list(SignInFailure.select().where(SignInFailure.key.in_(list(keys))))
    wait = max((row.locked_until - at for row in rows), default=0.0)
    if wait > 0:
        raise SignInRefused("Too many tries. Wait a moment, then try again.", retry_after=int(wait) + 1)
    account = Staff.get_or_none(Staff.username == name)
    ok = security.check_password(account.password_hash if account else None, password)
    if ok and account is not None and not account.disabled_at:
        with _transaction():
            SignInFailure.delete().where(SignInFailure.key == f"user:{name}").execute()
        return account
    with district_db.atomic():
        for key, allowance in keys.items():
            row = SignInFailure.get_or_none(SignInFailure.key == key)
            failures = row.failures + 1 if row is not None and at - row.updated_at < FORGET_AFTER_SECONDS else 1
            (SignInFailure.insert(key=key, failures=failures, locked_until=_locked_until(failures, allowance, at),
                                  updated_at=at)
             .on_conflict(conflict_target=[SignInFailure.key],
                          update={SignInFailure.failures: failures,
                                  SignInFailure.locked_until: _locked_until(failures, allowance, at),
                                  SignInFailure.updated_at: at}).execute())
    raise SignInRefused("That username and password do not match.")


@dataclass(frozen=True)
class Scope:
    """What a staff member may see: every school, or one."""

    school_id: int | None

    @classmethod
    def of(cls, account: Staff) -> Scope:
        return cls(account.school_id)

    def allows(self, school_id: int) -> bool:
        return self.school_id is None or self.school_id == school_id

    def schools(self) -> list[School]:
        query = School.select().order_by(School.name)
        if self.school_id is not None:
            query = query.where(School.id == self.school_id)
        return list(query)
