"""Poison inputs (issue 11): each is refused with a 4xx naming the field, or recorded harmlessly; then every
read still answers and a bundle of the employee still builds and verifies. Nothing a client sends may
produce a 500, now or in any later request."""

from __future__ import annotations

import io
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.admin.test_erase import cli
from tests.api.test_domain_routes import SCENARIO, ev, get, start
from tests.support.api import AiohttpClient, Api, problem

# (event, the field its refusal names)
POISON: list[tuple[dict[str, Any], str]] = [
    (
        ev("p1", "policy.adopted", "2025-01-01 09:00", {}, "company") | {"occurred_at": "0001-01-01T00:00:00+23:59"},
        "occurred_at",
    ),
    (
        ev("p2", "attendance.clock_in", "2025-01-01 09:00", {"method": "face"})
        | {"occurred_at": "9999-12-31T23:59:59-23:59"},
        "occurred_at",
    ),
    (
        ev("p3", "attendance.clock_in", "2025-01-01 09:00", {"method": "face"})
        | {"occurred_at": "1969-12-31T23:59:59Z"},
        "occurred_at",
    ),
    (
        ev(
            "p4",
            "leave.requested",
            "2025-01-01 09:00",
            {"leave_id": "Lx", "kind": "sick", "start": "9999-12-30", "end": "9999-12-31"},
        ),
        "data.start",
    ),
    (
        ev(
            "p5",
            "leave.requested",
            "2025-01-01 09:00",
            {"leave_id": "Lx", "kind": "sick", "start": "0001-01-01", "end": "0001-01-02"},
        ),
        "data.start",
    ),
    (
        ev(
            "p6",
            "employee.contacts_updated",
            "2025-01-01 09:00",
            {
                "name": "x",
                "contacts": [{"channel": "mobile", "value": "1", "verified_at": "0001-01-01T00:00:00+23:59"}],
                "emergency_contacts": [],
            },
        ),
        "data.contacts[0].verified_at",
    ),
    (ev("p7", "attendance.clock_in", "2025-01-01 09:00", {"method": "face"}, "E1001\u202e"), "subject"),
    (ev("p8", "attendance.clock_in", "2025-01-01 09:00", {"method": "face"}, "E1001/L1"), "subject"),
    (ev("p9", "attendance.clock_in", "2025-01-01 09:00", {"method": "face"}, "company"), "subject"),
    (ev("p10", "custom.note", "2025-01-01 09:00", {"text": "x"}, "company"), "subject"),
    (ev("p11\u200b", "attendance.clock_in", "2025-01-01 09:00", {"method": "face"}), "event_id"),
    (ev("p12", "attendance.clock_in", "2025-01-01 09:00", {"method": "face"}) | {"source": "e\u0301"}, "source"),
]
BAD_AS_OF = [
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59",
    "1969-01-01T00:00:00Z",
    "2026-01-01T00:00:00+14:30",
]


@pytest.fixture
async def api(tmp_path: Path, aiohttp_client: AiohttpClient, store_uri: str | None) -> Api:
    return await start(tmp_path, aiohttp_client, store_uri)


async def test_poison_is_refused_and_every_later_read_and_bundle_answers(api: Api) -> None:
    assert (await api.post({"events": SCENARIO})).status == 201
    for event, field in POISON:
        await problem(await api.post(event, "admin"), 422, "validation-error", field)
    for as_of in BAD_AS_OF:
        for path in ("/v1/cases", "/v1/employees/E1001/absence", "/v1/cases/E1001/L1", "/v1/contacts/stale"):
            await problem(await api.get(path, "legal", as_of=as_of), 400, "bad-request", "as_of")
    for path in ("/v1/cases", "/v1/employees/E1001/absence", "/v1/contacts/stale"):
        assert (await api.get(path, "legal", as_of="2200-12-31T00:00:00+14:00")).status == 200, path
    resp = await api.client.post(
        "/v1/bundles", json={"subject": "E1001", "from": "2025-09-01", "to": "2025-10-31"}, headers=api.auth("legal")
    )
    assert resp.status == 200, await resp.text()
    with zipfile.ZipFile(io.BytesIO(await resp.read())) as bundle:
        assert "manifest.json" in bundle.namelist()
    assert (await get(api, "/v1/cases"))["cases"]  # the case is still there


async def test_a_cell_edited_to_text_is_read_and_judged_by_fsck(tmp_path: Path, aiohttp_client: AiohttpClient) -> None:
    api = await start(tmp_path, aiohttp_client)
    assert (await api.post({"events": SCENARIO})).status == 201
    await api.client.close()
    db = sqlite3.connect(api.data / "ledger.sqlite3")
    with db:  # the same bytes stored as TEXT (the content holds), and a salt replaced by text (it does not)
        db.execute("UPDATE entries SET data = CAST(data AS TEXT) WHERE seq = 1")
        db.execute("UPDATE entries SET salt = 'not a salt' WHERE seq = 2")
    db.close()
    code, out, err = await cli("fsck", "--data", str(api.data))
    assert code == 1 and "Traceback" not in err, err
    assert "FAILED (1 problems)" in out and "entry seq 2: data and salt do not match" in err, (out, err)
