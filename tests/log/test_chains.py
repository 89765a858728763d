"""What the sequencer writes into each v2 leaf from the committed state (``ledger.log.chains``): ``prev`` per
subject through group commits, concurrent requests, refused requests and another writer on the same store;
``recorded_at`` never going back; the 5-minute bound checked against the ``recorded_at`` written."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ledger.admin.fsck import fsck
from ledger.core.entries import AT_RECORDING, Event, parse_leaf
from ledger.core.notes import Signer
from ledger.errors import ConflictError, ValidationError
from ledger.log import Log
from ledger.storage.base import Storage
from ledger.storage.mongo import MongoStorage
from ledger.storage.sqlite import SQLiteStorage
from tests.support.mongo_server import drop_database, fresh_uri

SIGNER = Signer.generate("chains.example/log", bytes(range(32)))
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def event(i: int | str, subject: str = "E1", occurred_at: str = "2026-03-02T09:00:00+08:00", **data: object) -> Event:
    return Event(f"ev-{i}", "attendance.clock_in", subject, occurred_at, "hr", {"method": "face", **data})


class Clock:
    """A settable clock, so a test can move it backwards as a host's clock may be stepped."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def new_log(store: Storage, clock: Callable[[], datetime] | None = None) -> Log:
    return Log(store, SIGNER, clock=clock or Clock(), random_bytes=os.urandom)


async def leaves(store: Storage) -> list[dict[str, object]]:
    return [parse_leaf(e.entry) for e in await store.scan_entries(limit=100_000)]


def assert_chained(found: list[dict[str, object]]) -> None:
    """Every leaf's prev is the seq of its subject's previous leaf; recorded_at never decreases."""
    heads: dict[object, object] = {}
    for leaf in found:
        assert leaf["prev"] == heads.get(leaf["subject"]), leaf
        heads[leaf["subject"]] = leaf["seq"]
    stamps = [str(leaf["recorded_at"]) for leaf in found]
    assert stamps == sorted(stamps)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStorage]:
    s = SQLiteStorage(tmp_path / "chains.sqlite3")
    await s.open()
    yield s
    await s.close()


async def test_prev_runs_through_batches_commits_and_concurrent_requests(store: SQLiteStorage) -> None:
    log = new_log(store)
    await log.start()
    try:
        await log.append([event(0, "E1"), event(1, "E2"), event(2, "E1")])
        # Many requests gathered into a few group commits, several subjects each.
        await asyncio.gather(*(log.append([event(f"c{i}", f"E{i % 3}"), event(f"d{i}", "E1")]) for i in range(60)))
        assert log.stats.commits < 61
        await log.append([event(3, "E2")])
    finally:
        await log.stop()
    found = await leaves(store)
    assert [leaf["prev"] for leaf in found[:3]] == [None, None, 0]
    assert all(leaf["v"] == 2 for leaf in found)
    assert_chained(found)
    assert (await fsck(store, SIGNER.verifier())).ok


async def test_a_refused_request_in_a_commit_leaves_no_trace_in_the_chain(store: SQLiteStorage) -> None:
    log = new_log(store)
    await log.start()
    try:
        await log.append([event("x")])
        good1, bad, good2 = await asyncio.gather(
            log.append([event("a")]),
            log.append([event("b"), event("x", method="gps")]),  # "x" again with other content: refused whole
            log.append([event("c")]),
            return_exceptions=True,
        )
        assert isinstance(bad, ConflictError)
        assert not isinstance(good1, BaseException) and not isinstance(good2, BaseException)
    finally:
        await log.stop()
    found = await leaves(store)
    assert [leaf["event_id"] for leaf in found] == ["ev-x", "ev-a", "ev-c"]
    assert_chained(found)


