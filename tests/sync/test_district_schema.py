"""The district's event table on PostgreSQL: partitioned by school, an older plain table moved
into it with every row, and a conflicting row failing its push's whole COPY as INSERT would."""

from __future__ import annotations

from contextlib import closing

import pytest
from peewee import IntegrityError

from sync.district import models, service
from sync.district.models import Event, HeldId

pytestmark = pytest.mark.postgres


def _row(event_id: str, seq: int, school: int = 3) -> dict[str, object]:
    return {"event_id": event_id, "origin": "hub-one.1", "seq": seq, "hlc": seq, "kind": "learner.signed_in",
            "learner_uid": "l1", "actor_uid": None, "class_uid": None, "occurred_at": "2026-03-02T09:00:00+00:00",
            "recorded_at": "2026-03-02T09:00:00+00:00", "payload": '{"method":"pin"}', "payload_hash": "h",
            "school": school, "received_at": "2026-03-02T09:00:01+00:00"}


def test_an_older_plain_event_table_is_moved_into_the_partitioned_one(postgres_url):
    database = models.open_database(postgres_url)
    models.district_db.initialize(database)
    database.create_tables([m for m in models.MODELS if m is not HeldId])  # the schema before partitioning
    Event.insert_many([_row("a", 1), _row("b", 2, school=5)]).execute()
    database.close()

    with closing(models.connect(postgres_url)) as database:
        assert models._event_table_kind(database) == "p"
        partitions = database.execute_sql("SELECT count(*) FROM pg_inherits WHERE inhparent = 'event'::regclass")
        assert partitions.fetchone()[0] == models.EVENT_PARTITIONS
        assert sorted(Event.select(Event.id, Event.event_id, Event.school).tuples()) == [(1, "a", 3), (2, "b", 5)]
        assert sorted(HeldId.select(HeldId.event_id).tuples()) == [("a",), ("b",)]  # filled once, at the move
        Event.insert(**_row("c", 3)).execute()
        assert Event.get(Event.event_id == "c").id == 3  # ids go on after the moved rows
        models.connect(postgres_url).close()  # and connecting again changes nothing
        assert Event.select().count() == 3 and HeldId.select().count() == 2


def test_a_conflicting_row_fails_the_whole_copy_and_nothing_of_it_is_kept(postgres_url):
    with closing(models.connect(postgres_url)) as database:
        with database.atomic():
            service._insert_events([_row("a", 1)])
        with pytest.raises(IntegrityError):
            with database.atomic():
                service._insert_events([_row("b", 2), _row("a", 3)])  # event id a again, same school
        with pytest.raises(IntegrityError):
            with database.atomic():
                service._insert_events([_row("c", 4), _row("d", 1)])  # (origin, seq) again
        assert [e for (e,) in Event.select(Event.event_id).tuples()] == ["a"]
        assert [e for (e,) in HeldId.select(HeldId.event_id).tuples()] == ["a"]


def test_an_event_id_is_held_once_across_schools_even_by_two_pushes_at_the_same_instant(postgres_url):
    """The event table is unique by (event_id, school) only; ``HeldId`` makes the id unique in the
    whole district, so a second school's push of the same id fails, whatever the timing, and is
    retried by its hub (which then finds the id held, docs/scale.md)."""
    with closing(models.connect(postgres_url)) as database:
        with database.atomic():
            service._insert_events([_row("a", 1, school=3)])
        with pytest.raises(IntegrityError):
            with database.atomic():
                service._insert_events([{**_row("a", 1, school=5), "origin": "hub-two.1"}])
        assert sorted(Event.select(Event.event_id, Event.school).tuples()) == [("a", 3)]
        assert service._held_ids(["a", "zz"]) == {"a": "h"}


def test_a_district_from_before_held_ids_gets_them_at_its_next_start(postgres_url):
    with closing(models.connect(postgres_url)) as database:
        with database.atomic():
            service._insert_events([_row("a", 1), _row("b", 2, school=5)])
        database.execute_sql("DROP TABLE event_held_id")  # as it was before
    with closing(models.connect(postgres_url)):
        assert dict(HeldId.select(HeldId.event_id, HeldId.payload_hash).tuples()) == {"a": "h", "b": "h"}
