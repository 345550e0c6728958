"""A count of changes to the classes' setup, kept by the database itself (#21).

Every learner page reads who is in which class, what the classes study, what their teachers
asked and the learner's accommodations: six queries on every request, for data that changes a
few times a day. ``class_setup_generation.n`` goes up by one, in the writer's own transaction,
with every insert, update or delete in the five tables that hold it, whichever process writes
(the hub, a command, a sync). The hub keeps what it read for a learner while ``n`` stays the
same (services/setup_cache.py): one cheap query instead of six.
"""

TABLES = ("classroom", "enrollment", "class_course", "class_assignment", "learner_accommodations")
CHANGES = ("INSERT", "UPDATE", "DELETE")


def up(migrator, db):
    db.execute_sql("CREATE TABLE class_setup_generation (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)")
    db.execute_sql("INSERT INTO class_setup_generation (id, n) VALUES (1, 0)")
    for table in TABLES:
        for change in CHANGES:
            db.execute_sql(
                f'CREATE TRIGGER {table}_{change.lower()}_setup AFTER {change} ON "{table}" '
                "BEGIN UPDATE class_setup_generation SET n = n + 1 WHERE id = 1; END"
            )


def down(migrator, db):
    for table in TABLES:
        for change in CHANGES:
            db.execute_sql(f"DROP TRIGGER IF EXISTS {table}_{change.lower()}_setup")
    db.execute_sql("DROP TABLE class_setup_generation")
