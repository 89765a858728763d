"""OpenAPI 3.1 path items of the domain and bundle routes (merged into the document by ``api.openapi``)."""

from __future__ import annotations

from typing import Any

from ledger.domain.episodes import KINDS
from ledger.domain.projection import ABSENCE_STATES, CASE_STATUSES
from ledger.domain.readiness import ITEMS
from ledger.domain.termination import AFTER_ITEMS
from ledger.services.notify import STATUSES

BUNDLES_PATH = "/v1/bundles"
BUNDLE_FIELDS = ("subject", "from", "to")


_R = "#/components/responses/"
_AUTH = ("401", "403")


def _errors(*statuses: str) -> dict[str, Any]:
    return {s: {"$ref": _R + s} for s in statuses}


def _op(
    role: str,
    summary: str,
    schema: dict[str, Any],
    params: list[dict[str, Any]],
    errors: tuple[str, ...],
    description: str = "",
) -> dict[str, Any]:
    return {
        "summary": summary,
        "description": (description + f"\n\nRequires a token with the `{role}` role (admin has every role).").strip(),
        "security": [{"bearer": []}],
        "x-required-role": role,
        "parameters": params,
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": schema}}},
            **_errors(*errors),
        },
    }


def _q(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


_AS_OF = _q(
    "as_of",
    "RFC 3339 instant with offset (default now); only facts that occurred at or before it count",
    {"type": "string", "format": "date-time"},
)
_STR = {"type": "string"}
_DATE = {"type": ["string", "null"], "format": "date"}
_SEQS = {"type": "array", "items": {"type": "integer"}}
_WORDS = {"type": "object", "properties": {"zh": _STR, "en": _STR}}
_ITEM = {
    "type": "object",
    "required": ["name", "ok", "seqs", "missing"],
    "properties": {
        "name": {
            "type": "string",
            "description": "stable item names: " + ", ".join(i.name for i in (*ITEMS, *AFTER_ITEMS)),
        },
        "ok": {"type": "boolean"},
        "seqs": _SEQS,
        "missing": {"type": ["object", "null"], "properties": {"zh": _STR, "en": _STR}},
        "label": _WORDS,
        "supplied_by": {"type": "string", "description": "the event that would supply the item"},
        "basis": {"type": "string", "description": "the legal basis"},
        "deadline": {"type": ["string", "null"]},
    },
}
_FLAGS = {
    "type": "array",
    "description": "the rule book's leave rules this leave does not meet: flags, never refusals",
    "items": {
        "type": "object",
        "properties": {"leave_id": _STR, "rule": {"enum": ["certificate", "min_notice_days", "max_days"]}},
    },
}
_REPORTS = {
    "type": "array",
    "description": "reasons reported for the absence (absence.reported) and their assessment",
    "items": {"type": "object", "properties": {"seq": {"type": "integer"}, "status": _STR}},
}
ABSENCE_SCHEMA = {
    "type": "object",
    "required": ["subject", "state", "overdue_days", "return_day", "leave_id"],
    "properties": {
        "subject": _STR,
        "overdue_days": {"type": "integer"},
        "return_day": _DATE,
        "leave_id": {"type": ["string", "null"]},
        "case_id": {"type": ["string", "null"]},
        "kind": {"enum": [*KINDS, None]},
        "missed_days": {"type": "array", "items": {"type": "string", "format": "date"}},
        "state": {"enum": list(ABSENCE_STATES)},
        "suspended": {"type": "boolean"},
        "reports": _REPORTS,
        "leave_flags": _FLAGS,
    },
}
CASE_SCHEMA = {
    "type": "object",
    "required": [
        "case_id",
        "subject",
        "status",
        "leave_id",
        "return_day",
        "overdue_days",
        "stage",
        "stages",
        "readiness",
    ],
    "properties": {
        "case_id": _STR,
        "subject": _STR,
        "kind": {"enum": list(KINDS)},
        "status": {"enum": list(CASE_STATUSES)},
        "leave_id": {"type": ["string", "null"]},
        "return_day": _DATE,
        "overdue_days": {"type": "integer"},
        "suspended": {"type": "boolean"},
        "stage": {"type": ["string", "null"]},
        "stages": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "stage": _STR,
                    "reached_on": {"type": "string", "format": "date"},
                    "seq": {"type": ["integer", "null"], "description": "the stage event, once recorded"},
                    "occurrence": {"type": ["integer", "null"]},
                    "status": {"enum": ["entered", "due", "suspended"]},
                },
            },
        },
        "withdrawn_stages": {"type": "array", "items": {"type": "object"}},
        "stage_events": {"type": "array", "items": {"type": "object"}},
        "notices": {
            "type": "object",
            "description": "drafted (current, issued or superseded) and issued, with service",
        },
        "reports": _REPORTS,
        "leave_flags": _FLAGS,
        "readiness": {
            "type": "object",
            "properties": {
                "ready": {"type": "boolean"},
                "suspended": {"type": "boolean"},
                "items": {"type": "array", "items": _ITEM},
            },
        },
        "termination": {"type": ["object", "null"], "description": "with the items missing when it was recorded"},
        "after_termination": {
            "type": ["object", "null"],
            "properties": {"complete": {"type": "boolean"}, "items": {"type": "array", "items": _ITEM}},
        },
        "late_recorded": {"type": "array", "items": {"type": "object"}},
        "evidence_seqs": _SEQS,
    },
}
DOMAIN_OPENAPI_PATHS: dict[str, Any] = {
    "/v1/employees/{id}/absence": {
        "get": {
            **_op(
                "legal",
                "Absence state of one employee at an instant",
                ABSENCE_SCHEMA,
                [{"name": "id", "in": "path", "required": True, "schema": _STR}, _AS_OF],
                ("400", *_AUTH, "404", "500"),
            ),
        }
    },
    "/v1/cases": {
        "get": _op(
            "legal",
            "Escalation cases at an instant",
            {"type": "object", "properties": {"as_of": _STR, "cases": {"type": "array", "items": CASE_SCHEMA}}},
            [
                _AS_OF,
                _q("status", "only cases of this status", {"enum": list(CASE_STATUSES)}),
                _q("subject", "only this employee's cases", _STR),
            ],
            ("400", *_AUTH, "500"),
        )
    },
    "/v1/cases/{case_id}": {
        "get": _op(
            "legal",
            "One case with its stages, evidence and readiness checklist",
            CASE_SCHEMA,
            [
                {
                    "name": "case_id",
                    "in": "path",
                    "required": True,
                    "schema": _STR,
                    "description": "subject/leave_id or subject/absence-<first overdue day>; the slash may be sent "
                    "as is or as %2F",
                },
                _AS_OF,
            ],
            ("400", *_AUTH, "404", "500"),
        )
    },
    "/v1/attention": {
        "get": _op(
            "legal",
            "Employees at risk of becoming unreachable, each with the reasons",
            {
                "type": "object",
                "properties": {
                    "as_of": _STR,
                    "employees": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "subject": _STR,
                                "name": {"type": ["string", "null"]},
                                "reasons": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {"code": _STR, "seqs": _SEQS, "zh": _STR, "en": _STR},
                                    },
                                },
                            },
                        },
                    },
                    "note": _WORDS,
                },
            },
            [_AS_OF, _q("subject", "one employee only", _STR)],
            ("400", *_AUTH, "404", "500"),
            "Reasons: contact_unverified, contact_stale, contact_failed, no_contact_file, no_emergency_contact, "
            "emergency_contact_unverified, contacts_changed_often. It informs HR and decides nothing (PIPL art. 24).",
        )
    },
    "/v1/contacts/stale": {
        "get": _op(
            "legal",
            "Stale contacts and never-verified emergency contacts",
            {
                "type": "object",
                "properties": {
                    "as_of": _STR,
                    "employees": {"type": "array", "items": {"type": "object"}},
                    "stale_contacts": {"type": "integer"},
                    "unverified_emergency_contacts": {"type": "integer"},
                },
            },
            [_AS_OF, _q("subject", "one employee only", _STR)],
            ("400", *_AUTH, "404", "500"),
        )
    },
    "/v1/webhooks/deliveries": {
        "get": _op(
            "admin",
            "Delivery log of stage notifications (attempts, status, last error, next attempt)",
            {
                "type": "object",
                "properties": {
                    "channel": _STR,
                    "counts": {"type": "object"},
                    "deliveries": {"type": "array", "items": {"type": "object"}},
                },
            },
            [
                _q("status", "only deliveries in this status", {"enum": list(STATUSES)}),
                _q("channel", "webhook (default) or email", {"enum": ["webhook", "email"]}),
                _q("limit", "at most this many, the latest", {"type": "integer", "minimum": 1, "maximum": 10000}),
            ],
            ("400", *_AUTH, "500"),
        )
    },
}


_ERR = {s: {"$ref": f"#/components/responses/{s}"} for s in ("400", "401", "403", "404", "413", "422", "500")}
BUNDLE_OPENAPI_PATHS: dict[str, Any] = {
    BUNDLES_PATH: {
        "post": {
            "summary": "Evidence bundle of one employee and period",
            "description": "A zip (SPEC section 5): manifest, checkpoint, entries with tlog-proofs, "
            "consistency proofs, RFC 3161 timestamps, report.html and VERIFY.md. Dates are read in the company "
            "time zone, both ends inclusive. Requires the `legal` role (admin has every role).",
            "security": [{"bearer": []}],
            "x-required-role": "legal",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": list(BUNDLE_FIELDS),
                            "additionalProperties": False,
                            "properties": {
                                "subject": {"type": "string", "minLength": 1, "maxLength": 256},
                                "from": {"type": "string", "format": "date"},
                                "to": {"type": "string", "format": "date"},
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "the bundle",
                    "content": {
                        "application/zip": {"schema": {"type": "string", "contentMediaType": "application/zip"}}
                    },
                },
                **_ERR,
            },
        }
    },
}
