"""The district's tables: schools, hubs, the event log of every hub, quarantine, and each hub's
projections as the district recomputes them (sync/district/projections.py).

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
    BlobField,
    BooleanField,
    CompositeKey,
    Database,
    DatabaseProxy,
    DoubleField,
    ForeignKeyField,
    IntegerField,
    Model,
    PostgresqlDatabase,
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
    school_id: int  # the foreign key's column, as peewee gives it (said here for the type checker)
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
    last_bundle_at = TextField(null=True)  # the last bundle read from a stick (last_contact_at: the network)
    reported = TextField(null=True)  # JSON: the last sequence number of each origin, as the hub last said


class Origin(DistrictModel):
    """How far the district holds each origin's events (its high-water mark), and the id of the
    event at that mark, by which a hub tells whether its own log was rewound."""

    origin = TextField(primary_key=True)
    hub = ForeignKeyField(Hub, backref="origins", on_delete="RESTRICT")
    hub_id: int  # the foreign key's column, as peewee gives it
    hwm = BigIntegerField(default=0)
    tip = TextField(null=True)


class Event(DistrictModel):
    """Every hub's events, exactly once: unique by event id and by (origin, seq).

    On SQLite the table is as declared here. On PostgreSQL ``connect`` makes it partitioned by
    hash of the school (``EVENT_DDL``): see docs/scale.md for why, and for what then keeps each
    event once."""

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


class HeldId(DistrictModel):
    """Every event id the district holds, in any school, with its event's payload hash.

    The one place a pushed id is looked up: one index, where the partitioned event table has one
    per partition (16 probes an id), which made PostgreSQL read the whole table instead as it
    grew (docs/scale.md). And the district's guarantee that an id is held once across schools,
    which the event table, unique by (event_id, school), cannot give. Written in the transaction
    that stores the events (service._insert_rows); ``connect`` fills it once for a district that
    predates it."""

    event_id = TextField(primary_key=True)
    payload_hash = TextField()

    class Meta:
        table_name = "event_held_id"


class Learner(DistrictModel):
    """Which school each learner belongs to, as first seen: a hub may send only its school's."""

    uid = TextField(primary_key=True)
    school = IntegerField()


class LearnerMove(DistrictModel):
    """A learner the district moved from one school to another (service.move_learner). The hubs
    of the school they left may still send what they recorded before they heard of it, and the
    hubs of the school they joined get their earlier events from there (service.others_of)."""

    uid = TextField(index=True)
    from_school = IntegerField()
    to_school = IntegerField(index=True)
    moved_at = TextField()
    moved_by = TextField()


class HubFollow(DistrictModel):
    """A learner whose events from the school's other hubs this hub holds too (one learner on two
    hubs): the hub asked to follow them and got their earlier events (service.shared)."""

    hub = ForeignKeyField(Hub, on_delete="CASCADE")
    learner_uid = TextField()

    class Meta:
        primary_key = CompositeKey("hub", "learner_uid")


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


class Change(DistrictModel):
    """What the district publishes for hubs to copy (sync/changes.py): one row per change, in
    one district-wide sequence. A change is for one school, or (``school`` empty) for every school.
    Rows are only ever added: a record's newest row is its current state, and a ``tobedeleted``
    row is its tombstone. Writers take a table lock (service.publish), so the order of ``seq`` is
    the order of commits and a hub that has read up to a number never misses a smaller one."""

    seq = BigAutoField()
    school = ForeignKeyField(School, null=True, on_delete="RESTRICT")
    school_id: int | None  # the foreign key's column, as peewee gives it
    kind = TextField()
    key = TextField()  # the record's sourcedId
    status = TextField()
    body = TextField()  # the record as canonical JSON, without seq and kind
    published_at = TextField()

    class Meta:
        indexes = ((("school", "kind", "key", "seq"), False),)


