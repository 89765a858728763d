"""A sequencer process for tests/integration/test_takeover.py: Log + Lease on one MongoDB, appending under load.

Writes one line per fact to --out (flushed at once, so a SIGKILL loses nothing already reported):
``HELD <term>`` when it becomes the sequencer, ``ACK <event_id> <seq>`` for every acknowledged event.

    python -m tests.support.takeover_worker --uri URI --key FILE --name A --out FILE [--ttl 2] [--writers 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from api.server import set_on_shutdown_signals
from ledger.core.entries import Event
from ledger.core.notes import Signer
from ledger.errors import LedgerError
from ledger.log import Log
from ledger.services.lease import Lease
from ledger.storage.mongo import MongoStorage


def _event(event_id: str, n: int) -> Event:
    return Event(
        event_id, "attendance.clock_in", f"E{n % 7}", "2026-01-05T09:00:00+08:00", "takeover-test", {"method": "face"}
    )


async def main(args: argparse.Namespace) -> None:
    out: TextIO = open(args.out, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    set_on_shutdown_signals(loop, stop)  # SIGTERM ends the worker cleanly
    store = MongoStorage(args.uri)
    await store.open()
    lease = Lease(store, holder=args.name, ttl=args.ttl)
    signer = Signer.from_skey(Path(args.key).read_text(encoding="utf-8").strip())
    log = Log(store, signer, clock=lambda: datetime.now(UTC), random_bytes=os.urandom, term=lease.current_term)
    lease_task = asyncio.create_task(lease.run(stop))
    await log.start()

    async def announce() -> None:
        reported = 0
        while not stop.is_set():
            if lease.is_held() and lease.term != reported:
                reported = lease.term
                out.write(f"HELD {reported}\n")
            await asyncio.sleep(0.02)

    async def writer(w: int) -> None:
        n = 0
        while not stop.is_set():
            batch = [_event(f"{args.name}-{w}-{n + i}", n + i) for i in range(args.batch)]
            while not stop.is_set():
                if not lease.is_held():
                    await asyncio.sleep(0.02)
                    continue
                try:
                    results = await log.append(batch)
                except LedgerError:
                    await asyncio.sleep(0.02)  # not the sequencer (any more): the same events again later
                    continue
                out.write("".join(f"ACK {e.event_id} {r.seq}\n" for e, r in zip(batch, results, strict=True)))
                break
            n += args.batch

    tasks = [asyncio.create_task(announce())] + [asyncio.create_task(writer(w)) for w in range(args.writers)]
    await stop.wait()
    await asyncio.gather(*tasks, return_exceptions=True)
    await log.stop()
    await lease_task
    await lease.release()
    await store.close()
    out.write("STOPPED\n")
    out.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--uri", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--ttl", type=float, default=2.0)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=5)
    asyncio.run(main(parser.parse_args()))
