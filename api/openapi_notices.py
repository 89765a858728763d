"""OpenAPI 3.1 path item of ``GET /v1/notices/{notice_id}`` (merged into the document by ``api.openapi``)."""

from __future__ import annotations

from typing import Any

_R = "#/components/responses/"
_STR = {"type": "string"}
_NULL_STR = {"type": ["string", "null"]}
NOTICE_SCHEMA = {
    "type": "object",
    "required": ["notice_id", "kind", "subject", "draft_seq", "document_digest", "document", "events"],
    "properties": {
        "notice_id": _STR,
        "kind": {"enum": ["reminder", "return_demand", "absenteeism", "termination", "publication"]},
        "subject": _STR,
        "case_id": _NULL_STR,
        "draft_seq": {"type": "integer", "description": "the notice.drafted entry"},
        "drafted_at": {"type": "string", "format": "date-time"},
        "source": _STR,
        "document_digest": {"type": "string", "description": "sha256:<hex> of the document's exact UTF-8 bytes"},
        "template": _NULL_STR,
        "template_version": _NULL_STR,
        "document": {
            "type": ["string", "null"],
            "contentMediaType": "text/html",
            "description": "the printable A4 HTML document; null when this service does not keep it",
        },
        "document_matches_digest": {"type": "boolean"},
        "facts": {"type": ["object", "null"], "description": "the case facts the document states"},
        "events": {
            "type": "array",
            "description": "notice.issued from this draft, and the deliveries, failures and refusals of it",
            "items": {"type": "object"},
        },
    },
}
NOTICE_OPENAPI_PATHS: dict[str, Any] = {
    "/v1/notices/{notice_id}": {
        "get": {
            "summary": "A drafted notice: its facts, document and digest",
            "description": "The latest notice.drafted entry under this id, the document (HTML, printable on A4) "
            "whose SHA-256 the entry records, the facts it was filled from, and what the log says became of "
            "it. The id may contain '/', sent as is or percent-encoded.\n\nRequires a token with the `legal` "
            "role (admin has every role).",
            "security": [{"bearer": []}],
            "x-required-role": "legal",
            "parameters": [
                {"name": "notice_id", "in": "path", "required": True, "description": "the notice id", "schema": _STR}
            ],
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": NOTICE_SCHEMA}}},
                **{s: {"$ref": _R + s} for s in ("400", "401", "403", "404", "500")},
            },
        }
    }
}
