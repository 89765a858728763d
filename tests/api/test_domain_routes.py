"""The domain routes through real HTTP: roles, absence and cases at several instants, stale contacts, the
scheduler inside the service (signed webhooks to a real receiver) and the delivery log."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web

from api.app import create_app
from api.config import ESCALATOR, AppConfig
from api.openapi_domain import DOMAIN_OPENAPI_PATHS
from api.routes import ROUTES
from ledger.admin.datadir import init_datadir
from ledger.domain.readiness import ITEMS
from ledger.services.notify import verify_signature
from tests.support.api import ORIGIN, AiohttpClient, Api, make_tokens, problem, wait_until
from tests.support.escalator import Receiver

E = "E1001"
CASE = f"{E}/L1"
LEGAL_PATHS = [
    "/v1/employees/E1001/absence",
    "/v1/cases",
    f"/v1/cases/{CASE}",
    "/v1/attention",
    "/v1/contacts/stale",
]


async def start(tmp_path: Path, aiohttp_client: AiohttpClient, store_uri: str | None = None, **config: Any) -> Api:
    data = tmp_path / "d"
    init_datadir(data, origin=ORIGIN, store_uri=store_uri)
    tokens = await make_tokens(data)
    app = create_app(AppConfig(data_dir=data, access_log=False, **{"tick_seconds": 0, **config}))
    client = await aiohttp_client(app)
    return Api(client, app, data, tokens)


@pytest.fixture
async def api(tmp_path: Path, aiohttp_client: AiohttpClient, store_uri: str | None) -> Api:
    return await start(tmp_path, aiohttp_client, store_uri)


def ev(eid: str, type_: str, when: str, data: dict[str, Any], subject: str = E) -> dict[str, Any]:
    return {
        "event_id": eid,
        "type": type_,
        "subject": subject,
        "occurred_at": when.replace(" ", "T") + ":00+08:00",
        "source": "hr",
        "data": data,
    }


SCENARIO = [
    ev(
        "enrol",
        "employee.enrolled",
        "2025-03-01 09:00",
        {
            "name": "张三",
            "contacts": [
                {"channel": "mobile", "value": "13800000001", "verified_at": "2025-03-01T09:00:00+08:00"},
                {"channel": "email", "value": "zs@example.com"},
            ],
            "emergency_contacts": [{"name": "李四", "relation": "配偶", "mobile": "13900000002"}],
        },
    ),
    ev(
        "req",
        "leave.requested",
        "2025-09-19 10:00",
        {"leave_id": "L1", "kind": "sick", "start": "2025-09-22", "end": "2025-09-30"},
    ),
    ev("ok", "leave.approved", "2025-09-19 11:00", {"leave_id": "L1"}),
]


async def post_scenario(api: Api) -> None:
    resp = await api.post({"events": SCENARIO})
    assert resp.status == 201, await resp.text()


async def get(api: Api, path: str, role: str = "legal", **params: str) -> Any:
    resp = await api.get(path, role, **params)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_roles(api: Api) -> None:
    await post_scenario(api)
    for path in [*LEGAL_PATHS, "/v1/webhooks/deliveries"]:
        for role in ("writer", "auditor"):
            await problem(await api.get(path, role), 403, "forbidden")
        await problem(await api.client.get(path), 401, "unauthorized")
        assert (await api.get(path, "admin")).status == 200
    for path in LEGAL_PATHS:
        assert (await api.get(path, "legal")).status == 200, path
    await problem(await api.get("/v1/webhooks/deliveries", "legal"), 403, "forbidden")


async def test_absence_at_several_instants(api: Api) -> None:
    await post_scenario(api)
    path = f"/v1/employees/{E}/absence"
    states = {}
    for when in (
        "2025-09-01T12:00:00+08:00",
        "2025-09-25T12:00:00+08:00",
        "2025-10-05T12:00:00+08:00",
        "2025-10-09T10:59:00+08:00",
        "2025-10-09T11:00:00+08:00",
        "2025-10-11T12:00:00+08:00",
        "2025-10-17T12:00:00+08:00",
    ):
        doc = await get(api, path, as_of=when)
        states[when[:16]] = (doc["state"], doc["overdue_days"])
        assert doc["subject"] == E
    assert states == {
        "2025-09-01T12:00": ("present", 0),
        "2025-09-25T12:00": ("on_leave", 0),
        "2025-10-05T12:00": ("on_leave", 0),  # National Day holidays: not overdue
        "2025-10-09T10:59": ("on_leave", 0),
        "2025-10-09T11:00": ("overdue", 1),
        "2025-10-11T12:00": ("overdue", 3),  # the 调休 Saturday counts
        "2025-10-17T12:00": ("overdue", 8),
    }
    doc = await get(api, path, as_of="2025-10-13T12:00:00+08:00")
    assert (doc["return_day"], doc["leave_id"]) == ("2025-10-09", "L1")
    # a clock-in posted now is reflected at once; earlier instants keep their answer
    resp = await api.post(ev("in", "attendance.clock_in", "2025-10-14 08:50", {"method": "face"}))
    assert resp.status == 201
    assert (await get(api, path, as_of="2025-10-20T12:00:00+08:00"))["state"] == "returned"
    assert (await get(api, path, as_of="2025-10-13T12:00:00+08:00"))["overdue_days"] == 4
    # an unencoded '+' offset (sent as a space) is understood
    resp = await api.client.get(f"{path}?as_of=2025-10-13T12:00:00+08:00", headers=api.auth("legal"))
    assert (await resp.json())["overdue_days"] == 4
    await problem(await api.get("/v1/employees/NOBODY/absence", "legal"), 404, "not-found")


async def test_cases_and_one_case(api: Api) -> None:
    await post_scenario(api)
    assert (await get(api, "/v1/cases", as_of="2025-10-08T12:00:00+08:00"))["cases"] == []
    doc = await get(api, "/v1/cases", as_of="2025-10-13T12:00:00+08:00")
    (case,) = doc["cases"]
    assert (case["case_id"], case["status"], case["stage"], case["overdue_days"]) == (CASE, "open", "absenteeism", 4)
    assert [(s["stage"], s["reached_on"]) for s in case["stages"]] == [
        ("reminder", "2025-10-09"),
        ("hr_alert", "2025-10-10"),
        ("lost_contact", "2025-10-11"),
        ("absenteeism", "2025-10-13"),
    ]
    assert case["readiness"]["ready"] is False and len(case["readiness"]["items"]) == len(ITEMS)
    # the calendar the days were counted with is in the log: recorded from the national calendar on first need
    calendar = next(i for i in case["readiness"]["items"] if i["name"] == "calendar")
    assert calendar["ok"] and calendar["seqs"] == case["calendar"]["seqs"] != []
    entry = await get(api, f"/v1/entries/{calendar['seqs'][0]}")
    assert json.loads(entry["entry"])["type"] == "calendar.adopted" and entry["data"]["year"] == 2025
    assert (await get(api, "/v1/cases", as_of="2025-10-13T12:00:00+08:00", status="returned"))["cases"] == []
    for url in (f"/v1/cases/{CASE}", f"/v1/cases/{quote(CASE, safe='')}"):
        one = await get(api, url, as_of="2025-10-17T12:00:00+08:00")
        assert one["case_id"] == CASE and one["stage"] == "termination_review"
        assert next(i for i in one["readiness"]["items"] if i["name"] == "overdue_threshold")["ok"]
    await api.post(ev("in", "attendance.clock_in", "2025-10-20 08:55", {"method": "card"}))
    (returned,) = (await get(api, "/v1/cases", as_of="2025-10-21T12:00:00+08:00", status="returned"))["cases"]
    assert returned["overdue_days"] == 8
    await problem(await api.get("/v1/cases/E1001/NOPE", "legal"), 404, "not-found")
    await problem(await api.get(f"/v1/cases/{CASE}", "legal", as_of="2025-10-01T12:00:00+08:00"), 404, "not-found")


async def test_attention_lists_employees_at_risk_with_reasons(api: Api) -> None:
    """Issue 14: nothing listed who is at risk of becoming unreachable. GET /v1/attention (legal) gives each
    employee's reasons; it informs HR and decides nothing (PIPL art. 24)."""
    await post_scenario(api)
    dead = await api.post(
        ev(
            "a1",
            "contact.attempted",
            "2025-10-09 12:00",
            {"channel": "phone", "target": "employee", "value": "13800000001", "result": "number_invalid"},
        )
    )
    assert dead.status == 201
    doc = await get(api, "/v1/attention", as_of="2025-10-10T12:00:00+08:00")
    (emp,) = doc["employees"]
    codes = {r["code"] for r in emp["reasons"]}
    assert {"contact_failed", "contact_unverified", "emergency_contact_unverified", "contact_stale"} <= codes
    assert all(r["zh"] and r["en"] for r in emp["reasons"]) and "decides nothing" in doc["note"]["en"]
    one = await get(api, "/v1/attention", subject=E, as_of="2025-10-10T12:00:00+08:00")
    assert one["employees"] == doc["employees"]
    await problem(await api.get("/v1/attention", "legal", subject="NOBODY"), 404, "not-found")


