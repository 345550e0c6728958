"""create_app wires settings, the database, security, i18n, logging and blueprints. Nothing else."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from classroom_server import __version__, compress, i18n, inflight, weblog
from classroom_server import db as database
from classroom_server.config import ConfigError, load_settings
from classroom_server.services import hub, security


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
        # A sign-in lasts session_hours from when it began (the server's session row says so too):
        # the cookie is not signed again on every answer, only when the session changes.
        SESSION_REFRESH_EACH_REQUEST=False,
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

    from classroom_server.web.admin_packs import allow_pack_upload

    app.before_request(allow_pack_upload)  # the pack upload's own limit, set before CSRF reads the form
    CSRFProtect(app)
    i18n.init_app(app, default_language=settings["language"])
    weblog.init_app(app, level=settings["log_level"])
    compress.init_app(app)

    from classroom_server.services import courses, packs, projections
    from classroom_server.services.catalogue import CatalogueStore
    from classroom_server.services.learning import Engine

    with database.db.connection_context():
        packs.backfill_manifests(data_path)  # hubs from before manifests were kept (once)
        projections.ensure_current()  # projections of another algorithm version are rebuilt
        courses.upgrade_classes()  # hubs from before courses: each class keeps the packs it had (once)
    app.extensions["catalogue"] = CatalogueStore(data_path)
    app.extensions["engine"] = Engine(app.extensions["catalogue"])
    from classroom_server.services.sync_runner import Runner

    app.extensions["sync_runner"] = Runner(settings)

    from classroom_server.web import register_blueprints

    register_blueprints(app)  # and the one error handler (web/errors.py), the full disk's 507 included
    app.jinja_env.globals["asset"] = lambda filename: f"/static/{filename}?v={__version__}"
    app.wsgi_app = inflight.Counting(app.wsgi_app)  # type: ignore[method-assign]  # a sync works in the gaps
    return app

