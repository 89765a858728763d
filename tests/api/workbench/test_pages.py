"""The workbench over real HTTP: sign-in, the overview, a case, an employee, the language switch."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.api import AiohttpClient
from tests.support.seed import CASE, SUBJECT
from tests.support.workbench import Workbench, start_workbench


@pytest.fixture
async def wb(tmp_path: Path, aiohttp_client: AiohttpClient) -> Workbench:
    return await start_workbench(tmp_path, aiohttp_client)


async def test_a_person_signs_in_and_sees_the_overdue_case(wb: Workbench) -> None:
    resp = await wb.client.get("/", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/signin")
    await wb.sign_in("wang.li")
    text = await wb.page("/")
    assert "张三" in text and SUBJECT in text and f"/cases/{CASE}" in text and "逾期未返岗" in text


async def test_the_case_page_shows_timeline_checklist_and_forms(wb: Workbench) -> None:
    await wb.sign_in("wang.li")
    text = await wb.page(f"/cases/{CASE}")
    for phrase in ("解除条件清单", "时间线", "联系尝试", "form-contact_attempt", "导出证据包", "尚未齐备"):
        assert phrase in text, phrase


async def test_the_employee_page_shows_contacts_and_leaves(wb: Workbench) -> None:
    await wb.sign_in("wang.li")
    text = await wb.page(f"/employees/{SUBJECT}")
    for phrase in ("13800000001", "李四", "L-2025-0609", "从未核实"):
        assert phrase in text, phrase


async def test_english_on_request(wb: Workbench) -> None:
    await wb.sign_in("wang.li")
    resp = await wb.client.get("/lang/en?next=/", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/"
    text = await wb.page("/")
    assert "Overdue after leave" in text and "逾期未返岗" not in text


async def test_the_case_in_english_names_items_and_events_in_english(wb: Workbench) -> None:
    await wb.sign_in("wang.li")
    await wb.client.get("/lang/en?next=/", allow_redirects=False)
    text = await wb.page(f"/cases/{CASE}")
    for phrase in ("Readiness checklist", "not ready", "return demand (催告函) issued", "leave requested", "Timeline"):
        assert phrase in text, phrase
    assert "解除条件清单" not in text


async def test_a_notice_drafted_on_demand_is_issued_and_delivered_from_its_page(wb: Workbench) -> None:
    import re
    from urllib.parse import unquote

    await wb.sign_in("wang.li")
    case = await wb.page(f"/cases/{CASE}")
    resp = await wb.post_form("/notice/draft", case, {"case_id": CASE, "kind": "return_demand", "serves": ""})
    location = resp.headers["Location"]
    notice_id = unquote(location.split("id=", 1)[1])
    notice = await wb.page(location)
    assert "催告函" in notice and "与所存文书一致" in notice
    document = await wb.client.get(f"/notice/document?id={notice_id}")
    assert "sandbox" in document.headers["Content-Security-Policy"] and "张三" in await document.text()
    form = re.search(r'<form method="post" action="/record/notice_issued".*?</form>', notice, re.S)
    assert form is not None
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form.group(0)))
    fields.update(
        {"recipients": "张三", "channels": "post", "return_within_days": "5", "occurred_at": "2026-11-30T10:00"}
    )
    resp = await wb.post_form("/record/notice_issued", notice, fields)
    assert "flash=" in resp.headers["Location"]
    case = await wb.page(f"/cases/{CASE}")
    assert notice_id in case and "尚无送达记录" in case
    delivered = {
        "subject": SUBJECT,
        "notice_id": notice_id,
        "channel": "post",
        "evidence": "EMS EA123456789CN",
        "received_by": "co_resident_adult",
        "recipient_name": "李四",
        "occurred_at": "2026-12-01T10:00",
        "back": f"/cases/{CASE}",
    }
    await wb.post_form("/record/notice_delivered", case, delivered)
    case = await wb.page(f"/cases/{CASE}")
    assert "EA123456789CN" in case
    api = await wb.api.get(f"/v1/notices/{notice_id}", role="legal")
    doc = await api.json()
    assert [e["type"] for e in doc["events"]] == ["notice.issued", "notice.delivered"]
    assert doc["events"][0]["data"]["draft_seq"] == doc["draft_seq"]
