"""The mastery projection: per learner and skill, rebuilt from the event log at any time.

Stamped with the algorithm version and the last event folded in, so that
``classroom-server recompute --check`` can prove it equals a fresh rebuild.
"""

STATEMENTS = [
    """CREATE TABLE mastery (
        learner_uid TEXT NOT NULL,
        skill TEXT NOT NULL,
        state TEXT NOT NULL,
        p_fresh REAL NOT NULL,
        attempts INTEGER NOT NULL,
        needs_help INTEGER NOT NULL,
        algorithm TEXT NOT NULL,
        event_id INTEGER NOT NULL,
        PRIMARY KEY (learner_uid, skill)
    )""",
]


def up(migrator, db):
    for statement in STATEMENTS:
        db.execute_sql(statement)


def down(migrator, db):
    db.execute_sql("DROP TABLE mastery")
