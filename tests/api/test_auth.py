"""Roles on every route, problem+json for router errors, the OpenAPI document, /metrics and /healthz."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from api.openapi import DOCUMENT
from api.openapi_domain import BUNDLES_PATH
from api.routes import ROUTES
from api.workbench.routes import is_page
from ledger.admin.datadir import load_datadir
from ledger.services.tokens import MAX_CACHED, TokenCache, create_token, revoke_token
from ledger.storage.sqlite import SQLiteStorage
from tests.support.api import AiohttpClient, Api, event, problem, start_api


@pytest.fixture
async def api(tmp_path: Path, aiohttp_client: AiohttpClient, store_uri: str | None) -> Api:
    return await start_api(tmp_path, aiohttp_client, store_uri)


# route -> the roles that may use it; None = public
ALLOWED = {
    ("POST", "/v1/events"): {"writer", "admin"},
    ("GET", "/v1/log"): {"auditor", "legal", "admin"},
    ("GET", "/v1/checkpoint"): {"auditor", "legal", "admin"},
    ("GET", "/v1/entries"): {"auditor", "legal", "admin"},
    ("GET", "/v1/entries/{seq}"): {"auditor", "legal", "admin"},
    ("GET", "/v1/proofs/inclusion"): {"auditor", "legal", "admin"},
    ("GET", "/v1/proofs/consistency"): {"auditor", "legal", "admin"},
    ("GET", "/v1/subjects/{subject}/head"): {"auditor", "legal", "admin"},
}
PUBLIC = {("GET", "/v1/openapi.json"), ("GET", "/healthz"), ("GET", "/metrics")}
SAMPLE = {
    "/v1/entries/{seq}": "/v1/entries/0",
    "/v1/proofs/inclusion": "/v1/proofs/inclusion?seq=0",
    "/v1/proofs/consistency": "/v1/proofs/consistency?first=0&second=1",
    "/v1/subjects/{subject}/head": "/v1/subjects/E1/head",
}


def app_routes(api: Api) -> set[tuple[str, str]]:
    """The JSON API's routes; the workbench's HTML pages are left out of the OpenAPI document on purpose."""
    found = set()
    for route in api.app.router.routes():
        info = route.resource.canonical if route.resource is not None else ""
        if not is_page(route.method, info):
            found.add((route.method, info))
    return found


async def call(api: Api, method: str, path: str, headers: dict[str, str]) -> Any:
    url = SAMPLE.get(path, path)
    if method == "POST":
        return await api.client.post(url, json=event("auth"), headers=headers)
    return await api.client.get(url, headers=headers)


# the domain and bundle routes' roles are exercised in tests/api/test_domain_routes.py
DOMAIN = {
    ("GET", "/v1/employees/{id}/absence"): "legal",
    ("GET", "/v1/cases"): "legal",
    ("GET", "/v1/cases/{case_id:.+}"): "legal",
    ("GET", "/v1/attention"): "legal",
    ("GET", "/v1/contacts/stale"): "legal",
    ("POST", BUNDLES_PATH): "legal",
    ("GET", "/v1/webhooks/deliveries"): "admin",
    ("GET", "/v1/notices/{notice_id:.+}"): "legal",  # exercised in tests/api/test_notices.py
}


def test_every_route_has_a_declared_role() -> None:
    declared = {(r.method, r.path): r.role for r in ROUTES}
    assert set(declared) == set(ALLOWED) | PUBLIC | set(DOMAIN)
    assert {k for k, role in declared.items() if role is None} == PUBLIC
    assert {k: declared[k] for k in DOMAIN} == DOMAIN


async def test_roles_on_every_route(api: Api) -> None:
    # covered by a checkpoint before the proof routes are asked (the publisher runs on its own loop)
    assert (await api.post({"events": [event(0), event(1)]}, params={"wait": "checkpoint"})).status == 201
    for method, path in ALLOWED:
        resp = await call(api, method, path, {})
        await problem(resp, 401, "unauthorized")
        assert resp.headers["WWW-Authenticate"] == 'Bearer realm="hrledger"'
        for headers in (
            {"Authorization": "Bearer hrl_unknown"},
            api.auth("revoked"),
            {"Authorization": f"Basic {api.tokens['admin']}"},
        ):
            resp = await call(api, method, path, headers)
            await problem(resp, 401, "unauthorized")
            assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]
        for role in ("writer", "auditor", "legal", "admin"):
            resp = await call(api, method, path, api.auth(role))
            if role in ALLOWED[(method, path)]:
                assert resp.status in (200, 201), (method, path, role, await resp.text())
            else:
                await problem(resp, 403, "forbidden")
    for method, path in PUBLIC:
        assert (await call(api, method, path, {})).status == 200


async def test_token_cache_expires_so_revocation_takes_effect(
    tmp_path: Path, aiohttp_client: AiohttpClient, store_uri: str | None
) -> None:
    api = await start_api(tmp_path, aiohttp_client, store_uri, token_cache_seconds=0.2)
    assert (await api.get("/v1/log")).status == 200
    store = load_datadir(api.data).open_store()  # a second connection, as an admin's CLI would use
    await store.open()
    await revoke_token(store, "auditor")
    await store.close()

    async def refused() -> bool:
        return bool((await api.get("/v1/log")).status == 401)

    from tests.support.api import wait_until

    await wait_until(refused, timeout=5)


async def test_token_cache_serves_from_memory_for_its_ttl_and_stays_bounded(tmp_path: Path) -> None:
    store = SQLiteStorage(tmp_path / "tokens.sqlite3")
    await store.open()
    try:
        token, _ = await create_token(store, role="auditor", name="a", created_at="2026-01-01", secret=bytes(32))
        clock = [0.0]
        cache = TokenCache(store, 10, clock=lambda: clock[0])
        first = await cache.lookup(token)
        assert first is not None and not first.revoked
        await revoke_token(store, "a")
        cached = await cache.lookup(token)  # within the ttl: the store is not read again
        assert cached is not None and not cached.revoked
        clock[0] = 11
        expired = await cache.lookup(token)
        assert expired is not None and expired.revoked
        assert await cache.lookup("hrl_unknown") is None
        for i in range(MAX_CACHED + 50):
            await cache.lookup(f"hrl_t{i}")
        assert len(cache._entries) <= MAX_CACHED
    finally:
        await store.close()


async def test_router_errors_are_problems(api: Api) -> None:
    await problem(await api.client.get("/v1/nothing"), 404, "not-found")
    await problem(await api.client.get("/v1/employees/E1/absence", headers=api.auth("admin")), 404, "not-found")
    resp = await api.client.delete("/v1/log", headers=api.auth("admin"))
    await problem(resp, 405, "method-not-allowed")
    assert resp.headers["Allow"] == "GET"
    resp = await api.client.get("/v1/events", headers=api.auth("admin"))
    await problem(resp, 405, "method-not-allowed")
    assert resp.headers["Allow"] == "POST"


async def test_openapi_document_matches_the_routes(api: Api) -> None:
    resp = await api.client.get("/v1/openapi.json")
    assert resp.status == 200
    doc = await resp.json()
    assert doc == DOCUMENT and doc["openapi"].startswith("3.1")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert documented == app_routes(api)
    roles = {(r.method, r.path.replace(":.+", "")): r.role for r in ROUTES}
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op.get("x-required-role") == roles[(method.upper(), path)]
            assert op["responses"] and op["summary"]
            for status, response in op["responses"].items():
                if "$ref" in response:
                    name = response["$ref"].rsplit("/", 1)[-1]
                    assert name == status and name in doc["components"]["responses"]
            if roles[(method.upper(), path)] is not None:
                assert {"401", "403"} <= set(op["responses"])
            for param in op.get("parameters", []):
                assert param["in"] in ("query", "path") and "schema" in param
    refs = {v.rsplit("/", 1)[-1] for v in _refs(doc) if "/schemas/" in v}
    assert refs <= set(doc["components"]["schemas"])


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


async def test_metrics_and_health(api: Api) -> None:
    assert (await api.post({"events": [event(1), event(2)]}, params={"wait": "checkpoint"})).status == 201
    assert (await api.post(event(1))).status == 200
    assert (await api.post(event(3, type="escalation.stage_entered"))).status == 422
    assert (await api.client.post("/v1/events", json=event(4))).status == 401
    health = await api.client.get("/healthz")
    doc = await health.json()
    assert health.status == 200 and (doc["status"], doc["sequencer"]) == ("ok", True)
    assert doc["warnings"] == [w for w in [doc["calendar"]["warning"]] if w]  # the calendar's own tests fix the clock
    resp = await api.client.get("/metrics")
    assert resp.status == 200 and resp.content_type == "text/plain"
    text = await resp.text()
    for name in (
        "hrledger_events_ingested_total 2.0",
        "hrledger_events_replayed_total 1.0",
        'hrledger_requests_rejected_total{reason="validation-error"} 1.0',
        'hrledger_requests_rejected_total{reason="unauthorized"} 1.0',
        "hrledger_request_batch_size_bucket",
        "hrledger_commit_batch_size_count",
        "hrledger_commit_seconds_bucket",
        "hrledger_checkpoint_lag_seconds_count",
        'hrledger_checkpoint_lag_seconds_bucket{le="0.75"}',  # fine enough to tell 0.3 s from 1 s
        "hrledger_checkpoint_lag_entries 0.0",
        "hrledger_tree_size 2.0",
        "hrledger_checkpoint_size 2.0",
        "hrledger_commits_total",
        "hrledger_checkpoints_published_total",
        "hrledger_sequencer 1.0",
        'hrledger_http_requests_total{method="POST",route="/v1/events",status="201"} 1.0',
        'hrledger_http_request_seconds_bucket{le="0.001",route="/v1/events"}',
    ):
        assert name in text, name


async def test_access_log_line_per_request(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="hrledger.access"):
        await api.client.get("/healthz")
        await api.client.get("/v1/log")
    lines = [r.getMessage() for r in caplog.records if r.name == "hrledger.access"]
    assert len(lines) == 2
    assert '"GET /healthz" 200' in lines[0] and lines[0].endswith("ms")
    assert '"GET /v1/log" 401' in lines[1]
