"""Proofs at 10,000,000 entries, measured: the tree is built through the storage API, then proofs are timed.

    .venv/bin/python -m bench.proofs_at_scale [--size 10000000] [--batch 50000] [--proofs 2000] [--json]

The log is built directly through ``SQLiteStorage.append`` (the contract the sequencer uses: entries and the
perfect nodes ``merkle.append_leaves`` computes, one durable commit per batch, WAL, ``synchronous=FULL``)
with small synthetic leaves, so 10M entries take minutes rather than the hours real events through the
HTTP API would. At 1M, 2M, 5M and 10M entries (each a size actually reached, not projected) it times
``--proofs`` inclusion proofs of random seqs and as many consistency proofs from random earlier sizes,
read through ``ledger.log.proofs.Proofs`` as the service reads them (one tree-size read and one batched
node read each), verifies a sample against the root, and records the process's current RSS
(``/proc/self/statm``), to show it stays flat as the log grows. The database lives in a temporary
directory under /tmp and is deleted at the end (``--keep`` keeps it; ``--reuse DIR`` measures it again
without building). Each point also gives this thread's CPU time per inclusion proof (the work itself) and
the machine's load average, since on a shared machine the wall-clock tail is mostly waiting for a core.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from ledger.core import merkle
from ledger.core.records import StoredEntry
from ledger.log.proofs import Proofs
from ledger.storage.sqlite import SQLiteStorage
from verifier.merkle import verify_consistency, verify_inclusion

MARKS = (1_000_000, 2_000_000, 5_000_000, 10_000_000)


def _rss_mib() -> float:
    """Resident memory of this process now (not the peak)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _entries(start: int, count: int) -> list[StoredEntry]:
    """Synthetic committed entries: a small canonical-looking leaf, no data (the leaf is all a proof needs)."""
    out = []
    sha = hashlib.sha256
    for seq in range(start, start + count):
        leaf = b'{"seq":%d,"subject":"E%d","v":2}' % (seq, seq % 5000)
        out.append(
            StoredEntry(
                seq=seq,
                event_id=f"ev-{seq:010d}",
                type="attendance.clock_in",
                subject=f"E{seq % 5000}",
                occurred_at="2026-01-05T09:00:00+08:00",
                recorded_at="2026-01-05T01:00:00.000000Z",
                entry=leaf,
                leaf_hash=sha(b"\x00" + leaf).digest(),
                data=None,
                salt=None,
            )
        )
    return out


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": ordered[len(ordered) // 2] * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000,
        "max_ms": ordered[-1] * 1000,
    }


async def _measure(store: SQLiteStorage, size: int, root: bytes, leaves: dict[int, bytes], n: int) -> dict[str, Any]:
    """Time ``n`` inclusion and ``n`` consistency proofs at ``size`` and verify a sample."""
    proofs = Proofs(store)
    rng = random.Random(size)
    inclusion, consistency, cpu = [], [], []
    for i in range(n):
        seq = rng.randrange(size)
        started, cpu_started = time.perf_counter(), time.thread_time()
        path = await proofs.inclusion_proof(seq, size)
        inclusion.append(time.perf_counter() - started)
        cpu.append(time.thread_time() - cpu_started)
        if i < 50:
            leaf = leaves.get(seq) or (await store.get_entry(seq)).leaf_hash  # type: ignore[union-attr]
            verify_inclusion(leaf, seq, size, path, root)
    for i in range(n):
        first = rng.randrange(1, size)
        started = time.perf_counter()
        path = await proofs.consistency_proof(first, size)
        consistency.append(time.perf_counter() - started)
        if i < 50:
            verify_consistency(first, size, await proofs.root(first), root, path)
    return {
        "size": size,
        "inclusion": _percentiles(inclusion),
        "consistency": _percentiles(consistency),
        "inclusion_cpu": _percentiles(cpu),  # this thread's CPU time: the work, without the machine's queueing
        "load_average": round(os.getloadavg()[0], 2),
        "proof_hashes": len(path),
        "rss_mib": round(_rss_mib(), 1),
    }


async def remeasure(workdir: Path, n: int) -> dict[str, Any]:
    """Measure again on a tree a ``--keep`` run left (no building)."""
    store = SQLiteStorage(workdir / "proofs.sqlite3")
    await store.open()
    try:
        size = await store.tree_size()
        root = await Proofs(store).root(size)
        point = await _measure(store, size, root, {}, n)
        point["built_s"] = 0.0
        point["db_mib"] = round(sum(p.stat().st_size for p in workdir.iterdir()) / 2**20)
    finally:
        await store.close()
    return {"points": [point], "batch": 0, "proofs": n}


async def run(size: int, batch: int, n: int, workdir: Path) -> dict[str, Any]:
    """Build the tree to ``size``, measuring at each mark; returns every figure."""
    path = workdir / "proofs.sqlite3"
    store = SQLiteStorage(path)
    await store.open()
    marks = sorted({m for m in MARKS if m < size} | {size})
    frontier: dict[merkle.NodeId, bytes] = {}
    current, points, build_s = 0, [], 0.0
    sample: dict[int, bytes] = {}
    try:
        for mark in marks:
            started = time.perf_counter()
            while current < mark:
                entries = _entries(current, min(batch, mark - current))
                nodes, _ = merkle.append_leaves(current, frontier, [e.leaf_hash for e in entries])
                await store.append(entries, nodes, expected_size=current)
                current += len(entries)
                frontier = {n: nodes.get(n) or frontier[n] for n in merkle.root_nodes(current)}
            build_s += time.perf_counter() - started
            point = await _measure(store, current, merkle.root_from_nodes(current, frontier), sample, n)
            point["built_s"] = round(build_s, 1)
            point["db_mib"] = round(sum(p.stat().st_size for p in workdir.iterdir()) / 2**20)
            points.append(point)
            print(json.dumps(point), flush=True)
    finally:
        await store.close()
    return {"points": points, "batch": batch, "proofs": n}


def main() -> None:
    """Parse arguments, build, measure, clean up."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10_000_000)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--proofs", type=int, default=2000)
    parser.add_argument("--keep", action="store_true", help="keep the database (its directory is printed)")
    parser.add_argument("--reuse", type=Path, help="measure again on the tree a --keep run left there")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.reuse:
        report = asyncio.run(remeasure(args.reuse, args.proofs))
        print(json.dumps(report) if args.json else _table(report))
        return
    workdir = Path(tempfile.mkdtemp(prefix="hrledger-10m-", dir="/tmp"))
    try:
        report = asyncio.run(run(args.size, args.batch, args.proofs, workdir))
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(report) if args.json else _table(report))


def _table(report: dict[str, Any]) -> str:
    """The points as a text table."""
    lines = [
        f"{'entries':>12} {'incl p50':>9} {'incl p99':>9} {'cons p50':>9} {'cons p99':>9} {'cpu p99':>8} "
        f"{'RSS MiB':>8} {'DB MiB':>7} {'built s':>8} {'load':>5}"
    ]
    for p in report["points"]:
        lines.append(
            f"{p['size']:>12,} {p['inclusion']['p50_ms']:>9.3f} {p['inclusion']['p99_ms']:>9.3f} "
            f"{p['consistency']['p50_ms']:>9.3f} {p['consistency']['p99_ms']:>9.3f} "
            f"{p.get('inclusion_cpu', {}).get('p99_ms', float('nan')):>8.3f} {p['rss_mib']:>8.1f} "
            f"{p['db_mib']:>7} {p['built_s']:>8.1f} {p.get('load_average', float('nan')):>5}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
