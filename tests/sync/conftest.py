"""A district for the hub under test: on SQLite by default, on a real PostgreSQL when asked
(``district_url`` with ``postgres``): one fresh database per test, dropped after it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from classroom_server.db import db
from sync.district import service
from sync.district.app import create_district_app
from sync.transport import AppTransport
from tests.conftest import need

PG = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def postgres_available() -> tuple[bool, str]:
    try:
        import psycopg
    except ImportError:
        return False, "psycopg is not installed"
    try:
        with psycopg.connect(PG, connect_timeout=3):
            return True, ""
    except Exception as exc:  # no server, no role: say why
        return False, f"PostgreSQL is not reachable on 127.0.0.1:5432 ({str(exc).strip()[:100]})"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    ok, why = postgres_available()
    need(ok, why)
    import psycopg

    name = f"district_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    from sync.district.models import district_db

    if district_db.obj is not None and not district_db.obj.is_closed():
        district_db.obj.close()
    with psycopg.connect(PG, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def district_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'district.sqlite3'}"


@pytest.fixture
def district(district_url: str):  # type: ignore[no-untyped-def]
    application = create_district_app(district_url)
    yield application
    database = application.extensions["district_database"]
    if not database.is_closed():
        database.close()


def register(district, school: str = "Hillside Primary", hub_name: str = "Room 4") -> str:  # type: ignore[no-untyped-def]
    """A school and a hub registration at the district; returns the one-time code."""
    database = district.extensions["district_database"]
    with database.connection_context():
        try:
            found = service.school_named(school)
        except ValueError:
            found = service.add_school(school)
        return service.register_hub(found, hub_name)[1]


def enrolled(app, district, school: str = "Hillside Primary") -> AppTransport:  # type: ignore[no-untyped-def]
    """Enrol the hub under test with the district; returns the transport to it."""
    from classroom_server.services import sync as hub_sync

    transport = AppTransport(district)
    code = register(district, school)
    with db.connection_context():
        hub_sync.enrol(transport, "http://district.test", code, "Room 4")
    return transport


@pytest.fixture
def district_server(district) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The district app under a real waitress on 127.0.0.1; yields its address."""
    from tests.conftest import start_waitress, stop_waitress

    server, thread = start_waitress(district)
    yield f"http://127.0.0.1:{server.effective_port}"
    stop_waitress(server, thread)


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound once, then let go)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
