"""Fixtures shared by the API tests: a real data dir, a real store (SQLite file or MongoDB), real HTTP over loopback."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from api.app import create_app
from api.config import AppConfig
from ledger.admin.datadir import init_datadir, load_datadir
from ledger.core.notes import Verifier
from ledger.services.tokens import create_token, revoke_token

ORIGIN = "test.example/log"
ROOT = Path(__file__).resolve().parents[2]
ROLES = ("writer", "auditor", "legal", "admin")
AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]


@dataclass
class Api:
    client: TestClient[Any, Any]
    app: web.Application
    data: Path
    tokens: dict[str, str] = field(default_factory=dict)  # role (or "revoked") -> token

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    @property
    def verifier(self) -> Verifier:
        from api.config import SIGNER

        return self.app[SIGNER].verifier()

    async def post(self, body: Any, role: str = "writer", params: dict[str, str] | None = None) -> Any:
        return await self.client.post("/v1/events", json=body, headers=self.auth(role), params=params)

    async def get(self, path: str, role: str = "auditor", **params: Any) -> Any:
        return await self.client.get(path, headers=self.auth(role), params={k: str(v) for k, v in params.items()})


def event(i: int | str, **over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "event_id": f"ev-{i}",
        "type": "attendance.clock_in",
        "subject": "E1",
        "occurred_at": "2026-01-05T09:00:00+08:00",
        "source": "hr",
        "data": {"method": "face"},
    }
    doc.update(over)
    return doc


async def make_tokens(data: Path) -> dict[str, str]:
    store = load_datadir(data).open_store()  # whichever store the data dir names (SQLite or MongoDB)
    await store.open()
    tokens: dict[str, str] = {}
    now = datetime.now(UTC).isoformat()
    try:
        for n, role in enumerate((*ROLES, "writer")):
            name = "revoked" if n == len(ROLES) else role
            token, _ = await create_token(store, role=role, name=name, created_at=now, secret=bytes([n + 1]) * 32)
            tokens[name] = token
        await revoke_token(store, "revoked")
    finally:
        await store.close()
    return tokens


async def start_api(tmp_path: Path, aiohttp_client: AiohttpClient, store_uri: str | None = None, **config: Any) -> Api:
    """The service on a new data dir; ``store_uri`` None keeps the embedded SQLite store, else names a MongoDB."""
    data = tmp_path / "d"
    init_datadir(data, origin=ORIGIN, store_uri=store_uri)
    tokens = await make_tokens(data)
    # Role tests fail authentication on purpose many times; the limiter has tests of its own.
    app = create_app(AppConfig(data_dir=data, **{"auth_failure_burst": 10_000, **config}))
    client = await aiohttp_client(app)
    return Api(client, app, data, tokens)


# the one entry point of the service: hrledger serve
SERVE = [sys.executable, "-m", "ledger.admin.cli", "serve"]


async def start_server(data: Path, *extra: str) -> tuple[asyncio.subprocess.Process, str]:
    """``hrledger serve`` as its own process on a free port; returns it once it listens, with its base URL."""
    proc = await asyncio.create_subprocess_exec(
        *SERVE,
        "--data",
        str(data),
        "--port",
        "0",
        *extra,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},  # SIGABRT dumps every thread's stack, for a hung test
    )
    assert proc.stdout is not None
    while True:  # hrledger serve prints a short guide first
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert line, "the server exited before listening"
        if line.startswith("hrledger serving on http://"):
            return proc, line.split()[-1]


async def problem(resp: Any, status: int, slug: str, field: str | None = None) -> dict[str, Any]:
    """Assert ``resp`` is an RFC 9457 problem of ``status`` and type ``slug`` (naming ``field``, if given)."""
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/problem+json"
    doc: dict[str, Any] = await resp.json(content_type=None)
    assert doc["type"] == f"https://hrledger.dev/problems/{slug}"
    assert doc["status"] == status and doc["title"] and doc["detail"]
    if field is not None:
        assert doc["field"] == field, doc
    return doc


def future(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


async def wait_until(predicate: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)
