"""Protocol 2 beside protocol 1: a hub and a district a version apart still sync, each batch in
the version the reader speaks (sync/protocol.py, ``encode_batch``)."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Mapping

from classroom_server.db import db
from classroom_server.services import sync as hub_sync
from sync import protocol
from sync.district import service
from sync.district.models import Event as DistrictEvent
from sync.district.models import Hub
from sync.transport import Response
from tests.sync.conftest import enrolled


class Watching:
    """A transport that keeps the push bodies it carries."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner
        self.pushes: list[dict[str, object]] = []

    def post(self, path: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Response:
        if path.endswith("/push"):
            self.pushes.append(json.loads(gzip.decompress(body)))
        return self.inner.post(path, body, headers, timeout)


def _district_ids(district) -> set[str]:  # type: ignore[no-untyped-def]
    with district.extensions["district_database"].connection_context():
        return {row[0] for row in DistrictEvent.select(DistrictEvent.event_id).tuples()}


def _hub_ids() -> set[str]:
    with db.connection_context():
        return {row["event_id"] for row in hub_sync.canonical_events()}


def test_a_hub_sends_batches_in_the_districts_version(app, school, district):
    watching = Watching(enrolled(app, district))
    with db.connection_context():
        hub_sync.run(watching)
    assert watching.pushes and all("idp" in body and "id" not in body for body in watching.pushes)
    assert _district_ids(district) == _hub_ids()
    with db.connection_context():
        assert hub_sync.Store().district_version() == protocol.VERSION == 2


def test_a_district_of_version_1_gets_version_1_batches(app, school, district, monkeypatch):
    """Both sides run in this process: speaking 1 on both is a hub of 2 whose district says 1
    (its hello's version) and a district reading what such a hub sends."""
    watching = Watching(enrolled(app, district))
    monkeypatch.setattr(protocol, "VERSION", 1)
    with db.connection_context():
        outcome = hub_sync.run(watching)
        assert hub_sync.Store().district_version() == 1
    assert outcome.pushed > 0
    assert watching.pushes and all("id" in body and "idp" not in body for body in watching.pushes)
    assert _district_ids(district) == _hub_ids()


def test_a_hub_of_version_1_is_sent_its_own_events_back_in_version_1(app, school, district):
    transport = enrolled(app, district)
    with db.connection_context():
        hub_sync.run(transport)
        origin = hub_sync.Store().current_origin()
    with district.extensions["district_database"].connection_context():
        registration = Hub.get()
        old = service.fetch(registration, {"v": 1, "origin": origin, "after": 0, "max_bytes": 65536})
        new = service.fetch(registration, {"v": 2, "origin": origin, "after": 0, "max_bytes": 65536})
    assert old is not None and new is not None
    assert "id" in json.loads(gzip.decompress(old)) and "idp" in json.loads(gzip.decompress(new))
    assert protocol.decode_batch(old)[2] == protocol.decode_batch(new)[2]
    assert all(uuid.UUID(e.event_id) for e in protocol.decode_batch(old)[2])