async def test_recorded_at_never_goes_back_when_the_clock_does(store: SQLiteStorage) -> None:
    clock = Clock()
    log = new_log(store, clock)
    await log.start()
    try:
        [first] = await log.append([event(0)])
        clock.now = T0 - timedelta(hours=2)  # the host's clock is stepped back
        [second] = await log.append([event(1, occurred_at="2026-03-02T07:00:00+08:00")])
        clock.now = T0 + timedelta(seconds=1)
        [third] = await log.append([event(2)])
    finally:
        await log.stop()
    assert first.recorded_at == second.recorded_at == "2026-03-02T01:00:00.000000Z"
    assert third.recorded_at == "2026-03-02T01:00:01.000000Z"


async def test_the_five_minute_bound_is_checked_against_the_recorded_at_written(store: SQLiteStorage) -> None:
    clock = Clock()
    log = new_log(store, clock)
    await log.start()
    try:
        ok = "2026-03-02T09:05:00+08:00"  # exactly 5 minutes after T0
        late = "2026-03-02T09:05:00.000001+08:00"
        await log.append([event(0, occurred_at=ok)])
        with pytest.raises(ValidationError) as info:
            await log.append([event(1), event(2, occurred_at=late)])
        assert info.value.field == "events[1].occurred_at"
        assert "more than 5 minutes after the time the log records it (2026-03-02T01:00:00.000000Z)" in str(info.value)
        assert await store.tree_size() == 1  # nothing of the refused request was written
        # A clock behind the last recorded_at: the bound is measured from the recorded_at the leaf gets.
        clock.now = T0 - timedelta(minutes=10)
        await log.append([event(3, occurred_at=ok)])
        # hrledger's own entries occur when they are recorded.
        [own] = await log.append(
            [Event("own", "ledger.erased", "E1", AT_RECORDING, "hrledger", {"seqs": [0], "count": 1})]
        )
    finally:
        await log.stop()
    leaf = parse_leaf((await store.get_entry(own.seq)).entry)  # type: ignore[union-attr]
    assert leaf["occurred_at"] == leaf["recorded_at"] == own.recorded_at


async def test_two_writers_on_one_sqlite_file_keep_every_chain(tmp_path: Path) -> None:
    """Each writer's commits conflict with the other's; every retry recomputes prev from the tree it builds on."""
    file = tmp_path / "shared.sqlite3"
    sa, sb = SQLiteStorage(file), SQLiteStorage(file)
    await sa.open()
    await sb.open()
    a, b = new_log(sa), new_log(sb, Clock(T0 + timedelta(minutes=1)))  # B's clock runs ahead of A's
    await a.start()
    await b.start()
    try:
        for round_ in range(15):
            await asyncio.gather(
                *(a.append([event(f"a{round_}-{i}", f"E{i % 4}")]) for i in range(4)),
                *(b.append([event(f"b{round_}-{i}", f"E{(i + 1) % 4}")]) for i in range(4)),
            )
    finally:
        await a.stop()
        await b.stop()
    found = await leaves(sa)
    assert len(found) == 120
    assert_chained(found)
    report = await fsck(sa, SIGNER.verifier())
    assert report.ok, report.problems[:3]
    await sa.close()
    await sb.close()


async def test_two_writers_on_one_mongodb_database_keep_every_chain(mongo_uri: str) -> None:
    uri = fresh_uri(mongo_uri)
    sa, sb = MongoStorage(uri), MongoStorage(uri)
    await sa.open()
    await sb.open()
    a, b = new_log(sa), new_log(sb)
    await a.start()
    await b.start()
    try:
        for round_ in range(8):
            await asyncio.gather(
                *(a.append([event(f"a{round_}-{i}", f"E{i % 3}")]) for i in range(3)),
                *(b.append([event(f"b{round_}-{i}", f"E{i % 3}"), event(f"c{round_}-{i}", "E9")]) for i in range(3)),
            )
        found = await leaves(sa)
        assert len(found) == 72
        assert_chained(found)
        assert (await fsck(sa, SIGNER.verifier())).ok
    finally:
        await a.stop()
        await b.stop()
        await sa.close()
        await sb.close()
        drop_database(uri)
