"""GET /healthz: for IT staff, monitors and the CLI. Reveals no personal data. And /favicon.ico."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify

from classroom_server import __version__
from classroom_server.services import hub
from classroom_server.services import sync as hub_sync

bp = Blueprint("health", __name__)


def health_report() -> dict[str, object]:
    settings = current_app.config["SETTINGS"]
    free = hub.disk_free_bytes(current_app.config["DATA_DIR"])
    schema, pending = hub.schema_status()
    problems = []
    if free < settings["min_free_disk_mb"] * 1024 * 1024:
        problems.append("disk_nearly_full")
    if pending:
        problems.append("migrations_pending")
    memory = current_app.extensions.setdefault("storage_trouble", {})
    trouble = hub.storage_trouble(current_app.config["DATA_DIR"], memory)
    if trouble:
        problems.append("disk_read_only" if trouble["problem"] == "read_only" else "disk_writes_failing")
    return {
        "status": "degraded" if problems else "ok",
        "problems": problems,
        "version": __version__,
        "schema": schema,
        "hub_id": hub.get_meta("hub_id"),
        "epoch": hub.get_meta("epoch"),
        "disk_free_bytes": free,
        "last_backup": hub.get_meta("last_backup"),
        "storage_trouble": trouble,
        "sync": sync_report(),
    }


def sync_report() -> dict[str, object]:
    """District sync as IT staff check it: a few small reads, never a request to the district.
    A hub that is not enrolled is not a problem here (many never sync)."""
    state = hub_sync.status()
    return {
        "enrolled": state.enrolled,
        "district": state.district_url,
        "school": state.school,
        "last_success": state.last_success,
        "last_attempt": state.last_attempt,
        "waiting": state.waiting,
        "failures": state.failures,
        "quarantined": state.quarantined,
        "changes_through": state.changes_through,
        "last_error": state.last_error,
    }


@bp.route("/healthz")
def healthz() -> Response:
    hub.require_room(current_app.config["DATA_DIR"])  # a full disk is answered as a failed write is
    report = health_report()
    response = jsonify(report)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for /favicon.ico on their own, before any page names its icon: the hub's
    little house, not a 404 on every first load."""
    icon = Path(current_app.static_folder or "", "favicon.svg").read_bytes()  # 300 bytes
    response = Response(icon, mimetype="image/svg+xml")
    response.cache_control.max_age = 7 * 24 * 3600
    return response
