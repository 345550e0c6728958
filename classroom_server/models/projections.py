"""Stored projections of the event log. Never edited by hand: each is rewritten from events, and
``classroom-server recompute --check`` compares every one with a rebuild (services/projections.py).
Each row is stamped with its projection's algorithm version and the event that last set it."""

from peewee import BooleanField, CompositeKey, FloatField, IntegerField, TextField

from classroom_server.models.base import BaseModel


class MasteryRow(BaseModel):
    """One learner's standing on one skill."""

    learner_uid = TextField()
    skill = TextField()
    state = TextField()
    p_fresh = FloatField()
    attempts = IntegerField()
    needs_help = BooleanField()
    algorithm = TextField()
    event_id = IntegerField()

    class Meta:
        table_name = "mastery"
        primary_key = CompositeKey("learner_uid", "skill")


class ClassAssignment(BaseModel):
    """A class's current assignments: ``skills``, the whole class's (qualified skill ids, as JSON,
    in the teacher's order), and ``given``, those to some learners or with a due date (JSON)."""

    class_uid = TextField(primary_key=True)
    skills = TextField()
    given = TextField(default="[]")
    algorithm = TextField()
    event_id = IntegerField()


class ClassCourse(BaseModel):
    """A class's courses: the packs it studies, as JSON ``[{"pack": id, "grades": [lo, hi]}]``."""

    class_uid = TextField(primary_key=True)
    courses = TextField()
    algorithm = TextField()
    event_id = IntegerField()


class LearnerAccommodations(BaseModel):
    learner_uid = TextField(primary_key=True)
    items_per_session = IntegerField(null=True)
    more_time = BooleanField()
    read_aloud = BooleanField()
    larger_text = BooleanField()
    algorithm = TextField()
    event_id = IntegerField()


class WeeklyGoal(BaseModel):
    """A learner's latest goal; it counts for the week it was set in (``week_of``)."""

    learner_uid = TextField(primary_key=True)
    kind = TextField()
    target = IntegerField()
    week_of = TextField()
    algorithm = TextField()
    event_id = IntegerField()
