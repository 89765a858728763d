"""Seconds to build and to verify evidence bundles of 1k, 10k and 100k entries (not a test).

    .venv/bin/python -m bench.bundle_bench [--sizes 1000,10000,100000]

Each size gets a fresh SQLite log holding that many entries of one employee (plus one policy adoption);
building includes gathering every inclusion proof from the store, the builder's own verification and the
report; verifying is the standalone verifier on the zip bytes.
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
from ledger.log import Log
from ledger.services.evidence import build_subject_bundle
from ledger.storage.sqlite import SQLiteStorage
from verifier.check import verify_bundle
from verifier.note import parse_vkey

START = datetime(2025, 1, 1, 1, tzinfo=UTC)


async def one(n: int, workdir: Path) -> tuple[float, float, int]:
    store = SQLiteStorage(workdir / f"b{n}.sqlite3")
    await store.open()
    log = Log(
        store, Signer.generate("bench.example/log", bytes(32)), clock=lambda: datetime.now(UTC), random_bytes=os.urandom
    )
    await log.start()
    await log.append(
        [
            Event(
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
        ]
    )
    step = timedelta(days=365) / n
    for base in range(0, n, 1000):
        await log.append(
            [
                Event(f"e{i}", "attendance.clock_in", "E1", (START + step * i).isoformat(), "bench", {"method": "card"})
                for i in range(base, min(n, base + 1000))
            ]
        )
    await log.wait_for_checkpoint(n + 1, timeout=60)
    started = time.perf_counter()
    bundle = await build_subject_bundle(
        log, subject="E1", start=date(2025, 1, 1), end=date(2025, 12, 31), now=datetime.now(UTC)
    )
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    result = verify_bundle(bundle, parse_vkey(log.signer.vkey), name="bench.zip")
    verify_s = time.perf_counter() - started
    assert result.ok, result.failures[:3]
    await log.stop()
    await store.close()
    return build_s, verify_s, len(bundle)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    print(f"{'entries':>9}{'build s':>10}{'verify s':>10}{'zip MiB':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            build_s, verify_s, size = asyncio.run(one(n, Path(tmp)))
            print(f"{n:>9,}{build_s:>10.2f}{verify_s:>10.2f}{size / 2**20:>10.2f}", flush=True)


if __name__ == "__main__":
    main()
