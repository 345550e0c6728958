"""Packs the district offers reach the hub a piece at a time, resume after a cut, are checked
against their SHA-256 and installed by the same code as `pack import`."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Mapping

import pytest

from classroom_server.db import db
from classroom_server.models import Event, InstalledPack, PackOffer
from classroom_server.services import pack_fetch
from classroom_server.services import sync as hub_sync
from content_packs.build import build
from content_packs.testing import edit_json, make_pack
from sync import changes
from sync.client import Response, SyncError
from sync.district import service
from sync.district.models import Event as DistrictEvent
from sync.protocol import BatchSizer, decode_json
from tests.sync.conftest import enrolled

PACK_ID = "org.example.generated"


def _zip(tmp_path, version: str = "1.0.0", skills: int = 3):  # type: ignore[no-untyped-def]
    folder = make_pack(tmp_path / f"src-{version}", skills=skills, items_per_skill=8, media=("audio",))
    edit_json(folder / "pack.json", lambda m: m.update(version=version))
    target = tmp_path / f"pack-{version}.zip"
    assert build(folder, target).ok
    return target


def _add(district, path, school: str | None = None):  # type: ignore[no-untyped-def]
    with district.extensions["district_database"].connection_context():
        return service.add_pack(service.school_named(school) if school else None, path)


def _small() -> BatchSizer:
    return BatchSizer(size=1024, step=256, minimum=512, maximum=2048)


class CutAfter:
    """A link that breaks after ``pieces`` pack pieces went through (and counts what was asked)."""

    def __init__(self, inner, pieces: int) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner
        self.pieces = pieces
        self.asked: list[tuple[int, int]] = []

    def post(self, path: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Response:
        if path.endswith("/pack"):
            message = decode_json(body)
            if len(self.asked) >= self.pieces:
                raise OSError("the link dropped")
            self.asked.append((message["offset"], message["length"]))
        return self.inner.post(path, body, headers, timeout)


def test_an_offered_pack_is_fetched_checked_installed_and_its_event_goes_up(app, school, district, tmp_path, client):
    transport = enrolled(app, district)
    path = _zip(tmp_path)
    added = _add(district, path)
    assert added.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() and added.published.published == 1
    assert _add(district, path).published.unchanged == 1  # the same file again: offered once
    with db.connection_context():
        outcome = hub_sync.run(transport)
        assert outcome.pack_bytes == path.stat().st_size
        assert f"The pack {PACK_ID} 1.0.0 from the district is installed." in outcome.notes
        active = InstalledPack.get(InstalledPack.pack_id == PACK_ID, InstalledPack.status == "active")
        assert active.version == "1.0.0"
        assert PackOffer.get_by_id(PACK_ID).state == "installed"
        assert list((pack_fetch.data_dir() / pack_fetch.DOWNLOADS_DIR).iterdir()) == []
        installed = Event.get(Event.kind == "pack.installed")
        again = hub_sync.run(transport)  # the pack.installed event goes up; nothing is fetched again
        assert again.pack_bytes == 0
    with district.extensions["district_database"].connection_context():
        assert DistrictEvent.get_or_none(DistrictEvent.event_id == installed.event_id) is not None
    from tests.conftest import ADMIN_PASSWORD, sign_in_staff

    sign_in_staff(client, "admin", ADMIN_PASSWORD)
    page = client.get("/admin/sync/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Paquets venus du district" in page and "Generated fractions</strong> 1.0.0" in page and "installé" in page


def test_a_cut_fetch_goes_on_from_the_last_piece_and_a_newer_version_replaces_the_old(app, school, district,
                                                                                     tmp_path):
    inner = enrolled(app, district)
    path = _zip(tmp_path)
    size = path.stat().st_size
    assert size > 3 * 2048  # several pieces
    _add(district, path)
    cut = CutAfter(inner, pieces=2)
    with db.connection_context():
        with pytest.raises(SyncError, match="did not answer"):
            hub_sync.run(cut, sizer=_small())
        held = pack_fetch.have(hashlib.sha256(path.read_bytes()).hexdigest())
        assert 0 < held < size
        cut.pieces = 10**6
        hub_sync.run(cut, sizer=_small())
        assert InstalledPack.get(InstalledPack.pack_id == PACK_ID, InstalledPack.status == "active").version == "1.0.0"
    # Every byte was asked for once: the second sync began where the first one's pieces ended.
    starts = [offset for offset, _ in cut.asked]
    assert starts == sorted(set(starts)) and starts[0] == 0
    newer = _zip(tmp_path, version="1.1.0", skills=4)
    _add(district, newer, school="Hillside Primary")
    with db.connection_context():
        hub_sync.run(inner)
        assert InstalledPack.get(InstalledPack.pack_id == PACK_ID, InstalledPack.status == "active").version == "1.1.0"
    _add(district, path, school="Hillside Primary")  # the older version offered: the hub keeps its newer one
    with db.connection_context():
        assert hub_sync.run(inner).pack_bytes == 0
        assert PackOffer.get_by_id(PACK_ID).state == "newer"


def test_a_damaged_file_is_fetched_again_and_a_full_disk_waits(app, school, district, tmp_path, monkeypatch):
    transport = enrolled(app, district)
    path = _zip(tmp_path)
    _add(district, path)
    real_write = pack_fetch.write

    def damaging(sha256: str, offset: int, data: bytes) -> None:  # a bit flipped on the way to the disk
        real_write(sha256, offset, bytes([data[0] ^ 1]) + data[1:] if offset == 0 else data)

    with db.connection_context():
        monkeypatch.setattr(pack_fetch, "room_for", lambda size: "not enough free disk space to fetch it")
        waited = hub_sync.run(transport)
        assert waited.pack_bytes == 0 and any("waits: not enough free disk space" in n for n in waited.notes)
        monkeypatch.undo()
        monkeypatch.setattr(pack_fetch, "write", damaging)
        damaged = hub_sync.run(transport)
        assert any("arrived damaged" in note for note in damaged.notes)
        assert InstalledPack.get_or_none(InstalledPack.pack_id == PACK_ID) is None
        assert PackOffer.get_by_id(PACK_ID).state == "waiting"
        monkeypatch.undo()
        hub_sync.run(transport)
        assert InstalledPack.get(InstalledPack.pack_id == PACK_ID).version == "1.0.0"
        assert PackOffer.get_by_id(PACK_ID).problem is None


def test_the_district_keeps_only_valid_packs_and_serves_pieces_it_holds(district, tmp_path):
    not_zip = tmp_path / "notes.zip"
    not_zip.write_text("hello")
    good_zip = _zip(tmp_path)
    broken_zip = tmp_path / "broken.zip"  # a built pack with one file changed after: its checksum fails
    with zipfile.ZipFile(good_zip) as source, zipfile.ZipFile(broken_zip, "w") as target:
        for entry in source.infolist():
            data = source.read(entry)
            target.writestr(entry, data.replace(b"fraction", b"fractal") if entry.filename.endswith(".md") else data)
    with district.extensions["district_database"].connection_context():
        service.add_school("Hillside Primary")
        with pytest.raises(changes.ChangeError, match="not a pack .zip file"):
            service.add_pack(None, not_zip)
        with pytest.raises(changes.ChangeError, match="is not a valid pack: .*first: pack.json:.*has 83 bytes"):
            service.add_pack(None, broken_zip)
        good = service.add_pack(None, good_zip)
        registration, _ = service.register_hub(service.school_named("Hillside Primary"), "Room 4")
        data, offset, size = service.pack_piece(registration, {"sha256": good.sha256, "offset": 5, "length": 300000})
        assert (offset, size) == (5, good.size) and len(data) == min(good.size - 5, 256 * 1024)
        assert data == good_zip.read_bytes()[5:5 + len(data)]
        for message, status in (({"sha256": "0" * 64, "offset": 0, "length": 9}, 404),
                                ({"sha256": good.sha256, "offset": good.size, "length": 9}, 416),
                                ({"sha256": good.sha256, "offset": -1, "length": 9}, 400),
                                ({"sha256": "nope", "offset": 0, "length": 9}, 400)):
            with pytest.raises(service.Refused) as refused:
                service.pack_piece(registration, message)
            assert refused.value.status == status
