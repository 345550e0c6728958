"""District sync: a hybrid logical clock on every event, retired origins, the hub's sync state.

- ``event.hlc``: a hybrid logical clock (milliseconds since 1970 times 1000, plus a counter in
  the last three digits) that only grows on a hub, whatever its wall clock does. Across hubs, a
  learner's events are folded in the order (hlc, origin, seq). Existing events get theirs from
  their record time, made strictly increasing in log order.
- ``origin_counter.hlc`` keeps the clock's last value with the sequence number (the same UPDATE
  takes both, so an answer costs no extra statement); ``origin_counter.retired`` marks an origin
  that must never be written again (the hub found its log rewound and began a new epoch).
- ``sync_ack``: how far the district has acknowledged each origin; ``sync_quarantine``: events
  the district refused as conflicting, kept for a person to look at.
"""

import datetime as dt

STATEMENTS = [
    "ALTER TABLE event ADD COLUMN hlc INTEGER",
    "ALTER TABLE origin_counter ADD COLUMN hlc INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE origin_counter ADD COLUMN retired INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX event_canonical ON event (hlc, origin, seq)",
    """CREATE TABLE sync_ack (
        origin TEXT PRIMARY KEY,
        acked INTEGER NOT NULL
    )""",
    """CREATE TABLE sync_quarantine (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL,
        origin TEXT NOT NULL,
        seq INTEGER NOT NULL,
        reason TEXT NOT NULL,
        noted_at TEXT NOT NULL,
        UNIQUE (origin, seq)
    )""",
]


def _millis(text):
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def up(migrator, db):
    for statement in STATEMENTS:
        db.execute_sql(statement)
    rows = db.execute_sql("SELECT id, origin, recorded_at FROM event ORDER BY id").fetchall()
    if rows:
        db.execute_sql("DROP TRIGGER event_no_update")
        last = 0
        newest = {}
        for row_id, origin, recorded_at in rows:
            last = max(last + 1, _millis(recorded_at) * 1000)
            newest[origin] = last
            db.execute_sql("UPDATE event SET hlc = ? WHERE id = ?", (last, row_id))
        db.execute_sql("""CREATE TRIGGER event_no_update BEFORE UPDATE ON event
           BEGIN SELECT RAISE(ABORT, 'events are append-only'); END""")
        for origin, value in newest.items():
            db.execute_sql("UPDATE origin_counter SET hlc = ? WHERE origin = ?", (value, origin))


def down(migrator, db):
    db.execute_sql("DROP INDEX event_canonical")
    db.execute_sql("DROP TABLE sync_quarantine")
    db.execute_sql("DROP TABLE sync_ack")
    db.execute_sql("ALTER TABLE origin_counter DROP COLUMN retired")
    db.execute_sql("ALTER TABLE origin_counter DROP COLUMN hlc")
    db.execute_sql("ALTER TABLE event DROP COLUMN hlc")
