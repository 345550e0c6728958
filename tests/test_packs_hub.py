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
from classroom_server.services import pack_storage, packs
from tests.conftest import ADMIN_PASSWORD, TEACHER_PASSWORD, post, sign_in_staff, study


@pytest.fixture
def pack_src(tmp_path):
    return make_pack(tmp_path / "src", skills=3, items_per_skill=4, pack_id="org.example.test")


def _version(src, version):
    edit_json(src / "pack.json", lambda m: m.update(version=version))


def _state(data_dir):
    with db.connection_context():
        rows = [(p.pack_id, p.version, p.status) for p in InstalledPack.select().order_by(InstalledPack.id)]
        kinds = [e.kind for e in Event.select().where(Event.kind.startswith("pack."))]
    folders = sorted(p.name for p in pack_storage.packs_dir(data_dir).iterdir()
                     if p.name != pack_storage.GENERATION_FILE)
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
    listed = runner.invoke(main, ["pack", "list", "--data", str(data)]).output
    assert "org.example.test" in listed and "1.0.0" in listed and " 3 skills" in listed and " 12 items" in listed
    with db.connection_context():
        size = InstalledPack.get(InstalledPack.pack_id == "org.example.test").size_bytes
    assert f"{size / 1024:.1f} KB" in listed  # the size docs/cli.md promises
    broken = tmp_path / "broken"
    shutil.copytree(pack_src, broken)
    edit_json(broken / "pack.json", lambda m: m.update(version="banana"))
    result = runner.invoke(main, ["pack", "validate", str(broken)])
    assert result.exit_code == 1 and "pack.json:/version: error" in result.output
    assert runner.invoke(main, ["pack", "import", "--data", str(data), str(broken)]).exit_code == 1
    assert runner.invoke(main, ["pack", "remove", "--data", str(data), "org.example.test"], input="n\n").exit_code == 1
    assert runner.invoke(main, ["pack", "remove", "--data", str(data), "org.example.test", "--yes"]).exit_code == 0
    db.close_all()


