"""One sequencer at a time: the lease rule, two leases on one store, and a SIGKILLed sequencer process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.admin.fsck import fsck
from ledger.core import merkle
from ledger.core.entries import Event
from ledger.core.notes import Signer
from ledger.core.records import StoredEntry
from ledger.core.wire import verify_checkpoint
from ledger.errors import StorageUnavailableError
from ledger.log import Log
from ledger.services.lease import Action, Lease, LeaseDoc, decide, next_term
from ledger.storage.mongo import MongoStorage, StaleTermConflict
from tests.support.conformance import make_entry
from tests.support.memtree import root_of_leaf_hashes
from tests.support.mongo_server import drop_database, fresh_uri, mongo_uri
from verifier.merkle import verify_consistency

__all__ = ["mongo_uri"]
ORIGIN = "takeover.example/log"
ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_decide() -> None:
    mine, theirs = LeaseDoc("me", 3, 5_000), LeaseDoc("other", 3, 5_000)
    assert decide(None, "me", 0) is Action.CREATE
    assert decide(mine, "me", 9_999) is Action.RENEW  # ours, even if expired: nobody took it, same term
    assert decide(theirs, "me", 4_999) is Action.WAIT
    assert decide(theirs, "me", 5_000) is Action.TAKE
    assert next_term(theirs, 0) == 4
    assert next_term(theirs, 7) == 8  # above any term the store has seen, even if the lease doc was reset
    assert next_term(None, 0) == 1


@pytest.fixture
async def uri(mongo_uri: str) -> AsyncIterator[str]:
    u = fresh_uri(mongo_uri)
    yield u
    drop_database(u)


@pytest.fixture
async def two(uri: str) -> AsyncIterator[tuple[MongoStorage, MongoStorage]]:
    """Two stores on one database, as two processes would have them."""
    sa, sb = MongoStorage(uri), MongoStorage(uri)
    await sa.open()
    await sb.open()
    yield sa, sb
    await sa.close()
    await sb.close()


async def test_one_holder_at_a_time_and_takeover_after_expiry(two: tuple[MongoStorage, MongoStorage]) -> None:
    sa, sb = two
    ca, cb = Clock(), Clock()
    a = Lease(sa, holder="A", ttl=3, clock=ca)
    b = Lease(sb, holder="B", ttl=3, clock=cb)
    assert await a.step() and a.current_term() == 1
    assert not await b.step() and not b.is_held()
    assert b.next_step_in == pytest.approx(3.05)  # B looks again just after A's lease would expire
    with pytest.raises(StorageUnavailableError):
        b.current_term()
    ca.now += 1
    cb.now += 1
    assert await a.step() and not await b.step()  # renewed: still A's
    cb.now += 3.5  # A stops renewing (paused); B's clock passes A's expiry
    assert await b.step() and b.current_term() == 2
    assert await sb.tree_size() == 0 and sb.observed_term == 2  # the head is fenced at term 2 already
    assert not await a.step() and not a.is_held()  # A wakes up: lost
    await b.release()
    assert await a.step() and a.current_term() == 3  # released: taken at once, with a new term


async def test_a_stale_holder_cannot_commit(two: tuple[MongoStorage, MongoStorage]) -> None:
    sa, sb = two
    ca, cb = Clock(), Clock()
    a = Lease(sa, holder="A", ttl=3, clock=ca)
    b = Lease(sb, holder="B", ttl=3, clock=cb)
    signer = Signer.generate(ORIGIN, bytes(32))
    log_a = Log(sa, signer, clock=lambda: datetime.now(UTC), random_bytes=os.urandom, term=a.current_term)
    assert await a.step()
    await log_a.start()
    ev = Event("before", "attendance.clock_in", "E1", "2026-01-05T09:00:00+08:00", "hr", {"method": "face"})
    assert (await log_a.append([ev]))[0].seq == 0
    cb.now += 4  # A is paused past its lease; its own clock still says it holds it
    assert await b.step() and b.term == 2
    late = make_entry(1, event_id="late")
    nodes, _ = merkle.append_leaves(1, await sa.get_nodes(merkle.root_nodes(1)), [late.leaf_hash])
    with pytest.raises(StaleTermConflict):  # whatever A believes, the store refuses its term
        await sa.append([late], nodes, expected_size=1, term=1)
    ev2 = Event("after", "attendance.clock_in", "E1", "2026-01-05T09:00:00+08:00", "hr", {"method": "face"})
    with pytest.raises(StorageUnavailableError):  # through the Log: refused, then it learns it lost the lease
        await log_a.append([ev2])
    assert not a.is_held()
    assert await sb.tree_size() == 1 and await sb.get_entries_by_event_id(["late", "after"]) == {}
    await log_a.stop()  # its last checkpoint is still published: signing needs no lease, only the tree


async def test_run_loops_hand_over_within_the_ttl(two: tuple[MongoStorage, MongoStorage]) -> None:
    sa, sb = two
    a, b = Lease(sa, holder="A", ttl=0.6), Lease(sb, holder="B", ttl=0.6)
    stop_a, stop_b = asyncio.Event(), asyncio.Event()
    run_a = asyncio.create_task(a.run(stop_a))
    await asyncio.sleep(0.1)
    run_b = asyncio.create_task(b.run(stop_b))
    await asyncio.sleep(0.8)  # several renewals
    assert a.is_held() and not b.is_held()
    run_a.cancel()  # A stops renewing without releasing (as if killed)
    stopped = time.monotonic()
    while not b.is_held():
        await asyncio.sleep(0.02)
        # B looks again just after A's expiry, not at its next ttl/3 tick: within the ttl plus round trips
        assert time.monotonic() - stopped < 0.6 + 0.25, "B did not take over within the lease time"
    assert b.term == 2 and not a.is_held()
    stop_b.set()
    await run_b


def _worker(uri: str, key: Path, name: str, out: Path, ttl: float) -> subprocess.Popen[bytes]:
    with open(out.with_suffix(".err"), "wb") as err:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.takeover_worker",
                "--uri",
                uri,
                "--key",
                str(key),
                "--name",
                name,
                "--out",
                str(out),
                "--ttl",
                str(ttl),
            ],
            cwd=ROOT,
            stderr=err,
            stdout=subprocess.DEVNULL,
        )


def _lines(path: Path, kind: str) -> list[list[str]]:
    if not path.exists():
        return []
    return [line.split()[1:] for line in path.read_text().splitlines() if line.startswith(kind + " ")]


async def _wait_for(predicate: object, timeout: float, what: str) -> float:
    started = time.monotonic()
    while not predicate():  # type: ignore[operator]
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_sigkilled_sequencer_is_replaced_and_nothing_acknowledged_is_lost(uri: str, tmp_path: Path) -> None:
    ttl = 2.0
    signer = Signer.generate(ORIGIN, os.urandom(32))
    key = tmp_path / "signing.key"
    key.write_text(signer.skey + "\n")
    out_a, out_b = tmp_path / "a.out", tmp_path / "b.out"
    proc_a = _worker(uri, key, "A", out_a, ttl)
    proc_b: subprocess.Popen[bytes] | None = None
    store = MongoStorage(uri)
    await store.open()
    try:
        await _wait_for(lambda: len(_lines(out_a, "ACK")) > 0, 20, "A to commit")
        proc_b = _worker(uri, key, "B", out_b, ttl)
        await _wait_for(lambda: len(_lines(out_a, "ACK")) > 300, 20, "A to commit under load")
        assert _lines(out_b, "HELD") == []  # B waits while A holds the lease
        before = await store.latest_checkpoint()
        assert before is not None
        proc_a.send_signal(signal.SIGKILL)
        proc_a.wait()
        took = await _wait_for(lambda: _lines(out_b, "HELD") != [], 3 * ttl, "B to take over")
        assert took < ttl + ttl / 3 + 1.0, f"takeover took {took:.2f}s with a {ttl}s lease"
        acked_a = len(_lines(out_b, "ACK"))
        await _wait_for(lambda: len(_lines(out_b, "ACK")) > acked_a + 300, 20, "B to commit under load")
        proc_b.send_signal(signal.SIGTERM)
        assert proc_b.wait(20) == 0, out_b.with_suffix(".err").read_text()
    finally:
        for p in (proc_a, proc_b):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()

    # No acknowledged event lost or duplicated: every ACK is in the log at its seq, each event_id once.
    size = await store.tree_size()
    entries: list[StoredEntry] = []
    while len(entries) < size:
        entries += await store.scan_entries(from_seq=len(entries), limit=1000)
    assert [e.seq for e in entries] == list(range(size))
    by_id = {e.event_id: e.seq for e in entries}
    assert len(by_id) == size
    acks = _lines(out_a, "ACK") + _lines(out_b, "ACK")
    assert acks and all(by_id.get(event_id) == int(seq) for event_id, seq in acks)
    assert {e for e, _ in _lines(out_b, "ACK")}.isdisjoint(e for e, _ in _lines(out_a, "ACK"))
    assert _lines(out_a, "HELD") == [["1"]] and _lines(out_b, "HELD") == [["2"]]
    assert await store.database.entries.count_documents({}) == size  # A's interrupted attempt was swept

    # Checkpoints stay consistent: from the last one before the kill to the first after it, and to the end.
    verifier = signer.verifier()
    root = root_of_leaf_hashes([e.leaf_hash for e in entries])
    after = [cp for cp in await store.list_checkpoints(min_size=before.size + 1)]
    assert after and after[-1].size == size and after[-1].root == root
    for older, newer in ((before, after[0]), (before, after[-1])):
        old_cp = verify_checkpoint(older.note, verifier, origin=ORIGIN)
        new_cp = verify_checkpoint(newer.note, verifier, origin=ORIGIN)
        ranges = merkle.consistency_ranges(older.size, newer.size)
        proof = merkle.hash_ranges(ranges, await store.get_nodes(merkle.nodes_for_ranges(ranges)))
        verify_consistency(older.size, newer.size, old_cp.root, new_cp.root, proof)
    # Seven subjects' chains run unbroken through the takeover: B's first prev of each came from A's commits.
    report = await fsck(store, verifier)
    assert report.ok, report.problems[:5]
    await store.close()


class FenceFailsOnce(MongoStorage):
    """The real store, whose first fence raises as a primary step-down would (StorageUnavailableError)."""

    failed = False

    async def fence(self, term: int) -> int:
        if not self.failed:
            self.failed = True
            raise StorageUnavailableError("mongodb fence: not primary (simulated step-down)")
        return await super().fence(term)


async def test_a_failed_fence_is_redone_before_the_lease_is_claimed(uri: str) -> None:
    store = FenceFailsOnce(uri)
    await store.open()
    try:
        lease = Lease(store, holder="A", ttl=3)
        assert not await lease.step()  # the lease document is ours, but the head is not fenced: not held
        assert not lease.is_held() and store.failed
        assert await lease.step()  # renewal of our own document fences first
        await store.tree_size()
        assert lease.current_term() == 1 and store.observed_term == 1
    finally:
        await store.close()
