"""Secrets and sign-in throttling.

Staff passwords use Werkzeug's scrypt (a well-reviewed KDF that ships with Flask). Each hash
costs about 32 MiB for ~100 ms, so at most two run at once: a whole class signing in together
must not push a 1 GB Pi into swap.

Learner secrets are a picture sequence (3 of 12 pictures: 1,728 choices) or a 4-digit PIN
(10,000). Hashing cannot make so few choices strong against someone holding the database (at
60,000 rounds a picture password fell in 22 s on one core here), so their real protection is
throttling. They use a salted PBKDF2 of 4,000 rounds: about 1 ms here, 10 ms on a Pi 3, where
60,000 rounds cost a class of 40 signing in together 5 s of the Pi's CPU (#21). A hash of another
number of rounds still verifies, and is made again at the next right sign-in.

Tests only: with the ``insecure_fast_hashes`` setting, create_app switches both kinds of secret
to a one-round PBKDF2 behind a ``TEST_ONLY_PREFIX`` (create_app refuses the setting outside
testing). Such a hash verifies only while the switch is on: a real hub never accepts one.
"""

from __future__ import annotations

import hmac
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from werkzeug.security import check_password_hash, generate_password_hash

from classroom_server.db import db
from classroom_server.errors import Invalid, Throttled
from classroom_server.models import GuessBudget, LoginThrottle

PICTURES = (
    "sun", "moon", "star", "tree", "flower", "fish",
    "cat", "apple", "ball", "car", "boat", "house",
)
PICTURE_COUNT = 3
LEARNER_HASH = "pbkdf2:sha256:4000"
MIN_PASSWORD_LENGTH = 8
FORGET_AFTER_SECONDS = 15 * 60
ADDRESS_ALLOWANCE_FACTOR = 5  # a shared tablet sees many children's typos

FAST_HASH = "pbkdf2:sha256:1"
TEST_ONLY_PREFIX = "insecure-test-only$"  # werkzeug knows no such method: it can never verify one

_hashing = threading.BoundedSemaphore(2)
_dummy_hash: dict[bool, str] = {}
_fast = False  # set by create_app from the insecure_fast_hashes setting; tests only


def use_fast_hashes(on: bool) -> None:
    """Tests only: cheap, insecure hashes for new secrets, and accept them when checking."""
    global _fast
    _fast = bool(on)


def _make(secret: str, method: str) -> str:
    if _fast:
        return TEST_ONLY_PREFIX + generate_password_hash(secret, method=FAST_HASH)
    return generate_password_hash(secret, method=method)


def _matches(stored_hash: str, secret: str) -> bool:
    if stored_hash.startswith(TEST_ONLY_PREFIX):
        if not _fast:  # a test's hash in a real hub: refused, after the usual amount of work
            check_password_hash(_dummy(), secret)
            return False
        return check_password_hash(stored_hash[len(TEST_ONLY_PREFIX):], secret)
    return check_password_hash(stored_hash, secret)


def _dummy(fast: bool = False) -> str:
    """A hash to check against when the account does not exist; made on first use, not at import.
    It costs what checking a real account's hash costs (only the tests' fast mode makes it cheap)."""
    if fast not in _dummy_hash:
        _dummy_hash[fast] = generate_password_hash("not a real password", method=FAST_HASH if fast else "scrypt")
    return _dummy_hash[fast]


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid("Use at least %(min)s characters.", field="password", min=MIN_PASSWORD_LENGTH)
    with _hashing:
        return _make(password, "scrypt")


def check_password(stored_hash: str | None, password: str) -> bool:
    """Constant work whether or not the account exists, so timing does not reveal usernames."""
    with _hashing:
        if not stored_hash:
            check_password_hash(_dummy(_fast), password)
            return False
        return _matches(stored_hash, password)


def normalize_learner_secret(kind: str, value: str | list[str]) -> str:
    """Turn a picture sequence or PIN into one canonical string, or explain what is wrong."""
    if kind == "picture":
        names = value if isinstance(value, list) else [v for v in str(value).split(",") if v]
        if len(names) != PICTURE_COUNT or any(n not in PICTURES for n in names):
            raise Invalid("Choose %(count)s pictures.", field="secret", count=PICTURE_COUNT)
        return ",".join(names)
    if kind == "pin":
        pin = str(value).strip()
        if not re.fullmatch(r"\d{4}", pin):
            raise Invalid("A PIN is exactly 4 digits.", field="secret")
        return pin
    raise Invalid("Unknown kind of learner secret.", field="secret_kind")


def hash_learner_secret(kind: str, value: str | list[str]) -> str:
    return _make(kind + ":" + normalize_learner_secret(kind, value), LEARNER_HASH)


def learner_hash_outdated(stored_hash: str | None) -> bool:
    """A real learner hash made with other parameters than LEARNER_HASH (made again at sign-in)."""
    return bool(stored_hash) and not str(stored_hash).startswith((LEARNER_HASH + "$", TEST_ONLY_PREFIX))


