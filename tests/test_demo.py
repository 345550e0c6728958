"""The demo school is complete, has the bundled packs, and every printed login works."""

import json
import stat

import pytest

from classroom_server import demo
from classroom_server.app import create_app
from classroom_server.db import db
from classroom_server.models import Classroom, InstalledPack, Person
from tests.conftest import CSRF_RE


@pytest.mark.slow
def test_demo_builds_a_school_whose_logins_work(tmp_path):
    app = create_app(tmp_path, {"TESTING": True, "log_level": "warning"})
    logins = demo.build(tmp_path, seed=7)
    assert stat.S_IMODE((tmp_path / demo.LOGINS_FILE).stat().st_mode) == 0o600
    with db.connection_context():
        assert Person.select().where(Person.role == "learner").count() == 30
        assert Person.select().where(Person.role == "teacher").count() == 2
        assert Classroom.select().count() == 2
    # Every pack of content_packs/library/ is installed (build() imports them before it returns).
    bundled = {(m["id"], m["version"]) for m in (json.loads(p.read_text(encoding="utf-8"))
                                                  for p in demo.LIBRARY.glob("*/pack.json"))}
    assert bundled, "the library ships packs"
    assert sorted(logins["packs"]) == sorted(f"{pack_id} {version}" for pack_id, version in bundled)
    with db.connection_context():
        active = {(p.pack_id, p.version) for p in InstalledPack.select().where(InstalledPack.status == "active")}
    assert active == bundled
    catalogue = app.extensions["catalogue"].get().catalogue
    assert {p.id for p in catalogue.packs} == {pack_id for pack_id, _ in bundled}
    assert all(p.skills and p.items for p in catalogue.packs)
    assert demo.build(tmp_path) == logins  # a second run reuses the school
    client = app.test_client()
    for entry in logins["classes"]:
        learner = entry["learners"][0]
        url = f"/login/learner/{entry['id']}/{learner['id']}"
        token = CSRF_RE.search(client.get(url).get_data(as_text=True)).group(1)
        if entry["kind"] == "pin":
            response = client.post(url, data={"csrf_token": token, "pin": learner["secret"]})
        else:
            chosen = []
            for picture in learner["secret"]:
                response = client.post(url, data={"csrf_token": token, "so_far": ",".join(chosen), "pick": picture})
                chosen.append(picture)
        assert response.status_code == 302, entry["name"]
        client.post("/logout", data={"csrf_token": CSRF_RE.search(client.get("/learn/").get_data(as_text=True)).group(1)})
    banner = demo.describe(logins, tmp_path)
    assert "admin" in banner and logins["staff"][0]["password"] in banner
    db.close_all()
