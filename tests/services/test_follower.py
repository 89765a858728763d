"""The projection follower: a tracked position, this process's commits fed in memory, everything else read
back from the store, a rebuild when out of step, and reads that never wait for an escalation tick."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from ledger.core.records import StoredEntry
from ledger.domain import DEFAULT_POLICY
from ledger.domain.escalation import escalations_due
from ledger.services.follower import ProjectionFollower
from tests.support.escalator import Clock, new_datadir, open_node, scenario


async def test_own_commits_are_fed_in_memory_and_never_read_back(tmp_path: Path) -> None:
    node = await open_node(new_datadir(tmp_path).path, Clock())
    try:
        follower = node.escalator.follower
        before = follower.stats.read_back
        await scenario(node)  # three entries through this process's log
        assert follower.position == 2  # applied at commit time, before any catch_up
        assert await follower.catch_up() == 0
        assert follower.stats.read_back == before and follower.stats.from_commits == 3
    finally:
        await node.close()


async def test_a_commit_applied_while_the_size_is_read_is_no_gap(tmp_path: Path) -> None:
    """A read's catch-up holds the log's size while this process commits and feeds the projection in memory:
    the position is then past that size, which must not be taken for another history (a rebuild per read)."""
    clock = Clock()
    node = await open_node(new_datadir(tmp_path).path, clock)
    try:
        await scenario(node)
        clock.set("2025-09-20 12:00")  # the events below are not ahead of their receipt
        follower = node.escalator.follower
        real_size = node.log.tree_size
        size_read, resume = asyncio.Event(), asyncio.Event()

        async def size_then_pause() -> int:
            size = await real_size()
            size_read.set()
            await resume.wait()
            return size

        node.log.tree_size = size_then_pause  # type: ignore[method-assign]
        catching_up = asyncio.create_task(follower.catch_up())
        await size_read.wait()
        await node.add("attendance.clock_in", "2025-09-20 09:00", {"method": "face"})  # fed in memory meanwhile
        resume.set()
        assert await catching_up == 0
        assert follower.stats.rebuilds == 0 and follower.position == 3 and follower.stats.read_back == 0
    finally:
        await node.close()


async def test_a_late_commit_listener_while_a_page_is_read_is_no_gap(tmp_path: Path) -> None:
    """A read saw the size of a commit whose listener had not run yet, and reads the entry back; the listener
    runs while the page is in flight and moves the position past the page's end, which is no gap either."""
    clock = Clock()
    node = await open_node(new_datadir(tmp_path).path, clock)
    try:
        await scenario(node)
        clock.set("2025-09-20 12:00")  # the events below are not ahead of their receipt
        follower = node.escalator.follower
        follower.close()  # this commit's listener call is held back, as between the commit and its callback
        seq = await node.add("attendance.clock_in", "2025-09-20 09:00", {"method": "face"})
        late = await node.store.get_entry(seq)
        assert late is not None and follower.position == seq - 1
        node.log.add_commit_listener(follower._committed)
        real_entries = node.log.entries
        page_read, resume = asyncio.Event(), asyncio.Event()

        async def entries_then_pause(**kwargs: Any) -> list[StoredEntry]:
            page = await real_entries(**kwargs)
            page_read.set()
            await resume.wait()
            return page

        node.log.entries = entries_then_pause  # type: ignore[method-assign]
        catching_up = asyncio.create_task(follower.catch_up())
        await page_read.wait()
        follower._committed([late])  # the held-back listener call arrives now
        resume.set()
        await catching_up
        assert follower.stats.rebuilds == 0 and follower.position == seq
    finally:
        await node.close()


async def test_facts_fed_from_a_commit_equal_the_facts_read_back(tmp_path: Path) -> None:
    """In memory the facts come from the request's parsed events; they must equal what the store gives back,
    floats included (RFC 8785 stores 1.0 as 1)."""
    clock = Clock()
    node = await open_node(new_datadir(tmp_path).path, clock)
    try:
        await scenario(node)
        clock.set("2025-09-20 12:00")  # the events below are not ahead of their receipt
        await node.add("custom.reading", "2025-09-20 09:00", {"value": 1.0, "half": 0.5, "n": [1, {"x": 2.0}]})
        await node.add("custom.note", "2025-09-20 10:00", {"text": "plain", "n": 3, "ok": True, "none": None})
        follower = node.escalator.follower
        assert follower.stats.read_back == 0
        rebuilt = ProjectionFollower(node.log, DEFAULT_POLICY)
        rebuilt.close()
        await rebuilt.catch_up()
        as_of = Clock().set("2025-10-01 12:00")
        mine, theirs = follower.projector.facts("E1001", as_of), rebuilt.projector.facts("E1001", as_of)
        assert mine == theirs and len(mine) == 5
        assert [json.dumps(f.data) for f in mine] == [json.dumps(f.data) for f in theirs]  # 1 stays 1, not 1.0
    finally:
        await node.close()


