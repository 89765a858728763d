"""A writer to be killed: appends batches through the Log and prints each acknowledged event as
``ack <event_id> <seq>`` only after the durable commit returned."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from ledger.admin.datadir import load_datadir
from ledger.core.entries import Event
from ledger.log import Log


async def main(data: Path, prefix: str) -> None:
    datadir = load_datadir(data)
    store = datadir.open_store()
    await store.open()
    log = Log(store, datadir.signer(), clock=lambda: datetime.now(UTC), random_bytes=os.urandom)
    await log.start()
    print("ready", flush=True)

    async def writer(w: int) -> None:
        for i in range(1_000_000):
            events = [
                Event(
                    f"{prefix}-{w}-{i}-{k}",
                    "attendance.clock_in",
                    f"E{w}",
                    "2026-01-05T09:00:00+08:00",
                    "crash-test",
                    {"method": "card", "i": i},
                )
                for k in range(1 + i % 5)
            ]
            results = await log.append(events)
            sys.stdout.write("".join(f"ack {e.event_id} {r.seq}\n" for e, r in zip(events, results, strict=True)))
            sys.stdout.flush()

    await asyncio.gather(*(writer(w) for w in range(8)))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2]))
