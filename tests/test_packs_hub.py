"""Packs on the hub: import from folder or zip, upgrades, refusals that change nothing, serving."""

import io
import json
import shutil

import pytest
from click.testing import CliRunner

from content_packs import build
from content_packs.testing import edit_json, make_pack

from classroom_server.cli import main
from classroom_server.db import db
from classroom_server.models import Event, InstalledPack
from classroom_server.services import packs
from tests.conftest import ADMIN_PASSWORD, TEACHER_PASSWORD, post, sign_in_staff


@pytest.fixture
def pack_src(tmp_path):
    return make_pack(tmp_path / "src", skills=3, items_per_skill=4, pack_id="org.example.test")


def _version(src, version):
    edit_json(src / "pack.json", lambda m: m.update(version=version))


def _state(data_dir):
    with db.connection_context():
        rows = [(p.pack_id, p.version, p.status) for p in InstalledPack.select().order_by(InstalledPack.id)]
        kinds = [e.kind for e in Event.select().where(Event.kind.startswith("pack."))]
    folders = sorted(p.name for p in packs.packs_dir(data_dir).iterdir() if not p.name.startswith(".generation"))
    return rows, kinds, folders


def test_import_a_folder_then_the_catalogue_has_it(app, data_dir, pack_src):
    result = packs.import_pack(data_dir, pack_src)
    assert (result.pack_id, result.version, result.skills, result.items) == ("org.example.test", "1.0.0", 3, 12)
    loaded = app.extensions["catalogue"].get()
    assert len(loaded.catalogue.topological_order()) == 3
    assert loaded.files, "pack files are indexed by checksum"


def test_import_a_built_zip(app, data_dir, pack_src, tmp_path):
    build(pack_src, tmp_path / "p.zip")
    assert packs.import_pack(data_dir, tmp_path / "p.zip").items == 12


def test_same_version_again_changes_nothing(app, data_dir, pack_src):
    packs.import_pack(data_dir, pack_src)
    before = _state(data_dir)
    assert packs.import_pack(data_dir, pack_src).already_installed
    assert _state(data_dir) == before


def test_upgrade_switches_version_keeps_one_folder_and_records_it(app, data_dir, pack_src):
    packs.import_pack(data_dir, pack_src)
    _version(pack_src, "1.1.0")
    result = packs.import_pack(data_dir, pack_src)
    assert result.previous == "1.0.0"
    rows, kinds, folders = _state(data_dir)
    assert rows == [("org.example.test", "1.0.0", "superseded"), ("org.example.test", "1.1.0", "active")]
    assert kinds == ["pack.installed", "pack.installed"]
    assert len(folders) == 1 and "1.1.0" in folders[0]


def test_an_older_version_is_refused_unless_forced(app, data_dir, pack_src):
    _version(pack_src, "2.0.0")
    packs.import_pack(data_dir, pack_src)
    _version(pack_src, "1.9.9")
    before = _state(data_dir)
    with pytest.raises(packs.ImportFailed, match="older than the installed 2.0.0"):
        packs.import_pack(data_dir, pack_src)
    assert _state(data_dir) == before
    assert packs.import_pack(data_dir, pack_src, force=True).version == "1.9.9"


@pytest.mark.parametrize("breakage, fragment", [
    (lambda src: edit_json(src / "pack.json", lambda m: m["skills"][0].update(prerequisites=["nope"])), "nope"),
    (lambda src: (src / "media" / "bar.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'></svg>"), "sha256"),
    (lambda src: (src / "stray.txt").write_text("x"), "stray.txt"),
])
def test_a_broken_pack_leaves_the_hub_unchanged(app, data_dir, pack_src, breakage, fragment):
    before = _state(data_dir)
    breakage(pack_src)
    with pytest.raises(packs.ImportFailed) as caught:
        packs.import_pack(data_dir, pack_src)
    assert fragment in caught.value.report.format()
    assert _state(data_dir) == before
    assert not [p for p in (data_dir / "packs").iterdir() if p.name.startswith(".staging")]


