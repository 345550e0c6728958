from peewee import FloatField, IntegerField, TextField

from classroom_server.models.base import BaseModel


class HubMeta(BaseModel):
    """Key/value facts about this hub: its id, database epoch, last backup."""

    key = TextField(primary_key=True)
    value = TextField()


class LoginThrottle(BaseModel):
    key = TextField(primary_key=True)
    failures = IntegerField(default=0)
    locked_until = FloatField(default=0)
    updated_at = FloatField()
