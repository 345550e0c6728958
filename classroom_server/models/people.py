from peewee import (
    AutoField,
    BooleanField,
    CompositeKey,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from classroom_server.models.base import BaseModel

ROLES = ("admin", "teacher", "learner")


class Person(BaseModel):
    """Anyone who signs in. ``uid`` is the id other hubs and the district know them by."""

    id = AutoField()
    uid = TextField(unique=True)
    role = TextField()
    username = TextField(null=True, unique=True)
    display_name = TextField()
    password_hash = TextField(null=True)
    avatar = TextField(null=True)
    secret_kind = TextField(null=True)
    secret_hash = TextField(null=True)
    auth_version = IntegerField(default=1)
    active = BooleanField(default=True)
    created_at = TextField()
    source = TextField(null=True)  # "district": the district's roster owns this record (read-only here)

    @property
    def is_staff(self) -> bool:
        return self.role in ("admin", "teacher")


class Classroom(BaseModel):
    id = AutoField()
    uid = TextField(unique=True)
    name = TextField()
    login_kind = TextField()
    created_at = TextField()
    source = TextField(null=True)  # "district": the district's roster owns this class (read-only here)
    archived = BooleanField(default=False)  # withdrawn: kept with its history, no longer listed


class ClassTeacher(BaseModel):
    classroom = ForeignKeyField(Classroom, backref="teacher_links", on_delete="CASCADE")
    teacher = ForeignKeyField(Person, backref="class_links", on_delete="CASCADE")

    class Meta:
        primary_key = CompositeKey("classroom", "teacher")


class Enrollment(BaseModel):
    classroom = ForeignKeyField(Classroom, backref="enrollments", on_delete="CASCADE")
    learner = ForeignKeyField(Person, backref="enrollments", on_delete="CASCADE")

    class Meta:
        primary_key = CompositeKey("classroom", "learner")
