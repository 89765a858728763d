"""Benchmark the log against pymerkle doing the same work (not a test; run on demand).

    .venv/bin/python -m bench.log_bench [--n 1000000] [--batch 1000] [--proofs 2000]

Each side runs in its own process so peak RSS is its own. Ours appends real events through the Log
(canonical JSON, salted digest, durable SQLite commit with tree nodes); pymerkle's SqliteTree appends the
same leaf bytes. Proof times are the mean over random indexes at the full size.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run_ours(n: int, batch: int, proofs: int, workdir: Path) -> dict[str, float]:
    from ledger.core.entries import Event
    from ledger.core.notes import Signer
    from ledger.log import Log
    from ledger.storage.sqlite import SQLiteStorage

    store = SQLiteStorage(workdir / "bench.sqlite3")
    await store.open()
    log = Log(
        store, Signer.generate("bench.example/log", bytes(32)), clock=lambda: datetime.now(UTC), random_bytes=os.urandom
    )
    await log.start()
    started = time.perf_counter()
    for base in range(0, n, batch):
        await log.append(
            [
                Event(
                    f"ev-{i}",
                    "attendance.clock_in",
                    f"E{i % 5000}",
                    "2026-01-05T09:00:00+08:00",
                    "bench",
                    {"method": "card", "location": "HQ gate 3"},
                )
                for i in range(base, min(n, base + batch))
            ]
        )
    append_s = time.perf_counter() - started
    await log.wait_for_checkpoint(n, timeout=60)
    rng = random.Random(1)
    started = time.perf_counter()
    for _ in range(proofs):
        await log.inclusion_proof(rng.randrange(n), n)
    incl = (time.perf_counter() - started) / proofs
    started = time.perf_counter()
    for _ in range(proofs):
        await log.consistency_proof(rng.randrange(1, n), n)
    cons = (time.perf_counter() - started) / proofs
    await log.stop()
    await store.close()
    return {
        "append_s": append_s,
        "appends_per_s": n / append_s,
        "inclusion_ms": incl * 1e3,
        "consistency_ms": cons * 1e3,
        "peak_rss_mb": _rss_mb(),
    }


def run_pymerkle(n: int, batch: int, proofs: int, workdir: Path) -> dict[str, float]:
    from pymerkle import SqliteTree

    tree = SqliteTree(str(workdir / "pymerkle.db"), algorithm="sha256")
    started = time.perf_counter()
    for base in range(0, n, batch):
        tree.append_entries(
            [json.dumps({"seq": i, "subject": f"E{i % 5000}"}).encode() for i in range(base, min(n, base + batch))]
        )
    append_s = time.perf_counter() - started
    rng = random.Random(1)
    count = max(1, proofs // 20)  # pymerkle recomputes subtrees; fewer rounds keep the run bounded
    started = time.perf_counter()
    for _ in range(count):
        tree.prove_inclusion(rng.randrange(1, n + 1), n)  # pymerkle indexes leaves from 1
    incl = (time.perf_counter() - started) / count
    started = time.perf_counter()
    for _ in range(count):
        tree.prove_consistency(rng.randrange(1, n), n)
    cons = (time.perf_counter() - started) / count
    tree.con.close()
    return {
        "append_s": append_s,
        "appends_per_s": n / append_s,
        "inclusion_ms": incl * 1e3,
        "consistency_ms": cons * 1e3,
        "peak_rss_mb": _rss_mb(),
    }


def child(side: str, n: int, batch: int, proofs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        result = (
            asyncio.run(run_ours(n, batch, proofs, Path(tmp)))
            if side == "ours"
            else run_pymerkle(n, batch, proofs, Path(tmp))
        )
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--proofs", type=int, default=2000)
    parser.add_argument("--side", choices=["ours", "pymerkle"])
    args = parser.parse_args()
    if args.side:
        child(args.side, args.n, args.batch, args.proofs)
        return
    results = {}
    for side in ("ours", "pymerkle"):
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.log_bench",
                "--side",
                side,
                "--n",
                str(args.n),
                "--batch",
                str(args.batch),
                "--proofs",
                str(args.proofs),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results[side] = json.loads(out.strip().splitlines()[-1])
    ours, theirs = results["ours"], results["pymerkle"]
    print(f"log benchmark: {args.n:,} entries in batches of {args.batch}, SQLite on this machine")
    print(f"{'metric':<28}{'hrledger':>14}{'pymerkle':>14}{'ratio':>10}")
    rows = [
        ("appends/s", "appends_per_s", True),
        ("append total s", "append_s", False),
        ("inclusion proof ms", "inclusion_ms", False),
        ("consistency proof ms", "consistency_ms", False),
        ("peak RSS MiB", "peak_rss_mb", False),
    ]
    for label, key, higher_better in rows:
        a, b = ours[key], theirs[key]
        ratio = (a / b) if higher_better else (b / a if a else float("inf"))
        print(f"{label:<28}{a:>14,.3f}{b:>14,.3f}{ratio:>9.2f}x")
    print("ratio: how many times better hrledger is on that line (>1 = hrledger better)")


if __name__ == "__main__":
    main()
