"""Abuse by hand: every hostile request answers a precise 4xx problem+json and appends nothing.

Oversized and deeply nested JSON, invalid UTF-8, NUL and other control bytes, lone surrogates, huge
batches, duplicate keys, unknown fields, injection strings, forged system events, tokens of other roles,
brute-force token guessing (``api/ratelimit.py``), slow clients. Property tests generated from the
OpenAPI document are in ``tests/integration/test_stress_openapi.py``.
"""

from __future__ import annotations

import asyncio
import io
import json
import socket
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from api.app import create_app
from api.config import LOG, AppConfig
from api.ratelimit import AuthFailureLimiter, auth_failure_limit
from ledger.admin.datadir import init_datadir
from tests.support.api import ORIGIN, AiohttpClient, Api, event, make_tokens, problem
from tests.support.stress import start_server


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def api(tmp_path: Path, aiohttp_client: AiohttpClient) -> Api:
    """The real app, its brute-force limiter set to a small burst."""
    data = tmp_path / "d"
    init_datadir(data, origin=ORIGIN)
    tokens = await make_tokens(data)
    app = create_app(AppConfig(data_dir=data, access_log=False, auth_failure_burst=5, auth_failure_per_second=0.5))
    client = await aiohttp_client(app)
    return Api(client, app, data, tokens)


async def _size(api: Api) -> int:
    return await api.app[LOG].store.tree_size()


async def _raw(api: Api, body: bytes, role: str = "writer", content_type: str = "application/json") -> Any:
    headers = {**api.auth(role), "Content-Type": content_type}
    return await api.client.post("/v1/events", data=io.BytesIO(body), headers=headers)


async def test_oversized_body_is_413_and_appends_nothing(api: Api) -> None:
    pad = "x" * (1 << 20)
    big = json.dumps(event(1, type="custom.x", data={"note": pad})).encode()
    await problem(await _raw(api, big), 413, "payload-too-large")
    await problem(await _raw(api, b"{" + b" " * (1 << 20) + b"}"), 413, "payload-too-large")
    assert await _size(api) == 0


async def test_deeply_nested_json_is_refused(api: Api) -> None:
    body = b'{"events": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    await problem(await _raw(api, body), 400, "bad-request")
    assert await _size(api) == 0


async def test_moderately_nested_data_is_refused_or_recorded_never_500(api: Api) -> None:
    nested: Any = "leaf"
    for _ in range(500):
        nested = {"n": nested}
    resp = await api.post(event(1, type="custom.nested", data={"n": nested}))
    assert resp.status in (201, 422), await resp.text()
    assert await _size(api) == (1 if resp.status == 201 else 0)


async def test_invalid_utf8_and_non_json_are_400(api: Api) -> None:
    valid = json.dumps(event(1)).encode()
    for body in (
        valid.replace(b'"E1"', b'"E\xff\xfe"'),
        b"\xc3\x28",
        b"not json",
        b"",
        b'{"event_id": "a"',
        b"\x00" * 10,
        valid + b" trailing",
    ):
        await problem(await _raw(api, body), 400, "bad-request", "body")
    assert await _size(api) == 0


@pytest.mark.parametrize("field", ["event_id", "subject", "source", "type"])
@pytest.mark.parametrize(
    "bad", ["a\u0000b", "a\u001fb", "a\u007fb", "\u2028", "a\ud800b"], ids=["NUL", "US", "DEL", "LS", "lone-surrogate"]
)
async def test_control_bytes_and_lone_surrogates_in_envelope_strings_are_422(api: Api, field: str, bad: str) -> None:
    resp = await api.post(event(1, **{field: bad}))
    if bad == "\u2028" and field != "type":
        assert resp.status in (201, 422), await resp.text()  # a line separator is printable in JSON text
        return
    await problem(resp, 422, "validation-error", field)
    assert await _size(api) == 0


async def test_lone_surrogate_in_data_is_422(api: Api) -> None:
    await problem(await api.post(event(1, type="custom.x", data={"note": "a\ud800b"})), 422, "validation-error", "data")
    assert await _size(api) == 0


