"""Appends per second through the Log on the SQLite and MongoDB drivers, printed as a table.

    python -m bench.mongo_vs_sqlite [--events 20000] [--batches 100,1000] [--clients 4] [--seconds 20]
                                    [--mongo-uri mongodb://...]

Each run appends ``--events`` events (or stops after ``--seconds``) in requests of one batch size from
``--clients`` concurrent clients, so the sequencer group-commits as it does under load. MongoDB is a
private nx-27017 unless ``--mongo-uri`` or HRLEDGER_MONGODB_URI names a real one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from ledger.core.entries import Event
from ledger.core.notes import Signer
from ledger.log import Log
from ledger.storage.base import Storage
from ledger.storage.mongo import MongoStorage
from ledger.storage.sqlite import SQLiteStorage


@dataclass
class Result:
    driver: str
    batch: int
    events: int
    seconds: float
    commits: int
    bytes_per_event: float | None = None

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def _event(i: int) -> Event:
    return Event(
        f"bench-{i}",
        "attendance.clock_in",
        f"E{i % 5000:05d}",
        "2026-01-05T09:00:00+08:00",
        "bench",
        {"method": "face", "location": "site-3"},
    )


async def run(
    driver: str, make_store: Callable[[], Storage], batch: int, events: int, clients: int, seconds: float
) -> Result:
    store = make_store()
    await store.open()
    log = Log(
        store, Signer.generate("bench.example/log", bytes(32)), clock=lambda: datetime.now(UTC), random_bytes=os.urandom
    )
    await log.start()
    counter = 0
    done = 0
    deadline = time.monotonic() + seconds

    async def client() -> None:
        nonlocal counter, done
        while counter < events and time.monotonic() < deadline:
            start, counter = counter, counter + batch
            await log.append([_event(start + k) for k in range(batch)])
            done += batch

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    commits = log.stats.commits
    await log.stop()
    size_per_event = None
    if isinstance(store, MongoStorage):
        stats = await store.database.command("dbStats")
        total = float(stats.get("dataSize", 0)) + float(stats.get("indexSize", 0))
        size_per_event = total / max(done, 1) if total else None
    await store.close()
    return Result(driver, batch, done, elapsed, commits, size_per_event)


async def main(args: argparse.Namespace) -> None:
    from tests.support.mongo_server import NxServer, fresh_uri

    server: NxServer | None = None
    base = args.mongo_uri or os.environ.get("HRLEDGER_MONGODB_URI")
    if not base:
        server = NxServer()
        base = server.start()
    results: list[Result] = []
    try:
        with tempfile.TemporaryDirectory(prefix="hrledger-bench-") as tmp:
            for batch in [int(b) for b in args.batches.split(",")]:
                path = Path(tmp) / f"b{batch}.sqlite3"
                results.append(
                    await run("sqlite", partial(SQLiteStorage, path), batch, args.events, args.clients, args.seconds)
                )
                uri = fresh_uri(base, "bench")
                results.append(
                    await run("mongodb", partial(MongoStorage, uri), batch, args.events, args.clients, args.seconds)
                )
    finally:
        if server is not None:
            server.stop()
    where = "nx-27017 (loopback)" if server is not None else "HRLEDGER_MONGODB_URI"
    print(f"appends through Log, {args.clients} concurrent clients; mongodb = {where}")
    print(f"{'driver':<8} {'batch':>6} {'events':>8} {'seconds':>8} {'events/s':>10} {'commits':>8} {'B/event':>8}")
    for r in results:
        size = f"{r.bytes_per_event:.0f}" if r.bytes_per_event else "-"
        print(f"{r.driver:<8} {r.batch:>6} {r.events:>8} {r.seconds:>8.2f} {r.rate:>10.0f} {r.commits:>8} {size:>8}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000, help="events per run (default 20000)")
    parser.add_argument("--batches", default="100,1000", help="request sizes, comma-separated")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=20.0, help="time bound per run")
    parser.add_argument("--mongo-uri", default=None, help="a real MongoDB (default: a private nx-27017)")
    asyncio.run(main(parser.parse_args()))
