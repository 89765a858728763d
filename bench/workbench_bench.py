"""Milliseconds to serve the workbench's pages and to sign in, with N employees overdue (not a test).

    .venv/bin/python -m bench.workbench_bench [--employees 1,50,200] [--rounds 20]

A fresh data dir gets the seed case (张三, E-ZS) copied for each employee, up to the day its 催告函 is due; the
service runs in-process over real HTTP on loopback. Figures: the median of ``--rounds`` requests of the
overview, one case page and one employee page, a form post (one event appended), and one sign-in (Argon2id).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from api.app import create_app
from api.config import STORE, AppConfig
from ledger.admin.datadir import init_datadir
from ledger.admin.demo_script import SCRIPT, TZ
from ledger.services.tokens import create_token
from ledger.services.users import create_user

PASSWORD = "a long enough password"
UNTIL = datetime(2025, 6, 23, 12, 0, tzinfo=TZ)


def seed(employees: int) -> list[dict[str, Any]]:
    steps = [s for s in SCRIPT if s.when <= UNTIL]
    events = []
    for n in range(employees):
        for i, s in enumerate(steps):
            if s.subject == "company" and n:
                continue
            subject = s.subject if s.subject == "company" else f"E-{n:04d}"
            events.append(
                {"event_id": f"b-{n}-{i}", "type": s.type, "subject": subject, "occurred_at": s.when.isoformat(),
                 "source": "bench", "data": s.data}
            )  # fmt: skip
    return events


async def timed(n: int, fn: Any) -> float:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


async def run(employees: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "d"
        init_datadir(data, origin="bench.example/ledger")
        app = create_app(AppConfig(data_dir=data, access_log=False, tick_seconds=0))
        async with TestClient(TestServer(app)) as client:
            store = app[STORE]
            token, _ = await create_token(
                store, role="admin", name="b", created_at="2026-01-01T00:00:00Z", secret=b"x" * 32
            )
            await create_user(store, name="bench", role="hr", password=PASSWORD, created_at="2026-01-01T00:00:00Z")
            events = seed(employees)
            for i in range(0, len(events), 1000):
                resp = await client.post("/v1/events", json={"events": events[i : i + 1000]},
                                         headers={"Authorization": f"Bearer {token}"})  # fmt: skip
                assert resp.status == 201, await resp.text()

            async def sign_in() -> None:
                form = await (await client.get("/signin")).text()
                csrf = re.search(r'name="csrf" value="([^"]+)"', form)
                assert csrf is not None
                resp = await client.post("/signin", data={"csrf": csrf.group(1), "name": "bench", "password": PASSWORD},
                                         allow_redirects=False)  # fmt: skip
                assert resp.status == 303

            async def get(path: str) -> None:
                resp = await client.get(path)
                assert resp.status == 200, path
                await resp.read()

            login = await timed(3, sign_in)
            await get("/")  # the first read records the calendar years the cases need
            case = "/cases/E-0000/L-2025-0609"
            figures = {
                "overview": await timed(rounds, lambda: get("/")),
                "case": await timed(rounds, lambda: get(case)),
                "employee": await timed(rounds, lambda: get("/employees/E-0000")),
            }
            page = await (await client.get(case)).text()
            csrf = re.search(r'name="csrf" value="([^"]+)"', page)
            assert csrf is not None
            counter = iter(range(10**6))

            async def record() -> None:
                resp = await client.post(
                    "/record/union_notified",
                    data={"csrf": csrf.group(1), "nonce": f"bench-nonce-{next(counter)}", "subject": "E-0000",
                          "union": "工会", "back": case},
                    allow_redirects=False,
                )  # fmt: skip
                assert resp.status == 303, await resp.text()

            figures["record a form"] = await timed(rounds, record)
            cells = "  ".join(f"{k} {v:7.1f} ms" for k, v in figures.items())
            print(f"{employees:5d} employees ({len(events):6d} entries): sign-in {login:6.1f} ms  {cells}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", default="1,50,200")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    for n in (int(x) for x in args.employees.split(",")):
        asyncio.run(run(n, args.rounds))


if __name__ == "__main__":
    main()