async def test_a_family_report_suspends_the_case_over_http(api: Api) -> None:
    """SPEC section 4 through the API: absence.reported makes the employee absence_reported and the case
    suspended (not ready); absence.assessed not_excused resumes counting."""
    await post_scenario(api)
    resp = await api.post(
        ev(
            "rep",
            "absence.reported",
            "2025-10-14 09:00",
            {"reason": "injury", "reported_by": "family", "from": "2025-10-13"},
        )
    )
    assert resp.status == 201
    seq = (await resp.json())["seq"]
    absence = await get(api, f"/v1/employees/{E}/absence", as_of="2025-10-16T12:00:00+08:00")
    assert (absence["state"], absence["overdue_days"], absence["suspended"]) == ("absence_reported", 3, True)
    case = await get(api, f"/v1/cases/{CASE}", as_of="2025-10-16T12:00:00+08:00")
    assert case["suspended"] is True and case["readiness"]["ready"] is False
    resp = await api.post(
        ev(
            "ass",
            "absence.assessed",
            "2025-10-16 15:00",
            {"report_seq": seq, "decision": "not_excused", "assessed_by": "王五"},
        )
    )
    assert resp.status == 201
    absence = await get(api, f"/v1/employees/{E}/absence", as_of="2025-10-16T16:00:00+08:00")
    assert (absence["state"], absence["overdue_days"]) == ("overdue", 7)


