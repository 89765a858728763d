"""``GET /v1/notices/{notice_id}`` over real HTTP: a drafted notice's facts, document and digest, by role."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import quote

from api.config import DRAFTER, ESCALATOR, FOLLOWER, LOG
from ledger.core.entries import AT_RECORDING, Event
from ledger.services.drafting import DRAFTED
from tests.support.api import AiohttpClient, Api, problem, start_api
from tests.support.domain import at
from tests.support.seed import CASE, SUBJECT, events_until

LATE_JUNE = at("2025-06-23 12:00")


async def drafted(api: Api) -> str:
    resp = await api.post({"events": events_until(LATE_JUNE)})
    assert resp.status == 201, await resp.text()
    await api.app[ESCALATOR].ensure_calendar({2025})  # as any read of the case would
    follower = api.app[FOLLOWER]
    await follower.catch_up()
    drafter = api.app[DRAFTER]
    draft = drafter.compose(follower.projector, CASE, "return_demand", LATE_JUNE)
    await drafter.keep(draft, "draft/test/return_demand")
    event = Event("draft/test/return_demand", DRAFTED, SUBJECT, AT_RECORDING, "hrledger", draft.data())
    await api.app[LOG].append([event])
    return draft.notice_id


async def test_a_drafted_notice_with_its_document_and_digest(tmp_path: Path, aiohttp_client: AiohttpClient) -> None:
    api = await start_api(tmp_path, aiohttp_client, tick_seconds=0)
    notice_id = await drafted(api)
    for path in (f"/v1/notices/{notice_id}", f"/v1/notices/{quote(notice_id, safe='')}"):
        resp = await api.get(path, role="legal")
        assert resp.status == 200, await resp.text()
        doc = await resp.json()
        assert doc["notice_id"] == notice_id and doc["kind"] == "return_demand" and doc["subject"] == SUBJECT
        assert doc["document_digest"] == "sha256:" + hashlib.sha256(doc["document"].encode("utf-8")).hexdigest()
        assert doc["document_matches_digest"] and doc["source"] == "hrledger" and doc["case_id"] == CASE
        assert doc["facts"]["employee"]["name"] == "张三" and doc["facts"]["overdue_days"] == 3
        assert doc["template"] == "return_demand" and doc["events"] == []


async def test_roles_and_unknown_notices(tmp_path: Path, aiohttp_client: AiohttpClient) -> None:
    api = await start_api(tmp_path, aiohttp_client, tick_seconds=0)
    notice_id = await drafted(api)
    await problem(await api.get(f"/v1/notices/{notice_id}", role="writer"), 403, "forbidden")
    await problem(await api.get(f"/v1/notices/{notice_id}", role="auditor"), 403, "forbidden")
    await problem(await api.client.get(f"/v1/notices/{notice_id}"), 401, "unauthorized")
    await problem(await api.get("/v1/notices/E-ZS/none", role="legal"), 404, "not-found")
    await problem(await api.get(f"/v1/notices/{notice_id}", role="legal", extra="1"), 400, "bad-request", "extra")
