"""The route table: every route with the role it requires (None = public on purpose).

``create_app`` registers exactly these, each handler wrapped by ``api.auth.guarded``; the OpenAPI
document (``api.openapi``) is checked against the registered routes by a test.
"""

from __future__ import annotations

from aiohttp import web

from api import reads
from api.auth import Route, add_guarded
from api.events import post_events
from api.openapi import get_openapi

EVENTS_PATH = "/v1/events"

ROUTES: tuple[Route, ...] = (
    Route("POST", EVENTS_PATH, post_events, "writer"),
    Route("GET", "/v1/log", reads.get_log, "auditor"),
    Route("GET", "/v1/checkpoint", reads.get_checkpoint, "auditor"),
    Route("GET", "/v1/entries", reads.list_entries, "auditor"),
    Route("GET", "/v1/entries/{seq}", reads.get_entry, "auditor"),
    Route("GET", "/v1/proofs/inclusion", reads.inclusion_proof, "auditor"),
    Route("GET", "/v1/proofs/consistency", reads.consistency_proof, "auditor"),
    Route("GET", "/v1/openapi.json", get_openapi, None),
    Route("GET", "/healthz", reads.healthz, None),
    Route("GET", "/metrics", reads.metrics, None),
)


def add_routes(app: web.Application) -> None:
    add_guarded(app, ROUTES)