async def test_intake_refuses_company_personal_events_and_system_types(api: Api) -> None:
    """SPEC section 1: subject company takes only policy.adopted and calendar.adopted; escalation.stage_withdrawn
    is hrledger's own and refused from clients."""
    resp = await api.post(ev("u", "union.notified", "2025-10-14 09:00", {"union": "工会"}, subject="company"))
    await problem(resp, 422, "validation-error", "subject")
    withdrawn = {"case_id": CASE, "stage": "reminder", "stage_seq": 1, "reason": "x", "basis": []}
    await problem(
        await api.post(ev("w", "escalation.stage_withdrawn", "2025-10-14 09:00", withdrawn)),
        422,
        "validation-error",
        "type",
    )
    resp = await api.post(ev("u2", "union.notified", "2025-10-14 09:00", {"union": "工会"}))
    assert resp.status == 201


async def test_bad_parameters_are_400_naming_the_field(api: Api) -> None:
    await post_scenario(api)
    for path in LEGAL_PATHS:
        for bad in ("yesterday", "2025-10-09T12:00:00", "2025-10-09", "2025-13-09T12:00:00+08:00"):
            await problem(await api.get(path, "legal", as_of=bad), 400, "bad-request", "as_of")
        await problem(await api.get(path, "legal", bogus="1"), 400, "bad-request", "bogus")
    await problem(await api.get("/v1/cases", "legal", status="lost"), 400, "bad-request", "status")
    await problem(await api.get("/v1/webhooks/deliveries", "admin", status="x"), 400, "bad-request", "status")


