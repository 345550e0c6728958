"""The demo school is complete and every printed login works."""

import stat

from classroom_server import demo
from classroom_server.app import create_app
from classroom_server.db import db
from classroom_server.models import Classroom, Person
from tests.conftest import CSRF_RE


def test_demo_builds_a_school_whose_logins_work(tmp_path):
    app = create_app(tmp_path, {"TESTING": True, "log_level": "warning"})
    logins = demo.build(tmp_path, seed=7)
    assert stat.S_IMODE((tmp_path / demo.LOGINS_FILE).stat().st_mode) == 0o600
    with db.connection_context():
        assert Person.select().where(Person.role == "learner").count() == 30
        assert Person.select().where(Person.role == "teacher").count() == 2
        assert Classroom.select().count() == 2
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
    db.close()
