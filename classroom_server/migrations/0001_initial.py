"""Initial schema: hub identity, people, classes, enrollments and the append-only event log.

Frozen as SQL on purpose: a migration must keep meaning what it meant the day it shipped,
whatever the application models become later.
"""

STATEMENTS = [
    """CREATE TABLE hub_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    """CREATE TABLE person (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        uid TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('admin', 'teacher', 'learner')),
        username TEXT UNIQUE,
        display_name TEXT NOT NULL,
        password_hash TEXT,
        avatar TEXT,
        secret_kind TEXT CHECK (secret_kind IN ('picture', 'pin')),
        secret_hash TEXT,
        auth_version INTEGER NOT NULL DEFAULT 1,
        active INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE classroom (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        uid TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        login_kind TEXT NOT NULL CHECK (login_kind IN ('picture', 'pin')),
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE class_teacher (
        classroom_id INTEGER NOT NULL REFERENCES classroom (id) ON DELETE CASCADE,
        teacher_id INTEGER NOT NULL REFERENCES person (id) ON DELETE CASCADE,
        PRIMARY KEY (classroom_id, teacher_id)
    )""",
    """CREATE TABLE enrollment (
        classroom_id INTEGER NOT NULL REFERENCES classroom (id) ON DELETE CASCADE,
        learner_id INTEGER NOT NULL REFERENCES person (id) ON DELETE CASCADE,
        PRIMARY KEY (classroom_id, learner_id)
    )""",
    "CREATE INDEX enrollment_learner ON enrollment (learner_id)",
    # The event log. AUTOINCREMENT so a rowid is never reused; (origin, seq) is the sync key.
    """CREATE TABLE event (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL UNIQUE,
        origin TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        learner_uid TEXT,
        actor_uid TEXT,
        class_uid TEXT,
        occurred_at TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        payload TEXT NOT NULL,
        result TEXT,
        UNIQUE (origin, seq)
    )""",
    "CREATE INDEX event_learner ON event (learner_uid, id)",
    "CREATE INDEX event_kind ON event (kind, id)",
    """CREATE TRIGGER event_no_update BEFORE UPDATE ON event
       BEGIN SELECT RAISE(ABORT, 'events are append-only'); END""",
    """CREATE TRIGGER event_no_delete BEFORE DELETE ON event
       BEGIN SELECT RAISE(ABORT, 'events are append-only'); END""",
    """CREATE TABLE origin_counter (
        origin TEXT PRIMARY KEY,
        last_seq INTEGER NOT NULL
    )""",
]


def up(migrator, db):
    for statement in STATEMENTS:
        db.execute_sql(statement)
