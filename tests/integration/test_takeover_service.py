"""Two ``hrledger serve`` processes on one MongoDB store under load; the sequencer is SIGKILLed.

The clients behave as an HR system should: each event is posted until it is acknowledged, to whichever
process answers, moving on after a 503 or a dropped connection. The test then checks, from the store
itself, what the issue asks: the other process took over within the lease time, no acknowledged event
was lost or recorded twice, and the last checkpoint before the kill is consistent with the first after.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ledger.admin.datadir import init_datadir, load_datadir
from ledger.core import merkle
from ledger.core.records import StoredEntry
from ledger.core.wire import verify_checkpoint
from tests.support.api import ORIGIN, event, make_tokens, start_server
from tests.support.memtree import root_of_leaf_hashes
from tests.support.mongo_server import drop_database, fresh_uri
from verifier.merkle import verify_consistency

LEASE_TTL = 2.0
WORKERS = 8
TAKEOVER_SLACK = 1.0  # after the lease expires: B's next look, its reload, and one commit on nx-27017


@pytest.fixture
async def uri(mongo_uri: str) -> AsyncIterator[str]:
    u = fresh_uri(mongo_uri)
    yield u
    drop_database(u)


@dataclass
class Load:
    """What the clients saw: acknowledgements by event_id, and when each process first committed."""

    urls: list[str]
    headers: dict[str, str]
    acked: dict[str, int] = field(default_factory=dict)
    acked_by: dict[str, int] = field(default_factory=dict)  # url -> events acknowledged (created or replayed)
    replays: list[str] = field(default_factory=list)  # events acknowledged as 200: already recorded
    # url -> monotonic time of its first 201 since ``mark``: a replay (200) needs no lease, a new entry does
    first_commit_after: dict[str, float] = field(default_factory=dict)
    mark: float = 0.0
    unavailable: int = 0  # 503 answers (B while A holds the lease, or anyone during the takeover gap)
    dropped: int = 0  # connection errors (A's sockets at the kill, and A afterwards)
    stop: bool = False

    async def post_until_acked(self, session: aiohttp.ClientSession, events: list[dict[str, Any]], turn: int) -> None:
        body: dict[str, Any] = {"events": events} if len(events) > 1 else events[0]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            url = self.urls[turn % len(self.urls)]
            turn += 1
            try:
                async with session.post(f"{url}/v1/events", json=body) as resp:
                    if resp.status in (200, 201):
                        doc = await resp.json()
                        self._record(url, events, doc.get("results", [doc]), resp.status)
                        return
                    assert resp.status == 503, f"{resp.status}: {await resp.text()}"
                    assert resp.headers.get("Retry-After"), "a 503 must say when to retry"
                    self.unavailable += 1
            except (aiohttp.ClientConnectionError, TimeoutError):
                self.dropped += 1
            await asyncio.sleep(0.02)
        raise AssertionError(f"{[e['event_id'] for e in events]} not acknowledged within 30 s")

    def _record(self, url: str, events: list[dict[str, Any]], results: list[dict[str, Any]], status: int) -> None:
        for ev, result in zip(events, results, strict=True):
            seq = int(result["seq"])
            assert self.acked.setdefault(ev["event_id"], seq) == seq, f"{ev['event_id']} acknowledged at two seqs"
            if status == 200:
                self.replays.append(ev["event_id"])
        self.acked_by[url] = self.acked_by.get(url, 0) + len(events)
        if self.mark and status == 201 and url not in self.first_commit_after:
            self.first_commit_after[url] = time.monotonic()

    async def worker(self, session: aiohttp.ClientSession, k: int) -> None:
        i = 0
        while not self.stop:
            size = 10 if i % 4 == 0 else 1  # singles and small batches
            await self.post_until_acked(session, [event(f"w{k}-{i}-{j}") for j in range(size)], turn=k + i)
            i += 1


async def _entries(store: Any, size: int) -> list[StoredEntry]:
    entries: list[StoredEntry] = []
    while len(entries) < size:
        entries += await store.scan_entries(from_seq=len(entries), limit=1000)
    return entries


async def _is_sequencer(session: aiohttp.ClientSession, url: str) -> bool:
    """What /healthz tells a load balancer, and /metrics a monitor: whether this process takes writes now."""
    async with session.get(f"{url}/healthz") as resp:
        assert resp.status == 200
        health = bool((await resp.json())["sequencer"])
    async with session.get(f"{url}/metrics") as resp:
        gauge = f"hrledger_sequencer {1.0 if health else 0.0}" in (await resp.text()).splitlines()
    assert gauge, "/metrics and /healthz disagree"
    return health


async def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_sigkilled_service_is_replaced_within_the_lease_time(uri: str, tmp_path: Path) -> None:
    data = tmp_path / "d"
    init_datadir(data, origin=ORIGIN, store_uri=uri)
    tokens = await make_tokens(data)
    proc_a, url_a = await start_server(data, "--lease-ttl", str(LEASE_TTL))
    proc_b: asyncio.subprocess.Process | None = None
    drains: list[asyncio.Task[bytes]] = []
    try:
        drains.append(asyncio.create_task(proc_a.stderr.read()))  # type: ignore[union-attr]
        proc_b, url_b = await start_server(data, "--lease-ttl", str(LEASE_TTL))
        drains.append(asyncio.create_task(proc_b.stderr.read()))  # type: ignore[union-attr]
        load = Load([url_a, url_b], {"Authorization": f"Bearer {tokens['writer']}"})
        async with aiohttp.ClientSession(headers=load.headers, timeout=aiohttp.ClientTimeout(total=10)) as session:
            workers = [asyncio.create_task(load.worker(session, k)) for k in range(WORKERS)]
            try:
                # 1. A took the lease first and sequences; B answers writes with 503 + Retry-After.
                await _wait(lambda: load.acked_by.get(url_a, 0) >= 300, 60, "A to sequence under load")
                assert load.acked_by.get(url_b, 0) == 0 and load.unavailable > 0
                assert [await _is_sequencer(session, url) for url in (url_a, url_b)] == [True, False]
                auditor = {"Authorization": f"Bearer {tokens['auditor']}"}
                async with session.get(f"{url_b}/v1/entries/0", headers=auditor) as resp:
                    assert resp.status == 200  # B serves reads while A sequences
                async with session.get(f"{url_a}/v1/checkpoint", headers=auditor) as resp:
                    assert resp.status == 200
                    before_note = await resp.read()

                # 2. SIGKILL A mid-load: no release, no last checkpoint; its lease must expire.
                load.mark = time.monotonic()
                proc_a.send_signal(signal.SIGKILL)
                await proc_a.wait()
                await _wait(lambda: url_b in load.first_commit_after, 6 * LEASE_TTL, "B to take over")
                takeover = load.first_commit_after[url_b] - load.mark
                acked_at_takeover = load.acked_by[url_b]
                await _wait(lambda: load.acked_by[url_b] >= acked_at_takeover + 300, 60, "B to sequence under load")
                assert await _is_sequencer(session, url_b)
            finally:
                load.stop = True
                await asyncio.gather(*workers)  # every started event is posted until acknowledged
        proc_b.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc_b.wait(), 30) == 0
    finally:
        for proc in (proc_a, proc_b):
            if proc is not None and proc.returncode is None:
                proc.kill()
                await proc.wait()
        for drain in drains:
            with contextlib.suppress(Exception):
                await drain

    assert takeover <= LEASE_TTL + TAKEOVER_SLACK, f"B took over {takeover:.2f} s after the kill"

    datadir = load_datadir(data)
    store = datadir.open_store()
    await store.open()
    try:
        # 3. Nothing acknowledged lost, nothing recorded twice: the log holds each event_id once, at its acked seq.
        size = await store.tree_size()
        entries = await _entries(store, size)
        assert [e.seq for e in entries] == list(range(size))
        by_id = {e.event_id: e.seq for e in entries}
        assert len(by_id) == size, "an event_id is recorded twice"
        assert all(by_id.get(eid) == seq for eid, seq in load.acked.items())
        assert set(by_id) == set(load.acked)  # every event the clients started was acknowledged in the end

        # 4. Checkpoints stay consistent: from A's last before the kill to B's first after, and to B's last.
        verifier = datadir.signer().verifier()
        before = verify_checkpoint(before_note, verifier, origin=ORIGIN)
        after = await store.list_checkpoints(min_size=before.size + 1)
        assert after and after[-1].size == size  # B's SIGTERM signed everything
        assert after[-1].root == root_of_leaf_hashes([e.leaf_hash for e in entries])
        for newer in (after[0], after[-1]):
            new = verify_checkpoint(newer.note, verifier, origin=ORIGIN)
            ranges = merkle.consistency_ranges(before.size, new.size)
            proof = merkle.hash_ranges(ranges, await store.get_nodes(merkle.nodes_for_ranges(ranges)))
            verify_consistency(before.size, new.size, before.root, new.root, proof)
    finally:
        await store.close()
    print(
        f"takeover {takeover:.2f} s after SIGKILL (lease {LEASE_TTL} s); {size} entries; "
        f"{len(load.replays)} replays answered 200; {load.unavailable} 503s; {load.dropped} dropped connections"
    )
