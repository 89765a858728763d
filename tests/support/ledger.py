"""Filling a real data directory (whichever store it names) through the Log, and checking that a store still
holds what was acknowledged, for the CLI, fsck and crash tests."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from ledger.admin.datadir import load_datadir
from ledger.core.entries import Event
from ledger.log import Log
from ledger.storage.base import Storage


async def fill_ledger(data: Path, n: int, *, subject: str = "E1") -> None:
    """``n`` clock-ins, every other one ``subject``'s, in commits of 7 with a checkpoint after each
    (sizes 7, 14, 21, ... and ``n``)."""
    datadir = load_datadir(data)
    store = datadir.open_store()
    await store.open()
    log = Log(store, datadir.signer(), clock=lambda: datetime.now(UTC), random_bytes=os.urandom)
    await log.start()
    for i in range(0, n, 7):
        await log.append(
            [
                Event(
                    f"ev-{subject}-{k}",
                    "attendance.clock_in",
                    subject if k % 2 else "other",
                    "2026-01-05T09:00:00+08:00",
                    "hr",
                    {"method": "face", "k": k},
                )
                for k in range(i, min(n, i + 7))
            ]
        )
        await log.wait_for_checkpoint(min(n, i + 7))
    await log.stop()
    await store.close()


async def assert_acknowledged(store: Storage, acked: Mapping[str, int]) -> None:
    """Every acknowledged event_id is in the store, at the seq it was acknowledged with."""
    found = await store.get_entries_by_event_id(list(acked))
    lost = [eid for eid in acked if eid not in found]
    assert not lost, f"acknowledged events lost: {lost[:5]}"
    moved = {eid: (seq, found[eid].seq) for eid, seq in acked.items() if found[eid].seq != seq}
    assert not moved, f"acknowledged events at another seq (acked, stored): {list(moved.items())[:5]}"
