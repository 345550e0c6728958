"""Hostile and damaged packs on the hub (issue #20): the upload limit, nesting, zip bombs,
upgrades that need a yes, names in messages, and a damaged installed pack that the hub skips."""

from __future__ import annotations

import io
import json
import logging
import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from classroom_server.cli import main
from classroom_server.db import db
from classroom_server.models import InstalledPack
from classroom_server.services import pack_storage, packs
from classroom_server.web import admin_packs
from content_packs import build
from content_packs.testing import edit_json, make_pack
from tests.conftest import ADMIN_PASSWORD, csrf_token, post, sign_in_learner, sign_in_staff
from tests.test_packs_hub import _state

LIBRARY = Path(__file__).resolve().parents[1] / "content_packs" / "library"
PACK = "org.example.hostile"


@pytest.fixture
def pack_src(tmp_path: Path) -> Path:
    return make_pack(tmp_path / "src", skills=2, items_per_skill=3, pack_id=PACK)


def _upload(client, data: bytes, filename: str, path: str = "/admin/packs/upload", **fields):
    """Post a pack through the admin's form, with its CSRF token (the body is built in memory)."""
    form = {"csrf_token": csrf_token(client, "/admin/packs/"), "pack": FileStorage(io.BytesIO(data), filename),
            **fields}
    boundary, body = encode_multipart(form)
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _installed_folder(data_dir: Path, pack_id: str) -> Path:
    with db.connection_context():
        row = InstalledPack.get(InstalledPack.pack_id == pack_id, InstalledPack.status == "active")
    return pack_storage.packs_dir(data_dir) / row.folder


# --- (4) the upload page takes packs up to the pack limit, every other route keeps 2 MiB -------------

def test_a_bundled_pack_over_2_mib_uploads_through_the_form(client, school, tmp_path):
    built = tmp_path / "numbers.zip"
    build(LIBRARY / "numbers", built)
    data = built.read_bytes()
    assert len(data) > 2 * 1024 * 1024
    sign_in_staff(client, "admin", ADMIN_PASSWORD)
    response = _upload(client, data, "Number sense.zip")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = client.get("/admin/packs/").get_data(as_text=True)
    numbers = json.loads((LIBRARY / "numbers" / "pack.json").read_text())
    assert f"Installed {numbers['id']} {numbers['version']}" in page
    with db.connection_context():
        assert InstalledPack.select().where(InstalledPack.status == "active").count() == 1


def test_an_upload_over_the_pack_limit_is_413_with_plain_words(client, school, monkeypatch):
    monkeypatch.setattr(admin_packs, "UPLOAD_LIMIT", 3 * 1024 * 1024)
    sign_in_staff(client, "admin", ADMIN_PASSWORD)
    response = _upload(client, b"\0" * (3 * 1024 * 1024 + 1), "huge.zip")
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "larger than the limit" in text and "3 MB" in text


def test_other_routes_keep_the_2_mib_limit(app, client, school):
    anonymous = app.test_client()  # the upload's own limit is for a signed-in session only
    boundary, body = encode_multipart({"pack": FileStorage(io.BytesIO(bytes(3 * 1024 * 1024)), "p.zip")})
    with anonymous.post("/admin/packs/upload", data=body,
                        content_type=f"multipart/form-data; boundary={boundary}") as refused:
        assert refused.status_code == 413
    sign_in_staff(client, "admin", ADMIN_PASSWORD)
    token = csrf_token(client, "/admin/packs/")
    with client.post("/admin/packs/usb", data={"csrf_token": token, "path": "x" * (2 * 1024 * 1024 + 10)}) as usb:
        assert usb.status_code == 413
    with client.post("/login/staff", data={"csrf_token": token, "username": "a" * (2 * 1024 * 1024 + 10)}) as login:
        assert login.status_code == 413
    with client.post("/admin/packs/upgrade", data={"csrf_token": token, "token": "0" * (2 * 1024 * 1024)}) as other:
        assert other.status_code == 413


# --- (12) a damaged installed pack is skipped, not a hub down ---------------------------------------

