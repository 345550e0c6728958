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
    hlc = IntegerField(null=True)  # hybrid logical clock (migration 0006): orders events across hubs


class OriginCounter(BaseModel):
    """The last sequence number and clock value of each origin this hub has written under."""

    origin = TextField(primary_key=True)
    last_seq = IntegerField()
    hlc = IntegerField(default=0)
    retired = IntegerField(default=0)  # 1: never write under this origin again (a rewound log)


class SyncAck(BaseModel):
    """How far the district has acknowledged each origin's events."""

    origin = TextField(primary_key=True)
    acked = IntegerField()


class SyncQuarantine(BaseModel):
    """An event the district refused as conflicting with one it holds: for a person to look at."""

    id = AutoField()
    event_id = TextField()
    origin = TextField()
    seq = IntegerField()
    reason = TextField()
    noted_at = TextField()


class FollowedLearner(BaseModel):
    """A learner whose events from the school's other hubs this hub holds too."""

    uid = TextField(primary_key=True)

    class Meta:
        table_name = "followed_learner"


class ForeignScan(BaseModel):
    """How far this hub has scanned another hub's origin for the learners it follows."""

    origin = TextField(primary_key=True)
    scanned = IntegerField()

    class Meta:
        table_name = "foreign_scan"


# The canonical order of a log (DESIGN.md, "Reproducible projections"): by hybrid logical clock,
# then origin, then sequence. On one hub it is the order events were written in; it also places
# events that arrive later from elsewhere (fetched back from the district) where they belong.
CANONICAL_ORDER = (Event.hlc, Event.origin, Event.seq)
