"""The test suite's cheap password hashes: a real hub refuses to start with them and never
accepts a hash made with them."""

import pytest
from click.testing import CliRunner

from classroom_server import db as database
from classroom_server.app import create_app
from classroom_server.cli import main
from classroom_server.config import ConfigError
from classroom_server.db import db
from classroom_server.models import Person
from classroom_server.services import accounts, security
from tests.conftest import ADMIN_PASSWORD, TEACHER_PASSWORD, sign_in_learner, sign_in_staff

REFUSED = "Setting 'insecure_fast_hashes' is on"


@pytest.fixture(autouse=True)
def _closed_database():
    yield
    if not database.db.is_closed():
        database.db.close_all()
    security.use_fast_hashes(False)


def test_create_app_outside_testing_refuses_the_cheap_hash(tmp_path):
    with pytest.raises(ConfigError, match=REFUSED):
        create_app(tmp_path, {"log_level": "warning", "insecure_fast_hashes": True})
    assert not (tmp_path / database.DB_FILENAME).exists(), "refused before touching the database"


@pytest.mark.parametrize("where", ["environment", "config.toml"])
def test_serve_exits_with_a_clear_message(tmp_path, monkeypatch, where):
    data = tmp_path / "hub"
    runner = CliRunner()
    assert runner.invoke(main, ["init", "--data", str(data), "--admin-password", "first-admin-pw"]).exit_code == 0
    database.db.close_all()
    if where == "environment":
        monkeypatch.setenv("CLASSROOM_INSECURE_FAST_HASHES", "true")
    else:
        (data / "config.toml").write_text("insecure_fast_hashes = true\n")
    result = runner.invoke(main, ["serve", "--data", str(data), "--host", "127.0.0.1", "--port", "1"])
    assert result.exit_code == 1, result.output
    assert REFUSED in result.output and "test suite only" in result.output
    assert "serving at" not in result.output and "Traceback" not in result.output


def test_init_refuses_the_cheap_hash_too(tmp_path, monkeypatch):
    monkeypatch.setenv("CLASSROOM_INSECURE_FAST_HASHES", "1")
    result = CliRunner().invoke(main, ["init", "--data", str(tmp_path / "hub"), "--admin-password", "first-admin-pw"])
    assert result.exit_code == 1 and REFUSED in result.output


def test_tests_get_the_cheap_hash_and_a_real_hub_the_real_ones(app, school):
    with db.connection_context():
        tess = Person.get(Person.username == "tess")
        ana = Person.get_by_id(school.learners["ana"].id)
    assert tess.password_hash.startswith(security.TEST_ONLY_PREFIX)
    assert ana.secret_hash.startswith(security.TEST_ONLY_PREFIX)
    db.close_all()

    real = create_app(app.config["DATA_DIR"], {"TESTING": True, "log_level": "warning"})
    with db.connection_context():
        admin = Person.get(Person.username == "admin")
        made = accounts.create_staff("teacher", "rita", "Rita Real", TEACHER_PASSWORD, admin)
        assert made.password_hash.startswith("scrypt:")
        assert security.hash_learner_secret("pin", "1234").startswith(security.LEARNER_HASH + "$")
    assert sign_in_staff(real.test_client(), "rita", TEACHER_PASSWORD).status_code == 302


def test_a_cheap_hash_never_verifies_on_a_real_hub(app, school):
    """The accounts the tests made with cheap hashes: right secrets, yet refused by a real hub."""
    assert sign_in_staff(app.test_client(), "tess", TEACHER_PASSWORD).status_code == 302  # fast mode: fine
    with db.connection_context():
        stored = Person.get(Person.username == "tess").password_hash
        learner = Person.get_by_id(school.learners["cleo"].id)
    assert security.check_password(stored, TEACHER_PASSWORD)
    assert security.check_learner_secret(learner.secret_hash, "pin", "1234")
    db.close_all()

    real = create_app(app.config["DATA_DIR"], {"log_level": "warning"})  # no TESTING: a real hub
    assert not security.check_password(stored, TEACHER_PASSWORD)
    assert not security.check_learner_secret(learner.secret_hash, "pin", "1234")
    for username, password in (("tess", TEACHER_PASSWORD), ("admin", ADMIN_PASSWORD)):
        refused = sign_in_staff(real.test_client(), username, password)
        assert refused.status_code == 400, username
    refused = sign_in_learner(real.test_client(), school, "cleo")
    assert refused.status_code == 400 and "That did not match" in refused.get_data(as_text=True)


def test_a_learner_hash_of_the_old_cost_verifies_and_is_made_again_at_sign_in(app, school):
    """Learner hashes were PBKDF2 of 60,000 rounds before #21: a hub upgraded keeps signing its
    learners in, and each right sign-in stores the secret again at today's cost."""
    from werkzeug.security import generate_password_hash

    old = generate_password_hash("pin:1234", method="pbkdf2:sha256:60000")
    with db.connection_context():
        Person.update(secret_hash=old).where(Person.id == school.learners["cleo"].id).execute()
    db.close_all()
    real = create_app(app.config["DATA_DIR"], {"TESTING": True, "log_level": "warning"})
    assert security.learner_hash_outdated(old) and not security.learner_hash_outdated(
        security.hash_learner_secret("pin", "1234"))
    client = real.test_client()
    assert sign_in_learner(client, school, "cleo").status_code == 302
    with db.connection_context():
        stored = Person.get_by_id(school.learners["cleo"].id).secret_hash
    assert stored.startswith(security.LEARNER_HASH + "$") and stored != old
    assert security.check_learner_secret(stored, "pin", "1234")
    assert not security.check_learner_secret(stored, "pin", "4321")
    client.post("/logout")
    assert sign_in_learner(real.test_client(), school, "cleo").status_code == 302  # and again, with the new hash
