"""The OpenAPI 3.1 description of the service, written out by hand and checked against the router."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from aiohttp import web

from api.openapi_domain import BUNDLE_OPENAPI_PATHS, DOMAIN_OPENAPI_PATHS
from api.openapi_notices import NOTICE_OPENAPI_PATHS

P = "#/components/responses/"
S = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": S + name}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): {"$ref": P + str(s)} for s in statuses}


def _json_body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name: str, description: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


B64 = {"type": "string", "contentEncoding": "base64"}
UINT = {"type": "integer", "minimum": 0}
AUTH_ERRORS = (401, 403)
READ_ERRORS = (*AUTH_ERRORS, 405, 500, 503)


def _op(role: str | None, summary: str, responses: dict[str, Any], **more: Any) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": responses, **more}
    if role is None:
        op["security"] = []
    else:
        op["security"] = [{"bearer": []}]
        op["x-required-role"] = role
        op["description"] = (
            more.get("description", "") + f"\n\nRequires a token with the `{role}` role "
            "(admin has every role; legal includes auditor)."
        ).strip()
    return op


SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "format": "uri", "examples": ["https://hrledger.dev/problems/validation-error"]},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "field": {
                "type": "string",
                "description": "the offending field (validation and bad-request "
                "problems), e.g. occurred_at or events[3].data.kind",
            },
        },
    },
    "Event": {
        "type": "object",
        "additionalProperties": False,
        "required": ["event_id", "type", "subject", "occurred_at", "source", "data"],
        "properties": {
            "event_id": {"type": "string", "minLength": 1, "maxLength": 128, "description": "idempotency key"},
            "type": {
                "type": "string",
                "description": "SPEC section 3; custom.* is logged uninterpreted; "
                "system types (escalation.stage_entered) are refused with 422",
            },
            "subject": {"type": "string", "description": "employee id, or company"},
            "occurred_at": {
                "type": "string",
                "format": "date-time",
                "description": "RFC 3339 with offset; at most 5 minutes ahead of the server clock",
            },
            "source": {"type": "string"},
            "data": {"type": "object", "description": "validated per type; unknown fields refused"},
        },
    },
    "EventBatch": {
        "type": "object",
        "additionalProperties": False,
        "required": ["events"],
        "properties": {"events": {"type": "array", "minItems": 1, "maxItems": 1000, "items": _ref("Event")}},
    },
    "AppendResult": {
        "type": "object",
        "required": ["seq", "leaf_hash", "recorded_at"],
        "properties": {
            "seq": UINT,
            "leaf_hash": B64,
            "recorded_at": {"type": "string", "format": "date-time"},
            "proof": {
                "type": "array",
                "items": B64,
                "description": "with wait=checkpoint: inclusion proof in tree_size, leaf upward",
            },
            "tlog_proof": {
                "type": "string",
                "description": "with wait=checkpoint: the receipt, a C2SP tlog-proof with the entry's leaf "
                "in its extra line",
            },
        },
    },
    "CheckpointFields": {
        "type": "object",
        "description": "present with wait=checkpoint",
        "properties": {"tree_size": UINT, "checkpoint": {"type": "string", "description": "signed note"}},
    },
    "SingleResult": {"allOf": [_ref("AppendResult"), _ref("CheckpointFields")]},
    "BatchResult": {
        "allOf": [
            {
                "type": "object",
                "required": ["results"],
                "properties": {"results": {"type": "array", "items": _ref("AppendResult")}},
            },
            _ref("CheckpointFields"),
        ],
    },
    "LogInfo": {
        "type": "object",
        "required": ["origin", "vkey", "tree_size"],
        "properties": {
            "origin": {"type": "string"},
            "vkey": {"type": "string"},
            "tree_size": UINT,
            "checkpoint_size": {"type": ["integer", "null"], "minimum": 0},
        },
    },
    "Entry": {
        "type": "object",
        "required": ["seq", "entry", "leaf_hash", "data", "salt"],
        "properties": {
            "seq": UINT,
            "entry": {"type": "string", "description": "the exact leaf text (RFC 8785 JSON)"},
            "leaf_hash": B64,
            "data": {"description": "the event data; null once erased"},
            "salt": {"oneOf": [B64, {"type": "null"}]},
        },
    },
    "EntryPage": {
        "type": "object",
        "required": ["entries", "next_from_seq"],
        "properties": {
            "entries": {"type": "array", "items": _ref("Entry")},
            "next_from_seq": {"type": ["integer", "null"], "minimum": 0},
        },
    },
    "InclusionProof": {
        "type": "object",
        "required": ["seq", "tree_size", "leaf_hash", "proof"],
        "properties": {"seq": UINT, "tree_size": UINT, "leaf_hash": B64, "proof": {"type": "array", "items": B64}},
    },
    "ConsistencyProof": {
        "type": "object",
        "required": ["first", "second", "proof"],
        "properties": {"first": UINT, "second": UINT, "proof": {"type": "array", "items": B64}},
    },
    "Health": {
        "type": "object",
        "required": ["status", "sequencer"],
        "properties": {
            "status": {"enum": ["ok", "degraded"]},
            "publish_error": {"type": "string"},
            "sequencer": {"type": "boolean", "description": "this process takes writes now"},
            "witnesses": {
                "type": "object",
                "description": "with a witness policy (docs/witnesses.md): quorum, checkpoint_witnessed, "
                "signing_hold, evidence, and per witness its cosigned_size, lag_entries, lag_seconds, "
                "last_error, evidence and disputed",
            },
            "warnings": {"type": "array", "items": {"type": "string"}},
        },
    },
}

ERROR_TEXT = {
    400: "Malformed request: bad JSON, unknown, repeated or non-integer query parameters, impossible ranges",
    401: "No bearer token, or an unknown or revoked one (WWW-Authenticate: Bearer)",
    403: "The token's role does not grant this route",
    404: "No such entry, tree size beyond the log, no checkpoint yet, or no such route",
    405: "Method not allowed on this route",
    409: "The same event_id was recorded with other content",
    413: "Request body over 1 MiB",
    422: "Invalid input: the problem's field names the offending field",
    500: "Integrity or internal failure",
    503: "Storage unavailable, or (wait=checkpoint) no checkpoint in time; retry after Retry-After seconds. "
    "Also signing-held: the witness policy can no longer be met (docs/witnesses.md)",
}

PROBLEM_CONTENT = {"application/problem+json": {"schema": _ref("Problem")}}

PATHS: dict[str, Any] = {
    "/v1/events": {
        "post": _op(
            "writer",
            "Append one event or a batch (all-or-nothing)",
            {
                "201": _json_body(
                    {"oneOf": [_ref("SingleResult"), _ref("BatchResult")]},
                    "At least one new entry was created (a batch may mix new events and replays)",
                ),
                "200": _json_body(
                    {"oneOf": [_ref("SingleResult"), _ref("BatchResult")]},
                    "Exact replay: every event was already recorded with the same content; the original results",
                ),
                **_errors(400, *AUTH_ERRORS, 405, 409, 413, 422, 500, 503),
            },
            description="Acknowledged only after a durable commit. With wait=checkpoint the response also holds "
            "the signed checkpoint covering the entries and each entry's inclusion proof.",
            parameters=[_query("wait", "wait until a signed checkpoint covers the entries", {"enum": ["checkpoint"]})],
            requestBody={
                "required": True,
                "content": {"application/json": {"schema": {"oneOf": [_ref("Event"), _ref("EventBatch")]}}},
            },
        )
    },
    "/v1/log": {
        "get": _op(
            "auditor",
            "Origin, verifier key and tree size",
            {"200": _json_body(_ref("LogInfo"), "log information"), **_errors(400, *READ_ERRORS)},
        )
    },
    "/v1/checkpoint": {
        "get": _op(
            "auditor",
            "The latest signed checkpoint (C2SP tlog-checkpoint signed note)",
            {
                "200": {
                    "description": "the note, verbatim, with one C2SP tlog-cosignature line per witness that "
                    "cosigned it",
                    "content": {"text/plain; charset=utf-8": {"schema": {"type": "string"}}},
                },
                **_errors(400, 404, *READ_ERRORS),
            },
        )
    },
    "/v1/entries": {
        "get": _op(
            "auditor",
            "Entries in seq order, optionally filtered",
            {"200": _json_body(_ref("EntryPage"), "one page"), **_errors(400, *READ_ERRORS)},
            parameters=[
                _query("subject", "only this subject", {"type": "string"}),
                _query("type", "only this event type", {"type": "string"}),
                _query("from_seq", "first seq to consider (default 0)", UINT),
                _query("limit", "page size (default 100)", {"type": "integer", "minimum": 1, "maximum": 1000}),
            ],
        )
    },
    "/v1/entries/{seq}": {
        "get": _op(
            "auditor",
            "One entry with its data and salt",
            {"200": _json_body(_ref("Entry"), "the entry"), **_errors(400, 404, *READ_ERRORS)},
            parameters=[{"name": "seq", "in": "path", "required": True, "schema": UINT}],
        )
    },
    "/v1/proofs/inclusion": {
        "get": _op(
            "auditor",
            "RFC 9162 inclusion proof of one entry",
            {"200": _json_body(_ref("InclusionProof"), "the proof"), **_errors(400, 404, *READ_ERRORS)},
            parameters=[
                _query("seq", "the entry", UINT, required=True),
                _query("tree_size", "tree size (default: the latest checkpoint's)", UINT),
            ],
        )
    },
    "/v1/proofs/consistency": {
        "get": _op(
            "auditor",
            "RFC 9162 consistency proof between two tree sizes",
            {"200": _json_body(_ref("ConsistencyProof"), "the proof"), **_errors(400, 404, *READ_ERRORS)},
            parameters=[
                _query("first", "the older size", UINT, required=True),
                _query("second", "the newer size (default: the latest checkpoint's)", UINT),
            ],
        )
    },
    "/v1/subjects/{subject}/head": {
        "get": _op(
            "auditor",
            "The subject-head statement: the subject's chain head and entry count in a published tree",
            {
                "200": {
                    "description": "a C2SP signed note by the log's key, verbatim (text, not JSON: its exact bytes "
                    "are what is signed): hrledger.dev/subject-head/v1, origin, tree size, base64 root hash, "
                    "base64 SHA-256 of the UTF-8 subject, head seq or none, entry count; each line ends in a newline",
                    "content": {"text/plain; charset=utf-8": {"schema": {"type": "string"}}},
                },
                **_errors(400, 404, *READ_ERRORS),
            },
            parameters=[
                {"name": "subject", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 128}},
                _query("tree_size", "a published checkpoint's size (default: the latest)", UINT),
            ],
        )
    },
    "/v1/openapi.json": {
        "get": _op(
            None,
            "This document",
            {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}},
        )
    },
    "/healthz": {"get": _op(None, "Liveness", {"200": _json_body(_ref("Health"), "serving")})},
    "/metrics": {
        "get": _op(
            None,
            "Prometheus metrics",
            {
                "200": {
                    "description": "text exposition format",
                    "content": {"text/plain; version=0.0.4": {"schema": {"type": "string"}}},
                }
            },
        )
    },
}

# The domain and bundle routes describe themselves beside their handlers.
PATHS.update(DOMAIN_OPENAPI_PATHS)
PATHS.update(BUNDLE_OPENAPI_PATHS)
PATHS.update(NOTICE_OPENAPI_PATHS)

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "hrledger",
        "version": "1",
        "description": "Evidence ledger for absence after leave: an RFC 9162 Merkle log with signed C2SP "
        "checkpoints. Errors are RFC 9457 problem+json.",
    },
    "paths": PATHS,
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": SCHEMAS,
        "responses": {str(s): {"description": text, "content": PROBLEM_CONTENT} for s, text in ERROR_TEXT.items()},
    },
}


@cache
def _body() -> bytes:
    return json.dumps(DOCUMENT, ensure_ascii=False).encode("utf-8")


async def get_openapi(request: web.Request) -> web.Response:
    return web.Response(body=_body(), content_type="application/json")
