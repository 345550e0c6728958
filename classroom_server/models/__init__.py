"""Peewee models, one module per domain. The schema itself is owned by migrations/."""

from classroom_server.models.content import InstalledPack, PackManifest, PackOffer
from classroom_server.models.events import (
    CANONICAL_ORDER,
    Event,
    FollowedLearner,
    ForeignScan,
    OriginCounter,
    SyncAck,
    SyncQuarantine,
)
from classroom_server.models.hub import GuessBudget, HubMeta, LoginThrottle, TrustedDevice, WebSession
from classroom_server.models.people import Classroom, ClassTeacher, Enrollment, Person
from classroom_server.models.projections import (
    ClassAssignment,
    ClassCourse,
    LearnerAccommodations,
    MasteryRow,
    WeeklyGoal,
)

__all__ = [
    "CANONICAL_ORDER",
    "ClassAssignment",
    "ClassCourse",
    "LearnerAccommodations",
    "PackManifest",
    "PackOffer",
    "WeeklyGoal",
    "ClassTeacher",
    "Classroom",
    "Enrollment",
    "Event",
    "FollowedLearner",
    "ForeignScan",
    "HubMeta",
    "MasteryRow",
    "InstalledPack",
    "LoginThrottle",
    "GuessBudget",
    "TrustedDevice",
    "WebSession",
    "OriginCounter",
    "Person",
    "SyncAck",
    "SyncQuarantine",
]