def test_an_empty_installed_pack_json_is_skipped_and_shown_to_the_admin(app, client, school, data_dir, tmp_path,
                                                                        pack_src, caplog):
    other = make_pack(tmp_path / "other", skills=2, items_per_skill=3, pack_id="org.example.fine")
    packs.import_pack(data_dir, pack_src)
    packs.import_pack(data_dir, other)
    (_installed_folder(data_dir, PACK) / "pack.json").write_bytes(b"")
    pack_storage.bump_generation(data_dir)  # as any change the hub did not make itself is noticed
    with caplog.at_level(logging.ERROR, logger="classroom_server.packs"):
        loaded = app.extensions["catalogue"].get()
    assert [p.id for p in loaded.catalogue.packs] == ["org.example.fine"]
    assert PACK in loaded.damaged
    assert any("is damaged and is skipped: pack.json is empty" in r.getMessage() for r in caplog.records)

    sign_in_learner(client, school, "ana")
    for path in ("/learn/", "/learn/skills", "/learn/next"):
        response = client.get(path)
        assert response.status_code in (200, 302), (path, response.status_code)
    home = client.get("/learn/")
    assert home.status_code == 200
    post(client, "/logout")

    sign_in_staff(client, "admin", ADMIN_PASSWORD)
    page = client.get("/admin/packs/").get_data(as_text=True)
    assert "Damaged: learners cannot use this pack" in page and PACK in page

    result = CliRunner().invoke(main, ["recompute", "--data", str(data_dir)])
    assert result.exit_code == 0, result.output

    # importing the same version again repairs it
    assert not packs.import_pack(data_dir, pack_src).already_installed
    assert PACK in [p.id for p in app.extensions["catalogue"].get().catalogue.packs]
    db.close_all()


# --- (7) (8) refusals in plain words, on the upload page and the command line ------------------------

def _zip_folder(src: Path, out: Path) -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(src.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(src).as_posix())
    return out


def _deep_pack(pack_src: Path) -> Path:
    text = (pack_src / "pack.json").read_text()
    (pack_src / "pack.json").write_text(text.replace('"format": ', '"deep": ' + "[" * 50_000 + "]" * 50_000
                                                     + ', "format": ', 1))
    return pack_src


def test_a_deeply_nested_pack_is_refused_on_the_upload_page(client, school, data_dir, pack_src, tmp_path):
    deep = _zip_folder(_deep_pack(pack_src), tmp_path / "deep.zip")
    sign_in_staff(client, "admin", ADMIN_PASSWORD)
    before = _state(data_dir)
    response = _upload(client, deep.read_bytes(), "Deep pack.zip")
    assert response.status_code == 400
    assert "pack.json is nested too deeply" in response.get_data(as_text=True)
    assert _state(data_dir) == before


def test_a_deeply_nested_pack_is_refused_on_the_command_line(tmp_path, pack_src):
    runner = CliRunner()
    data = tmp_path / "hub"
    assert runner.invoke(main, ["init", "--data", str(data), "--admin-password", "first-admin-pw"]).exit_code == 0
    deep = _zip_folder(_deep_pack(pack_src), tmp_path / "deep.zip")
    for args in (["pack", "validate", str(deep)], ["pack", "validate", str(pack_src)],
                 ["pack", "import", "--data", str(data), str(deep)],
                 ["pack", "import", "--data", str(data), str(pack_src)]):
        result = runner.invoke(main, args)
        assert result.exit_code == 1, (args, result.output)
        assert "nested too deeply" in result.output and "Traceback" not in result.output
        assert not isinstance(result.exception, RecursionError)
    db.close_all()


