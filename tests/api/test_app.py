"""The service middleware of ``api/app.py``: what the failed-authentication limiter charges, with its defaults.

A client that sends no Authorization header guesses no token, so its 401s cost nothing: probing every route
without a token (what a conformance suite does first) must never turn the client's valid requests into 429s.
"""

from __future__ import annotations

from pathlib import Path

from api.app import create_app
from api.config import AppConfig
from api.routes import ROUTES
from ledger.admin.datadir import init_datadir
from tests.support.api import ORIGIN, AiohttpClient, Api, make_tokens, problem


async def _default_api(tmp_path: Path, aiohttp_client: AiohttpClient) -> Api:
    """The real app with the limiter as ``hrledger serve`` sets it by default (the shared fixture widens it)."""
    data = tmp_path / "d"
    init_datadir(data, origin=ORIGIN)
    tokens = await make_tokens(data)
    app = create_app(AppConfig(data_dir=data, access_log=False))
    return Api(await aiohttp_client(app), app, data, tokens)


async def test_requests_without_a_token_are_401_and_never_charged(
    tmp_path: Path, aiohttp_client: AiohttpClient
) -> None:
    api = await _default_api(tmp_path, aiohttp_client)
    guarded = [r for r in ROUTES if r.role is not None and r.method == "GET" and "{" not in r.path]
    for _ in range(5):  # several rounds over every guarded route, well beyond the limiter's burst
        for route in guarded:
            await problem(await api.client.get(route.path), 401, "unauthorized")
    assert (await api.get("/v1/log")).status == 200


async def test_wrong_tokens_on_many_routes_stay_401_within_the_default_burst(
    tmp_path: Path, aiohttp_client: AiohttpClient
) -> None:
    api = await _default_api(tmp_path, aiohttp_client)
    guarded = [r for r in ROUTES if r.role is not None and r.method == "GET" and "{" not in r.path]
    for route in guarded * 2:  # a bad token on every route, twice over: each answer is a 401, not a 429
        resp = await api.client.get(route.path, headers={"Authorization": "Bearer hrl_wrong"})
        await problem(resp, 401, "unauthorized")
    assert (await api.get("/v1/log")).status == 200
