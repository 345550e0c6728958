"""USB sync bundles: a hub with no link stays in step with its district through a stick carried
back and forth; damaged, partial, duplicate, out-of-order, tampered, stale-epoch and
wrong-district bundles are each refused or applied idempotently, with words, and nothing is lost."""

from __future__ import annotations

import errno
import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from classroom_server.db import db
from classroom_server.models import Event, PackOffer, Person
from classroom_server.services import bundles, events, hub, projections
from classroom_server.services import sync as hub_sync
from sync import bundle
from sync.bundle import BundleError
from sync.district import bundles as district_bundles
from sync.district.app import create_district_app
from sync.district.models import Event as DistrictEvent
from sync.district.models import Hub, Quarantine
from tests.sync.conftest import enrolled, register
from tests.sync.test_pull import ROSTER, publish
from tests.sync.test_pull_packs import PACK_ID, _add, _zip
from tests.sync.test_rewound import _swap_in


def _sign_ins(uid: str, count: int) -> list[str]:
    return [events.record("learner.signed_in", {"method": "pin"}, learner_uid=uid).event.event_id
            for _ in range(count)]


def _stick(tmp_path: Path) -> Path:
    folder = tmp_path / "stick"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _export(stick: Path, **options) -> bundles.Exported:  # type: ignore[no-untyped-def]
    with db.connection_context():
        return bundles.export(stick, **options)


def _at_district(district, paths, return_to=None):  # type: ignore[no-untyped-def]
    with district.extensions["district_database"].connection_context():
        return district_bundles.import_bundles(list(paths), return_to)


def _read_back(path: Path) -> bundles.ReadBack:
    with db.connection_context():
        return bundles.read_back(path)


def _hub_events() -> dict[str, tuple[str, int, str]]:
    with db.connection_context():
        return {row.event_id: (row.origin, row.seq, row.payload_hash) for row in Event.select()}


def _district_events(district) -> dict[str, tuple[str, int, str]]:  # type: ignore[no-untyped-def]
    with district.extensions["district_database"].connection_context():
        return {row.event_id: (row.origin, row.seq, row.payload_hash) for row in DistrictEvent.select()}


def _waiting() -> int:
    with db.connection_context():
        return hub_sync.status().waiting


