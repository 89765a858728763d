"""POST /v1/bundles through real HTTP: the legal role gets a zip the standalone verifier accepts."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from api.config import AppConfig
from ledger.admin.datadir import init_datadir
from tests.support.api import ORIGIN, AiohttpClient, Api, make_tokens, problem
from verifier.check import verify_bundle
from verifier.note import parse_vkey

E = "E2001"


def ev(eid: str, type_: str, when: str, data: dict[str, Any], subject: str = E) -> dict[str, Any]:
    return {"event_id": eid, "type": type_, "subject": subject, "occurred_at": when, "source": "hr", "data": data}


@pytest.fixture
async def api(tmp_path: Path, aiohttp_client: AiohttpClient, store_uri: str | None) -> Api:
    data = tmp_path / "d"
    init_datadir(data, origin=ORIGIN, store_uri=store_uri)
    tokens = await make_tokens(data)
    app = create_app(AppConfig(data_dir=data, access_log=False, tick_seconds=0))
    api = Api(await aiohttp_client(app), app, data, tokens)
    resp = await api.post(
        {
            "events": [
                ev(
                    "pol",
                    "policy.adopted",
                    "2026-01-02T10:00:00+08:00",
                    {
                        "policy_id": "rules",
                        "version": "1",
                        "document_digest": "sha256:" + "cd" * 32,
                        "effective_from": "2026-01-05",
                        "democratic_procedure": "staff congress",
                    },
                    subject="company",
                ),
                ev("in-1", "attendance.clock_in", "2026-02-02T08:58:00+08:00", {"method": "card"}),
                ev("in-2", "attendance.clock_in", "2026-02-03T08:59:00+08:00", {"method": "face"}),
                ev("other", "attendance.clock_in", "2026-02-03T08:59:00+08:00", {"method": "face"}, subject="E9"),
            ]
        },
        params={"wait": "checkpoint"},
    )
    assert resp.status == 201, await resp.text()
    return api


async def test_legal_gets_a_bundle_that_verifies(api: Api) -> None:
    body = {"subject": E, "from": "2026-02-01", "to": "2026-02-28"}
    resp = await api.client.post("/v1/bundles", json=body, headers=api.auth("legal"))
    assert resp.status == 200, await resp.text()
    assert resp.content_type == "application/zip"
    assert f"{E}_2026-02-01_2026-02-28.zip" in resp.headers["Content-Disposition"]
    bundle = await resp.read()
    vkey = (await (await api.get("/v1/log")).json())["vkey"]
    result = verify_bundle(bundle, parse_vkey(vkey), name="b.zip")
    assert result.ok, result.failures
    with zipfile.ZipFile(io.BytesIO(bundle)) as z:
        manifest = json.loads(z.read("manifest.json"))
        files = {n: z.read(n) for n in z.namelist() if not n.startswith("manifest.")}
    assert manifest["chains"] == {
        E: {"head": 2, "first": 1, "count": 2},
        "company": {"head": 0, "first": 0, "count": 1},
    }
    assert manifest["withheld"] == [] and manifest["latest"] is True and manifest["late_recorded_hours"] == 24
    again = await api.client.post("/v1/bundles", json=body, headers=api.auth("admin"))
    with zipfile.ZipFile(io.BytesIO(await again.read())) as z:
        # Same log state and request, same evidence (only built_at, in the manifest, moves with the clock).
        assert {n: z.read(n) for n in z.namelist() if not n.startswith("manifest.")} == files


@pytest.mark.parametrize("role", ["writer", "auditor"])
async def test_other_roles_are_refused(api: Api, role: str) -> None:
    resp = await api.client.post(
        "/v1/bundles", json={"subject": E, "from": "2026-02-01", "to": "2026-02-28"}, headers=api.auth(role)
    )
    await problem(resp, 403, "forbidden")


V, NF = "validation-error", "not-found"


@pytest.mark.parametrize(
    ("body", "status", "slug", "field"),
    [
        ({"subject": E, "from": "2026-02-30", "to": "2026-03-01"}, 422, V, "from"),
        ({"subject": E, "from": "2026-03-01", "to": "2026-02-01"}, 422, V, "from"),
        ({"subject": E, "from": "2026-02-01"}, 422, V, "to"),
        ({"subject": E, "from": "2026-02-01", "to": "2026-02-28", "x": 1}, 422, V, "x"),
        ({"subject": "", "from": "2026-02-01", "to": "2026-02-28"}, 422, V, "subject"),
        ({"subject": "NOBODY", "from": "2026-02-01", "to": "2026-02-28"}, 404, NF, None),
    ],
)
async def test_bad_requests(api: Api, body: dict[str, Any], status: int, slug: str, field: str | None) -> None:
    size = (await (await api.get("/v1/log")).json())["tree_size"]
    resp = await api.client.post("/v1/bundles", json=body, headers=api.auth("legal"))
    await problem(resp, status, slug, field)
    assert (await (await api.get("/v1/log")).json())["tree_size"] == size
