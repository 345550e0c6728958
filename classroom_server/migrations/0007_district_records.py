"""The district's roster on the hub: who and which classes came from it, archived classes.

- ``person.source`` and ``classroom.source``: ``district`` for a record the district owns (its
  roster, pulled by sync: services/district_changes.py), NULL for one made on this hub. The
  hub's ``uid`` of a district record is its OneRoster ``sourcedId``.
- ``classroom.archived``: 1 for a class the district withdrew (or, later, a teacher archived). It
  stays, with its history, but is no longer offered to sign in or listed.
- ``pack_offer``: pack versions the district offers this hub, and how far each is fetched:
  ``waiting`` (being fetched, a piece a sync), ``installed``, ``newer`` (the hub holds a newer
  version) or ``withdrawn``; ``problem`` says why the last try failed. Where the hub is, not what
  learners did: no event (installing records ``pack.installed``).
- ``followed_learner`` and ``foreign_scan``: one learner on two hubs. The learners whose events
  from the school's other hubs this hub holds too, and how far the hub has scanned each of those
  hubs' origins for them (services/sync.py, ``Store.apply_shared``).
"""

STATEMENTS = [
    "ALTER TABLE person ADD COLUMN source TEXT",
    "ALTER TABLE classroom ADD COLUMN source TEXT",
    "ALTER TABLE classroom ADD COLUMN archived INTEGER NOT NULL DEFAULT 0",
    """CREATE TABLE pack_offer (
        pack_id TEXT PRIMARY KEY,
        version TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        title TEXT,
        state TEXT NOT NULL,
        problem TEXT,
        updated_at TEXT NOT NULL
    )""",
    "CREATE TABLE followed_learner (uid TEXT PRIMARY KEY)",
    "CREATE TABLE foreign_scan (origin TEXT PRIMARY KEY, scanned INTEGER NOT NULL)",
]


def up(migrator, db):
    for statement in STATEMENTS:
        db.execute_sql(statement)


def down(migrator, db):
    db.execute_sql("DROP TABLE foreign_scan")
    db.execute_sql("DROP TABLE followed_learner")
    db.execute_sql("DROP TABLE pack_offer")
    db.execute_sql("ALTER TABLE classroom DROP COLUMN archived")
    db.execute_sql("ALTER TABLE classroom DROP COLUMN source")
    db.execute_sql("ALTER TABLE person DROP COLUMN source")
