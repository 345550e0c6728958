"""create_app wires settings, the database, security, i18n, logging and blueprints. Nothing else."""

from __future__ import annotations

import datetime as dt
import logging
import os
import sqlite3
from pathlib import Path
from typing import Any, Mapping

from flask import Flask
from peewee import OperationalError

from classroom_server import db as database
from classroom_server import __version__, compress, i18n, weblog
from classroom_server.config import ConfigError, load_settings
from classroom_server.errors import StorageFull, storage_problem
from classroom_server.services import hub, security

log = logging.getLogger("classroom_server.storage")


def create_app(
    data_dir: str | os.PathLike[str],
    overrides: Mapping[str, Any] | None = None,
    config_file: str | os.PathLike[str] | None = None,
) -> Flask:
    """Build the hub for an initialised data directory (see ``classroom-server init``)."""
    settings = load_settings(data_dir, overrides, config_file)
    testing = bool(overrides and overrides.get("TESTING"))
    if settings["insecure_fast_hashes"] and not testing:
        raise ConfigError(
            "Setting 'insecure_fast_hashes' is on: it makes passwords easy to crack and is for the "
            "test suite only, so the hub will not start. Remove it from config.toml and from the "
            "environment (CLASSROOM_INSECURE_FAST_HASHES)."
        )
    security.use_fast_hashes(settings["insecure_fast_hashes"])
    data_path = Path(data_dir)
    app = Flask(__name__)
    app.config.update(
        SETTINGS=settings,
        DATA_DIR=data_path,
        SECRET_KEY=os.environ.get("CLASSROOM_SECRET_KEY") or hub.ensure_secret_key(data_path),
        SESSION_COOKIE_NAME="classroom_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings["secure_cookies"],
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=settings["session_hours"]),
        WTF_CSRF_TIME_LIMIT=None,  # a lesson page left open must still submit
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        SEND_FILE_MAX_AGE_DEFAULT=7 * 24 * 3600,  # static URLs carry the version: an upgrade changes them
        JSON_SORT_KEYS=False,
    )
    if testing:
        app.config["TESTING"] = True

    database.configure(
        database.database_path(data_path), settings["sqlite_synchronous"], settings["sqlite_cache_kb"]
    )
    database.migrate()
    database.init_app(app)

    from flask_wtf.csrf import CSRFProtect

    CSRFProtect(app)
    i18n.init_app(app, default_language=settings["language"])
    weblog.init_app(app, level=settings["log_level"])
    compress.init_app(app)

    from classroom_server.services.catalogue import CatalogueStore

    from classroom_server.services.learning import Engine

    app.extensions["catalogue"] = CatalogueStore(data_path)
    app.extensions["engine"] = Engine(app.extensions["catalogue"])

    from classroom_server.web import register_blueprints

    register_blueprints(app)
    _handle_a_full_disk(app)
    app.jinja_env.globals["asset"] = lambda filename: f"/static/{filename}?v={__version__}"
    return app


def _handle_a_full_disk(app: Flask) -> None:
    """A full disk during a request is a 507 with a plain, translated page (or JSON), not a 500.

    SQLite rolls the failed transaction back, so what was saved before stays saved; the learner's
    answer queue keeps answers refused with 507 and sends them again later.
    """

    def storage_error(exc: Exception):  # type: ignore[no-untyped-def]
        if storage_problem(exc) != "full":
            raise exc
        log.error("The disk holding %s is full or failing: %s", app.config["DATA_DIR"], exc)
        return app.handle_user_exception(
            StorageFull("The hub's disk is full, so it cannot save anything right now. Please tell the hub's admin.")
        )

    app.register_error_handler(OperationalError, storage_error)
    app.register_error_handler(sqlite3.OperationalError, storage_error)
