"""The calendar cliff of 2027-01-01, over HTTP: a missing year is named per case, never a 500, never a guess;
the service records the years it uses as calendar.adopted entries and warns before the calendar ends."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from api.config import ESCALATOR, AppConfig
from ledger.domain.calendar import NATIONAL_LIBRARY, NATIONAL_YEARS
from tests.api.test_domain_routes import ev, get, start
from tests.support.api import AiohttpClient, Api, problem
from tests.support.domain import at

LAST_NATIONAL = NATIONAL_YEARS[1]
if LAST_NATIONAL != 2026:  # these tests play the cliff of 2027-01-01 with the library that stops at 2026
    pytest.skip(f"the bundled national calendar now ends in {LAST_NATIONAL}", allow_module_level=True)


class Clock:
    def __init__(self, text: str) -> None:
        self.now = at(text)

    def __call__(self) -> datetime:
        return self.now


def leave(subject: str, leave_id: str, start_day: str, end_day: str) -> list[dict[str, Any]]:
    data = {"leave_id": leave_id, "kind": "sick", "start": start_day, "end": end_day}
    return [
        ev(f"{subject}-{leave_id}-req", "leave.requested", f"{start_day} 08:00", data, subject),
        ev(f"{subject}-{leave_id}-ok", "leave.approved", f"{start_day} 08:30", {"leave_id": leave_id}, subject),
    ]


YEAR_2027 = {"year": 2027, "holidays": ["2027-01-01"], "workdays": [], "source": "test data, not an official notice"}


async def calendar_entries(api: Api) -> list[dict[str, Any]]:
    doc = await get(api, "/v1/entries", type="calendar.adopted")
    return [{**json.loads(e["entry"]), "data": e["data"]} for e in doc["entries"]]


async def test_a_case_reaching_into_2027_is_named_while_the_others_answer(
    tmp_path: Path, aiohttp_client: AiohttpClient, store_uri: str | None
) -> None:
    clock = Clock("2027-01-06 12:00")
    api = await start(tmp_path, aiohttp_client, store_uri, clock=clock)
    events = [*leave("E1", "L1", "2026-12-21", "2026-12-31"), *leave("E2", "L2", "2026-12-01", "2026-12-04")]
    assert (await api.post({"events": events})).status == 201
    doc = await get(api, "/v1/cases")  # as_of = the clock, in 2027: never a 500
    cases = {c["case_id"]: c for c in doc["cases"]}
    assert set(cases) == {"E1/L1", "E2/L2"}
    e1, e2 = cases["E1/L1"], cases["E2/L2"]
    assert e1["calendar"]["missing_year"] == 2027 and e1["return_day"] is None and not e1["readiness"]["ready"]
    assert e2["calendar"]["missing_year"] == 2027 and e2["overdue_days"] == 19  # December counted, then it stops
    assert (await get(api, "/v1/cases", status="terminated"))["cases"] == []
    absence = await get(api, "/v1/employees/E1/absence", as_of="2027-06-30T12:00:00+08:00")
    assert absence["calendar"]["missing_year"] == 2027
    # the service recorded the year it could source, 2026 from the bundled national calendar, and nothing for 2027
    (recorded,) = await calendar_entries(api)
    assert recorded["data"]["year"] == LAST_NATIONAL and recorded["source"] == "hrledger"
    assert NATIONAL_LIBRARY in recorded["data"]["source"] and recorded["occurred_at"] == recorded["recorded_at"]
    # escalation goes on for what the calendar can count; /healthz and /metrics name the missing year
    tick = await api.app[ESCALATOR].tick()
    assert set(tick.calendar_missing[2027]) == {"E1/L1", "E2/L2"}
    health = await (await api.client.get("/healthz")).json()
    assert health["calendar"]["missing_years"] == {"2027": ["E1/L1", "E2/L2"]}
    assert any("2027" in w for w in health["warnings"])
    metrics = await (await api.client.get("/metrics")).text()
    assert 'hrledger_calendar_missing_cases{year="2027"} 2.0' in metrics
    assert "hrledger_calendar_days_left -1.0" in metrics  # nothing covers today

    # only an admin records a calendar; then the case evaluates
    await problem(
        await api.post(ev("y27", "calendar.adopted", "2027-01-06 09:00", YEAR_2027, "company")), 403, "forbidden"
    )
    await problem(
        await api.post(ev("y27", "calendar.adopted", "2027-01-06 09:00", YEAR_2027)), 422, "validation-error", "subject"
    )
    resp = await api.post(ev("y27", "calendar.adopted", "2027-01-06 09:00", YEAR_2027, "company"), "admin")
    assert resp.status == 201, await resp.text()
    seq = (await resp.json())["seq"]
    e1 = await get(api, "/v1/cases/E1/L1")
    assert (e1["return_day"], e1["overdue_days"], e1["calendar"]["complete"]) == ("2027-01-04", 3, True)
    assert seq in e1["calendar"]["seqs"]
    assert set((await api.app[ESCALATOR].tick()).calendar_missing) == set()
    stage = await get(api, "/v1/entries", type="escalation.stage_entered", subject="E1")
    assert seq in stage["entries"][-1]["data"]["calendar_seqs"]  # stage events name the calendar entries used


@pytest.mark.parametrize(
    ("today", "days_left", "warned"),
    [("2026-12-01 09:00", 30, True), ("2026-06-01 09:00", 213, False), ("2026-11-01 09:00", 60, True)],
)
async def test_healthz_and_metrics_warn_from_60_days_before_the_calendar_ends(
    tmp_path: Path, aiohttp_client: AiohttpClient, today: str, days_left: int, warned: bool
) -> None:
    api = await start(tmp_path, aiohttp_client, clock=Clock(today))
    health = await (await api.client.get("/healthz")).json()
    assert health["calendar"]["known_through"] == f"{LAST_NATIONAL}-12-31"
    assert health["calendar"]["days_left"] == days_left
    assert bool(health["warnings"]) is warned
    if warned:
        assert "2026-12-31" in health["warnings"][0] and "hrledger calendar add --year 2027" in health["warnings"][0]
    assert f"hrledger_calendar_days_left {days_left}.0" in await (await api.client.get("/metrics")).text()


async def test_the_policy_files_years_are_recorded_when_needed_and_again_when_they_change(
    tmp_path: Path, aiohttp_client: AiohttpClient
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[calendar.years.2027]\nholidays = ["2027-01-01"]\nworkdays = []\nsource = "测试数据"\n', encoding="utf-8"
    )
    api = await start(tmp_path, aiohttp_client, clock=Clock("2027-01-06 12:00"), policy_path=policy)
    health = await (await api.client.get("/healthz")).json()
    assert health["calendar"]["known_through"] == "2027-12-31"  # from the policy file, not yet recorded
    assert (await api.post({"events": leave("E1", "L1", "2026-12-21", "2026-12-31")})).status == 201
    case = await get(api, "/v1/cases/E1/L1")
    assert (case["return_day"], case["overdue_days"]) == ("2027-01-04", 3)
    years = {e["data"]["year"]: e["data"] for e in await calendar_entries(api)}
    assert sorted(years) == [2027] and years[2027]["source"] == "测试数据"  # the only year its days touch
    await api.client.close()

    # the next start with other days for 2027 records the file's version; evaluations use it from then on
    policy.write_text(
        '[calendar.years.2027]\nholidays = ["2027-01-01", "2027-01-04"]\nworkdays = []\n', encoding="utf-8"
    )
    again = await start_again(api, aiohttp_client, policy)
    entries = await calendar_entries(again)
    assert [e["data"]["year"] for e in entries] == [2027, 2027]
    assert entries[-1]["data"]["holidays"] == ["2027-01-01", "2027-01-04"]
    case = await get(again, "/v1/cases/E1/L1")
    assert (case["return_day"], case["overdue_days"]) == ("2027-01-05", 2)


async def start_again(api: Api, aiohttp_client: AiohttpClient, policy: Path) -> Api:
    """The same data dir served again (a restart), with the changed policy file."""
    app = create_app(
        AppConfig(
            data_dir=api.data, access_log=False, tick_seconds=0, clock=Clock("2027-01-06 12:00"), policy_path=policy
        )
    )
    return Api(await aiohttp_client(app), app, api.data, api.tokens)