class PackFile(DistrictModel):
    """A pack file (.zip) the district offers hubs, by the SHA-256 of its bytes; its bytes are in
    ``PackChunk`` (the district keeps everything in its one database: one thing to back up)."""

    sha256 = TextField(primary_key=True)
    pack_id = TextField()
    version = TextField()
    title = TextField()
    size = BigIntegerField()
    added_at = TextField()


class PackChunk(DistrictModel):
    """One piece of a pack file: piece ``n`` holds bytes ``n * PACK_CHUNK`` onwards."""

    sha256 = TextField()
    n = IntegerField()
    data = BlobField()

    class Meta:
        primary_key = CompositeKey("sha256", "n")


PACK_CHUNK = 256 * 1024


class Manifest(DistrictModel):
    """Engine manifests of pack versions, by their SHA-256 (what hubs' pack events name)."""

    key = TextField(primary_key=True)
    body = TextField()


class HubManifest(DistrictModel):
    """A pack version that a hub's older ``pack.installed`` events name by ``<pack>@<version>``
    (installed before manifests were kept). Such a name is not a content name: two hubs may hold
    different manifests under it (one read from the pack's folder, one rebuilt from the items the
    hub kept), so which manifest it means is each hub's own. The body is kept in ``Manifest``."""

    hub = ForeignKeyField(Hub, on_delete="CASCADE")
    name = TextField()
    key = TextField()  # the SHA-256 of the body the hub sent, in Manifest

    class Meta:
        primary_key = CompositeKey("hub", "name")


# --- each hub's projections, recomputed at the district -----------------------------------------
# The same columns as the hub's tables (classroom_server/models/projections.py), keyed by the hub
# registration as well, and stamped with the origin and seq of the event that last set the row
# where the hub stamps its own row id.

class DistrictMastery(DistrictModel):
    """One learner's standing on one skill, as the hub computes it."""

    hub = ForeignKeyField(Hub, on_delete="CASCADE")
    learner_uid = TextField()
    skill = TextField()
    state = TextField()
    p_fresh = DoubleField()  # 8 bytes on both databases, as the hub's REAL: the value round-trips exactly
    attempts = IntegerField()
    needs_help = BooleanField()
    algorithm = TextField()
    origin = TextField()
    seq = BigIntegerField()

    class Meta:
        primary_key = CompositeKey("hub", "learner_uid", "skill")


class DistrictAssignment(DistrictModel):
    """A class's current assignment: qualified skill ids, as JSON, in the teacher's order."""

    hub = ForeignKeyField(Hub, on_delete="CASCADE")
    class_uid = TextField()
    skills = TextField()
    given = TextField(default="[]")
    algorithm = TextField()
    origin = TextField()
    seq = BigIntegerField()

    class Meta:
        primary_key = CompositeKey("hub", "class_uid")


class DistrictCourse(DistrictModel):
    """A class's courses: the packs it studies, as JSON (``class.courses_set``)."""

    hub = ForeignKeyField(Hub, on_delete="CASCADE")
    class_uid = TextField()
    courses = TextField()
    algorithm = TextField()
    origin = TextField()
    seq = BigIntegerField()

    class Meta:
        primary_key = CompositeKey("hub", "class_uid")


class DistrictAccommodations(DistrictModel):
    hub = ForeignKeyField(Hub, on_delete="CASCADE")
    learner_uid = TextField()
    items_per_session = IntegerField(null=True)
    more_time = BooleanField()
    read_aloud = BooleanField()
    larger_text = BooleanField()
    algorithm = TextField()
    origin = TextField()
    seq = BigIntegerField()

    class Meta:
        primary_key = CompositeKey("hub", "learner_uid")


class DistrictGoal(DistrictModel):
    """A learner's latest weekly goal."""

    hub = ForeignKeyField(Hub, on_delete="CASCADE")
    learner_uid = TextField()
    kind = TextField()
    target = IntegerField()
    week_of = TextField()
    algorithm = TextField()
    origin = TextField()
    seq = BigIntegerField()

    class Meta:
        primary_key = CompositeKey("hub", "learner_uid")


