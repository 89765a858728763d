"""Shared harness for the escalator and notifier tests (no tests here): a real data dir, a real SQLite
file, a real Log with a clock the test moves, HR events written the way HR systems post them, and a real
HTTP webhook receiver on loopback."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from ledger.admin.datadir import DataDir, init_datadir, load_datadir
from ledger.core.entries import Event, parse_rfc3339
from ledger.core.records import StoredEntry
from ledger.domain import DEFAULT_POLICY, Policy
from ledger.domain.escalation import STAGE_EVENT
from ledger.log import Log
from ledger.services.drafting_port import Drafter
from ledger.services.escalator import Escalator
from ledger.services.notify import DELIVERY_HEADER, Notifier
from ledger.storage.base import Storage

E = "E1001"
CASE = f"{E}/L1"
ORIGIN = "test.example/escalator"


def at(text: str) -> datetime:
    """'2025-10-09 12:00' in company time (+08:00)."""
    return parse_rfc3339(text.replace(" ", "T") + ":00+08:00", "at")


class Clock:
    def __init__(self, start: str = "2025-09-19 10:00") -> None:
        self.now = at(start)

    def __call__(self) -> datetime:
        return self.now

    def set(self, text: str) -> datetime:
        self.now = at(text)
        return self.now


def new_datadir(tmp_path: Path) -> DataDir:
    return init_datadir(tmp_path / "data", origin=ORIGIN)


@dataclass
class Node:
    """One 'service process': its own store connection, Log, notifier and escalator on a shared data dir."""

    store: Storage
    log: Log
    escalator: Escalator
    notifier: Notifier | None = None
    counter: list[int] = field(default_factory=lambda: [0])

    async def add(
        self, type_: str, when: str, data: dict[str, Any], *, subject: str = E, event_id: str | None = None
    ) -> int:
        self.counter[0] += 1
        eid = event_id or f"{type_}-{when}-{self.counter[0]}"
        (res,) = await self.log.append([Event(eid, type_, subject, at(when).isoformat(), "hr", data)])
        return res.seq

    async def leave(self, leave_id: str, start: str, end: str, when: str, subject: str = E) -> None:
        await self.add(
            "leave.requested",
            when,
            {"leave_id": leave_id, "kind": "sick", "start": start, "end": end},
            subject=subject,
            event_id=f"{subject}-{leave_id}-req",
        )
        await self.add(
            "leave.approved", when, {"leave_id": leave_id}, subject=subject, event_id=f"{subject}-{leave_id}-ok"
        )

    async def stages(self) -> list[StoredEntry]:
        return await self.store.scan_entries(type=STAGE_EVENT, limit=10_000)

    async def close(self) -> None:
        if self.notifier is not None:
            await self.notifier.stop()
        await self.log.stop()
        await self.store.close()


async def open_node(
    path: Path,
    clock: Clock,
    policy: Policy = DEFAULT_POLICY,
    *,
    notifier_options: dict[str, Any] | None = None,
    drafter: Drafter | None = None,
) -> Node:
    dd = load_datadir(path)
    store = dd.open_store()
    await store.open()
    log = Log(store, dd.signer(), clock=clock, random_bytes=os.urandom)
    await log.start()
    notifier = (
        Notifier(store, policy, clock=clock, **(notifier_options or {})) if notifier_options is not None else None
    )
    esc = Escalator(log, policy, clock=clock, notifier=notifier, drafter=drafter)
    if notifier is not None:
        notifier.name_of = esc.employee_name  # as api/contexts.py wires it
    await esc.start()
    return Node(store, log, esc, notifier)


async def stage_names(node: Node, case_id: str = CASE) -> list[str]:
    import json

    return [
        json.loads(e.data or b"{}")["stage"]
        for e in await node.stages()
        if json.loads(e.data or b"{}").get("case_id") == case_id
    ]


# The National Day scenario: sick leave 22–30 Sep 2025; 1–8 Oct are holidays; Sat 11 Oct is a 调休
# working day. Return day R = Thu 9 Oct; overdue day 1 = 9 Oct, 2 = 10 Oct, 3 = Sat 11 Oct, 4 = 13 Oct,
# 8 = 17 Oct (each counted once 09:00 + 2 h has passed).
DAYS = {1: "2025-10-09", 2: "2025-10-10", 3: "2025-10-11", 4: "2025-10-13", 8: "2025-10-17"}
STAGE_AT = {1: "reminder", 2: "hr_alert", 3: "lost_contact", 4: "absenteeism", 8: "termination_review"}


async def scenario(node: Node) -> None:
    await node.add(
        "employee.enrolled",
        "2025-03-01 09:00",
        {
            "name": "张三",
            "contacts": [{"channel": "mobile", "value": "13800000001"}],
            "emergency_contacts": [{"name": "李四", "relation": "配偶", "mobile": "13900000002"}],
        },
        event_id="enrol",
    )
    await node.leave("L1", "2025-09-22", "2025-09-30", "2025-09-19 10:00")


@dataclass
class Receiver:
    """A real HTTP endpoint: 503 to everything while ``down``; else the queued statuses first, then 200."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)  # X-Hrledger-Delivery of each request answered 200
    delay: float = 0.0
    down: bool = False

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append((dict(request.headers), body))
        if self.delay:
            await asyncio.sleep(self.delay)
        status = 503 if self.down else self.statuses.pop(0) if self.statuses else 200
        if status == 200:
            self.accepted.append(request.headers.get(DELIVERY_HEADER, ""))
        return web.Response(status=status, text="ok" if status == 200 else "try later")

    def bodies(self) -> list[dict[str, Any]]:
        import json

        return [json.loads(b) for _, b in self.requests]