async def test_nul_in_data_is_recorded_verbatim_or_refused(api: Api) -> None:
    resp = await api.post(event(1, type="custom.x", data={"note": "a\u0000b"}))
    assert resp.status in (201, 422), await resp.text()
    if resp.status == 201:
        got = await (await api.get("/v1/entries/0")).json()
        assert got["data"] == {"note": "a\u0000b"}


async def test_batch_of_1001_is_422_and_appends_nothing(api: Api) -> None:
    await problem(await api.post({"events": [event(i) for i in range(1001)]}), 422, "validation-error", "events")
    assert await _size(api) == 0


@pytest.mark.parametrize("where", ["envelope", "data", "batch"])
async def test_duplicate_keys_are_refused(api: Api, where: str) -> None:
    one = json.dumps(event(1))
    if where == "envelope":
        body = one[:-1] + ', "subject": "E2"}'
    elif where == "data":
        body = one.replace('{"method": "face"}', '{"method": "face", "method": "gps"}')
    else:
        body = '{"events": [' + one + '], "events": [' + json.dumps(event(2)) + "]}"
    resp = await _raw(api, body.encode())
    assert resp.status in (400, 422), await resp.text()
    assert await _size(api) == 0


async def test_unknown_fields_are_422_naming_them(api: Api) -> None:
    await problem(await api.post(event(1, extra=1)), 422, "validation-error", "extra")
    await problem(await api.post(event(1, data={"method": "face", "colour": "red"})), 422, "validation-error")
    await problem(await api.post({"events": [event(1)], "wait": True}), 422, "validation-error", "wait")
    await problem(await api.post(event(1), params={"sync": "1"}), 400, "bad-request", "sync")
    assert await _size(api) == 0


INJECTIONS = [
    "' OR 1=1 --",
    "1; DROP TABLE entries",
    '{"$where": "1"}',
    "$where",
    "../../etc/passwd",
    "..%2f..%2fetc%2fpasswd",
    "%00",
    "E1' UNION SELECT note FROM checkpoints --",
    "\\x00",
]


async def test_injection_strings_are_data_never_code(api: Api) -> None:
    assert (await api.post({"events": [event(i) for i in range(3)]})).status == 201
    for text in INJECTIONS:
        for params in ({"subject": text}, {"type": text}):
            resp = await api.get("/v1/entries", **params)
            assert resp.status == 200 and (await resp.json())["entries"] == [], text
        for path, params in (
            ("/v1/proofs/inclusion", {"seq": text}),
            ("/v1/proofs/consistency", {"first": text}),
            ("/v1/entries", {"from_seq": text}),
            ("/v1/entries", {"limit": text}),
        ):
            await problem(await api.get(path, **params), 400, "bad-request")
        resp = await api.client.get("/v1/entries/" + text.replace("/", "%2F"), headers=api.auth("auditor"))
        assert resp.status in (400, 404) and resp.content_type == "application/problem+json", text
    # As values of an event they are recorded verbatim (they are just text), or refused; nothing else runs.
    resp = await api.post(event("inj", subject="' OR 1=1 --", source="$where"))
    assert resp.status == 201
    got = await (await api.get("/v1/entries", subject="' OR 1=1 --")).json()
    assert [json.loads(e["entry"])["source"] for e in got["entries"]] == ["$where"]
    await problem(await api.post(event("obj", subject={"$ne": None})), 422, "validation-error", "subject")
    assert await _size(api) == 4


async def test_forged_system_events_are_422(api: Api) -> None:
    forged = event(
        1,
        type="escalation.stage_entered",
        data={"case_id": "c1", "stage": "reminder", "overdue_days": 1, "basis": [0], "policy_digest": "x"},
    )
    for role in ("writer", "admin"):
        await problem(await api.post(forged, role=role), 422, "validation-error", "type")
        await problem(
            await api.post({"events": [event(2), forged]}, role=role), 422, "validation-error", "events[1].type"
        )
    assert await _size(api) == 0


async def test_tokens_of_other_roles_and_bad_tokens(api: Api) -> None:
    for role in ("auditor", "legal"):
        await problem(await api.post(event(1), role=role), 403, "forbidden")
    await problem(await api.get("/v1/entries", role="writer"), 403, "forbidden")
    await problem(await api.post(event(1), role="revoked"), 401, "unauthorized")
    for header in ("Bearer", "Basic dXNlcjpwYXNz", "Bearer  ", f"bearer {api.tokens['writer']}x"):
        resp = await api.client.post("/v1/events", json=event(1), headers={"Authorization": header})
        await problem(resp, 401, "unauthorized")
    assert await _size(api) == 0