class DistrictClass(DistrictModel):
    """A class of the hub, as its roster events say (projection_rules.fold_roster), with what its
    growth needs: its learners now (not archived) and the skills a year its courses expect."""

    hub = ForeignKeyField(Hub, on_delete="CASCADE")
    hub_id: int
    class_uid = TextField()
    name = TextField()
    archived = BooleanField()
    learners = IntegerField()
    per_year = DoubleField()  # skills a school year for one learner (growth_rules.pace_of)
    mastered = IntegerField(default=0)  # (learner, course skill) pairs mastered now: its summary's days summed
    skills = TextField()  # JSON: the course skills, as the engine names them, in the courses' order

    class Meta:
        primary_key = CompositeKey("hub", "class_uid")


class DistrictLearner(DistrictModel):
    """A learner of the hub, as its roster events say."""

    hub = ForeignKeyField(Hub, on_delete="CASCADE")
    learner_uid = TextField()
    name = TextField()
    archived = BooleanField()

    class Meta:
        primary_key = CompositeKey("hub", "learner_uid")


class DistrictEnrollment(DistrictModel):
    hub = ForeignKeyField(Hub, on_delete="CASCADE")
    class_uid = TextField()
    learner_uid = TextField()

    class Meta:
        primary_key = CompositeKey("hub", "class_uid", "learner_uid")


class DistrictChange(DistrictModel):
    """Each change of a (learner, skill)'s mastery state, with its time (growth_rules.ChangeLog):
    the states at any moment, for a learner's growth week by week."""

    id = BigAutoField()
    hub = ForeignKeyField(Hub, on_delete="CASCADE")
    learner_uid = TextField()
    skill = TextField()
    state = TextField()
    at = DoubleField()  # epoch seconds

    class Meta:
        indexes = ((("hub", "learner_uid", "id"), False),)


class DistrictSkillGrowth(DistrictModel):
    """Like DistrictClassGrowth, skill by skill: per class, course skill and UTC day, how much the
    count of the class's learners with the skill *mastered* moved that day."""

    hub = ForeignKeyField(Hub, on_delete="CASCADE")
    class_uid = TextField()
    skill = TextField()
    day = IntegerField()
    delta = IntegerField()

    class Meta:
        primary_key = CompositeKey("hub", "class_uid", "skill", "day")


class DistrictPack(DistrictModel):
    """A pack version active on the hub, as its engine manifest describes it: what the dashboard
    offers as a class's course."""

    hub = ForeignKeyField(Hub, on_delete="CASCADE")
    pack_id = TextField()
    version = TextField()
    title = TextField()  # JSON {language: text}
    grades = TextField(null=True)  # JSON [lowest, highest]
    skills = TextField()  # JSON [[skill id, {language: title}], ...] in the pack's order (prerequisites first)

    class Meta:
        primary_key = CompositeKey("hub", "pack_id")


class DistrictClassGrowth(DistrictModel):
    """A summary kept for the dashboard's overviews: per class and day (UTC days since 1970), how
    much the count of (learner, course skill) pairs in the state *mastered* moved that day, for
    the class's learners now. Summing a class's days before a moment gives its mastered count
    then; tests/sync/test_district_growth.py checks it against the changes learner by learner."""

    hub = ForeignKeyField(Hub, on_delete="CASCADE")
    class_uid = TextField()
    day = IntegerField()
    delta = IntegerField()

    class Meta:
        primary_key = CompositeKey("hub", "class_uid", "day")
        indexes = ((("day",), False),)


class ProjectionRun(DistrictModel):
    """The last recomputation of a hub's projections: what it folded and how long it took."""

    hub = ForeignKeyField(Hub, primary_key=True, on_delete="CASCADE")
    algorithm = TextField()  # every projection's algorithm version (projections.ALGORITHM)
    through = TextField()  # JSON {origin: the last seq folded}: the high-water marks it saw
    last_origin = TextField(null=True)  # the last event folded, in the canonical order
    last_seq = BigIntegerField(null=True)
    events = BigIntegerField()
    missing = BigIntegerField()  # events below the high-water marks the district does not hold
    computed_at = TextField()
    seconds = DoubleField()
    problem = TextField(null=True)  # why the last attempt could not fold (the rows are older)


