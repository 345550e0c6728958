"""Courses: the packs (and grade bands) each class studies.

- ``class_course``: the stored projection of ``class.courses_set`` (the latest for a class is
  its whole answer), like ``class_assignment``.

A hub upgraded from before courses existed gives each of its classes every pack installed at the
upgrade, once, as ``class.courses_set`` events recorded at start (services/courses.py,
``upgrade_classes``): its learners keep the paths they had. From then on a pack installed later
is offered to classes, not put on them.
"""

STATEMENTS = [
    """CREATE TABLE class_course (
        class_uid TEXT PRIMARY KEY,
        courses TEXT NOT NULL,
        algorithm TEXT NOT NULL,
        event_id INTEGER NOT NULL
    )""",
]


def up(migrator, db):
    for statement in STATEMENTS:
        db.execute_sql(statement)


def down(migrator, db):
    db.execute_sql("DROP TABLE class_course")
