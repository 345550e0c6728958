"""Fixture chain: data_dir -> app -> client -> school (people and classes with known secrets)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from peewee import SqliteDatabase
from playhouse.migrations import Runner

from classroom_server.app import create_app
from classroom_server.db import DB_FILENAME, MIGRATIONS_DIR, db
from classroom_server.models import Classroom, Person
from classroom_server.services import accounts, hub, security

LATEST_SCHEMA = sorted(p.stem for p in MIGRATIONS_DIR.glob("[0-9]*.py"))[-1]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ADMIN_PASSWORD = "admin-pass-123"
TEACHER_PASSWORD = "teacher-pass-123"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In parallel runs, tests marked slow start first, so the workers share them out and none
    is left running a long test alone at the end. The order is otherwise kept."""
    if getattr(config.option, "numprocesses", None):
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def need(condition: bool, reason: str) -> None:
    """Skip on a developer's laptop, fail under CI: CI must never silently skip real parts."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


@contextlib.contextmanager
def real_disk(point: Path, size: str):  # type: ignore[no-untyped-def]
    """A real small disk (tmpfs of `size`, e.g. "2m") mounted at `point`, to fill up for real;
    mounting needs root, which CI has (elsewhere the test skips with the reason)."""
    import subprocess

    point.mkdir()
    mount = shutil.which("mount")
    need(mount is not None and os.geteuid() == 0,
         f"a real full disk needs root and the mount command, to mount a {size} tmpfs")
    done = subprocess.run([mount, "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(point)],
                          capture_output=True, text=True)
    need(done.returncode == 0, f"mounting a tmpfs is not permitted here: {done.stderr.strip()}")
    try:
        yield point
    finally:
        db.close_all()  # pooled: every connection, not only this thread's
        if subprocess.run(["umount", str(point)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(point)], capture_output=True)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "hub"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file with every migration applied, built once per session (per xdist worker)
    from the migrations as they are now; each app fixture starts from a copy of it."""
    path = tmp_path_factory.mktemp("template") / DB_FILENAME
    template = SqliteDatabase(str(path), pragmas={"foreign_keys": 1})
    with template.connection_context():
        Runner(template, str(MIGRATIONS_DIR)).up()
    template.close()
    assert not Path(f"{path}-wal").exists(), "the template must be one self-contained file"
    return path


@pytest.fixture
def app(data_dir: Path, migrated_template: Path):  # type: ignore[no-untyped-def]
    """The hub with its identity and an admin. Passwords use the cheap test-only hash, which
    create_app accepts only with TESTING (tests/test_fast_hashes.py shows a real hub refusing it)."""
    shutil.copyfile(migrated_template, data_dir / DB_FILENAME)
    application = create_app(data_dir, {"TESTING": True, "log_level": "warning", "insecure_fast_hashes": True})
    with db.connection_context():
        hub.initialize_identity()
        accounts.create_staff("admin", "admin", "Ada Admin", ADMIN_PASSWORD)
    yield application
    db.close_all()  # pooled: every connection, not only this thread's
    security.use_fast_hashes(False)  # whatever runs next hashes for real unless it asks otherwise


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@dataclass
class School:
    admin: Person
    teachers: dict[str, Person] = field(default_factory=dict)
    classes: dict[str, Classroom] = field(default_factory=dict)
    learners: dict[str, Person] = field(default_factory=dict)
    secrets: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def school(app) -> School:  # type: ignore[no-untyped-def]
    """Two teachers, each with one class; a picture class and a PIN class, two learners each."""
    with db.connection_context():
        admin = Person.get(Person.username == "admin")
        s = School(admin=admin)
        s.teachers["tess"] = accounts.create_staff("teacher", "tess", "Tess Teacher", TEACHER_PASSWORD, admin)
        s.teachers["tom"] = accounts.create_staff("teacher", "tom", "Tom Teacher", TEACHER_PASSWORD, admin)
        s.classes["pictures"] = accounts.create_class("Sunflowers", "picture", [s.teachers["tess"].id], admin)
        s.classes["pins"] = accounts.create_class("Baobabs", "pin", [s.teachers["tom"].id], admin)
        for name, secret in (("ana", ["sun", "fish", "car"]), ("ben", ["moon", "moon", "star"])):
            s.learners[name] = accounts.create_learner(s.classes["pictures"], name.title(), "blue", secret, s.teachers["tess"])
            s.secrets[name] = secret
        for name, secret in (("cleo", "1234"), ("dev", "0007")):
            s.learners[name] = accounts.create_learner(s.classes["pins"], name.title(), "green", secret, s.teachers["tom"])
            s.secrets[name] = secret
    return s


def study(school: School, *pack_ids: str, classes: tuple[str, ...] = ()) -> None:
    """The school's classes (or those named) study these packs, each whole; with none named,
    every pack installed now (a class studies only what it is given: services/courses.py)."""
    from classroom_server.services import courses, packs

    with db.connection_context():
        chosen = list(pack_ids) or [row.pack_id for row in packs.installed()]
        for key, classroom in school.classes.items():
            if not classes or key in classes:
                courses.set_courses(school.admin, classroom, [courses.Course(p) for p in chosen])


def csrf_token(client, path: str = "/login/staff") -> str:  # type: ignore[no-untyped-def]
    match = CSRF_RE.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post(client, path: str, data: dict[str, Any] | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
    form = dict(data or {})
    form.setdefault("csrf_token", csrf_token(client))
    return client.post(path, data=form, **kwargs)


def sign_in_staff(client, username: str, password: str):  # type: ignore[no-untyped-def]
    return post(client, "/login/staff", {"username": username, "password": password})


def sign_in_learner(client, school: School, name: str):  # type: ignore[no-untyped-def]
    learner = school.learners[name]
    classroom = school.classes["pictures"] if isinstance(school.secrets[name], list) else school.classes["pins"]
    url = f"/login/learner/{classroom.id}/{learner.id}"
    if classroom.login_kind == "pin":
        return post(client, url, {"pin": school.secrets[name]})
    chosen: list[str] = []
    response = None
    for picture in school.secrets[name]:
        response = post(client, url, {"so_far": ",".join(chosen), "pick": picture})
        chosen.append(picture)
    return response


def start_waitress(app, port: int = 0):  # type: ignore[no-untyped-def]
    """A real waitress server for the app on 127.0.0.1, in a thread; stop it with stop_waitress."""
    import errno
    import threading

    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=port, threads=4)
    server.stopping = threading.Event()

    def run() -> None:
        try:
            server.run()
        except OSError as exc:
            # Closing the sockets under waitress's select() is how a test server stops: expected then.
            if not (server.stopping.is_set() and exc.errno == errno.EBADF):
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return server, thread


def stop_waitress(server, thread) -> None:  # type: ignore[no-untyped-def]
    """Stop a test waitress server cleanly: let running requests finish, drop kept-alive
    connections, then close (closing first makes in-flight handlers hit a closed trigger)."""
    from waitress.channel import HTTPChannel

    stopping = getattr(server, "stopping", None)
    if stopping is not None:
        stopping.set()
    server.task_dispatcher.shutdown(cancel_pending=False, timeout=5)
    for channel in list(server._map.values()):
        if isinstance(channel, HTTPChannel):
            channel.handle_close()
    server.close()
    thread.join(timeout=5)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--schedules", type=int, default=500,
                     help="how many random fault schedules the sync fault tests try (default 500)")
    parser.addoption("--kills", type=int, default=20,
                     help="how many times tests/test_kill_serve.py kills a serving hub (default 20)")