class Staff(DistrictModel):
    """A person of the district's staff, who signs in to the dashboard. With a school, they see
    only that school; without one, every school. Disabling an account, or bumping its session
    version ("sign out everywhere"), ends every session it has."""

    id = AutoField()
    username = TextField(unique=True)
    display_name = TextField()
    password_hash = TextField()
    school = ForeignKeyField(School, null=True, backref="staff", on_delete="RESTRICT")
    school_id: int | None
    created_at = TextField()
    disabled_at = TextField(null=True)
    session_version = IntegerField(default=1)


class SignInFailure(DistrictModel):
    """Failed sign-ins per account and per address, for growing delays (as on the hub)."""

    key = TextField(primary_key=True)
    failures = IntegerField()
    locked_until = DoubleField()
    updated_at = DoubleField()


class ReturnFile(DistrictModel):
    """A return bundle written for a hub from a bundle uploaded on the dashboard, kept for its
    download (the newest few of each hub)."""

    id = AutoField()
    hub = ForeignKeyField(Hub, backref="returns", on_delete="CASCADE")
    hub_id: int
    name = TextField()
    data = BlobField()
    size = BigIntegerField()
    created_at = TextField()


class DistrictCalibration(DistrictModel):
    """A calibration of the learner model fitted on every school's answers (sync/district/
    calibrate.py): a draft until district staff review it and send it to every hub, or discard it."""

    id = AutoField()
    status = TextField()  # fitting, draft, sent, discarded, failed
    started_at = TextField()
    updated_at = TextField()  # the last progress: a fit that stopped moving was stopped
    finished_at = TextField(null=True)
    events = BigIntegerField(default=0)  # engine events folded so far (progress while fitting)
    total = BigIntegerField(default=0)  # engine events to fold
    answers = BigIntegerField(default=0)
    hubs = IntegerField(default=0)
    body = TextField(null=True)  # JSON: items, skills, guess_slip, answers (the change's fields)
    problem = TextField(null=True)
    decided_by = TextField(null=True)  # the staff member who sent or discarded it
    decided_at = TextField(null=True)


class DistrictMeta(DistrictModel):
    """The district's own settings that live with its data: the key that signs staff sessions."""

    key = TextField(primary_key=True)
    value = TextField()


MODELS = [School, Hub, Origin, Event, HeldId, Learner, LearnerMove, HubFollow, Quarantine, Change, PackFile, PackChunk,
          Manifest, HubManifest, DistrictMastery, DistrictAssignment, DistrictCourse, DistrictAccommodations,
          DistrictGoal, DistrictClass, DistrictLearner, DistrictEnrollment, DistrictChange, DistrictClassGrowth,
          DistrictPack, DistrictSkillGrowth, ProjectionRun,
          Staff, SignInFailure, DistrictMeta, ReturnFile, DistrictCalibration]


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


# --- the event table on PostgreSQL --------------------------------------------------------------
# Partitioned by hash of the school, the column Citus would distribute it by (docs/scale.md). A
# unique constraint on a partitioned table must hold the partition key, so the two that make an
# event held once are (origin, seq, school) and (event_id, school): an origin belongs to one hub
# of one school, and its rows are written only under its Origin row's lock (service.push); an
# event id is looked up across every school before it is stored (service._store_fresh).
EVENT_PARTITIONS = 16

