"""How cost grows with the size of the log: append batches and proofs at 1k, 10k, ... entries.

    .venv/bin/python -m bench.scaling [--sizes 1000,10000,100000,1000000] [--batch 1000] [--json]

One log is grown through ``Log.append`` (durable SQLite commits, WAL, synchronous=FULL) in batches of
10,000 up to each size; at each size it measures: the time of one append batch of ``--batch`` events
(mean of 5 batches), an inclusion proof and a consistency proof to the full size (mean of 300 random
indexes, read through the store as the service does), fsck throughput, the database size and the peak RSS.
Sizes not measured (10M by default) are projected by ``bench.all`` from the measured points, and said so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.ingest import _events

GROW_BATCH = 10_000


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run(sizes: list[int], batch: int, workdir: Path, fsck_limit: int) -> list[dict[str, Any]]:
    from ledger.admin.fsck import fsck
    from ledger.core.notes import Signer
    from ledger.log import Log
    from ledger.storage.sqlite import SQLiteStorage

    path = workdir / "scale.sqlite3"
    store = SQLiteStorage(path)
    await store.open()
    signer = Signer.generate("bench.example/log", bytes(32))
    log = Log(store, signer, clock=lambda: datetime.now(UTC), random_bytes=os.urandom)
    await log.start()
    rng = random.Random(7)
    size = 0
    points: list[dict[str, Any]] = []
    for target in sorted(sizes):
        grow_started = time.perf_counter()
        while size < target:
            count = min(GROW_BATCH, target - size)
            await log.append(_events(size, count))
            size += count
        grow_s = time.perf_counter() - grow_started
        appends = []
        for _ in range(5):
            events = _events(size, batch)
            started = time.perf_counter()
            await log.append(events)
            appends.append(time.perf_counter() - started)
            size += batch
        await log.wait_for_checkpoint(size, timeout=120)
        started = time.perf_counter()
        for _ in range(300):
            await log.inclusion_proof(rng.randrange(size), size)
        inclusion = (time.perf_counter() - started) / 300
        started = time.perf_counter()
        for _ in range(300):
            await log.consistency_proof(rng.randrange(1, size), size)
        consistency = (time.perf_counter() - started) / 300
        fsck_rate = None
        if size <= fsck_limit:
            started = time.perf_counter()
            report = await fsck(store, signer.verifier())
            assert report.ok, report.problems[:3]
            fsck_rate = size / (time.perf_counter() - started)
        db_bytes = sum(p.stat().st_size for p in workdir.iterdir() if p.name.startswith("scale.sqlite3"))
        points.append(
            {
                "size": size,
                "append_batch_ms": sum(appends) / len(appends) * 1e3,
                "append_events_per_s": batch / (sum(appends) / len(appends)),
                "inclusion_ms": inclusion * 1e3,
                "consistency_ms": consistency * 1e3,
                "fsck_entries_per_s": fsck_rate,
                "db_mb": db_bytes / 2**20,
                "peak_rss_mb": _rss_mb(),
                "grow_events_per_s": (target - (points[-1]["size"] if points else 0)) / max(grow_s, 1e-9),
            }
        )
        print(json.dumps(points[-1]), flush=True)
    await log.stop()
    await store.close()
    return points


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scaling", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--fsck-limit", type=int, default=1_000_000, help="skip fsck above this size")
    parser.add_argument("--tmp", default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="hrledger-scale-", dir=args.tmp) as tmp:
        points = asyncio.run(run(sizes, args.batch, Path(tmp), args.fsck_limit))
    if args.json:
        print(json.dumps(points))
        return
    print(
        f"{'entries':>10}{'append ms/batch':>17}{'events/s':>10}{'inclusion ms':>14}{'consistency ms':>16}"
        f"{'fsck entries/s':>16}{'DB MiB':>9}{'RSS MiB':>9}"
    )
    for p in points:
        fsck_rate = f"{p['fsck_entries_per_s']:,.0f}" if p["fsck_entries_per_s"] else "-"
        print(
            f"{p['size']:>10,}{p['append_batch_ms']:>17.1f}{p['append_events_per_s']:>10,.0f}"
            f"{p['inclusion_ms']:>14.3f}{p['consistency_ms']:>16.3f}{fsck_rate:>16}{p['db_mb']:>9.1f}"
            f"{p['peak_rss_mb']:>9.1f}"
        )


if __name__ == "__main__":
    main()
