from peewee import AutoField, IntegerField, TextField

from classroom_server.models.base import BaseModel


class Event(BaseModel):
    """One append-only fact. Never updated or deleted: database triggers refuse it."""

    id = AutoField()
    event_id = TextField(unique=True)
    origin = TextField()
    seq = IntegerField()
    kind = TextField()
    learner_uid = TextField(null=True)
    actor_uid = TextField(null=True)
    class_uid = TextField(null=True)
    occurred_at = TextField()
    recorded_at = TextField()
    payload = TextField()
    result = TextField(null=True)
    payload_hash = TextField(null=True)  # see classroom_server/eventkinds.py


class OriginCounter(BaseModel):
    origin = TextField(primary_key=True)
    last_seq = IntegerField()