EVENT_DDL = [
    """CREATE TABLE event (
        id bigserial NOT NULL,
        event_id text NOT NULL,
        origin text NOT NULL,
        seq bigint NOT NULL,
        hlc bigint NOT NULL,
        kind text NOT NULL,
        learner_uid text,
        actor_uid text,
        class_uid text,
        occurred_at text NOT NULL,
        recorded_at text NOT NULL,
        payload text NOT NULL,
        payload_hash text NOT NULL,
        school integer NOT NULL,
        received_at text NOT NULL,
        PRIMARY KEY (school, id),
        CONSTRAINT event_once_by_place UNIQUE (origin, seq, school),
        CONSTRAINT event_once_by_id UNIQUE (event_id, school)
    ) PARTITION BY HASH (school)""",
    *(f"CREATE TABLE event_p{r:02d} PARTITION OF event FOR VALUES WITH (MODULUS {EVENT_PARTITIONS}, REMAINDER {r})"
      for r in range(EVENT_PARTITIONS)),
    # a learner's events (the learner's school, from Learner, prunes to one partition)
    "CREATE INDEX event_by_learner ON event (learner_uid)",
    # hello: the pack versions a hub's events name (a few rows a hub)
    "CREATE INDEX event_pack_installed ON event (origin) WHERE kind = 'pack.installed'",
    # reports over a span of arrival: rows arrive in that order, so a BRIN index is a few pages
    "CREATE INDEX event_received ON event USING brin (received_at)",
]


def _event_table_kind(database: Database) -> str | None:
    """'p' for the partitioned event table, 'r' for an older plain one, None if there is none."""
    row = database.execute_sql("SELECT relkind FROM pg_class WHERE oid = to_regclass('public.event')").fetchone()
    return str(row[0]) if row else None


def _create_postgres_events(database: Database) -> None:
    """Create the partitioned event table, or move an older plain one's rows into it (once, in one
    transaction, keeping every row and id)."""
    kind = _event_table_kind(database)
    if kind == "p":
        return
    with database.atomic():
        if kind is not None:
            database.execute_sql("LOCK TABLE event IN ACCESS EXCLUSIVE MODE")
            database.execute_sql("ALTER TABLE event RENAME TO event_unpartitioned")
            database.execute_sql("ALTER SEQUENCE IF EXISTS event_id_seq RENAME TO event_unpartitioned_id_seq")
        for statement in EVENT_DDL:
            database.execute_sql(statement)
        if kind is not None:
            columns = ", ".join(field.column_name for field in Event._meta.sorted_fields)
            database.execute_sql(f"INSERT INTO event ({columns}) SELECT {columns} FROM event_unpartitioned")
            database.execute_sql("SELECT setval('event_id_seq', GREATEST((SELECT max(id) FROM event), 1))")
            database.execute_sql("DROP TABLE event_unpartitioned")


def connect(url: str) -> Database:
    """Open the district's database, bind the models to it and create what is missing (on
    PostgreSQL, the partitioned event table; an older plain one is moved into it)."""
    database = open_database(url)
    district_db.initialize(database)
    with database.connection_context():
        held_ids_new = not database.table_exists(HeldId._meta.table_name)
        if isinstance(database, PostgresqlDatabase):
            database.create_tables([m for m in MODELS if m is not Event], safe=True)
            _create_postgres_events(database)
        else:
            database.create_tables(MODELS, safe=True)
        _add_missing_columns(database)
        if held_ids_new:
            _fill_held_ids(database)
    return database


def _fill_held_ids(database: Database) -> None:
    """A district from before ``HeldId``: every id its events hold, once, at its first start
    with it (in one transaction; about a second a million events)."""
    with database.atomic():
        database.execute_sql(f"INSERT INTO {HeldId._meta.table_name} (event_id, payload_hash) "
                             "SELECT event_id, min(payload_hash) FROM event GROUP BY event_id")


# Columns added to a table after it first shipped: (model, column, its SQL definition). A district
# created before them gets them at its next start; the projections holding them are recomputed
# then (their algorithm version changed with the column).
ADDED_COLUMNS = [(DistrictAssignment, "given", "TEXT NOT NULL DEFAULT '[]'"), (Hub, "last_bundle_at", "TEXT"),
                 (Hub, "reported", "TEXT")]


def _add_missing_columns(database: Database) -> None:
    for model, column, definition in ADDED_COLUMNS:
        table = model._meta.table_name
        present = {c.name for c in database.get_columns(table)}
        if column not in present:
            database.execute_sql(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
