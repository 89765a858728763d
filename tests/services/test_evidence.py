"""Bundles gathered from a real log verify with the standalone verifier, and account for the period."""

from __future__ import annotations

import dataclasses
import json
import os
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest

from ledger.core.entries import Event
from ledger.core.notes import Signer
from ledger.domain import DEFAULT_POLICY
from ledger.errors import NotFoundError, ValidationError
from ledger.log import Log
from ledger.services.evidence import build_subject_bundle
from ledger.storage.sqlite import SQLiteStorage
from verifier.check import verify_bundle
from verifier.note import parse_vkey

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


def ev(eid: str, type_: str, subject: str, occurred_at: str, data: dict[str, object]) -> Event:
    return Event(eid, type_, subject, occurred_at, "hris", data)


@pytest.fixture
async def log(tmp_path: Path) -> AsyncIterator[Log]:
    store = SQLiteStorage(tmp_path / "l.sqlite3")
    await store.open()
    clock = [datetime(2026, 1, 2, 3, tzinfo=UTC)]  # the receipt clock follows the simulated days
    lg = Log(
        store, Signer.generate("bundle.example/log", bytes(range(32))), clock=lambda: clock[0], random_bytes=os.urandom
    )
    await lg.start()
    await lg.append(
        [
            ev(
                "pol",
                "policy.adopted",
                "company",
                "2026-01-02T10:00:00+08:00",
                {
                    "policy_id": "rules",
                    "version": "3",
                    "document_digest": "sha256:" + "ab" * 32,
                    "effective_from": "2026-01-10",
                    "democratic_procedure": "staff congress 2025-12-20",
                },
            )
        ]
    )
    for day in range(1, 29):
        clock[0] = datetime(2026, 2, day, 1, 0, tzinfo=UTC)
        await lg.append(
            [
                ev(
                    f"in-E1-{day}", "attendance.clock_in", "E1", f"2026-02-{day:02d}T08:55:00+08:00", {"method": "card"}
                ),
                ev(
                    f"in-E2-{day}", "attendance.clock_in", "E2", f"2026-02-{day:02d}T08:57:00+08:00", {"method": "face"}
                ),
            ]
        )
        await lg.wait_for_checkpoint(await store.tree_size())
    yield lg
    await lg.stop()
    await store.close()


async def test_bundle_holds_the_period_and_the_policy_and_verifies(log: Log) -> None:
    bundle = await build_subject_bundle(log, subject="E1", start=date(2026, 2, 10), end=date(2026, 2, 14), now=NOW)
    result = verify_bundle(bundle, parse_vkey(log.signer.vkey), name="E1.zip")
    assert result.ok, result.failures
    with zipfile.ZipFile(BytesIO(bundle)) as z:
        manifest = json.loads(z.read("manifest.json"))
        names = set(z.namelist())
    # E1's chain from its last clock-in (Feb 28, seq 55) back to Feb 9's (seq 17), the last one recorded more
    # than 5 minutes before the period began; the company's chain whole.
    assert manifest["chains"] == {
        "E1": {"head": 55, "first": 17, "count": 20},
        "company": {"head": 0, "first": 0, "count": 1},
    }
    in_period = [19, 21, 23, 25, 27]  # Feb 10..14, one clock-in a day: their data is there, the rest withheld
    assert manifest["withheld"] == [s for s in range(17, 56, 2) if s not in in_period]
    assert all(f"proofs/{s}.tlog-proof" in names for s in [*range(17, 56, 2), 0])
    # one earlier checkpoint per day of the period, each proven consistent with the bundle's
    assert len([n for n in names if n.startswith("consistency/")]) == 5
    assert {"report.html", "VERIFY.md", "case.json", "checkpoint", "verifier.pyz", "manifest.sig"} <= names


async def test_same_state_same_bytes(log: Log) -> None:
    a = await build_subject_bundle(log, subject="E2", start=date(2026, 2, 1), end=date(2026, 2, 28), now=NOW)
    b = await build_subject_bundle(log, subject="E2", start=date(2026, 2, 1), end=date(2026, 2, 28), now=NOW)
    assert a == b


async def test_bad_requests_change_nothing(log: Log) -> None:
    size = await log.store.tree_size()
    with pytest.raises(ValidationError):
        await build_subject_bundle(log, subject="E1", start=date(2026, 3, 1), end=date(2026, 2, 1), now=NOW)
    with pytest.raises(NotFoundError):
        await build_subject_bundle(log, subject="E9", start=date(2026, 2, 1), end=date(2026, 2, 28), now=NOW)
    assert await log.store.tree_size() == size


async def test_first_reaches_back_to_what_the_case_cites_and_the_policy_threshold_travels(tmp_path: Path) -> None:
    """The contacts on file (enrolled in January) are cited by the case of a leave in February: the chain
    reaches back to them and their data is in the bundle, though they are older than the period."""
    store = SQLiteStorage(tmp_path / "c.sqlite3")
    await store.open()
    clock = [datetime(2026, 1, 5, 2, tzinfo=UTC)]
    log = Log(
        store, Signer.generate("cite.example/log", bytes(range(32))), clock=lambda: clock[0], random_bytes=os.urandom
    )
    await log.start()
    contacts: dict[str, object] = {
        "name": "张三",
        "contacts": [{"channel": "mobile", "value": "+86 138 0000 0000"}],
        "emergency_contacts": [],
    }
    [enrolled] = await log.append([ev("enr", "employee.enrolled", "E1", "2026-01-05T09:00:00+08:00", contacts)])
    clock[0] = datetime(2026, 2, 2, 2, tzinfo=UTC)
    leave: dict[str, object] = {"leave_id": "L1", "kind": "sick", "start": "2026-02-02", "end": "2026-02-06"}
    await log.append([ev("lr", "leave.requested", "E1", "2026-02-02T09:00:00+08:00", leave)])
    await log.append([ev("la", "leave.approved", "E1", "2026-02-02T10:00:00+08:00", {"leave_id": "L1"})])
    clock[0] = datetime(2026, 2, 25, 2, tzinfo=UTC)
    attempt: dict[str, object] = {
        "channel": "phone",
        "target": "employee",
        "value": "+86 138 0000 0000",
        "result": "no_answer",
    }
    await log.append([ev("ca", "contact.attempted", "E1", "2026-02-25T09:00:00+08:00", attempt)])
    await log.wait_for_checkpoint(4)
    policy = dataclasses.replace(DEFAULT_POLICY, late_recorded=timedelta(hours=48))
    bundle = await build_subject_bundle(
        log, subject="E1", start=date(2026, 2, 20), end=date(2026, 2, 28), now=NOW, policy=policy
    )
    result = verify_bundle(bundle, parse_vkey(log.signer.vkey), name="E1.zip")
    assert result.ok, result.failures
    with zipfile.ZipFile(BytesIO(bundle)) as z:
        manifest = json.loads(z.read("manifest.json"))
        case = json.loads(z.read("case.json"))
        enrolled_file = json.loads(z.read(f"entries/{enrolled.seq}.json"))
    cited = {s for c in case["cases"] for s in c["evidence_seqs"]}
    assert enrolled.seq in cited, case  # the case rests on the contacts on file
    assert manifest["chains"]["E1"] == {"head": 3, "first": enrolled.seq, "count": 4}
    assert enrolled_file["data"] == contacts and enrolled.seq not in manifest["withheld"]
    assert manifest["late_recorded_hours"] == 48 and result.late_recorded_hours == 48
    await log.stop()
    await store.close()
