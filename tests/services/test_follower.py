"""The projection follower: a tracked position, this process's commits fed in memory, everything else read
back from the store, a rebuild when out of step, and reads that never wait for an escalation tick."""

from __future__ import annotations

import asyncio
from pathlib import Path

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
        stranger.projector._event_ids["E1001-L1-ok"] = 7  # what it applied at seq 2 was something else
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
