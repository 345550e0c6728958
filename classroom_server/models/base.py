from peewee import Model

from classroom_server.db import db


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False
