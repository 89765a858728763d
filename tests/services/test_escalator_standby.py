"""Several processes on one MongoDB log: only the sequencer escalates and delivers notifications.

Two "processes" (each its own connection, lease, Log, notifier and escalator) share a database on the
MongoDB-wire server. While A holds the sequencer lease, B's escalation loop stands by without a failed
tick or a duplicate alert. A loses the lease with two deliveries pending (their receiver was down) and
stands down; B takes the lease, survives a store error while taking up the duty, delivers what A left
pending exactly once each, and escalates the next stage itself.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from ledger.admin.datadir import init_datadir, load_datadir
from ledger.core.notes import Signer
from ledger.domain import load_policy
from ledger.errors import StorageUnavailableError
from ledger.log import Log
from ledger.services.escalator import Escalator
from ledger.services.lease import Lease
from ledger.services.notify import WEBHOOK_KIND, Notifier
from ledger.storage.mongo import MongoStorage
from tests.support.escalator import DAYS, ORIGIN, Clock, Node, Receiver, scenario, stage_names
from tests.support.mongo_server import drop_database, fresh_uri


@dataclass
class Process:
    node: Node
    lease: Lease


class StartFailsOnce(Notifier):
    """The real notifier, whose first resume fails as a store does during a failover."""

    failed = False

    async def start(self) -> int:
        if not self.failed:
            self.failed = True
            raise StorageUnavailableError("mongodb list_records: not primary (simulated)")
        return await super().start()


async def _process(
    uri: str, signer: Signer, clock: Clock, policy_text: str, name: str, notifier_class: type[Notifier] = Notifier
) -> Process:
    store = MongoStorage(uri)
    await store.open()
    lease = Lease(store, holder=name, ttl=30)
    await lease.step()
    log = Log(store, signer, clock=clock, random_bytes=os.urandom, term=lease.current_term)
    await log.start()
    policy = load_policy(policy_text)
    notifier = notifier_class(
        store, policy, clock=clock, backoff=0.02, max_backoff=0.05, max_attempts=1000, active=log.is_sequencer
    )  # as api/contexts.py wires it
    escalator = Escalator(log, policy, clock=clock, notifier=notifier)
    await escalator.start()
    return Process(Node(store, log, escalator, notifier), lease)


async def _until(predicate: Callable[[], Awaitable[bool]], what: str, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def test_only_the_sequencer_escalates_and_a_new_one_delivers_what_the_old_left(
    tmp_path: Path, mongo_uri: str, receiver: Receiver
) -> None:
    uri = fresh_uri(mongo_uri)
    signer = load_datadir(init_datadir(tmp_path / "d", origin=ORIGIN, store_uri=uri).path).signer()
    clock = Clock()
    receiver.down = True
    policy = f'[webhook]\nurl = "{receiver.url}"\nsecret = "k"\n'
    a = await _process(uri, signer, clock, policy, "A")
    b = await _process(uri, signer, clock, policy, "B", StartFailsOnce)
    stop = asyncio.Event()
    loops: list[asyncio.Task[None]] = []
    try:
        assert a.node.log.is_sequencer() and not b.node.log.is_sequencer()
        assert a.node.escalator.on_duty and not b.node.escalator.on_duty
        await scenario(a.node)
        clock.set(f"{DAYS[2]} 12:00")  # reminder and hr_alert are due
        loops = [asyncio.create_task(p.node.escalator.run(stop, 0.02)) for p in (a, b)]

        async def two_stages_pending() -> bool:
            assert a.node.notifier is not None
            return len(await a.node.notifier.deliveries(WEBHOOK_KIND, status="pending")) == 2

        await _until(two_stages_pending, "A to escalate two stages with the receiver down")
        await _until(lambda: _ticks(b.node.escalator, 5), "B to stand by")
        assert b.node.escalator.stats.failed_ticks == 0 and b.node.escalator.stats.stage_events == 0
        assert not b.node.escalator.on_duty

        # A loses the lease but keeps running: its retries stop and leave the records pending, unwritten.
        await a.lease.release()
        assert a.node.notifier is not None
        await a.node.notifier.wait_idle(5)  # A's retry tasks wake from their backoff and stand down
        receiver.down = False
        assert await b.lease.step() and b.node.log.is_sequencer()

        async def delivered(n: int) -> bool:
            assert b.node.notifier is not None
            return len(await b.node.notifier.deliveries(WEBHOOK_KIND, status="delivered")) == n

        # B's first take-up fails (a store error); its next tick takes the duty up again.
        await _until(lambda: delivered(2), "B to deliver what A left pending")
        assert b.node.escalator.on_duty and b.node.escalator.stats.failed_ticks == 1
        assert not a.node.escalator.on_duty
        assert len(receiver.accepted) == len(set(receiver.accepted)) == 2, "an alert went twice"
        clock.set(f"{DAYS[3]} 12:00")  # lost_contact is due: B escalates it itself
        await _until(lambda: delivered(3), "B to escalate and deliver the next stage")
        assert await stage_names(b.node) == ["reminder", "hr_alert", "lost_contact"]
        assert len(receiver.accepted) == len(set(receiver.accepted)) == 3
        assert a.node.escalator.stats.failed_ticks == 0 and b.node.escalator.stats.failed_ticks == 1
    finally:
        stop.set()
        await asyncio.gather(*loops, return_exceptions=True)
        await a.node.close()
        await b.node.close()
        drop_database(uri)


async def _ticks(escalator: Escalator, n: int) -> bool:
    return escalator.stats.standby_ticks >= n
