"""What a sync costs in requests: a batch is encoded once, and a pack's manifest travels in the
same sync as its installation, so the sync after it has nothing to do (one request)."""

from __future__ import annotations

import random

from classroom_server.db import db
from classroom_server.models import PackManifest
from classroom_server.services import events, packs
from classroom_server.services import sync as hub_sync
from content_packs.testing import make_pack
from sync import client, protocol
from sync.district.models import Manifest
from tests.sync.conftest import enrolled


class Counting:
    """A transport that notes the path of every request."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner
        self.paths: list[str] = []
        self.bodies: list[bytes] = []

    def post(self, path, body, headers, timeout):  # type: ignore[no-untyped-def]
        self.paths.append(path.rsplit("/", 1)[1])
        self.bodies.append(body)
        return self.inner.post(path, body, headers, timeout)


def test_a_pack_manifest_travels_with_the_pack_installation(app, school, district, data_dir, tmp_path):
    transport = Counting(enrolled(app, district))
    packs.import_pack(data_dir, make_pack(tmp_path / "src", skills=2, items_per_skill=3, pack_id="org.example.sync"))
    with db.connection_context():
        keys = {row.key for row in PackManifest.select()}
        first = hub_sync.run(transport)
    assert keys and first.pushed > 0
    assert transport.paths == ["hello", "push", "manifests"]  # named by the push's answer
    with district.extensions["district_database"].connection_context():
        assert {row.key for row in Manifest.select()} == keys
    sent = transport.bodies[2]  # compressed: a pack's manifest is tens of kilobytes of JSON
    assert protocol.decode_json(sent)["manifests"].keys() == keys
    assert sent[:2] == b"\x1f\x8b" and len(sent) < len(protocol.encode_json(protocol.decode_json(sent))) / 3
    transport.paths.clear()
    with db.connection_context():
        again = hub_sync.run(transport)
    assert (again.requests, transport.paths) == (1, ["hello"])


def test_each_batch_is_encoded_once_when_the_last_batch_says_how_many_fit(app, school, district, monkeypatch):
    transport = Counting(enrolled(app, district))
    rng = random.Random(3)
    learners = list(school.learners.values())
    with db.connection_context(), db.atomic():
        for _ in range(3000):  # answers of about 30 bytes each in a batch: more than the first guess
            learner = rng.choice(learners)
            events.record("attempt", {
                "pack": "org.example.sync", "version": "1.0.0", "item": f"i{rng.randrange(500)}",
                "skill": f"s{rng.randrange(50)}", "response": str(rng.randrange(1000)), "correct": rng.random() < 0.7,
                "hints_used": 0, "duration_ms": rng.randrange(2000, 90000), "mode": "practice", "lang": "en",
            }, learner_uid=learner.uid, actor_uid=learner.uid)
    encoded = []
    real = protocol.encode_batch

    def counted(origin, rows, **kwargs):  # type: ignore[no-untyped-def]
        encoded.append(len(rows))
        return real(origin, rows, **kwargs)

    monkeypatch.setattr(protocol, "encode_batch", counted)
    with db.connection_context():
        session = client.Session(hub_sync.Store(), transport)
        outcome = session.run()
    pushes = transport.paths.count("push")
    assert outcome.pushed >= 3000 and pushes >= 2
    assert len(encoded) == pushes  # none encoded again to trim it
