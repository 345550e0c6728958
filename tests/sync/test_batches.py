"""A batch on the wire: every field comes back exactly, damage is refused, and an answer is small.

The columns (sync/protocol.py, ``encode_batch``) send what one field implies of another only once:
the recorded time as an offset from the hybrid clock, an actor who is the learner as ``true``,
payloads split into one column per key. These tests pin that nothing is lost on the way, that a
batch which does not add up is refused, and the size an answer costs in a full batch.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import random
import uuid
from typing import Any

import pytest

from classroom_server import clock, event_ids, eventkinds
from classroom_server.eventkinds import canonical_json
from sync import protocol
from sync.protocol import ProtocolError

ORIGIN = "7d7b0c1e-2f7c-4a55-9f3e-000000000001.a1b2c3d4e5f6"
START_MS = 1_796_032_806_613  # 2026-11-30T10:00:06.613Z


def iso(ms: int) -> str:
    """The time as the hub records it."""
    return clock.iso(dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=ms))


def stored(seq: int, kind: str, payload: dict[str, Any], *, hlc: int, recorded: str, occurred: str | None = None,
           learner: str | None = None, actor: str | None = None, klass: str | None = None,
           event_id: str | None = None) -> dict[str, Any]:
    """An event as the hub's ``events_after`` returns it."""
    return {"origin": ORIGIN, "seq": seq, "event_id": event_id or str(uuid.uuid4()), "kind": kind,
            "learner_uid": learner, "actor_uid": actor, "class_uid": klass, "hlc": hlc,
            "occurred_at": occurred or recorded, "recorded_at": recorded, "payload": canonical_json(payload)}


def attempt(rng: random.Random, learners: list[str], ms: int) -> dict[str, Any]:
    skill = rng.choice(["equal-parts", "unit-fractions", "number-line", "compare-same-parts"])
    return {"pack": "org.openclassroom.fractions", "version": "1.0.1", "item": f"{skill[:2]}-{rng.randrange(20):03d}",
            "skill": skill, "response": rng.choice(["a", "b", "c", ["a", "b"], "3/4", {"l1": "r2", "l2": "r1"}]),
            "correct": rng.random() < 0.7, "hints_used": int(rng.random() < 0.1),
            "duration_ms": int(rng.lognormvariate(9.9, 0.6)), "mode": rng.choice(["practice"] * 5 + ["check"]),
            "lang": "en"}


def classroom(count: int, seed: int = 7, *, devices: bool = False) -> list[dict[str, Any]]:
    """Answers of a class of 30 practising together, as the hub stores them (the hybrid clock at
    the recording millisecond, a sign-in now and then). Ids random (version 4, as before
    protocol 2), or with ``devices`` each learner's device makes them (classroom_server/event_ids.py,
    as the learner pages' script does: a prefix per device and a counter)."""
    rng = random.Random(seed)
    learners = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(30)]
    sources = {learner: event_ids.IdSource(counter=rng.randrange(1000)) for learner in learners}
    klass = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    events, ms = [], START_MS
    for seq in range(1, count + 1):
        ms += int(rng.expovariate(1 / 900)) + 1
        learner = rng.choice(learners)
        event_id = sources[learner].new() if devices else str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if rng.random() < 0.07:
            events.append(stored(seq, "learner.signed_in", {"method": "pin"}, hlc=ms * 1000, recorded=iso(ms),
                                 learner=learner, actor=learner, klass=klass, event_id=event_id))
        else:
            events.append(stored(seq, "attempt", attempt(rng, learners, ms), hlc=ms * 1000, recorded=iso(ms),
                                 learner=learner, actor=learner, event_id=event_id))
    return events


def as_rows(events: list[protocol.WireEvent]) -> list[dict[str, Any]]:
    return [event.as_row() for event in events]


def plain(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: e[k] for k in ("origin", "seq", *protocol.FIELDS)} for e in events]


