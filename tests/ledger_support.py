"""Filling a real data directory (whichever store it names) through the Log, for CLI and fsck tests."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from ledger.datadir import load_datadir
from ledger.entries import Event
from ledger.log import Log


async def fill_ledger(data: Path, n: int, *, subject: str = "E1") -> None:
    """``n`` clock-ins, every other one ``subject``'s, in commits of 7 with a checkpoint after each
    (sizes 7, 14, 21, ... and ``n``)."""
    datadir = load_datadir(data)
    store = datadir.open_store()
    await store.open()
    log = Log(store, datadir.signer(), clock=lambda: datetime.now(UTC), random_bytes=os.urandom)
    await log.start()
    for i in range(0, n, 7):
        await log.append([Event(f"ev-{subject}-{k}", "attendance.clock_in", subject if k % 2 else "other",
                                "2026-01-05T09:00:00+08:00", "hr", {"method": "face", "k": k})
                          for k in range(i, min(n, i + 7))])
        await log.wait_for_checkpoint(min(n, i + 7))
    await log.stop()
    await store.close()
