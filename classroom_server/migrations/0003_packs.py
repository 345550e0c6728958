"""Installed content packs: one row per pack version the hub has installed.

Pack contents live in files under DATA/packs/ and in memory; this table says which version of
each pack is active. It is a projection of the pack.installed / pack.removed events.
"""

STATEMENTS = [
    """CREATE TABLE pack (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        pack_id TEXT NOT NULL,
        version TEXT NOT NULL,
        folder TEXT NOT NULL,
        title TEXT NOT NULL,
        skills INTEGER NOT NULL,
        items INTEGER NOT NULL,
        size_bytes INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'superseded', 'removed')),
        installed_at TEXT NOT NULL,
        UNIQUE (pack_id, version)
    )""",
    "CREATE INDEX pack_status ON pack (status, pack_id)",
]


def up(migrator, db):
    for statement in STATEMENTS:
        db.execute_sql(statement)


def down(migrator, db):
    db.execute_sql("DROP TABLE pack")
