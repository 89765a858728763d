"""Where one core goes per event: intake (parse and every check) against sequencing and the durable commit.

    .venv/bin/python -m bench.split [--n 20000] [--batch 100] [--json]

The figures behind the multi-process design in docs/performance.md ("several ingest processes, one
sequencer"): in one process, one after the other,

- **intake**: ``api.events.parse_events`` on the very request bodies ``bench/wrk/batch.lua`` sends (strict
  JSON, the envelope and per-type checks, canonical JSON of the data): CPU microseconds per event. This is
  the part an ingest process would do;
- **sequencer**: ``Log.append`` of the validated events in batches (idempotency lookup, leaf, salted digest,
  Merkle nodes, one durable SQLite commit per batch): CPU microseconds per event of this process and events/s;
  this is what the one sequencer would still do;
- **raw SQLite**: the same rows inserted with no Python work (``bench.ingest``'s ceiling), events/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def _clock_in(i: int) -> str:
    """A distinct clock-in time per event (caches of parsed or shared values must not flatter the figures)."""
    return f"2026-01-05T{8 + i // 3600 % 10:02d}:{i // 60 % 60:02d}:{i % 60:02d}+08:00"


def _body(start: int, batch: int) -> bytes:
    """A request body as bench/wrk/batch.lua builds it."""
    events = [
        {
            "event_id": f"split-{i}",
            "type": "attendance.clock_in",
            "subject": f"E{i % 5000}",
            "occurred_at": _clock_in(i),
            "source": "bench",
            "data": {"method": "face"},
        }
        for i in range(start, start + batch)
    ]
    return json.dumps({"events": events}).encode()


async def measure(n: int, batch: int, workdir: Path) -> dict[str, Any]:
    """The three figures of the module docstring."""
    from api.events import parse_events
    from ledger.core.notes import Signer
    from ledger.log import Log
    from ledger.storage.sqlite import SQLiteStorage

    bodies = [_body(start, batch) for start in range(0, n, batch)]
    now = datetime.now(UTC)
    cpu = time.process_time()
    parsed = [parse_events(body, now=now, max_batch=1000)[0] for body in bodies]
    intake_us = (time.process_time() - cpu) / n * 1e6

    store = SQLiteStorage(workdir / "split.sqlite3")
    await store.open()
    log = Log(
        store, Signer.generate("bench.example/log", bytes(32)), clock=lambda: datetime.now(UTC), random_bytes=os.urandom
    )
    await log.start()
    cpu, wall = time.process_time(), time.perf_counter()
    for events in parsed:
        await log.append(events)
    seq_wall = time.perf_counter() - wall
    seq_us = (time.process_time() - cpu) / n * 1e6  # every thread of this process: loop and SQLite writer
    await log.stop()
    await store.close()
    return {
        "n": n,
        "batch": batch,
        "intake_cpu_us_per_event": round(intake_us, 1),
        "sequencer_cpu_us_per_event": round(seq_us, 1),
        "sequencer_events_per_s": round(n / seq_wall),
        "one_process_ceiling_events_per_s": round(1e6 / (intake_us + seq_us)),
        "sequencer_only_ceiling_events_per_s": round(1e6 / seq_us),
    }


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from bench.ingest import run_raw

    with tempfile.TemporaryDirectory() as tmp:
        report = asyncio.run(measure(args.n, args.batch, Path(tmp)))
        report["raw_sqlite_events_per_s"] = round(run_raw(args.n, args.batch, Path(tmp))["events_per_s"])
    print(json.dumps(report) if args.json else "\n".join(f"{k:>40}: {v}" for k, v in report.items()))


if __name__ == "__main__":
    main()