def check_learner_secret(stored_hash: str | None, kind: str, value: str | list[str]) -> bool:
    try:
        canonical = normalize_learner_secret(kind, value)
    except Invalid:
        return False
    if not stored_hash:
        check_password_hash(_dummy(_fast), canonical)
        return False
    return _matches(stored_hash, kind + ":" + canonical)


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class Throttle:
    """Growing delays after repeated failures, per key: an account, a device on which that
    account has signed in before, or a device address (docs/security.md, "Signing in")."""

    def __init__(self, free_failures: int, max_delay: int, clock=time.time) -> None:
        self.free_failures = free_failures
        self.max_delay = max_delay
        self.clock = clock

    def _allowance(self, key: str) -> int:
        factor = ADDRESS_ALLOWANCE_FACTOR if key.startswith("addr:") else 1
        return self.free_failures * factor

    def _locked_until(self, key: str, failures: int, now: float) -> float:
        over = failures - self._allowance(key)
        return now + min(self.max_delay, 2 ** over) if over > 0 else 0

    def check(self, *keys: str) -> None:
        """Raise Throttled if any key is still waiting out a delay."""
        now = self.clock()
        rows = LoginThrottle.select().where(LoginThrottle.key.in_(keys))
        wait = max((row.locked_until - now for row in rows), default=0)
        if wait > 0:
            seconds = int(wait) + 1
            raise Throttled("Too many tries. Wait a moment, then try again.", retry_after=seconds)

    def failed(self, *keys: str) -> None:
        now = self.clock()
        for key in keys:
            row = LoginThrottle.get_or_none(LoginThrottle.key == key)
            failures = 1
            if row is not None and now - row.updated_at < FORGET_AFTER_SECONDS:
                failures = row.failures + 1
            (
                LoginThrottle.insert(
                    key=key, failures=failures, locked_until=self._locked_until(key, failures, now), updated_at=now,
                )
                .on_conflict_replace()
                .execute()
            )

    def forgive(self, keys: tuple[str, ...], clear: tuple[str, ...]) -> None:
        """Take back the failure counted before a secret turned out right: the ``clear`` keys
        (the account's own) start again from nothing, the others (an address) lose that one."""
        LoginThrottle.delete().where(LoginThrottle.key.in_(clear)).execute()
        for row in LoginThrottle.select().where(LoginThrottle.key.in_([k for k in keys if k not in clear])):
            failures = max(0, row.failures - 1)
            locked_until = row.locked_until if failures > self._allowance(row.key) else 0
            LoginThrottle.update(failures=failures, locked_until=locked_until).where(
                LoginThrottle.key == row.key
            ).execute()


@dataclass(frozen=True)
class GuessAllowance:
    """Wrong tries a learner's account may spend across every device: ``capacity`` at most,
    one more every ``refill_seconds``. When none is left, sign-in for that learner pauses until
    the teacher lets them in again. This bounds guessing over a school year (docs/security.md)."""

    capacity: int
    refill_seconds: float
    clock: Callable[[], float] = time.time

    def remaining(self, row: GuessBudget | None, now: float) -> float:
        if row is None:
            return float(self.capacity)
        return min(float(self.capacity), row.remaining + max(0.0, now - row.updated_at) / self.refill_seconds)

    def take(self, person_id: int) -> None:
        """Spend one try, or raise Throttled when none is left (inside the caller's transaction)."""
        now = self.clock()
        row = GuessBudget.get_or_none(GuessBudget.person_id == person_id)
        left = self.remaining(row, now)
        if left < 1:
            raise Throttled(
                "Too many wrong tries for this name. Ask your teacher to help you sign in.",
                retry_after=int((1 - left) * self.refill_seconds) + 1, code="paused",
            )
        (
            GuessBudget.insert(
                person_id=person_id, remaining=left - 1, updated_at=now,
                wrong_total=(row.wrong_total if row else 0) + 1,
            )
            .on_conflict_replace()
            .execute()
        )

    def give_back(self, person_id: int) -> None:
        row = GuessBudget.get_or_none(GuessBudget.person_id == person_id)
        if row is None:
            return
        if row.wrong_total <= 1 and row.remaining + 1 >= self.capacity:
            row.delete_instance()
            return
        GuessBudget.update(
            remaining=min(float(self.capacity), row.remaining + 1), wrong_total=max(0, row.wrong_total - 1)
        ).where(GuessBudget.person_id == person_id).execute()

    def paused(self, person_ids: list[int]) -> dict[int, int]:
        """Of these learners, those whose sign-in is paused now, with their wrong tries."""
        now = self.clock()
        rows = GuessBudget.select().where(GuessBudget.person_id.in_(person_ids))
        return {row.person_id: row.wrong_total for row in rows if self.remaining(row, now) < 1}


def guarded(
    throttle: Throttle, keys: tuple[str, ...], clear: tuple[str, ...], verify: Callable[[], bool],
    allowance: GuessAllowance | None = None, person_id: int | None = None,
    on_success: Callable[[], object] | None = None,
) -> bool:
    """Check a secret so that no guess escapes the count.

    One immediate transaction checks the delays and counts the try as a failure *before* the
    secret is looked at; only a right secret then takes that failure back. So a burst of
    concurrent guesses is counted one by one, and a guess that meets a busy database is refused
    unchecked rather than checked uncounted. ``on_success`` runs in the transaction that takes
    the failure back (the sign-in's event and session: one commit, one fsync, for all of them).
    """
    with db.atomic("IMMEDIATE"):
        throttle.check(*keys)
        if allowance is not None and person_id is not None:
            allowance.take(person_id)
        throttle.failed(*keys)
    ok = verify()
    if ok:
        with db.atomic("IMMEDIATE"):
            throttle.forgive(keys, clear)
            if allowance is not None and person_id is not None:
                allowance.give_back(person_id)
            if on_success is not None:
                on_success()
    return ok
