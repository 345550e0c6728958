from peewee import BooleanField, CompositeKey, FloatField, IntegerField, TextField

from classroom_server.models.base import BaseModel


class MasteryRow(BaseModel):
    """One learner's standing on one skill: a projection of the event log, never edited by hand."""

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
