"""Peewee models, one module per domain. The schema itself is owned by migrations/."""

from classroom_server.models.content import InstalledPack
from classroom_server.models.events import Event, OriginCounter
from classroom_server.models.hub import HubMeta, LoginThrottle
from classroom_server.models.projections import MasteryRow
from classroom_server.models.people import ClassTeacher, Classroom, Enrollment, Person

__all__ = [
    "ClassTeacher",
    "Classroom",
    "Enrollment",
    "Event",
    "HubMeta",
    "MasteryRow",
    "InstalledPack",
    "LoginThrottle",
    "OriginCounter",
    "Person",
]