def test_a_zip_with_path_traversal_is_refused(app, data_dir, tmp_path):
    import zipfile

    bad = tmp_path / "evil.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("pack.json", "{}")
        zf.writestr("../escape.txt", "gotcha")
    before = _state(data_dir)
    with pytest.raises(packs.ImportFailed):
        packs.import_pack(data_dir, bad)
    assert _state(data_dir) == before
    assert not (data_dir / "escape.txt").exists() and not (data_dir / "packs" / "escape.txt").exists()


def test_remove_keeps_history_and_deletes_files(app, data_dir, pack_src):
    packs.import_pack(data_dir, pack_src)
    with db.connection_context():
        packs.remove_pack(data_dir, "org.example.test")
    rows, kinds, folders = _state(data_dir)
    assert rows == [("org.example.test", "1.0.0", "removed")]
    assert kinds == ["pack.installed", "pack.removed"]
    assert folders == []
    assert app.extensions["catalogue"].get().catalogue.packs == ()


def test_usb_scan_finds_every_pack_and_one_bad_pack_does_not_stop_the_others(app, data_dir, tmp_path):
    stick = tmp_path / "stick"
    make_pack(stick / "good", skills=1, items_per_skill=2, pack_id="org.example.good")
    bad = make_pack(stick / "sub" / "bad", skills=1, items_per_skill=2, pack_id="org.example.bad")
    (bad / "extra.bin").write_bytes(b"x")
    outcomes = dict((src.name, out) for src, out in packs.iter_import(data_dir, stick))
    assert isinstance(outcomes["bad"], packs.ImportFailed)
    assert outcomes["good"].pack_id == "org.example.good"


# --- serving -----------------------------------------------------------------------------------

@pytest.fixture
def served(app, client, data_dir, pack_src, school):
    packs.import_pack(data_dir, pack_src)
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    manifest = json.loads((pack_src / "pack.json").read_text())
    svg = next(r for r in manifest["resources"] if r["path"].endswith(".svg"))
    return client, svg


