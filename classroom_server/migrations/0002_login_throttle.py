"""Login throttling: failures per account and per device address, with growing delays.

Kept in the database (not memory) so a restart does not reset a guessing attack.
"""

STATEMENTS = [
    """CREATE TABLE login_throttle (
        key TEXT PRIMARY KEY,
        failures INTEGER NOT NULL DEFAULT 0,
        locked_until REAL NOT NULL DEFAULT 0,
        updated_at REAL NOT NULL
    )""",
]


def up(migrator, db):
    for statement in STATEMENTS:
        db.execute_sql(statement)


def down(migrator, db):
    db.execute_sql("DROP TABLE login_throttle")
