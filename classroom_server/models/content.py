from peewee import AutoField, IntegerField, TextField

from classroom_server.models.base import BaseModel


class InstalledPack(BaseModel):
    """Which version of each content pack is active on this hub."""

    id = AutoField()
    pack_id = TextField()
    version = TextField()
    folder = TextField()
    title = TextField()
    skills = IntegerField()
    items = IntegerField()
    size_bytes = IntegerField()
    status = TextField()
    installed_at = TextField()

    class Meta:
        table_name = "pack"