async def test_brute_force_token_guessing_is_rate_limited_per_client(api: Api) -> None:
    url = "/v1/log"
    for n in range(5):
        resp = await api.client.get(url, headers={"Authorization": f"Bearer hrl_guess{n}"})
        await problem(resp, 401, "unauthorized")
    resp = await api.client.get(url, headers={"Authorization": "Bearer hrl_guess6"})
    doc = await problem(resp, 429, "too-many-requests")
    assert int(resp.headers["Retry-After"]) >= 1 and "failed authentications" in doc["detail"]
    # Even the right token is not told apart from a wrong one while the bucket is empty ...
    await problem(await api.get(url), 429, "too-many-requests")
    # ... public routes stay open ...
    assert (await api.client.get("/healthz")).status == 200
    # ... and another client address is not affected at all.
    base = str(api.client.make_url(url))
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(connector=connector) as other:
        async with other.get(base, headers=api.auth("auditor")) as resp:
            assert resp.status == 200
        async with other.get(base, headers={"Authorization": "Bearer hrl_nope"}) as resp:
            assert resp.status == 401
    assert await _size(api) == 0


def test_rate_limiter_refills_spares_successes_and_bounds_memory() -> None:
    clock = Clock()
    limits = AuthFailureLimiter(burst=3, per_second=0.5, max_clients=100, clock=clock)
    for _ in range(3):
        assert limits.retry_after("a") == 0
        limits.failed("a")
    assert limits.retry_after("a") == 2  # one failure refills in 2 s
    clock.now += 2
    assert limits.retry_after("a") == 0
    assert limits.retry_after("b") == 0 and len(limits) == 1  # no bucket for clients that never failed
    for n in range(10_000):
        limits.failed(f"10.0.{n // 256}.{n % 256}")
    assert len(limits) <= 100
    with pytest.raises(ValueError):
        AuthFailureLimiter(burst=0)


async def test_limiter_on_a_bare_app_that_raises_its_401(aiohttp_client: AiohttpClient) -> None:
    async def handler(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Bearer good":
            raise web.HTTPUnauthorized()
        return web.Response(text="ok")

    app = web.Application(middlewares=[auth_failure_limit(AuthFailureLimiter(burst=2, per_second=0.1))])
    app.router.add_get("/", handler)
    client = await aiohttp_client(app)
    for _ in range(20):
        assert (await client.get("/", headers={"Authorization": "Bearer good"})).status == 200
        assert (await client.get("/")).status == 401  # no token, no guess: not charged
    assert [(await client.get("/", headers={"Authorization": "Bearer bad"})).status for _ in range(3)] == [
        401,
        401,
        429,
    ]


# -- slow clients, against the real service process -------------------------------------------------------------

SLOW_CLIENT_BOUND = 12.0  # seconds a stalled client may hold a connection


def _stall(host: str, port: int, request: bytes) -> float | None:
    """Send part of a request and stall; seconds until the server closed the connection, None if it did not."""
    started = time.monotonic()
    with socket.create_connection((host, port), timeout=SLOW_CLIENT_BOUND + 1) as sock:
        sock.sendall(request)
        try:
            while sock.recv(4096):
                pass
        except TimeoutError:
            return None
        except OSError:
            pass
    return time.monotonic() - started


async def test_slow_clients_are_cut_off(tmp_path: Path) -> None:
    data = tmp_path / "d"
    init_datadir(data, origin=ORIGIN)
    token = (await make_tokens(data))["writer"]
    server = await start_server(data)
    try:
        host, port = server.url.removeprefix("http://").rsplit(":", 1)
        headers_only = b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        body_stall = (
            f"POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"event_id":'
        ).encode()
        results = await asyncio.gather(
            *(asyncio.to_thread(_stall, host, int(port), req) for req in (headers_only, body_stall))
        )
    finally:
        await server.stop()
    assert all(r is not None and r <= SLOW_CLIENT_BOUND for r in results), results
