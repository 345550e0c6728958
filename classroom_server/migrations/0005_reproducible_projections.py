"""Reproducible projections: payload hashes, pack manifests in the database, stored projections.

- ``event.payload_hash``: SHA-256 of what each event says (classroom_server/eventkinds.py), so
  sync can tell a resend from a forgery. Existing events get theirs here (the append-only
  triggers are lifted for this one statement and put back).
- ``pack_manifest``: what the learning engine needs of each pack version, canonical JSON named
  by its SHA-256 (or ``<pack>@<version>`` for versions installed before this migration), so a
  rebuild needs nothing outside the database.
- ``class_assignment``, ``learner_accommodations``, ``weekly_goal``: stored projections of the
  ``assignment.set``, ``learner.accommodations_set`` and ``goal.set`` events, stamped like the
  mastery table with their algorithm and the event that last set them.

The hashes are computed with the rule as it stands today, written out here so this migration
keeps meaning what it meant the day it shipped.
"""

import hashlib
import json

STATEMENTS = [
    "ALTER TABLE event ADD COLUMN payload_hash TEXT",
    """CREATE TABLE pack_manifest (
        key TEXT PRIMARY KEY,
        pack_id TEXT NOT NULL,
        version TEXT NOT NULL,
        body TEXT NOT NULL
    )""",
    """CREATE TABLE class_assignment (
        class_uid TEXT PRIMARY KEY,
        skills TEXT NOT NULL,
        algorithm TEXT NOT NULL,
        event_id INTEGER NOT NULL
    )""",
    """CREATE TABLE learner_accommodations (
        learner_uid TEXT PRIMARY KEY,
        items_per_session INTEGER,
        more_time INTEGER NOT NULL,
        read_aloud INTEGER NOT NULL,
        larger_text INTEGER NOT NULL,
        algorithm TEXT NOT NULL,
        event_id INTEGER NOT NULL
    )""",
    """CREATE TABLE weekly_goal (
        learner_uid TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        target INTEGER NOT NULL,
        week_of TEXT NOT NULL,
        algorithm TEXT NOT NULL,
        event_id INTEGER NOT NULL
    )""",
]


def _canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _hash(kind, payload_text, learner_uid, actor_uid, class_uid):
    body = _canonical(json.loads(payload_text))
    head = _canonical({"actor": actor_uid, "class": class_uid, "kind": kind, "learner": learner_uid})
    return hashlib.sha256(f'{head[:-1]},"payload":{body}}}'.encode()).hexdigest()


def up(migrator, db):
    for statement in STATEMENTS:
        db.execute_sql(statement)
    rows = db.execute_sql("SELECT id, kind, payload, learner_uid, actor_uid, class_uid FROM event").fetchall()
    if rows:
        db.execute_sql("DROP TRIGGER event_no_update")
        for row_id, kind, payload, learner_uid, actor_uid, class_uid in rows:
            db.execute_sql("UPDATE event SET payload_hash = ? WHERE id = ?",
                           (_hash(kind, payload, learner_uid, actor_uid, class_uid), row_id))
        db.execute_sql("""CREATE TRIGGER event_no_update BEFORE UPDATE ON event
           BEGIN SELECT RAISE(ABORT, 'events are append-only'); END""")


def down(migrator, db):
    for table in ("weekly_goal", "learner_accommodations", "class_assignment", "pack_manifest"):
        db.execute_sql(f"DROP TABLE {table}")
    db.execute_sql("ALTER TABLE event DROP COLUMN payload_hash")