def test_a_lesson_that_is_not_utf8_is_refused_at_import(client, school, data_dir, pack_src, tmp_path):
    from content_packs.build import write_checksums

    (pack_src / "resources" / "en" / "skill-0000.md").write_bytes(b"# Fractions\n\n\xff\xfe half\n")
    write_checksums(pack_src)
    before = _state(data_dir)
    with pytest.raises(packs.ImportFailed) as caught:
        packs.import_pack(data_dir, pack_src)
    assert "resources/en/skill-0000.md is not UTF-8 text" in caught.value.report.format()
    assert _state(data_dir) == before
    sign_in_staff(client, "admin", ADMIN_PASSWORD)
    page = _upload(client, _zip_folder(pack_src, tmp_path / "p.zip").read_bytes(), "lessons.zip")
    assert page.status_code == 400
    assert "resources/en/skill-0000.md is not UTF-8 text" in page.get_data(as_text=True)


# --- (9) a zip bomb of small files, and a pack already installed --------------------------------------

def test_a_zip_bomb_of_a_thousand_small_files_changes_nothing(app, data_dir, pack_src, tmp_path):
    from tests.content_packs.conftest import zero_bomb

    bomb = zero_bomb(pack_src, tmp_path / "bomb.zip")
    before = _state(data_dir)
    with pytest.raises(packs.ImportFailed) as caught:
        packs.import_pack(data_dir, bomb)
    assert "would expand to 1,048," in caught.value.report.format()
    assert _state(data_dir) == before  # no staging folder left, nothing extracted


@pytest.mark.parametrize("as_zip", [True, False])
def test_an_installed_pack_is_recognised_from_its_manifest_before_extracting(app, data_dir, pack_src, tmp_path,
                                                                             monkeypatch, as_zip):
    source = pack_src
    if as_zip:
        source = tmp_path / "p.zip"
        build(pack_src, source)
    packs.import_pack(data_dir, source)

    def refuse(*args, **kwargs):
        raise AssertionError("an installed pack must be recognised before anything is extracted or copied")

    monkeypatch.setattr(packs, "_stage", refuse)
    before = _state(data_dir)
    result = packs.import_pack(data_dir, source)
    assert result.already_installed and (result.skills, result.items) == (2, 6)
    assert _state(data_dir) == before


# --- (12) an import is on the disk before it is switched in -------------------------------------------

def test_an_import_flushes_every_file_and_folder_before_the_switch(app, data_dir, pack_src, monkeypatch):
    import os

    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", str(src)))
        real_replace(src, dst)

    monkeypatch.setattr(pack_storage.os, "fsync", fsync)
    monkeypatch.setattr(packs.os, "replace", replace)
    packs.import_pack(data_dir, pack_src)
    switch = next(i for i, (kind, path) in enumerate(events) if kind == "replace" and ".staging-" in path)
    staging = events[switch][1]
    flushed = {path for kind, path in events[:switch] if kind == "fsync"}
    assert f"{staging}/pack.json" in flushed and f"{staging}/items/skill-0000.json" in flushed
    assert staging in flushed and f"{staging}/items" in flushed
    assert ("fsync", str(pack_storage.packs_dir(data_dir))) in events[switch:]


# --- (13) names in messages, and upgrades that need a yes ----------------------------------------------

def test_upload_errors_name_the_file_the_admin_chose(client, school, data_dir):
    sign_in_staff(client, "admin", ADMIN_PASSWORD)
    response = _upload(client, b"not a zip at all", "Fractions for grade 4.zip")
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Fractions for grade 4.zip" in text and ".upload-" not in text
    assert not list(pack_storage.packs_dir(data_dir).glob(".upload-*"))


