"""The hub's JSON endpoints as an OpenAPI 3.0 description, served at ``GET /api/openapi.json``.

What a device or a monitor may call besides the pages people read: the answer queue (an answer
posted with ``Accept: application/json``), ``/healthz`` and the admin's sync progress. Every
error has the one shape of web/errors.py. tests/test_openapi_hub.py runs schemathesis against
this description: no server error, every status, content type and body as described.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from classroom_server import __version__

bp = Blueprint("openapi", __name__)

ERROR: dict[str, Any] = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message", "field"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "field": {"type": "string", "nullable": True}}}},
}
NUMBER: dict[str, Any] = {"type": "string", "pattern": "^[0-9]{1,15}$"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    words = {
        400: "Bad input, or a form without its CSRF token; `field` names the field.",
        401: "Not signed in (the answer queue keeps the answer for later).",
        403: "Signed in, but not as the role this needs.",
        404: "No such pack, item or page.",
        409: "This answer id was already used for another question.",
        413: "The request is too large.",
        429: "Too many requests; `Retry-After` says when to try again.",
        503: "The hub cannot write to its disk.",
        507: "The hub's disk is full.",
    }
    return {str(status): _json(ERROR, words[status]) for status in statuses}


def description() -> dict[str, Any]:
    health: dict[str, Any] = {
        "type": "object", "required": ["status", "problems"],
        "properties": {
            "status": {"type": "string", "enum": ["ok", "degraded", "failing"]},
            "problems": {"type": "array", "items": {"type": "string"}},
            "version": {"type": "string"}, "schema": {"type": "string"},
            "hub_id": {"type": "string", "nullable": True}, "epoch": {"type": "string", "nullable": True},
            "disk_free_bytes": {"type": "integer"}, "last_backup": {"type": "string", "nullable": True},
            "storage_trouble": {"type": "object", "nullable": True}, "sync": {"type": "object"},
        },
    }
    progress = {
        "type": "object", "required": ["running", "message"],
        "properties": {"running": {"type": "boolean"}, "done": {"type": "integer"}, "total": {"type": "integer"},
                       "error": {"type": "string", "nullable": True}, "message": {"type": "string"}},
    }
    answer_form = {
        "type": "object", "required": ["csrf_token", "event_id", "answer"],
        "properties": {
            "csrf_token": {"type": "string", "description": "The token of the page the answer came from."},
            "event_id": {"type": "string", "format": "uuid", "description": "Made on the device; "
                         "the same id sent again is stored once and gets the same verdict."},
            "answer": {"type": "string", "description": "The answer as the item's form sends it (a choice "
                       "id, a number, text...; what an item accepts depends on the item)."},
            "duration_ms": NUMBER, "started": NUMBER,
            "hints_used": {"type": "string", "pattern": "^[0-9]{1,2}$"},
            "mode": {"type": "string", "enum": ["practice", "check", "review", "test_out"]},
        },
    }
    verdict = {
        "type": "object", "required": ["correct", "event_id", "duplicate"],
        "properties": {"correct": {"type": "boolean"}, "feedback": {"type": "string", "nullable": True},
                       "event_id": {"type": "string"}, "duplicate": {"type": "boolean"},
                       "celebrate": {"type": "string", "nullable": True, "enum": ["mastered", "proficient", None]}},
    }
    accept_json = {"name": "Accept", "in": "header", "required": True, "schema": {"type": "string",
                                                                                 "enum": ["application/json"]}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "classroom-server hub", "version": __version__,
                 "description": "The hub's JSON endpoints (docs/architecture.md, docs/security.md)."},
        "components": {"securitySchemes": {"session": {"type": "apiKey", "in": "cookie",
                                                       "name": "classroom_session"}}},
        "paths": {
            "/healthz": {"get": {
                "summary": "For IT staff and monitors; no personal data.",
                "responses": {"200": _json(health, "The report (status ok or degraded)."),
                              "503": _json({**ERROR, "properties": {**ERROR["properties"], **health["properties"]}},
                                           "The disk cannot be written, even to make the report."),
                              "507": _json({**ERROR, "properties": {**ERROR["properties"], **health["properties"]}},
                                           "The disk is full, even for the report.")},
            }},
            "/api/openapi.json": {"get": {
                "summary": "This description.",
                "responses": {"200": _json({"type": "object"}, "The OpenAPI description.")},
            }},
            "/learn/item/{pack_id}/{item_id}": {"post": {
                "summary": "The answer queue sends one answer; the hub grades and records it once.",
                "security": [{"session": []}],
                "parameters": [
                    {"name": "pack_id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "item_id", "in": "path", "required": True, "schema": {"type": "string"}},
                    accept_json,
                ],
                "requestBody": {"required": True, "content": {
                    "application/x-www-form-urlencoded": {"schema": answer_form}}},
                "responses": {"200": _json(verdict, "Graded and recorded (or recorded before: `duplicate`)."),
                              **_errors(400, 401, 403, 404, 409, 413, 503, 507)},
            }},
            "/admin/sync/progress": {"get": {
                "summary": "How the latest district sync of this hub went (the admin page polls it).",
                "security": [{"session": []}],
                "parameters": [accept_json],
                "responses": {"200": _json(progress, "Where the sync stands."), **_errors(401, 403)},
            }},
        },
    }


@bp.route("/api/openapi.json")
def served() -> Response:
    """Open to everyone: it describes the doors, and opens none."""
    return jsonify(description())
