"""The district's HTTP API as an OpenAPI 3.0 description, served at ``GET /openapi.json``.

It describes what a hub (or anyone) may send and every answer the district may give, so a
generic tool can probe the doors: tests/sync/test_openapi_district.py runs schemathesis against
it (no server error, every status and body as described). The signed messages are described as
their transport sees them: a body of bytes and the four X-Sync headers (docs/sync.md); what is
inside a signed body is the protocol's business (sync/protocol.py), checked by its own tests.
"""

from __future__ import annotations

from typing import Any

from sync import protocol

_ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}
_MESSAGES = ["hello", "push", "fetch", "manifests", "changes", "shared", "pack"]


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _header(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": True, "description": description,
            "schema": {"type": "string", **schema}}


def description() -> dict[str, Any]:
    signed_answers = {
        str(status): _json(_ERROR, words) for status, words in (
            (400, "The body is not a message the district can read."),
            (401, "Unknown hub, wrong signature, or a counter seen before (a replay)."),
            (403, "The district revoked this hub's enrolment."),
            (404, "No such message."),
            (409, "An event id already held with another payload: quarantined."),
            (413, "The body is larger than the protocol allows."),
            (426, "The two sides speak protocol versions that cannot work together."),
        )
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "classroom-server district",
            "version": str(protocol.VERSION),
            "description": "Where hubs sync (docs/sync.md). Every message but `enrol` is signed with "
                           "the hub's own secret (HMAC-SHA256) and carries a counter never used twice.",
        },
        "paths": {
            "/healthz": {"get": {
                "summary": "Is the district's database readable?",
                "responses": {
                    "200": _json({"type": "object", "required": ["status", "protocol"], "properties": {
                        "status": {"type": "string", "enum": ["ok"]}, "protocol": {"type": "integer"},
                        "events": {"type": "integer"}, "quarantined": {"type": "integer"}}}, "Working."),
                    "503": _json({"type": "object", "required": ["status", "problem"], "properties": {
                        "status": {"type": "string", "enum": ["error"]}, "problem": {"type": "string"}}},
                        "The database cannot be read."),
                },
            }},
            "/openapi.json": {"get": {
                "summary": "This description.",
                "responses": {"200": _json({"type": "object"}, "The OpenAPI description.")},
            }},
            "/sync/v1/enrol": {"post": {
                "summary": "A hub enrols with a one-time code (the only unsigned message).",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["code", "hub_id"], "properties": {
                        "code": {"type": "string", "pattern": "^[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}$",
                                 "description": "The one-time code, as printed (dashes optional)."},
                        "hub_id": {"type": "string", "minLength": 8, "maxLength": 64},
                        "name": {"type": "string", "maxLength": 100}}}}}},
                "responses": {
                    "200": _json({"type": "object", "required": ["hub_id", "secret", "school"], "properties": {
                        "hub_id": {"type": "string"}, "secret": {"type": "string"},
                        "school": {"type": "string"}}}, "Enrolled: the hub's secret, shown once."),
                    "400": _json(_ERROR, "Not an enrolment: no hub id, or no code of the right shape."),
                    "403": _json(_ERROR, "The code is unknown, used already, or revoked."),
                    "409": _json(_ERROR, "This hub is enrolled already."),
                    "413": _json(_ERROR, "The body is too large."),
                },
            }},
            "/sync/v1/{message}": {"post": {
                "summary": "A signed message from an enrolled hub.",
                "parameters": [
                    {"name": "message", "in": "path", "required": True, "schema": {"type": "string"},
                     "description": "One of " + ", ".join(_MESSAGES) + "; any other is answered 404."},
                    _header("X-Sync-Version", "The sender's protocol version (another is answered 426).",
                            enum=[str(protocol.VERSION)]),
                    _header("X-Sync-Hub", "The hub's id.", pattern="^[A-Za-z0-9._-]{8,64}$"),
                    _header("X-Sync-Counter", "A number the hub never uses twice.", pattern="^[1-9][0-9]{0,17}$"),
                    _header("X-Sync-Signature", "hmac-sha256=<64 hex digits>.",
                            pattern="^hmac-sha256=[0-9a-f]{64}$"),
                ],
                "requestBody": {"required": False, "content": {"application/octet-stream": {
                    "schema": {"type": "string", "format": "binary"}}}},
                "responses": {
                    "200": {"description": "Acted on: a signed JSON answer, or gzipped JSON (changes, shared, fetch).",
                            "content": {"application/json": {"schema": {"type": "object"}},
                                        "application/gzip": {"schema": {"type": "string", "format": "binary"}}}},
                    "204": {"description": "Nothing to fetch."},
                    "206": {"description": "A piece of a pack, with Content-Range.",
                            "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                "format": "binary"}}}},
                    **signed_answers,
                },
            }},
        },
    }