def test_pack_files_are_content_addressed_and_cached_forever(served):
    client, svg = served
    url = f"/content/{svg['sha256']}/bar.svg"
    with client.get(url) as response:
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"
        assert "immutable" in response.headers["Cache-Control"]
        assert response.headers["ETag"].strip('"') == svg["sha256"]
        etag = response.headers["ETag"]
    with client.get(url, headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304


def test_range_requests_are_honoured(served):
    client, svg = served
    with client.get(f"/content/{svg['sha256']}/bar.svg", headers={"Range": "bytes=0-9"}) as response:
        assert response.status_code == 206
        assert len(response.data) == 10


@pytest.mark.parametrize("sha", ["0" * 64, "not-a-sha", "../../etc/passwd"])
def test_unknown_files_are_404(served, sha):
    client, _ = served
    assert client.get(f"/content/{sha}/x.svg").status_code == 404


def test_content_needs_a_signed_in_user(app, data_dir, pack_src):
    packs.import_pack(data_dir, pack_src)
    manifest = json.loads((pack_src / "pack.json").read_text())
    sha = manifest["resources"][0]["sha256"]
    assert app.test_client().get(f"/content/{sha}/x").status_code == 302


# --- admin pages and CLI ---------------------------------------------------------------------------

def test_admin_uploads_a_pack_and_removes_it_after_confirming(client, school, pack_src, tmp_path):
    build(pack_src, tmp_path / "p.zip")
    sign_in_staff(client, "admin", ADMIN_PASSWORD)
    response = post(client, "/admin/packs/upload", {"pack": (io.BytesIO((tmp_path / "p.zip").read_bytes()), "p.zip")},
                    content_type="multipart/form-data")
    assert response.status_code == 302
    page = client.get("/admin/packs/").get_data(as_text=True)
    assert "Installed org.example.test 1.0.0" in page and "org.example.test" in page
    assert "Remove org.example.test?" not in page
    confirm = client.get("/admin/packs/org.example.test/remove").get_data(as_text=True)
    assert "Yes, remove" in confirm
    post(client, "/admin/packs/org.example.test/remove")
    assert "No packs are installed yet." in client.get("/admin/packs/").get_data(as_text=True)


def test_admin_upload_of_a_broken_pack_lists_the_problems(client, school, tmp_path):
    sign_in_staff(client, "admin", ADMIN_PASSWORD)
    response = post(client, "/admin/packs/upload", {"pack": (io.BytesIO(b"not a zip"), "p.zip")},
                    content_type="multipart/form-data")
    assert response.status_code == 400
    assert "nothing was changed" in response.get_data(as_text=True)


def test_teachers_cannot_manage_packs(client, school):
    sign_in_staff(client, "tess", TEACHER_PASSWORD)
    assert client.get("/admin/packs/").status_code == 403


def test_cli_pack_commands(tmp_path, pack_src):
    runner = CliRunner()
    data = tmp_path / "hub"
    assert runner.invoke(main, ["init", "--data", str(data), "--admin-password", "first-admin-pw"]).exit_code == 0
    assert runner.invoke(main, ["pack", "validate", str(pack_src)]).exit_code == 0
    built = runner.invoke(main, ["pack", "build", str(pack_src), "-o", str(tmp_path / "p.zip")])
    assert built.exit_code == 0, built.output
    imported = runner.invoke(main, ["pack", "import", "--data", str(data), str(tmp_path / "p.zip")])
    assert imported.exit_code == 0 and "Installed org.example.test 1.0.0" in imported.output
    assert "org.example.test" in runner.invoke(main, ["pack", "list", "--data", str(data)]).output
    broken = tmp_path / "broken"
    shutil.copytree(pack_src, broken)
    edit_json(broken / "pack.json", lambda m: m.update(version="banana"))
    result = runner.invoke(main, ["pack", "validate", str(broken)])
    assert result.exit_code == 1 and "pack.json:/version: error" in result.output
    assert runner.invoke(main, ["pack", "import", "--data", str(data), str(broken)]).exit_code == 1
    assert runner.invoke(main, ["pack", "remove", "--data", str(data), "org.example.test"], input="n\n").exit_code == 1
    assert runner.invoke(main, ["pack", "remove", "--data", str(data), "org.example.test", "--yes"]).exit_code == 0
    db.close()


# --- the whole broken-pack corpus, through the hub ------------------------------------------------

def _corpus():
    from tests.content_packs.test_pack_validate import CASES

    return {name: case for name, case in CASES.items() if case[1] == "error"}


@pytest.mark.parametrize("name", sorted(_corpus()))
def test_no_broken_pack_of_the_corpus_changes_the_hub(app, data_dir, tmp_path, name):
    src = make_pack(tmp_path / "broken", skills=3, items_per_skill=6)
    _corpus()[name][0](src)
    before = _state(data_dir)
    with pytest.raises(packs.ImportFailed):
        packs.import_pack(data_dir, src)
    assert _state(data_dir) == before
    assert not [p for p in packs.packs_dir(data_dir).iterdir() if p.name.startswith(".staging")]


def test_a_template_pack_serves_and_grades_its_instances(app, client, school, data_dir, tmp_path):
    from content_packs.testing import make_template_item

    from tests.conftest import sign_in_learner

    src = make_pack(tmp_path / "tmpl", skills=1, items_per_skill=3, pack_id="org.example.templates")

    def add_template(items):
        items.append(make_template_item("add-like", "skill-0000", instances=5))
    edit_json(src / "items" / "skill-0000.json", add_template)
    packs.import_pack(data_dir, src)
    item = app.extensions["catalogue"].get().catalogue.item("org.example.templates", "add-like~3")
    sign_in_learner(client, school, "ana")
    page = client.get("/learn/item/org.example.templates/add-like~3").get_data(as_text=True)
    assert item.stem.pick("en").split("?")[0] in page and "{a}" not in page
    from content_packs.testing import key_response
    from tests.conftest import post

    response = post(client, "/learn/item/org.example.templates/add-like~3", {"answer": key_response(item, "en")})
    assert "Right!" in response.get_data(as_text=True)
