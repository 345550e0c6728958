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


class PackManifest(BaseModel):
    """What the learning engine needs of one pack version (learning/adapter.py), kept for good:
    a rebuild of the projection reads these, never the pack folders."""

    key = TextField(primary_key=True)  # SHA-256 of body, or <pack>@<version> for older installs
    pack_id = TextField()
    version = TextField()
    body = TextField()

    class Meta:
        table_name = "pack_manifest"


class PackOffer(BaseModel):
    """A pack version the district offers this hub, and how far fetching it got (migration 0007)."""

    pack_id = TextField(primary_key=True)
    version = TextField()
    sha256 = TextField()
    size = IntegerField()
    title = TextField(null=True)
    state = TextField()  # waiting, installed, newer, withdrawn
    problem = TextField(null=True)
    updated_at = TextField()

    class Meta:
        table_name = "pack_offer"
