"""The Log beside another writer on the same store (a second node, a CLI erase): the sequencer survives
a failing store right after a conflict, and a publisher racing another process's checkpoint raises no
false alarm. Two real SQLite connections on one file play the two processes."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.core.entries import Event
from ledger.core.notes import Signer
from ledger.errors import StorageUnavailableError
from ledger.log import Log
from ledger.storage.sqlite import SQLiteStorage

ORIGIN = "two.example/log"
SIGNER = Signer.generate(ORIGIN, bytes(range(32)))


def event(i: int) -> Event:
    return Event(f"e{i}", "attendance.clock_in", "E1", "2026-01-05T09:00:00+08:00", "hr", {"method": "face"})


class Flaky(SQLiteStorage):
    """The real store; ``fail_next_size`` makes the next tree_size fail once (a network blip, a step-down)."""

    fail_next_size = False

    async def tree_size(self) -> int:
        if self.fail_next_size:
            self.fail_next_size = False
            raise StorageUnavailableError("tree_size: connection reset (simulated)")
        return await super().tree_size()


class Interleaved(SQLiteStorage):
    """The real store; once armed, runs ``between`` right after the first of tree_size or latest_checkpoint
    returns, i.e. between the two reads a publisher makes."""

    between: Callable[[], Awaitable[None]] | None = None

    async def _then(self) -> None:
        if self.between is not None:
            between, self.between = self.between, None
            await between()

    async def tree_size(self) -> int:
        size = await super().tree_size()
        await self._then()
        return size

    async def latest_checkpoint(self):  # type: ignore[no-untyped-def]
        latest = await super().latest_checkpoint()
        await self._then()
        return latest


def new_log(store: SQLiteStorage) -> Log:
    return Log(store, SIGNER, clock=lambda: datetime.now(UTC), random_bytes=os.urandom)


@pytest.fixture
async def file(tmp_path: Path) -> AsyncIterator[Path]:
    yield tmp_path / "shared.sqlite3"


async def test_a_failing_reload_after_a_conflict_fails_the_batch_not_the_sequencer(file: Path) -> None:
    store, other = Flaky(file), SQLiteStorage(file)
    await store.open()
    await other.open()
    log, writer = new_log(store), new_log(other)
    await log.start()
    await writer.start()
    try:
        assert (await log.append([event(0)]))[0].seq == 0
        assert (await writer.append([event(1)]))[0].seq == 1  # the tree moved under log: its next commit conflicts
        store.fail_next_size = True  # ... and the store fails just as it reloads
        with pytest.raises(StorageUnavailableError, match="connection reset"):
            await asyncio.wait_for(log.append([event(2)]), 5)
        # The sequencer is alive: the same request, retried, commits after the other writer's entry.
        assert (await asyncio.wait_for(log.append([event(2)]), 5))[0].seq == 2
        assert (await asyncio.wait_for(log.append([event(3)]), 5))[0].seq == 3
    finally:
        await writer.stop()
        await log.stop()
        await other.close()
        await store.close()


async def test_a_checkpoint_published_between_a_publishers_reads_is_no_integrity_alarm(file: Path) -> None:
    ours, theirs = Interleaved(file), SQLiteStorage(file)
    await ours.open()
    await theirs.open()
    log, other = new_log(ours), new_log(theirs)
    await log.start()
    await other.start()
    try:
        await other.append([event(0)])
        await other.wait_for_checkpoint(1)
        assert (await log.publish_checkpoint()) is not None  # covers size 1 already

        async def other_commits_and_publishes() -> None:
            await other.append([event(1)])
            await other.wait_for_checkpoint(2)

        ours.between = other_commits_and_publishes
        checkpoint = await log.publish_checkpoint()
        assert ours.between is None, "the interleaving did not run"
        assert checkpoint is not None and checkpoint.size == 2
        stored = await theirs.get_checkpoint(2)
        assert stored is not None and checkpoint.root == stored.root
        assert log.publish_error is None
    finally:
        await other.stop()
        await log.stop()
        await theirs.close()
        await ours.close()
