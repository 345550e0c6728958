from peewee import CompositeKey, FloatField, IntegerField, TextField

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


class WebSession(BaseModel):
    """A signed-in browser (migration 0008). The cookie holds the token; only its hash is kept."""

    token_hash = TextField(primary_key=True)
    person_id = IntegerField()
    created_at = FloatField()
    expires_at = FloatField()


class TrustedDevice(BaseModel):
    """A browser on which a person has signed in before (migration 0008)."""

    device_hash = TextField()
    person_id = IntegerField()
    last_success = FloatField()

    class Meta:
        primary_key = CompositeKey("device_hash", "person_id")


class GuessBudget(BaseModel):
    """Wrong tries a learner's account has left, across every device (migration 0008)."""

    person_id = IntegerField(primary_key=True)
    remaining = FloatField()
    updated_at = FloatField()
    wrong_total = IntegerField(default=0)