def test_every_field_comes_back_exactly_whatever_it_holds():
    learner, teacher, klass = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    ms = START_MS
    events = [
        stored(41, "person.created", {"uid": teacher, "role": "teacher", "username": "tess", "display_name": "Tess"},
               hlc=ms * 1000, recorded=iso(ms), actor=teacher),
        # two events in one millisecond: the clock's logical part counts on
        stored(42, "class.created", {"uid": klass, "name": "Baobabs", "login_kind": "pin", "teachers": [teacher]},
               hlc=ms * 1000 + 1, recorded=iso(ms), actor=teacher),
        # the recorded time a millisecond before the clock's (read just before it), and an
        # answer made offline two minutes before it was recorded
        stored(43, "attempt", attempt(random.Random(1), [learner], ms), hlc=(ms + 5) * 1000, recorded=iso(ms + 4),
               occurred=iso(ms - 120_000), learner=learner, actor=learner, klass=klass),
        # a teacher acting on a learner; times in other spellings travel as text
        stored(44, "override", {"pack": None, "skill": None, "action": "pause"}, hlc=(ms + 9) * 1000,
               recorded="2026-11-30T10:00:07+00:00", occurred="2026-11-30 10:00:06Z", learner=learner, actor=teacher),
        stored(45, "learner.updated", {"uid": learner, "display_name": "Zoë 学生 \u2028", "avatar": None},
               hlc=(ms + 10) * 1000, recorded=iso(ms + 10), actor=None),
        # a clock that ran ahead of the wall clock (a Pi that booted with the wrong time)
        stored(46, "learner.signed_in", {"method": "pin"}, hlc=(ms + 86_400_000) * 1000, recorded=iso(ms + 11),
               learner=learner, actor=learner, klass=klass),
    ]
    origin, first, decoded = protocol.decode_batch(protocol.encode_batch(ORIGIN, events))
    assert (origin, first) == (ORIGIN, 41)
    assert as_rows(decoded) == plain(events)
    assert [e.payload_hash for e in decoded] == [protocol.WireEvent(**{**e, "origin": ORIGIN}).payload_hash
                                                 for e in plain(events)]
    # the district hashes a whole batch at once (the part naming the kind and people made once):
    # the same hashes as the hub's rule, event by event, with nobody, a teacher, odd text
    assert protocol.payload_hashes(decoded) == [eventkinds.payload_hash(e.kind, e.payload, e.learner_uid, e.actor_uid,
                                                                         e.class_uid) for e in decoded]


@pytest.mark.parametrize("devices", [False, True], ids=["random ids", "device ids"])
@pytest.mark.parametrize("version", [1, 2])
def test_a_class_of_answers_comes_back_exactly(version, devices):
    events = classroom(3000, devices=devices)
    body = protocol.encode_batch(ORIGIN, events, version=version)
    decoded = protocol.decode_batch(body)[2]
    assert as_rows(decoded) == plain(events)
    assert protocol.payload_hashes(decoded) == [event.payload_hash for event in decoded]


def test_an_answer_costs_under_32_bytes_in_a_full_batch_even_with_random_ids():
    """A class's answers, 2,000 to a batch, with random (version 4) ids: the id alone is 16
    bytes. Whole payloads in one column, with their keys and the learner's id in every event,
    took 41. Protocol 2 sends such ids at about what protocol 1 did."""
    events = classroom(2000)
    old, new = protocol.encode_batch(ORIGIN, events, version=1), protocol.encode_batch(ORIGIN, events)
    assert len(old) / len(events) < 32
    assert len(new) / len(events) < 32.5


def test_an_answer_from_a_device_costs_under_16_bytes():
    """The same class with the ids their devices make (a prefix and a counter): the id costs
    about 3 bytes instead of 16 (its 16 random bits are most of that). Protocol 1 sent the same
    ids whole, and gzip found some of their repeats: 17 bytes an answer."""
    events = classroom(2000, devices=True)
    random_ids = protocol.encode_batch(ORIGIN, classroom(2000))
    old, new = protocol.encode_batch(ORIGIN, events, version=1), protocol.encode_batch(ORIGIN, events)
    assert len(new) / len(events) < 16
    assert len(random_ids) - len(new) > 12 * len(events)
    assert len(old) - len(new) > len(events)


def _tampered(change, version: int = protocol.VERSION) -> bytes:  # type: ignore[no-untyped-def]
    events = classroom(20, devices=True)
    events[5]["event_id"] = str(uuid.uuid4())  # one id made elsewhere, with a prefix of its own
    message = json.loads(gzip.decompress(protocol.encode_batch(ORIGIN, events, version=version)))
    change(message)
    return gzip.compress(json.dumps(message).encode())


@pytest.mark.parametrize("change, problem", [
    (lambda m: m.update(id=m["id"][:-4]), "'id' column"),
    (lambda m: m.update(id="not base64!"), "not base64"),
])
def test_a_version_1_batch_with_damaged_ids_is_refused(change, problem):
    with pytest.raises(ProtocolError, match=problem):
        protocol.decode_batch(_tampered(change, version=1))


