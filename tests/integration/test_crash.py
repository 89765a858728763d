"""Kill a writer with SIGKILL mid-append, reopen the store: consistent, nothing acknowledged lost."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from ledger.admin.datadir import init_datadir, load_datadir
from ledger.admin.fsck import fsck
from ledger.core import merkle
from tests.support.ledger import assert_acknowledged
from verifier.merkle import verify_consistency

ROOT = Path(__file__).resolve().parents[2]


def run_and_kill(data: Path, prefix: str, delay: float) -> dict[str, int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.crash_worker", str(data), prefix],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    out = proc.stdout.read()
    proc.stdout.close()
    proc.wait()
    acked: dict[str, int] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "ack":  # a line cut by the kill was never fully acknowledged
            acked[parts[1]] = int(parts[2])
    return acked


async def check_store(data: Path, acked: dict[str, int], previous_checkpoint_size: int) -> int:
    datadir = load_datadir(data)
    store = datadir.open_store()
    await store.open()
    try:
        await assert_acknowledged(store, acked)
        report = await fsck(store, datadir.signer().verifier())
        assert report.ok, report.problems
        checkpoints = await store.list_checkpoints()
        latest = checkpoints[-1] if checkpoints else None
        if latest is not None and previous_checkpoint_size:
            old = await store.get_checkpoint(previous_checkpoint_size)
            assert old is not None
            ranges = merkle.consistency_ranges(old.size, latest.size)
            proof = merkle.hash_ranges(ranges, await store.get_nodes(merkle.nodes_for_ranges(ranges)))
            verify_consistency(old.size, latest.size, old.root, latest.root, proof)
        return latest.size if latest else 0
    finally:
        await store.close()


def test_sigkill_mid_append_loses_nothing_acknowledged(tmp_path: Path) -> None:
    data = tmp_path / "data"
    init_datadir(data, origin="crash.example/log")
    rng = random.Random(int(os.environ.get("HRLEDGER_CRASH_SEED", "7")))
    all_acked: dict[str, int] = {}
    checkpoint_size = 0
    for round_ in range(5):
        acked = run_and_kill(data, f"r{round_}", rng.uniform(0.2, 0.8))
        assert acked, "the worker acknowledged nothing before the kill"
        all_acked.update(acked)
        checkpoint_size = asyncio.run(check_store(data, all_acked, checkpoint_size))
    seqs = sorted(all_acked.values())
    assert len(seqs) == len(set(seqs)), "two acknowledged events share a seq"
