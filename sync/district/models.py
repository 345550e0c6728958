"""The district's tables: schools, hubs, the event log of every hub, quarantine.

Bound to ``district_db`` (a proxy), so the same models run on PostgreSQL (production, CI) and on
SQLite (a quick try on a laptop). ``connect(url)`` opens either from a URL.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from peewee import (
    AutoField,
    BigAutoField,
    BigIntegerField,
    Database,
    DatabaseProxy,
    ForeignKeyField,
    IntegerField,
    Model,
    SqliteDatabase,
    TextField,
)

district_db = DatabaseProxy()


class DistrictModel(Model):
    class Meta:
        database = district_db
        legacy_table_names = False


class School(DistrictModel):
    id = AutoField()
    name = TextField(unique=True)
    created_at = TextField()


class Hub(DistrictModel):
    """A hub registration: made by district staff with a one-time code, bound to the hub's own
    id when the hub enrols, and revocable."""

    id = AutoField()
    school = ForeignKeyField(School, backref="hubs", on_delete="RESTRICT")
    name = TextField()
    code_hash = TextField(null=True, unique=True)  # SHA-256 of the one-time code, until it is used
    hub_id = TextField(null=True, unique=True)
    secret = TextField(null=True)
    created_at = TextField()
    enrolled_at = TextField(null=True)
    revoked_at = TextField(null=True)
    last_counter = BigIntegerField(default=0)
    last_contact_at = TextField(null=True)
    protocol_version = IntegerField(null=True)
    last_problem = TextField(null=True)


class Origin(DistrictModel):
    """How far the district holds each origin's events (its high-water mark), and the id of the
    event at that mark, by which a hub tells whether its own log was rewound."""

    origin = TextField(primary_key=True)
    hub = ForeignKeyField(Hub, backref="origins", on_delete="RESTRICT")
    hwm = BigIntegerField(default=0)
    tip = TextField(null=True)


class Event(DistrictModel):
    """Every hub's events, exactly once: unique by event id and by (origin, seq)."""

    id = BigAutoField()
    event_id = TextField(unique=True)
    origin = TextField()
    seq = BigIntegerField()
    hlc = BigIntegerField()
    kind = TextField()
    learner_uid = TextField(null=True, index=True)
    actor_uid = TextField(null=True)
    class_uid = TextField(null=True)
    occurred_at = TextField()
    recorded_at = TextField()
    payload = TextField()
    payload_hash = TextField()
    school = IntegerField(index=True)
    received_at = TextField()

    class Meta:
        indexes = ((("origin", "seq"), True),)


class Learner(DistrictModel):
    """Which school each learner belongs to, as first seen: a hub may send only its school's."""

    uid = TextField(primary_key=True)
    school = IntegerField()


class Quarantine(DistrictModel):
    """An event refused as conflicting or not the hub's to send, kept whole for a person."""

    id = AutoField()
    hub = ForeignKeyField(Hub, on_delete="RESTRICT")
    origin = TextField()
    seq = BigIntegerField()
    event_id = TextField()
    reason = TextField()
    body = TextField()
    received_at = TextField()

    class Meta:
        indexes = ((("origin", "seq", "event_id"), True),)


class Manifest(DistrictModel):
    """Engine manifests of pack versions, by their SHA-256 (what hubs' pack events name)."""

    key = TextField(primary_key=True)
    body = TextField()


MODELS = [School, Hub, Origin, Event, Learner, Quarantine, Manifest]


def open_database(url: str) -> Database:
    """``postgresql://user@host:port/name`` or ``sqlite:///path/to/district.sqlite3``."""
    parsed = urlparse(url)
    if parsed.scheme in ("postgresql", "postgres"):
        from playhouse.postgres_ext import Psycopg3Database

        return Psycopg3Database(
            parsed.path.lstrip("/") or "postgres", host=parsed.hostname or "127.0.0.1", port=parsed.port or 5432,
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None, autoconnect=True)
    if parsed.scheme == "sqlite":
        path = Path(unquote(parsed.path)) if parsed.path not in ("", "/") else None
        if path is None:
            raise ValueError("A SQLite district needs a file: sqlite:///path/to/district.sqlite3")
        return SqliteDatabase(str(path), pragmas={"journal_mode": "wal", "foreign_keys": 1,
                                                  "synchronous": "FULL"}, timeout=10)
    raise ValueError(f"The district's database must be postgresql://... or sqlite:///...; got {parsed.scheme!r}.")


def connect(url: str) -> Database:
    """Open the district's database, bind the models to it and create what is missing."""
    database = open_database(url)
    district_db.initialize(database)
    with database.connection_context():
        database.create_tables(MODELS, safe=True)
    return database