@pytest.mark.parametrize("change, problem", [
    (lambda m: m.pop("idp"), "id columns"),
    (lambda m: m.update(idp="not base64!"), "not base64"),
    (lambda m: m.update(idp=m["idp"][:-4]), "id columns|do not match"),
    (lambda m: m["idr"].pop(), "id columns"),
    (lambda m: m["idc"].append(1), "id columns"),
    (lambda m: m.update(idc={"a": 1}), "id columns"),
    (lambda m: m["idr"].__setitem__(3, 99), "damaged"),
    (lambda m: m["idr"].__setitem__(3, -1), "damaged"),
    (lambda m: m["idr"].__setitem__(3, True), "damaged"),
    (lambda m: m["idr"].__setitem__(0, 1), "damaged"),  # a prefix used before it is named
    (lambda m: m["idc"].__setitem__(3, "5"), "damaged"),
    (lambda m: m["idc"].__setitem__(3, 2 ** 64), "damaged"),
    (lambda m: m["idc"].__setitem__(0, -1), "damaged"),
    (lambda m: m["idr"].__setitem__(m["idr"].index(0, 1), 1), "damaged|do not match"),  # a prefix never used
])
def test_a_batch_with_damaged_ids_is_refused(change, problem):
    with pytest.raises(ProtocolError, match=problem):
        protocol.decode_batch(_tampered(change))


@pytest.mark.parametrize("change, problem", [
    (lambda m: m["learner"].__setitem__(3, len(m["uids"])), "refers to nothing"),
    (lambda m: m["learner"].__setitem__(3, True), "refers to nothing"),
    (lambda m: (m["learner"].__setitem__(3, None), m["actor"].__setitem__(3, True)), "refers to nothing"),
    (lambda m: m["shape"].__setitem__(0, 99), "wrong type"),
    (lambda m: m["values"][0][0].pop(), "missing"),
    (lambda m: m["values"][0][0].append(True), "no event"),
    (lambda m: m["shapes"][0].append("extra"), "shapes and values"),
    (lambda m: m["recorded"].__setitem__(2, [1]), "not a time"),
    (lambda m: m["recorded"].__setitem__(2, 10 ** 30), "not a time"),
    (lambda m: m["hlc"].__setitem__(2, "5"), "wrong type"),
    (lambda m: m["kind"].pop(), "'kind' column"),
])
def test_a_batch_that_does_not_add_up_is_refused(change, problem):
    with pytest.raises(ProtocolError, match=problem):
        protocol.decode_batch(_tampered(change))


def test_a_payload_that_breaks_its_kind_rules_is_refused():
    def wrong(message: dict[str, Any]) -> None:
        shape = message["shapes"].index(sorted(attempt(random.Random(1), [], 0)))
        column = message["shapes"][shape].index("correct")
        message["values"][shape][column][0] = "yes"

    with pytest.raises(ProtocolError, match="attempt payload"):
        protocol.decode_batch(_tampered(wrong))


def test_ids_travel_as_prefixes_and_steps():
    """Protocol 2: each source's prefix once, then each id as the step from the one before it
    with the same prefix; protocol 1 (for a peer not yet upgraded): every id's 16 bytes."""
    one, two = event_ids.IdSource(), event_ids.IdSource()
    ids = [one.new(), two.new(), one.new(), str(uuid.uuid4()), one.new(), two.new()]
    events = classroom(len(ids))
    for event, event_id in zip(events, ids, strict=True):
        event["event_id"] = event_id
    message = json.loads(gzip.decompress(protocol.encode_batch(ORIGIN, events)))
    values = [uuid.UUID(i).int for i in ids]
    highs = [v >> 64 for v in values]
    lows = [v & (2**64 - 1) for v in values]
    assert base64.b64decode(message["idp"]) == b"".join(h.to_bytes(8, "big") for h in dict.fromkeys(highs))
    assert message["idr"] == [0, 0, 1, 0, 1, 2]
    assert message["idc"] == [lows[0], lows[1], lows[2] - lows[0], lows[3], lows[4] - lows[2], lows[5] - lows[1]]
    assert all(0 < step < 2 * event_ids.COUNTER_STEP for step in (lows[2] - lows[0], lows[4] - lows[2]))
    assert "id" not in message
    old = json.loads(gzip.decompress(protocol.encode_batch(ORIGIN, events, version=1)))
    assert base64.b64decode(old["id"]) == b"".join(uuid.UUID(i).bytes for i in ids)
    assert old["v"] == 1 and "idp" not in old


def test_a_message_may_come_compressed_and_damage_is_refused():
    message = {"manifests": {"k": "x" * 5000}}
    packed = protocol.encode_json_gzip(message)
    assert len(packed) < 200
    assert protocol.decode_json(packed) == protocol.decode_json(protocol.encode_json(message))
    with pytest.raises(ProtocolError, match="not valid gzip"):
        protocol.decode_json(packed[:20])