def test_an_upgrade_on_the_upload_page_needs_a_yes(client, school, data_dir, pack_src, tmp_path):
    build(pack_src, tmp_path / "v1.zip")
    edit_json(pack_src / "pack.json", lambda m: m.update(version="1.1.0"))
    build(pack_src, tmp_path / "v2.zip")
    sign_in_staff(client, "admin", ADMIN_PASSWORD)
    assert _upload(client, (tmp_path / "v1.zip").read_bytes(), "v1.zip").status_code == 302
    before = _state(data_dir)

    asked = _upload(client, (tmp_path / "v2.zip").read_bytes(), "fractions-1.1.zip")
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200
    assert "This replaces Generated fractions version 1.0.0 with version 1.1.0." in page
    assert "fractions-1.1.zip" in page
    assert _state(data_dir)[:2] == before[:2]  # nothing installed yet
    token = re.search(r'name="token" value="([0-9a-f]+)"', page).group(1)

    kept = post(client, "/admin/packs/upgrade", {"token": token, "answer": "keep"})
    assert kept.status_code == 302 and _state(data_dir) == before  # the upload is gone too
    assert post(client, "/admin/packs/upgrade", {"token": token, "answer": "replace"}).status_code == 404

    page = _upload(client, (tmp_path / "v2.zip").read_bytes(), "fractions-1.1.zip").get_data(as_text=True)
    token = re.search(r'name="token" value="([0-9a-f]+)"', page).group(1)
    done = post(client, "/admin/packs/upgrade", {"token": token, "answer": "replace"})
    assert done.status_code == 302
    rows, kinds, folders = _state(data_dir)
    assert rows[-1] == (PACK, "1.1.0", "active") and kinds == ["pack.installed", "pack.installed"]
    assert len(folders) == 1
    assert "Installed org.example.hostile 1.1.0" in client.get("/admin/packs/").get_data(as_text=True)


def test_the_command_line_upgrades_only_with_upgrade(tmp_path, pack_src):
    runner = CliRunner()
    data = tmp_path / "hub"
    assert runner.invoke(main, ["init", "--data", str(data), "--admin-password", "first-admin-pw"]).exit_code == 0
    assert runner.invoke(main, ["pack", "import", "--data", str(data), str(pack_src)]).exit_code == 0
    edit_json(pack_src / "pack.json", lambda m: m.update(version="1.1.0"))
    asked = runner.invoke(main, ["pack", "import", "--data", str(data), str(pack_src)])
    assert asked.exit_code == 1
    assert "would replace" in asked.output and "version 1.0.0 with version 1.1.0" in asked.output
    assert "--upgrade" in asked.output
    done = runner.invoke(main, ["pack", "import", "--data", str(data), "--upgrade", str(pack_src)])
    assert done.exit_code == 0 and "Installed org.example.hostile 1.1.0 (was 1.0.0)" in done.output
    edit_json(pack_src / "pack.json", lambda m: m.update(version="1.0.5"))
    older = runner.invoke(main, ["pack", "import", "--data", str(data), "--upgrade", str(pack_src)])
    assert older.exit_code == 1 and "older than the installed 1.1.0" in older.output
    db.close_all()


def test_the_service_asks_for_upgrade_and_changes_nothing_meanwhile(app, data_dir, pack_src):
    packs.import_pack(data_dir, pack_src)
    edit_json(pack_src / "pack.json", lambda m: m.update(version="2.0.0"))
    before = _state(data_dir)
    with pytest.raises(packs.UpgradeNeedsConfirmation) as caught:
        packs.import_pack(data_dir, pack_src, upgrade=False)
    assert (caught.value.installed, caught.value.offered) == ("1.0.0", "2.0.0")
    assert _state(data_dir) == before


def test_an_upgrade_from_a_usb_stick_needs_a_yes(client, school, data_dir, pack_src, tmp_path, monkeypatch):
    stick = tmp_path / "media"
    monkeypatch.setattr(admin_packs, "USB_ROOTS", (stick,))
    packs.import_pack(data_dir, pack_src)
    newer = make_pack(stick / "stick" / "fractions", skills=2, items_per_skill=3, pack_id=PACK)
    edit_json(newer / "pack.json", lambda m: m.update(version="1.2.0"))
    sign_in_staff(client, "admin", ADMIN_PASSWORD)
    before = _state(data_dir)
    asked = post(client, "/admin/packs/usb", {"path": str(newer)})
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "with version 1.2.0" in page and f'value="{newer}"' in page
    assert post(client, "/admin/packs/usb", {"path": str(newer), "answer": "keep"}).status_code == 302
    assert _state(data_dir) == before
    assert post(client, "/admin/packs/usb", {"path": str(newer), "answer": "replace"}).status_code == 302
    assert _state(data_dir)[0][-1] == (PACK, "1.2.0", "active")
