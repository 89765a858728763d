"""The route table: every route of the service with the role it requires (None = public on purpose).

``create_app`` registers exactly these, each handler wrapped by ``api.auth.guarded``; the OpenAPI
document (``api.openapi``) is checked against the registered routes by a test.
"""

from __future__ import annotations

from aiohttp import web

from api import cases, reads
from api.auth import Route, add_guarded
from api.bundles import post_bundle
from api.events import post_events
from api.notices import NOTICE_PATH, get_notice
from api.openapi import get_openapi
from api.openapi_domain import BUNDLES_PATH

EVENTS_PATH = "/v1/events"

ROUTES: tuple[Route, ...] = (
    Route("POST", EVENTS_PATH, post_events, "writer"),
    Route("GET", "/v1/log", reads.get_log, "auditor"),
    Route("GET", "/v1/checkpoint", reads.get_checkpoint, "auditor"),
    Route("GET", "/v1/entries", reads.list_entries, "auditor"),
    Route("GET", "/v1/entries/{seq}", reads.get_entry, "auditor"),
    Route("GET", "/v1/proofs/inclusion", reads.inclusion_proof, "auditor"),
    Route("GET", "/v1/proofs/consistency", reads.consistency_proof, "auditor"),
    Route("GET", "/v1/subjects/{subject}/head", reads.subject_head, "auditor"),
    Route("GET", "/v1/employees/{id}/absence", cases.get_absence, "legal"),
    Route("GET", "/v1/cases", cases.list_cases, "legal"),
    Route("GET", cases.CASE_PATH, cases.get_case, "legal"),
    Route("GET", "/v1/attention", cases.get_attention, "legal"),
    Route("GET", "/v1/contacts/stale", cases.stale_contacts, "legal"),
    Route("POST", BUNDLES_PATH, post_bundle, "legal"),
    Route("GET", NOTICE_PATH, get_notice, "legal"),
    Route("GET", "/v1/webhooks/deliveries", cases.list_deliveries, "admin"),
    Route("GET", "/v1/openapi.json", get_openapi, None),
    Route("GET", "/healthz", reads.healthz, None),
    Route("GET", "/metrics", reads.metrics, None),
)


def add_routes(app: web.Application) -> None:
    add_guarded(app, ROUTES)
