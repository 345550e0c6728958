"""Sessions the hub can end, and the devices people have signed in on (migration 0008).

The session cookie is signed by Flask, but a signature cannot be taken back: a copied cookie
would work until it expires. So the cookie also carries a random token, and the hub keeps the
token's SHA-256 in ``web_session``: signing out deletes the row, and a cookie without its row
is signed out. A new password or secret, an archived account and a restore delete the rows too.

A device token (its own long-lived cookie) marks a browser; once someone signs in on it, it is
trusted for them, and wrong tries from it count for that device alone (services/security.py).
"""

from __future__ import annotations

import hashlib
import secrets
import time

from classroom_server.db import db
from classroom_server.models import Person, TrustedDevice, WebSession

DEVICE_COOKIE = "classroom_device"
DEVICE_COOKIE_DAYS = 400  # the longest a browser keeps a cookie


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def start(person: Person, hours: float, replacing: str | None = None) -> str:
    """A new session for ``person``; returns the token for the cookie. Ends the session it
    replaces (the browser's earlier one) and drops every expired one (a class's worth of rows: a
    sign-in keeps the table from growing), all in one transaction: one commit, one fsync on a
    Pi's SD card, where three used to be (#21)."""
    now = time.time()
    token = new_token()
    with db.atomic():
        if replacing and isinstance(replacing, str):
            WebSession.delete().where(WebSession.token_hash == _hash(replacing)).execute()
        WebSession.delete().where(WebSession.expires_at <= now).execute()
        WebSession.insert(
            token_hash=_hash(token), person_id=person.id, created_at=now, expires_at=now + hours * 3600
        ).execute()
    return token


# Every request asks: the SQL text is written once here rather than built by peewee each time (#21).
_PERSON_FOR_SQL = ('SELECT p.* FROM "person" AS p JOIN "web_session" AS s ON s.person_id = p.id '
                   "WHERE s.token_hash = ? AND s.expires_at > ? AND p.active = 1 LIMIT 1")


def person_for(token: object) -> Person | None:
    """The active person a live session token belongs to (one query), else None."""
    if not token or not isinstance(token, str):
        return None
    return next(iter(Person.raw(_PERSON_FOR_SQL, _hash(token), time.time())), None)


def end(token: str | None) -> None:
    if token and isinstance(token, str):
        WebSession.delete().where(WebSession.token_hash == _hash(token)).execute()


def end_all(person_id: int) -> int:
    """Sign a person out everywhere; returns how many sessions ended."""
    return WebSession.delete().where(WebSession.person_id == person_id).execute()


def trusted(device_token: str | None, person_id: int) -> bool:
    if not device_token or not isinstance(device_token, str):
        return False
    return TrustedDevice.select().where(
        TrustedDevice.device_hash == _hash(device_token), TrustedDevice.person_id == person_id
    ).exists()


def device_key(device_token: str) -> str:
    """The throttle key part naming a device: a hash, never the token itself."""
    return _hash(device_token)[:32]


def trust(device_token: str | None, person_id: int) -> None:
    if not device_token or not isinstance(device_token, str):
        return
    TrustedDevice.insert(
        device_hash=_hash(device_token), person_id=person_id, last_success=time.time()
    ).on_conflict_replace().execute()
