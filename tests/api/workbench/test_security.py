"""The workbench's defences over real HTTP: headers, cookies, CSRF, sign-in limits, roles, expiry, sign-out,
and the one append path (source workbench/<name>, idempotent forms, refusals naming the field)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from api.config import STORE
from api.workbench.settings import WorkbenchSettings
from ledger.services.users import disable_user
from tests.support.api import AiohttpClient
from tests.support.seed import CASE, SUBJECT
from tests.support.workbench import Workbench, start_workbench


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def wb(tmp_path: Path, aiohttp_client: AiohttpClient, clock: Clock) -> Workbench:
    people = (("wang.li", "hr"), ("auditor.zhao", "auditor"), ("legal.qian", "legal"))
    return await start_workbench(tmp_path, aiohttp_client, people=people, clock=clock)


async def subject_entries(wb: Workbench) -> list[dict[str, Any]]:
    resp = await wb.api.get("/v1/entries", subject=SUBJECT, limit=1000)
    rows: list[dict[str, Any]] = (await resp.json())["entries"]
    return rows


async def test_pages_carry_a_strict_policy_and_the_cookie_is_http_only(wb: Workbench) -> None:
    resp = await wb.sign_in("wang.li")
    cookie = resp.headers["Set-Cookie"]
    assert "hrl_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP on loopback
    page = await wb.client.get("/")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff" and page.headers["Cache-Control"] == "no-store"
    assert "<script>" not in await page.text()  # no inline script at all
    js = await wb.client.get("/static/workbench.js")
    assert js.status == 200 and js.content_type == "text/javascript"
    assert (await wb.client.get("/static/..%2Fsettings.py")).status == 404


async def test_behind_tls_the_cookie_is_secure(tmp_path: Path, aiohttp_client: AiohttpClient) -> None:
    wb = await start_workbench(tmp_path, aiohttp_client, settings=WorkbenchSettings(public_url="https://hr.example/"))
    cookie = (await wb.sign_in("wang.li")).headers["Set-Cookie"]
    assert cookie.startswith("__Host-hrl_session=") and "Secure" in cookie
    # a client sends a Secure cookie back only over TLS: this one speaks plain HTTP, so it is not signed in
    assert (await wb.client.get("/", allow_redirects=False)).status == 303


async def test_forms_need_the_session_token_and_this_origin(wb: Workbench) -> None:
    await wb.sign_in("wang.li")
    case = await wb.page(f"/cases/{CASE}")
    before = len(await subject_entries(wb))
    fields = {"subject": SUBJECT, "union": "公司工会", "nonce": "abcdefgh-1", "back": f"/cases/{CASE}"}
    resp = await wb.client.post("/record/union_notified", data=fields, allow_redirects=False)
    assert resp.status == 403 and "CSRF" in await resp.text()
    resp = await wb.client.post("/record/union_notified", data={**fields, "csrf": "guess"}, allow_redirects=False)
    assert resp.status == 403
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}):
        resp = await wb.client.post("/record/union_notified", data=fields, headers=headers, allow_redirects=False)
        assert resp.status == 403, headers
    assert len(await subject_entries(wb)) == before
    await wb.post_form("/record/union_notified", case, {**fields, "nonce": "abcdefgh-2"})
    assert len(await subject_entries(wb)) == before + 1


async def test_what_a_person_records_carries_their_name_and_is_recorded_once(wb: Workbench) -> None:
    await wb.sign_in("wang.li")
    case = await wb.page(f"/cases/{CASE}")
    fields = {
        "subject": SUBJECT,
        "occurred_at": "2025-06-21T10:30",
        "channel": "phone",
        "target": "emergency_contact",
        "value": "13900000002",
        "result": "no_answer",
        "note": "",
        "back": f"/cases/{CASE}",
    }
    first = await wb.post_form("/record/contact_attempt", case, fields)
    second = await wb.post_form("/record/contact_attempt", case, fields)  # a reload: the same nonce
    assert first.headers["Location"] == second.headers["Location"] and "flash=" in first.headers["Location"]
    mine = [e for e in await subject_entries(wb) if json.loads(e["entry"])["source"] == "workbench/wang.li"]
    assert len(mine) == 1
    leaf = json.loads(mine[0]["entry"])
    assert leaf["type"] == "contact.attempted" and leaf["occurred_at"] == "2025-06-21T10:30:00+08:00"
    assert mine[0]["data"] == {
        "channel": "phone",
        "target": "emergency_contact",
        "value": "13900000002",
        "result": "no_answer",
    }
    bad = await wb.post_form(
        "/record/contact_attempt", case, {**fields, "channel": "pigeon", "nonce": "zzzzzzzz-9"}, status=422
    )
    assert "data.channel" in await bad.text()


async def test_sign_in_failures_are_limited_and_say_nothing_about_the_name(wb: Workbench) -> None:
    texts = set()
    for name in ("wang.li", "nobody"):
        resp = await wb.sign_in(name, "wrong password!!", status=403)
        texts.add((await resp.text()).split('role="alert">')[1].split("<")[0])
    assert len(texts) == 1  # the same answer for a wrong password and an unknown name
    for _ in range(8):
        await wb.sign_in("wang.li", "wrong password!!", status=403)
    await wb.sign_in("wang.li", status=429)  # even the right password waits now


async def test_roles_are_checked_on_every_page(wb: Workbench) -> None:
    await wb.sign_in("auditor.zhao")
    assert (await wb.client.get("/", allow_redirects=False)).status == 403  # cases need the legal role
    await wb.sign_in("legal.qian")
    case = await wb.page(f"/cases/{CASE}")
    resp = await wb.post_form("/record/union_notified", case, {"subject": SUBJECT, "union": "工会"}, status=403)
    assert "writer" in await resp.text()


async def test_sessions_end_at_sign_out_after_idle_time_and_when_the_person_is_disabled(
    wb: Workbench, clock: Clock
) -> None:
    await wb.sign_in("wang.li")
    overview = await wb.page("/")
    await wb.post_form("/signout", overview, {})
    assert (await wb.client.get("/", allow_redirects=False)).status == 303
    await wb.sign_in("wang.li")
    clock.now += timedelta(minutes=29)
    await wb.page("/")
    clock.now += timedelta(minutes=29)  # each request keeps it alive
    await wb.page("/")
    clock.now += timedelta(minutes=31)
    resp = await wb.client.get("/", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/signin?next=/"
    await wb.sign_in("wang.li")
    await disable_user(wb.api.app[STORE], "wang.li")
    assert (await wb.client.get("/", allow_redirects=False)).status == 303


async def test_redirects_stay_on_this_site(wb: Workbench) -> None:
    for path in ("/lang/en?next=//evil.example/x", "/lang/en?next=https://evil.example/", "/lang/zh?next=/\\evil"):
        resp = await wb.client.get(path, allow_redirects=False)
        assert resp.headers["Location"] == "/", path
    form = await wb.page("/signin?next=//evil.example")
    assert 'name="next" value="/"' in form
