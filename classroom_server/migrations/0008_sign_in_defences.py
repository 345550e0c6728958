"""Sign-in defences: sessions the hub can end, devices a person has signed in on, and each
learner's budget of wrong tries (docs/security.md gives the design and its numbers).

- ``web_session``: one row per signed-in browser. The cookie carries a random token; the hub
  keeps only its SHA-256, so a copied database yields no cookie. Signing out, a new password or
  secret, an archived account and a restore delete rows, and a cookie whose row is gone is
  signed out, whatever its signature says.
- ``trusted_device``: a browser (a random id in a long-lived cookie, kept hashed) on which a
  person has signed in before. Wrong tries from it are counted for that device only, so a
  guesser elsewhere cannot lock its owner out.
- ``guess_budget``: wrong tries a learner's account has left, across every device. It refills
  slowly; when it is spent, sign-in for that learner pauses until the teacher lets them in
  again (or it refills). It bounds how much of a small secret anyone can try in a school year.

Device-local security state, like ``login_throttle``: none of it is an event, none of it syncs.
"""

STATEMENTS = [
    """CREATE TABLE web_session (
        token_hash TEXT PRIMARY KEY,
        person_id INTEGER NOT NULL REFERENCES person (id) ON DELETE CASCADE,
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL
    )""",
    "CREATE INDEX web_session_person ON web_session (person_id)",
    """CREATE TABLE trusted_device (
        device_hash TEXT NOT NULL,
        person_id INTEGER NOT NULL REFERENCES person (id) ON DELETE CASCADE,
        last_success REAL NOT NULL,
        PRIMARY KEY (device_hash, person_id)
    )""",
    "CREATE INDEX trusted_device_person ON trusted_device (person_id)",
    """CREATE TABLE guess_budget (
        person_id INTEGER PRIMARY KEY REFERENCES person (id) ON DELETE CASCADE,
        remaining REAL NOT NULL,
        updated_at REAL NOT NULL,
        wrong_total INTEGER NOT NULL DEFAULT 0
    )""",
]


def up(migrator, db):
    for statement in STATEMENTS:
        db.execute_sql(statement)


def down(migrator, db):
    for table in ("guess_budget", "trusted_device", "web_session"):
        db.execute_sql(f"DROP TABLE {table}")