def _rewrite(source: Path, target: Path, change) -> None:  # type: ignore[no-untyped-def]
    """Copy a bundle member by member, letting ``change(name, data)`` alter or drop (None) each."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as new:
        for info in old.infolist():
            data = change(info.filename, old.read(info))
            if data is not None:
                new.writestr(info.filename, data)


def test_a_stick_carried_there_and_back_leaves_hub_and_district_as_a_network_sync_would(app, school, district,
                                                                                      tmp_path):
    transport = enrolled(app, district)  # enrolled once at the district office; no link after that
    publish(district, ROSTER)
    stick = _stick(tmp_path)
    with db.connection_context():
        _sign_ins(school.learners["cleo"].uid, 5)
    waiting = _waiting()
    exported = _export(stick)
    assert exported.events == waiting > 0
    assert [p.name for p in exported.paths] == [bundle.file_name(bundle.TO_DISTRICT, exported.paths[0].name[4:-14],
                                                                 exported.counter)]
    assert not list(stick.glob(".*.part"))
    [result], refused = _at_district(district, exported.paths)
    assert refused == [] and result.taken == waiting and result.held == 0 and result.waiting == []
    assert result.changes == len(ROSTER) and result.return_path is not None
    assert result.return_path.parent == stick  # back onto the stick
    assert _district_events(district) == _hub_events()
    with district.extensions["district_database"].connection_context():
        assert Hub.get().last_bundle_at

    back = _read_back(result.return_path)
    assert back.newest and back.outcome.pulled == len(ROSTER)
    # The roster's changes are recorded here as events, which go up with the next bundle (a
    # network sync pulls before it pushes, so it sends them at once).
    assert _waiting() == len(ROSTER)
    [second], _ = _at_district(district, _export(stick).paths)
    assert second.taken == len(ROSTER) and second.changes == 0
    _read_back(second.return_path)
    assert _waiting() == 0
    with db.connection_context():
        assert Person.get(Person.uid == "s-1").display_name == "Amara Diallo"
        problems = [p for o in projections.recompute(app.extensions["catalogue"], check=True) for p in o.problems]
        assert problems == []
    # The same state a network sync leaves: a sync now has nothing to send and nothing to pull.
    with db.connection_context():
        after = hub_sync.run(transport)
    assert (after.requests, after.pushed, after.pulled) == (1, 0, 0)
    assert _district_events(district) == _hub_events()


def test_a_bundle_read_twice_or_an_older_one_after_a_newer_changes_nothing_twice(app, school, district, tmp_path):
    enrolled(app, district)
    stick = _stick(tmp_path)
    uid = school.learners["cleo"].uid
    with db.connection_context():
        _sign_ins(uid, 3)
    first = _export(stick)
    with db.connection_context():
        _sign_ins(uid, 4)
    second = _export(stick)  # holds everything the district lacks: the first bundle's events too
    assert second.events == first.events + 4
    [newer], _ = _at_district(district, second.paths)
    assert newer.taken == second.events
    [older], _ = _at_district(district, first.paths)
    assert (older.taken, older.held, older.rewound) == (0, first.events, [])
    assert any("older" in note for note in older.notes)
    [again], _ = _at_district(district, second.paths)
    assert (again.taken, again.held) == (0, second.events)
    assert _district_events(district) == _hub_events()
    with district.extensions["district_database"].connection_context():
        assert Quarantine.select().count() == 0
    # The hub reads the newer answer, then the older one: the older one's acknowledgements are
    # older news, left aside.
    assert _read_back(again.return_path).newest
    assert _waiting() == 0
    late = _read_back(older.return_path)
    assert not late.newest and late.notes
    assert _waiting() == 0


def test_the_parts_of_a_large_export_stay_under_the_file_limit_and_apply_in_any_order(app, school, district,
                                                                                     tmp_path):
    enrolled(app, district)
    stick = _stick(tmp_path)
    with db.connection_context():
        for learner in school.learners.values():
            _sign_ins(learner.uid, 150)
    limit = 6 * 1024
    with db.connection_context():
        exported = bundles.export(stick, max_file_bytes=limit, segment_bytes=2048)
    # A segment is cut small enough for the limit by the caller's choice of file size here; on a
    # FAT32 stick the limit is bundle.MAX_FILE_BYTES, under 4 GB.
    assert bundle.MAX_FILE_BYTES < bundle.FAT32_MAX_FILE
    assert len(exported.paths) >= 2
    sizes = [p.stat().st_size for p in exported.paths]
    assert all(size <= limit + 2048 + 1024 for size in sizes)  # a segment may start just under the limit
    results, refused = _at_district(district, list(reversed(exported.paths)))
    assert refused == [] and results[0].taken == exported.events
    assert _district_events(district) == _hub_events()


def test_a_damaged_segment_is_refused_and_what_follows_it_waits_for_the_next_bundle(app, school, district,
                                                                                    tmp_path):
    enrolled(app, district)
    stick = _stick(tmp_path)
    with db.connection_context():
        for learner in school.learners.values():
            _sign_ins(learner.uid, 120)
    with db.connection_context():
        exported = bundles.export(stick, segment_bytes=2048)
    [path] = exported.paths
    with zipfile.ZipFile(path) as archive:
        names = sorted(n for n in archive.namelist() if n.startswith("events/"))
    assert len(names) >= 3
    flipped = tmp_path / "flipped" / path.name
    flipped.parent.mkdir()

    def flip(name: str, data: bytes) -> bytes:
        if name == names[1]:
            return data[:40] + bytes([data[40] ^ 0x01]) + data[41:]
        return data

    _rewrite(path, flipped, flip)
    [result], refused = _at_district(district, [flipped])
    assert refused == []
    assert 0 < result.taken < exported.events
    assert any("damaged" in note for note in result.waiting)
    assert any("wait for the next bundle" in note for note in result.waiting)
    # The hub learns what was taken; the next bundle carries the rest, and nothing is lost.
    _read_back(result.return_path)
    assert _waiting() == exported.events - result.taken
    again = _export(_stick(tmp_path))
    assert again.events == exported.events - result.taken
    [rest], _ = _at_district(district, again.paths)
    assert rest.taken == again.events and rest.waiting == []
    _read_back(rest.return_path)
    assert _waiting() == 0
    assert _district_events(district) == _hub_events()


def test_a_missing_segment_half_copied_tampered_and_misdirected_bundles_are_refused_in_words(app, school, district,
                                                                                             tmp_path):
    enrolled(app, district)
    stick = _stick(tmp_path)
    with db.connection_context():
        _sign_ins(school.learners["cleo"].uid, 4)
    [path] = _export(stick).paths
    bad = tmp_path / "bad"
    bad.mkdir()

    missing = bad / "missing.bundle"
    _rewrite(path, missing, lambda name, data: None if name.startswith("events/") else data)
    [result], refused = _at_district(district, [missing], return_to=bad)
    assert refused == [] and result.taken == 0
    assert any("missing from the bundle" in note for note in result.waiting)

    half = bad / "half.bundle"
    half.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    _, refused = _at_district(district, [half], return_to=bad)
    assert "half-copied" in refused[0].message

    tampered = bad / "tampered.bundle"

    def recount(name: str, data: bytes) -> bytes:
        if name == bundle.MANIFEST:
            manifest = json.loads(data)
            manifest["origins"] = {o: n + 5 for o, n in manifest["origins"].items()}
            return json.dumps(manifest).encode()
        return data

    _rewrite(path, tampered, recount)
    _, refused = _at_district(district, [tampered], return_to=bad)
    assert "valid signature" in refused[0].message

    not_a_bundle = bad / "notes.bundle"
    with zipfile.ZipFile(not_a_bundle, "w") as archive:
        archive.writestr("notes.txt", "hello")
    _, refused = _at_district(district, [not_a_bundle], return_to=bad)
    assert "not a sync bundle" in refused[0].message

    assert _district_events(district) == {}  # nothing was taken from any of these

    # A return bundle is for the hub, and the hub's bundle for the district.
    [good], _ = _at_district(district, [path])
    _, refused = _at_district(district, [good.return_path])
    assert "carry it back to the school" in refused[0].message
    with db.connection_context(), pytest.raises(BundleError, match="take it to the district"):
        bundles.read_back(path)
    # A return bundle signed by another district (another secret) is refused by the hub.
    forged = bad / good.return_path.name
    with zipfile.ZipFile(good.return_path) as archive:
        manifest = archive.read(bundle.MANIFEST)
        members = {n: archive.read(n) for n in archive.namelist()}
    members[bundle.SIGNATURE] = bundle.sign("another district's secret", bundle.TO_HUB, manifest).encode()
    with zipfile.ZipFile(forged, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with db.connection_context(), pytest.raises(BundleError, match="valid signature"):
        bundles.read_back(forged)
    assert _waiting() > 0  # nothing was taken as acknowledged from it
    _read_back(good.return_path)
    assert _waiting() == 0

    # Another district knows no such hub (last: a second district app takes the models' database).
    other = create_district_app(f"sqlite:///{tmp_path / 'other-district.sqlite3'}")
    register(other, "Far Away School")
    _, refused = _at_district(other, [path], return_to=bad)
    assert "does not know" in refused[0].message


def test_a_revoked_hubs_bundle_is_refused(app, school, district, tmp_path):
    from sync.district import service

    enrolled(app, district)
    with db.connection_context():
        _sign_ins(school.learners["cleo"].uid, 2)
    paths = _export(_stick(tmp_path)).paths
    with district.extensions["district_database"].connection_context():
        service.revoke(service.hubs()[0])
    results, refused = _at_district(district, paths)
    assert results == [] and "revoked" in refused[0].message


def test_a_full_stick_fails_cleanly_and_leaves_no_file_that_looks_whole(app, school, district, tmp_path):
    enrolled(app, district)
    stick = _stick(tmp_path)
    with db.connection_context():
        _sign_ins(school.learners["cleo"].uid, 400)

    class NearlyFull(io.FileIO):
        room = 3000

        def write(self, data) -> int:  # type: ignore[no-untyped-def,override]
            if self.tell() + len(data) > self.room:
                raise OSError(errno.ENOSPC, "No space left on device")
            return super().write(data)

    with db.connection_context(), pytest.raises(BundleError, match="is full"):
        bundles.export(stick, opener=lambda path: NearlyFull(path, "w"))
    assert list(stick.iterdir()) == []
    assert _waiting() > 0  # nothing taken as sent
    with db.connection_context(), pytest.raises(BundleError, match="no folder"):
        bundles.export(tmp_path / "not-mounted")


def test_a_hub_restored_from_an_old_image_mends_its_log_through_the_stick(app, school, district, data_dir,
                                                                          tmp_path):
    enrolled(app, district)
    learner = school.learners["cleo"].uid
    stick = _stick(tmp_path)
    with db.connection_context():
        old_origin = hub.origin()
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    image = tmp_path / "sd-card-image.sqlite3"
    shutil.copyfile(data_dir / "hub.sqlite3", image)
    with db.connection_context():
        after_image = _sign_ins(learner, 6)
    [taken], _ = _at_district(district, _export(stick).paths)
    _read_back(taken.return_path)

    _swap_in(data_dir, image)  # the hub's card is replaced by the old image, and learners go on
    with db.connection_context():
        written_on = _sign_ins(learner, 3)
    stale = _export(_stick(tmp_path / "second"))
    [result], _ = _at_district(district, stale.paths)
    assert result.rewound == [old_origin] and result.taken == 0 and result.returned >= 6
    with district.extensions["district_database"].connection_context():
        assert Quarantine.select().count() == 0  # refused as stale, not quarantined
    back = _read_back(result.return_path)
    assert back.outcome.fetched_back == 6
    with db.connection_context():
        new_origin = hub.origin()
        assert new_origin != old_origin
        held = {row.event_id: row.origin for row in Event.select()}
    assert set(after_image) <= set(held) and {held[e] for e in written_on} == {new_origin}
    [mended], _ = _at_district(district, _export(_stick(tmp_path / "third")).paths)
    assert mended.taken == 3 and mended.rewound == []
    _read_back(mended.return_path)
    assert _waiting() == 0
    assert _district_events(district) == _hub_events()


def test_a_pack_offered_by_the_district_comes_back_on_the_stick_and_is_installed(app, school, district, tmp_path):
    enrolled(app, district)
    _add(district, _zip(tmp_path))
    [result], _ = _at_district(district, _export(_stick(tmp_path)).paths)
    assert result.packs == 1
    back = _read_back(result.return_path)
    assert f"The pack {PACK_ID} 1.0.0 from the district is installed." in back.outcome.notes
    with db.connection_context():
        assert PackOffer.get_by_id(PACK_ID).state == "installed"
        installed = Event.get(Event.kind == "pack.installed").event_id
    # Its pack.installed event goes up with the next bundle; the pack is not sent again.
    [again], _ = _at_district(district, _export(_stick(tmp_path / "again")).paths)
    assert again.packs == 0 and installed in _district_events(district)