async def test_another_writers_entries_are_read_back(tmp_path: Path) -> None:
    dd = new_datadir(tmp_path)
    clock = Clock()
    node = await open_node(dd.path, clock)
    other = await open_node(dd.path, clock)  # another process (e.g. hrledger erase run beside the service)
    try:
        follower = node.escalator.follower
        assert await follower.catch_up() == 0 and follower.position == -1
        await scenario(other)
        assert follower.position == -1  # nothing told this process
        assert await follower.catch_up() == 3 and follower.position == 2 and follower.stats.read_back == 3
        # then one of ours on top of theirs: a gap first, so ours waits until theirs is read back
        clock.set("2025-09-20 09:00")  # (the sequencer records no event as occurring after its receipt)
        await other.add("attendance.clock_out", "2025-09-19 18:00", {"method": "face"})
        await node.add("attendance.clock_in", "2025-09-20 09:00", {"method": "face"})
        await follower.catch_up()
        facts = follower.projector.facts("E1001", clock.set("2025-09-21 12:00"))
        assert follower.position == 4 and [(f.seq, f.type) for f in facts][-2:] == [
            (3, "attendance.clock_out"),
            (4, "attendance.clock_in"),
        ]
    finally:
        await node.close()
        await other.close()


async def test_a_gap_is_read_back_without_waiting_for_a_reader(tmp_path: Path) -> None:
    dd = new_datadir(tmp_path)
    clock = Clock()
    node = await open_node(dd.path, clock)
    other = await open_node(dd.path, clock)
    try:
        follower = node.escalator.follower
        await scenario(other)
        clock.set("2025-09-20 09:00")
        await node.add("attendance.clock_in", "2025-09-20 09:00", {"method": "face"})  # ours, after their three
        for _ in range(100):  # the commit listener kicked a catch-up of its own
            if follower.position == 3:
                break
            await asyncio.sleep(0.01)
        assert follower.position == 3
    finally:
        await node.close()
        await other.close()


async def test_an_out_of_step_projection_is_rebuilt(tmp_path: Path) -> None:
    dd = new_datadir(tmp_path)
    clock = Clock()
    node = await open_node(dd.path, clock)
    try:
        await scenario(node)
        follower = node.escalator.follower
        follower.projector.position = 99  # a corrupted position
        assert await follower.catch_up() == 3 and follower.stats.rebuilds == 1 and follower.position == 2
        # a projection built from another log (other event ids at the same seqs) is detected and rebuilt
        stranger = ProjectionFollower(node.log, DEFAULT_POLICY)
        stranger.projector.feed_all(await node.store.scan_entries(limit=3))
        timeline = stranger.projector._subjects["E1001"]  # what it applied at seq 2 was something else
        at = next(i for i, f in enumerate(timeline.facts) if f.seq == 2)
        timeline.facts[at] = replace(timeline.facts[at], event_id="from-another-log")
        stranger.close()  # it does not hear the next commit: it must find it in the store
        clock.set("2025-09-19 18:00")
        await node.add("attendance.clock_out", "2025-09-19 18:00", {"method": "face"})
        await stranger.catch_up()
        assert stranger.stats.rebuilds == 1 and stranger.position == 3
    finally:
        await node.close()


async def test_reads_never_wait_for_an_escalation_tick(tmp_path: Path) -> None:
    clock = Clock()
    node = await open_node(new_datadir(tmp_path).path, clock)
    try:
        await scenario(node)
        clock.set("2025-09-20 09:00")
        async with node.escalator._lock:  # as a long tick holds it
            await node.add("attendance.clock_in", "2025-09-20 09:00", {"method": "face"})
            assert await asyncio.wait_for(node.escalator.follower.catch_up(), 1) == 0
            assert node.escalator.follower.position == 3
    finally:
        await node.close()


async def test_the_decisions_of_one_tick_go_in_one_commit(tmp_path: Path) -> None:
    clock = Clock()
    node = await open_node(new_datadir(tmp_path).path, clock)
    try:
        await scenario(node)
        clock.set("2025-10-13 12:00")  # four stages are due at once
        assert await node.escalator.ensure_calendar([2025])
        due = escalations_due(node.escalator.projector, clock()).decisions
        assert len(due) == 4
        commits = node.log.stats.commits
        result = await node.escalator.record(due)
        assert len(result.appended) == 4 and node.log.stats.commits == commits + 1
    finally:
        await node.close()
