"""Durable ingest, side by side in one run: hrledger's Log, pyeventsourcing's SQLite recorder, raw SQLite.

    .venv/bin/python -m bench.ingest [--n 100000] [--batch 1000] [--json]

- **hrledger**: ``Log.append`` of real events in batches (canonical JSON leaf, salted data digest, Merkle
  nodes, idempotency lookup), one durable SQLite commit per batch (WAL, ``synchronous=FULL``).
- **eventsourcing**: ``SQLiteApplicationRecorder.insert_events`` (PyPI ``eventsourcing``) with the same
  number of events in the same batches; each event is its own aggregate (originator id from the event id,
  version 1: the recorder's uniqueness check plays the part of our idempotency key), ``state`` = the same
  leaf bytes plus data. Its datastore uses WAL too and SQLite's default ``synchronous=FULL`` (read back and reported; it
  cannot be changed inside the recorder's transactions).
- **raw SQLite**: the very rows hrledger wrote (entries and tree nodes), re-inserted with ``executemany``
  into the same schema, one transaction per batch, WAL, ``synchronous=FULL``: the physical limit of this
  disk and this SQLite for these rows and this batch size.

Each side runs in its own process (own peak RSS) on a fresh database in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SUBJECTS = 5000


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _events(base: int, count: int) -> list[Any]:
    from ledger.core.entries import Event

    return [
        Event(
            f"ev-{i}",
            "attendance.clock_in",
            f"E{i % SUBJECTS}",
            "2026-01-05T09:00:00+08:00",
            "bench",
            {"method": "card", "location": "HQ gate 3"},
        )
        for i in range(base, base + count)
    ]


async def run_ours(n: int, batch: int, workdir: Path) -> dict[str, float]:
    from ledger.core.notes import Signer
    from ledger.log import Log
    from ledger.storage.sqlite import SQLiteStorage

    store = SQLiteStorage(workdir / "ours.sqlite3")
    await store.open()
    log = Log(
        store, Signer.generate("bench.example/log", bytes(32)), clock=lambda: datetime.now(UTC), random_bytes=os.urandom
    )
    await log.start()
    batches = [_events(base, min(batch, n - base)) for base in range(0, n, batch)]
    started = time.perf_counter()
    for events in batches:
        await log.append(events)
    elapsed = time.perf_counter() - started
    await log.stop()
    await store.close()
    return {"seconds": elapsed, "events_per_s": n / elapsed, "peak_rss_mb": _rss_mb()}


def run_eventsourcing(n: int, batch: int, workdir: Path) -> dict[str, float]:
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

    datastore = SQLiteDatastore(str(workdir / "es.sqlite3"))
    recorder = SQLiteApplicationRecorder(datastore)
    recorder.create_table()
    with datastore.transaction(commit=False) as cursor:
        cursor.execute("PRAGMA synchronous")
        sync = cursor.fetchone()[0]
        cursor.execute("PRAGMA journal_mode")
        journal = cursor.fetchone()[0]
    ns = uuid.UUID(int=1)
    batches = []
    for base in range(0, n, batch):
        stored = []
        for e in _events(base, min(batch, n - base)):
            state = json.dumps(
                {
                    "event_id": e.event_id,
                    "type": e.type,
                    "subject": e.subject,
                    "occurred_at": e.occurred_at,
                    "source": e.source,
                    "data": e.data,
                },
                separators=(",", ":"),
                sort_keys=True,
            ).encode()
            stored.append(StoredEvent(uuid.uuid5(ns, e.event_id), 1, "hr:AttendanceClockIn", state))
        batches.append(stored)
    started = time.perf_counter()
    for stored in batches:
        recorder.insert_events(stored)
    elapsed = time.perf_counter() - started
    datastore.close()
    return {
        "seconds": elapsed,
        "events_per_s": n / elapsed,
        "peak_rss_mb": _rss_mb(),
        "synchronous": sync,
        "journal_mode": journal,
    }


def run_raw(n: int, batch: int, workdir: Path) -> dict[str, float]:
    """Re-insert the rows hrledger wrote, batch by batch, into an empty copy of the schema."""
    from ledger.core.merkle import append_leaves
    from ledger.storage.sqlite_file import SCHEMA

    asyncio.run(run_ours(n, batch, workdir))  # produces the rows (not timed)
    src = sqlite3.connect(workdir / "ours.sqlite3")
    entries = src.execute(
        "SELECT seq, event_id, type, subject, occurred_at, recorded_at, entry, leaf_hash, data, "
        "salt FROM entries ORDER BY seq"
    ).fetchall()
    nodes = {(lvl, idx): h for lvl, idx, h in src.execute("SELECT level, idx, hash FROM nodes")}
    src.close()
    # The nodes each batch created, in the order the log wrote them.
    per_batch: list[tuple[list[Any], list[Any]]] = []
    frontier: dict[Any, bytes] = {}
    from ledger.core import merkle

    for base in range(0, n, batch):
        rows = entries[base : base + batch]
        created, _ = append_leaves(base, frontier, [bytes(r[7]) for r in rows])
        frontier = {k: created.get(k) or frontier[k] for k in merkle.root_nodes(base + len(rows))}
        per_batch.append((rows, [(k.level, k.index, nodes[(k.level, k.index)]) for k in created]))
    dst = sqlite3.connect(workdir / "raw.sqlite3", isolation_level=None)
    dst.execute("PRAGMA journal_mode=WAL")
    dst.execute("PRAGMA synchronous=FULL")
    dst.executescript(SCHEMA)
    started = time.perf_counter()
    for rows, node_rows in per_batch:
        dst.execute("BEGIN IMMEDIATE")
        dst.executemany("INSERT INTO entries VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
        dst.executemany("INSERT INTO nodes (level, idx, hash) VALUES (?,?,?)", node_rows)
        dst.execute("COMMIT")
    elapsed = time.perf_counter() - started
    dst.close()
    return {"seconds": elapsed, "events_per_s": n / elapsed, "peak_rss_mb": _rss_mb()}


SIDES = {
    "hrledger": lambda n, b, w: asyncio.run(run_ours(n, b, w)),
    "eventsourcing": run_eventsourcing,
    "raw-sqlite": run_raw,
}


def measure(n: int, batch: int) -> dict[str, dict[str, Any]]:
    results = {}
    for side in SIDES:
        out = subprocess.run(
            [sys.executable, "-m", "bench.ingest", "--side", side, "--n", str(n), "--batch", str(batch)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results[side] = json.loads(out.strip().splitlines()[-1])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--side", choices=sorted(SIDES))
    parser.add_argument("--json", action="store_true", help="print one JSON line instead of the table")
    args = parser.parse_args()
    if args.side:
        with tempfile.TemporaryDirectory(prefix="hrledger-ingest-") as tmp:
            print(json.dumps(SIDES[args.side](args.n, args.batch, Path(tmp))))
        return
    results = measure(args.n, args.batch)
    if args.json:
        print(json.dumps(results))
        return
    raw = results["raw-sqlite"]["events_per_s"]
    print(f"durable ingest: {args.n:,} events in batches of {args.batch}, one commit per batch, synchronous=FULL")
    print(f"{'side':<16}{'events/s':>12}{'seconds':>10}{'peak RSS MiB':>14}{'of raw SQLite':>15}")
    for side, r in results.items():
        print(
            f"{side:<16}{r['events_per_s']:>12,.0f}{r['seconds']:>10.2f}{r['peak_rss_mb']:>14.1f}"
            f"{r['events_per_s'] / raw:>14.0%}"
        )


if __name__ == "__main__":
    main()
