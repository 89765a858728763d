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
