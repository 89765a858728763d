"""Seconds to build and to verify an evidence bundle of one employee's history inside a large log (not a test).

    .venv/bin/python -m bench.bundle_bench [--log 100000] [--history 5000]

A fresh SQLite log of ``--log`` entries, ``--history`` of them one employee's (E1) spread over 2025, the rest
other employees' interleaved, plus a rule book. The bundle covers all of 2025, so every one of E1's entries
is in it with its data and proof. "build (service)" is what ``POST /v1/bundles`` costs: the projection is
the service's own, kept by its follower; "build (cli)" is ``hrledger bundle``, which projects the log first.
"verify" is the standalone verifier on the zip. Target (issue 13): under 30 s each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ledger.core.entries import Event
from ledger.core.notes import Signer
from ledger.domain import DEFAULT_POLICY, Projector
from ledger.log import Log
from ledger.services.evidence import build_subject_bundle
from ledger.storage.sqlite import SQLiteStorage
from verifier.check import verify_bundle
from verifier.note import parse_vkey

START = datetime(2025, 1, 1, 1, tzinfo=UTC)
BATCH = 1000


def _events(n: int, history: int) -> list[Event]:
    """``n`` clock-ins in time order over 2025, every (n // history)-th one E1's, the others 2,000 colleagues'."""
    step, every = timedelta(days=364) / n, max(1, n // history)
    out = []
    for i in range(n):
        subject = "E1" if i % every == 0 and i // every < history else f"E{2 + i % 2000}"
        out.append(
            Event(f"e{i}", "attendance.clock_in", subject, (START + step * i).isoformat(), "bench", {"method": "card"})
        )
    return out


async def run(n: int, history: int, workdir: Path) -> dict[str, float]:
    store = SQLiteStorage(workdir / "bundle-bench.sqlite3")
    await store.open()
    clock = [START]
    log = Log(store, Signer.generate("bench.example/log", bytes(32)), clock=lambda: clock[0], random_bytes=os.urandom)
    await log.start()
    policy_event = Event(
        "pol",
        "policy.adopted",
        "company",
        "2024-12-01T10:00:00+08:00",
        "bench",
        {
            "policy_id": "rules",
            "version": "1",
            "document_digest": "sha256:" + "ab" * 32,
            "effective_from": "2024-12-10",
            "democratic_procedure": "staff congress",
        },
    )
    clock[0] = datetime(2024, 12, 1, 3, tzinfo=UTC)
    await log.append([policy_event])
    events = _events(n - 1, history)
    started = time.perf_counter()
    for base in range(0, len(events), BATCH):
        batch = events[base : base + BATCH]
        clock[0] = datetime.fromisoformat(batch[-1].occurred_at) + timedelta(minutes=1)  # receipts follow the days
        await log.append(batch)
    await log.wait_for_checkpoint(n, timeout=120)
    fill_s = time.perf_counter() - started
    projector = Projector(DEFAULT_POLICY)  # the follower's projection, kept up to date beside the service
    from_seq = 0
    while page := await log.entries(from_seq=from_seq, limit=5000):
        projector.feed_all(page)
        from_seq = page[-1].seq + 1
    now = datetime(2026, 1, 5, tzinfo=UTC)
    figures = {"fill": fill_s}
    for label, proj in (("build (service)", projector), ("build (cli)", None)):
        started = time.perf_counter()
        bundle = await build_subject_bundle(
            log, subject="E1", start=date(2025, 1, 1), end=date(2025, 12, 31), now=now, projector=proj
        )
        figures[label] = time.perf_counter() - started
    started = time.perf_counter()
    result = verify_bundle(bundle, parse_vkey(log.signer.vkey), name="bench.zip")
    figures["verify"] = time.perf_counter() - started
    assert result.ok, result.failures[:3]
    figures["entries in the bundle"] = len(result.timeline)
    figures["zip MiB"] = len(bundle) / 2**20
    await log.stop()
    await store.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", type=int, default=100_000, help="entries in the log")
    parser.add_argument("--history", type=int, default=5_000, help="entries of the one employee")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = asyncio.run(run(args.log, args.history, Path(tmp)))
    print(f"log of {args.log:,} entries, an employee history of {args.history:,} (target: build and verify < 30 s)")
    print(f"  {'filling the log (not timed by the target)':<44}{figures['fill']:>8.1f} s")
    for label in ("build (service)", "build (cli)", "verify"):
        print(f"  {label:<44}{figures[label]:>8.2f} s   {'ok' if figures[label] < 30 else 'OVER 30 s'}")
    print(f"  {'entries in the bundle':<44}{figures['entries in the bundle']:>8,.0f}")
    print(f"  {'zip size':<44}{figures['zip MiB']:>8.2f} MiB")


if __name__ == "__main__":
    main()