def test_cli_a_folder_without_checksums_validates_with_warnings_that_say_import_refuses_it(tmp_path, pack_src):
    edit_json(pack_src / "pack.json", lambda m: [r.pop("sha256") for r in m["resources"][:3]])
    runner = CliRunner()
    data = tmp_path / "hub"
    assert runner.invoke(main, ["init", "--data", str(data), "--admin-password", "first-admin-pw"]).exit_code == 0
    validated = runner.invoke(main, ["pack", "validate", str(pack_src)])
    assert validated.exit_code == 0 and "0 errors, 3 warnings" in validated.output
    warnings = [line for line in validated.output.splitlines() if ": warning: " in line]
    assert len(warnings) == 3 and all("`classroom-server pack import` will refuse this folder" in w
                                      and "`classroom-server pack build`" in w for w in warnings)
    imported = runner.invoke(main, ["pack", "import", "--data", str(data), str(pack_src)])
    assert imported.exit_code == 1 and "3 errors" in imported.stderr
    errors = [line for line in imported.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 3 and all("sha256 is not filled in: build the pack with `classroom-server pack build`" in e
                                    for e in errors)
    built = runner.invoke(main, ["pack", "build", str(pack_src), "-o", str(tmp_path / "p.zip")])
    assert built.exit_code == 0, built.output
    assert runner.invoke(main, ["pack", "import", "--data", str(data), str(tmp_path / "p.zip")]).exit_code == 0
    db.close_all()


def _percentages(stderr):
    import re

    return [int(p) for p in re.findall(r"\] +(\d+)% ", stderr)]


@pytest.mark.parametrize("as_zip", [True, False])
def test_cli_import_progress_moves_file_by_file(tmp_path, as_zip):
    from content_packs.build import write_checksums

    big = make_pack(tmp_path / "big", skills=60, items_per_skill=1, pack_id="org.example.big")
    for lesson in (big / "resources").rglob("*.md"):  # 120 lessons of a few pages each
        lesson.write_text(lesson.read_text() + "A fraction names equal parts of a whole.\n" * 200)
    assert write_checksums(big).ok
    source = big
    if as_zip:
        build(big, tmp_path / "big.zip")
        source = tmp_path / "big.zip"
    runner = CliRunner()
    data = tmp_path / "hub"
    assert runner.invoke(main, ["init", "--data", str(data), "--admin-password", "first-admin-pw"]).exit_code == 0
    result = runner.invoke(main, ["pack", "import", "--data", str(data), str(source)])
    assert result.exit_code == 0, result.output
    shown = _percentages(result.stderr)
    assert shown == sorted(shown) and shown[0] == 0 and shown[-1] == 100
    between = set(shown) - {0, 5, 20, 45, 60, 85, 90, 97, 100}
    assert len(between) >= 20, shown  # verifying (and copying a folder) moves the bar per file
    assert len(shown) <= 110, shown  # about one update per percent, not one per file
    db.close_all()


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
    assert not [p for p in pack_storage.packs_dir(data_dir).iterdir() if p.name.startswith(".staging")]


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


# --- the learning projection across pack upgrades and removals --------------------------------------

def _answer(app, learner, pack_id, item_ids, right=True):
    from content_packs.testing import key_response

    from classroom_server.services import practice
    from classroom_server.web.practice import decode_answer

    engine = app.extensions["engine"]
    loaded = engine.catalogue_store.get()
    with db.connection_context():
        for n, item_id in enumerate(item_ids):
            item = loaded.catalogue.item(pack_id, item_id)
            if right if isinstance(right, bool) else right(n):
                answer = key_response(item, "en")
            elif item.type in ("single_choice", "multiple_choice"):
                answer = next(c.id for c in item.choices if not c.correct)
            else:
                answer = "1234"
            practice.record_attempt(engine, learner, pack_id, item_id, decode_answer(item, {"answer": answer}),
                                    event_id=None, hints_used=n % 2)


def _recompute_check(data_dir):
    result = CliRunner().invoke(main, ["recompute", "--check", "--data", str(data_dir)])
    return result.exit_code, result.output


def _drop_items(src, keep):
    from content_packs.build import write_checksums

    for path in sorted((src / "items").glob("*.json")):
        edit_json(path, lambda items: items.__setitem__(slice(None), [i for i in items if keep(i["id"])]))
    assert write_checksums(src).ok


def _stored(data_dir):
    from classroom_server.models import MasteryRow

    with db.connection_context():
        return {(r.learner_uid, r.skill): (r.state, r.p_fresh, r.attempts, r.needs_help, r.event_id)
                for r in MasteryRow.select()}


def test_recompute_check_passes_after_an_upgrade_retires_answered_items(app, data_dir, pack_src, school):
    from classroom_server.services import practice

    packs.import_pack(data_dir, pack_src)
    study(school)
    ana, ben = school.learners["ana"], school.learners["ben"]
    every = [f"skill-{s:04d}-{k:03d}" for s in range(3) for k in range(4)]
    _answer(app, ana, "org.example.test", every * 2, right=lambda n: n % 5 != 2)
    _answer(app, ben, "org.example.test", every, right=lambda n: n % 3 == 0)
    assert _recompute_check(data_dir)[0] == 0
    before = _stored(data_dir)
    assert len(before) == 6

    _version(pack_src, "1.1.0")
    _drop_items(pack_src, keep=lambda item_id: not item_id.endswith(("-001", "-003")))  # answered, now retired
    packs.import_pack(data_dir, pack_src)
    code, output = _recompute_check(data_dir)
    assert code == 0, output
    assert _stored(data_dir) == before  # retiring items moved nobody's estimates

    engine = app.extensions["engine"]
    with engine.reading() as snap:  # known to the engine, never offered
        assert "org.example.test:skill-0000-001" in snap.catalog.items
        assert all(not i.id.endswith(("-001", "-003")) for items in snap.catalog.items_by_skill.values()
                   for i in items)
    with db.connection_context():
        offered = {c.item_id for c in practice.path_for(engine, ana, "en") if c.item_id}
    assert offered and not {i for i in offered if i.endswith(("-001", "-003"))}

    # A later upgrade re-calibrates an answered item: estimates move, and the stored rows are
    # rewritten at once (not only when the hub next serves), so the check passes straight away.
    _version(pack_src, "1.2.0")
    edit_json(pack_src / "items" / "skill-0000.json", lambda items: items[0].update(difficulty=2.5))
    _drop_items(pack_src, keep=lambda item_id: not item_id.endswith("-002"))
    packs.import_pack(data_dir, pack_src)
    code, output = _recompute_check(data_dir)
    assert code == 0, output
    assert _stored(data_dir) != before
    _answer(app, ana, "org.example.test", ["skill-0001-000", "skill-0002-000"])
    assert _recompute_check(data_dir)[0] == 0
    with engine.reading() as snap:
        assert {"org.example.test:skill-0000-001", "org.example.test:skill-0000-002"} <= set(snap.catalog.items)


def test_recompute_check_passes_after_a_pack_is_removed(app, data_dir, pack_src, school, tmp_path):
    other = make_pack(tmp_path / "other", skills=2, items_per_skill=3, pack_id="org.example.other")
    packs.import_pack(data_dir, pack_src)
    packs.import_pack(data_dir, other)
    ana = school.learners["ana"]
    _answer(app, ana, "org.example.test", [f"skill-{s:04d}-{k:03d}" for s in range(3) for k in range(4)])
    _answer(app, ana, "org.example.other", [f"skill-{s:04d}-{k:03d}" for s in range(2) for k in range(3)],
            right=lambda n: n % 2 == 0)
    before = _stored(data_dir)
    result = CliRunner().invoke(main, ["pack", "remove", "--data", str(data_dir), "org.example.test", "--yes"])
    assert result.exit_code == 0, result.output
    code, output = _recompute_check(data_dir)
    assert code == 0, output
    assert _stored(data_dir) == before  # the removed pack's items keep their priors: nothing moves
    packs.import_pack(data_dir, pack_src)  # back again, with its history
    assert _recompute_check(data_dir)[0] == 0
    assert _stored(data_dir) == before


def test_a_copy_of_the_database_alone_rebuilds_the_same_projections(app, data_dir, pack_src, school, tmp_path):
    """The catalogue a fold needs comes from the pack versions the events name, kept in the
    database: a copy of the log with no packs folder at all (no retired-items files, no pack
    files) rebuilds every stored projection byte for byte."""
    import sqlite3

    from classroom_server.services import learning, teaching

    packs.import_pack(data_dir, pack_src)
    study(school)
    ana, ben = school.learners["ana"], school.learners["ben"]
    every = [f"skill-{s:04d}-{k:03d}" for s in range(3) for k in range(4)]
    _answer(app, ana, "org.example.test", every * 2, right=lambda n: n % 5 != 2)
    _version(pack_src, "1.1.0")
    _drop_items(pack_src, keep=lambda item_id: not item_id.endswith(("-001", "-003")))  # answered, now retired
    packs.import_pack(data_dir, pack_src)
    kept = [i for i in every if not i.endswith(("-001", "-003"))]
    _answer(app, ben, "org.example.test", kept, right=lambda n: n % 3 == 0)
    with db.connection_context():
        learning.calibrate(app.extensions["engine"])
        teaching.set_assignment(app.extensions["engine"], school.teachers["tess"], school.classes["pictures"],
                                ["org.example.test:skill-0001"])
        teaching.set_accommodations(school.teachers["tess"], school.classes["pictures"], ana,
                                    {"items_per_session": "8", "read_aloud": "on"})
    _answer(app, ana, "org.example.test", kept[:4])
    assert _recompute_check(data_dir)[0] == 0

    copy = tmp_path / "copy"
    copy.mkdir()
    with db.connection_context():
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    source = sqlite3.connect(data_dir / "hub.sqlite3")
    target = sqlite3.connect(copy / "hub.sqlite3")
    source.backup(target)
    source.close()
    target.close()
    assert not (copy / "packs").exists()

    def dump(folder):
        con = sqlite3.connect(folder / "hub.sqlite3")
        try:
            return {table: con.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
                    for table in ("mastery", "class_assignment", "learner_accommodations", "weekly_goal")}
        finally:
            con.close()

    stored = dump(data_dir)
    assert stored["mastery"] and stored["class_assignment"] and stored["learner_accommodations"]
    code, output = _recompute_check(copy)
    assert code == 0, output
    result = CliRunner().invoke(main, ["recompute", "--data", str(copy)])  # rewrite every row from the log
    assert result.exit_code == 0, result.output
    assert dump(copy) == stored


def test_no_file_outside_the_database_holds_engine_data(app, data_dir, pack_src, school):
    """Upgrades and removals leave only pack folders and the generation marker under packs/."""
    packs.import_pack(data_dir, pack_src)
    _version(pack_src, "1.1.0")
    _drop_items(pack_src, keep=lambda item_id: not item_id.endswith("-001"))
    packs.import_pack(data_dir, pack_src)
    CliRunner().invoke(main, ["pack", "remove", "--data", str(data_dir), "org.example.test", "--yes"])
    left = sorted(p.name for p in pack_storage.packs_dir(data_dir).iterdir())
    assert left == [pack_storage.GENERATION_FILE]
    with db.connection_context():
        from classroom_server.models import PackManifest

        versions = sorted((m.pack_id, m.version) for m in PackManifest.select())
    assert versions == [("org.example.test", "1.0.0"), ("org.example.test", "1.1.0")]
