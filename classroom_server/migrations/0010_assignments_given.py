"""Assignments to some of a class's learners, or with a due date (#18).

``class_assignment.given``: the class's latest ``assignment.set`` event's ``given`` list (JSON),
beside ``skills`` (the whole class's, as before). The projection's algorithm becomes
``assignment-2``, so the table is rewritten from the log at the next start.
"""


def up(migrator, db):
    db.execute_sql("ALTER TABLE class_assignment ADD COLUMN given TEXT NOT NULL DEFAULT '[]'")


def down(migrator, db):
    db.execute_sql("ALTER TABLE class_assignment DROP COLUMN given")