async def test_stale_contacts(api: Api) -> None:
    await post_scenario(api)
    doc = await get(api, "/v1/contacts/stale", as_of="2025-06-01T12:00:00+08:00")
    (emp,) = doc["employees"]
    assert [c["channel"] for c in emp["stale_contacts"]] == ["email"]  # never verified
    assert [e["name"] for e in emp["unverified_emergency_contacts"]] == ["李四"]
    doc = await get(api, "/v1/contacts/stale", as_of="2025-10-01T12:00:00+08:00", subject=E)
    assert [c["channel"] for c in doc["employees"][0]["stale_contacts"]] == ["mobile", "email"]  # > 6 months
    await api.post(ev("v1", "contact.verified", "2025-10-02 09:00", {"channel": "sms", "value": "13900000002"}))
    doc = await get(api, "/v1/contacts/stale", as_of="2025-10-03T12:00:00+08:00")
    assert doc["employees"][0]["unverified_emergency_contacts"] == []
    await problem(await api.get("/v1/contacts/stale", "legal", subject="NOBODY"), 404, "not-found")


async def test_scheduler_in_the_service_appends_stages_and_signs_webhooks(
    tmp_path: Path, aiohttp_client: AiohttpClient, store_uri: str | None, receiver: Receiver
) -> None:
    receiver.statuses = [500]  # the first delivery is retried
    received = receiver.requests
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[webhook]\nurl = "{receiver.url}"\nsecret = "k"\n', encoding="utf-8")
    api = await start(tmp_path, aiohttp_client, store_uri, tick_seconds=0.05, policy_path=policy)
    esc = api.app[ESCALATOR]
    assert esc.notifier is not None
    esc.notifier.backoff = 0.01
    await post_scenario(api)

    async def five_stages() -> bool:
        doc = await get(api, "/v1/entries", "auditor", type="escalation.stage_entered")
        return len(doc["entries"]) == 5

    await wait_until(five_stages)

    async def five_delivered() -> bool:
        doc = await get(api, "/v1/webhooks/deliveries", "admin", status="delivered")
        return len(doc["deliveries"]) == 5

    await wait_until(five_delivered)
    bodies = [json.loads(b) for _, b in received]
    assert len({b["seq"] for b in bodies}) == 5 and len(received) == 6  # one retried
    assert all(verify_signature("k", h["X-Hrledger-Timestamp"], b, h["X-Hrledger-Signature"]) for h, b in received)
    doc = await get(api, "/v1/webhooks/deliveries", "admin")
    assert doc["counts"] == {"pending": 0, "delivered": 5, "failed": 0}
    assert sorted(d["attempts"] for d in doc["deliveries"]) == [1, 1, 1, 1, 2]
    assert [d["stage"] for d in doc["deliveries"]] == [
        "reminder",
        "hr_alert",
        "lost_contact",
        "absenteeism",
        "termination_review",
    ]
    assert (await get(api, "/v1/webhooks/deliveries", "admin", status="failed"))["deliveries"] == []
    assert (await get(api, "/v1/webhooks/deliveries", "admin", channel="email"))["deliveries"] == []
    case = await get(api, f"/v1/cases/{CASE}")
    assert all(s["seq"] is not None for s in case["stages"])
    await asyncio.sleep(0.15)  # more ticks: nothing doubled
    assert len((await get(api, "/v1/entries", "auditor", type="escalation.stage_entered"))["entries"]) == 5


async def test_a_bad_policy_file_stops_the_service_from_starting(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("[stages.reminder]\noverdue_days = 0\n", encoding="utf-8")
    data = tmp_path / "d"
    init_datadir(data, origin=ORIGIN)
    app = create_app(AppConfig(data_dir=data, policy_path=policy))
    runner = web.AppRunner(app)
    with pytest.raises(Exception, match=r"stages\.reminder\.overdue_days"):
        await runner.setup()
    await runner.cleanup()


def test_openapi_path_items_cover_the_routes() -> None:
    routes = {r.path.replace(":.+", ""): r for r in ROUTES}
    for path, ops in DOMAIN_OPENAPI_PATHS.items():
        for method, op in ops.items():
            route = routes[path]
            assert route.method == method.upper()
            assert op["x-required-role"] == route.role and {"401", "403"} <= set(op["responses"]), (method, path)
