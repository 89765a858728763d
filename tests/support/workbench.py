"""The workbench on a real data dir with the seed case and a signed-in person (no tests here).

``start_workbench`` serves the app over real HTTP on loopback (aiohttp's test server), posts the seed
article's facts with an HR-system token, creates people with ``ledger.services.users`` and signs them in
through the sign-in form, as a browser would."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from api.app import create_app
from api.config import STORE, AppConfig
from api.workbench.settings import WorkbenchSettings
from ledger.admin.datadir import init_datadir
from ledger.services.users import create_user
from tests.support.api import ORIGIN, AiohttpClient, Api, make_tokens
from tests.support.domain import at
from tests.support.seed import events_until

PASSWORD = "a long enough password"
SEED_UNTIL = at("2025-06-23 12:00")  # the seed case the day its 催告函 is due, before it was issued
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_NONCE = re.compile(r'name="nonce" value="([^"]+)"')


@dataclass
class Workbench:
    api: Api

    @property
    def client(self) -> Any:
        return self.api.client

    async def page(self, path: str, status: int = 200) -> str:
        resp = await self.client.get(path, allow_redirects=False)
        text: str = await resp.text()
        assert resp.status == status, (path, resp.status, text[:2000])
        return text

    async def sign_in(self, name: str, password: str = PASSWORD, *, status: int = 303) -> Any:
        form = await self.page("/signin")
        token = _CSRF.search(form)
        assert token is not None
        resp = await self.client.post(
            "/signin",
            data={"csrf": token.group(1), "name": name, "password": password, "next": "/"},
            allow_redirects=False,
        )
        assert resp.status == status, await resp.text()
        return resp

    async def post_form(self, path: str, page_text: str, fields: dict[str, Any], *, status: int = 303) -> Any:
        """Post a form shown on ``page_text`` with its CSRF token and a nonce taken from the page."""
        csrf = _CSRF.search(page_text)
        nonce = _NONCE.search(page_text)
        assert csrf is not None
        data = {"csrf": csrf.group(1), **({"nonce": nonce.group(1)} if nonce else {}), **fields}
        resp = await self.client.post(path, data=data, allow_redirects=False)
        assert resp.status == status, (resp.status, (await resp.text())[:3000])
        return resp


async def start_workbench(
    tmp_path: Path,
    aiohttp_client: AiohttpClient,
    *,
    until: datetime | None = None,
    people: tuple[tuple[str, str], ...] = (("wang.li", "hr"),),
    settings: WorkbenchSettings | None = None,
    **config: Any,
) -> Workbench:
    data = tmp_path / "d"
    init_datadir(data, origin=ORIGIN)
    tokens = await make_tokens(data)
    app = create_app(
        AppConfig(
            data_dir=data,
            access_log=False,
            workbench=settings or WorkbenchSettings(),
            **{"tick_seconds": 0, "auth_failure_burst": 10_000, **config},
        )
    )
    client = await aiohttp_client(app)
    api = Api(client, app, data, tokens)
    for name, role in people:
        await create_user(app[STORE], name=name, role=role, password=PASSWORD, created_at="2026-01-01T00:00:00Z")
    resp = await api.post({"events": events_until(until or SEED_UNTIL)})
    assert resp.status == 201, await resp.text()
    return Workbench(api)
