"""The escalation scheduler against a real SQLite log: exactly one stage event per case and stage,
day by day, across racing evaluators and restarts; backfilled facts taken into account."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from ledger.domain import escalations_due
from tests.support.escalator import CASE, DAYS, STAGE_AT, Clock, new_datadir, open_node, scenario, stage_names


async def test_walks_a_case_day_by_day_one_event_per_stage(tmp_path: Path) -> None:
    dd = new_datadir(tmp_path)
    clock = Clock()
    node = await open_node(dd.path, clock)
    try:
        await scenario(node)
        clock.set("2025-10-09 10:59")
        assert (await node.escalator.tick()).appended == []  # 09:00 + 2 h grace not over yet
        expected: list[str] = []
        for day, date in DAYS.items():
            clock.set(f"{date} 12:00")
            result = await node.escalator.tick()
            expected.append(STAGE_AT[day])
            assert len(result.appended) == 1, (day, result)
            assert await stage_names(node) == expected
            again = await node.escalator.tick()  # a second evaluation the same day changes nothing
            assert again.appended == [] and again.existing == 0
        stages = await node.stages()
        data = [json.loads(e.data or b"{}") for e in stages]
        assert [d["overdue_days"] for d in data] == [1, 2, 3, 4, 8]
        assert [d["reached_on"] for d in data] == list(DAYS.values())  # the rule's date, in the data
        assert all(e.occurred_at == e.recorded_at for e in stages)  # hrledger's own entries occur when recorded
        assert all(e.event_id == f"escalation/{CASE}/{d['stage']}" for e, d in zip(stages, data, strict=True))
        assert all(d["policy_digest"] == node.escalator.policy.digest and d["basis"] for d in data)
        case = node.escalator.projector.case(CASE, clock())
        assert case is not None and [s["seq"] for s in case["stages"]] == [e.seq for e in stages]
    finally:
        await node.close()


async def test_a_late_first_tick_appends_every_stage_reached_with_its_own_date(tmp_path: Path) -> None:
    dd = new_datadir(tmp_path)
    clock = Clock()
    node = await open_node(dd.path, clock)
    try:
        await scenario(node)
        clock.set("2025-10-20 08:00")  # the service was down for a week and a half
        result = await node.escalator.tick()
        assert len(result.appended) == 5
        stages = await node.stages()
        assert [json.loads(e.data or b"{}")["reached_on"] for e in stages] == list(DAYS.values())
        assert {e.occurred_at for e in stages} == {e.recorded_at for e in stages}  # noticed late, said so
        # as_of before the late tick: every stage was reached, none recorded yet
        case = node.escalator.projector.case(CASE, clock.set("2025-10-19 12:00"))
        assert case is not None and [s["status"] for s in case["stages"]] == ["due"] * 5
    finally:
        await node.close()


async def test_two_escalators_on_one_store_append_each_stage_once(tmp_path: Path) -> None:
    dd = new_datadir(tmp_path)
    clock = Clock()
    a = await open_node(dd.path, clock)
    b = await open_node(dd.path, clock)  # a second "process": its own connection, Log and projector
    try:
        await scenario(a)
        for date in DAYS.values():
            clock.set(f"{date} 12:00")
            ra, rb = await asyncio.gather(a.escalator.tick(), b.escalator.tick())
            assert len(ra.appended) + len(rb.appended) == 1
            assert ra.conflicts == rb.conflicts == 0
        assert await stage_names(a) == list(STAGE_AT.values())
        assert await stage_names(b) == list(STAGE_AT.values())
    finally:
        await a.close()
        await b.close()


async def test_a_race_with_a_backfill_between_decisions_is_counted_not_fatal(tmp_path: Path) -> None:
    dd = new_datadir(tmp_path)
    clock = Clock()
    a = await open_node(dd.path, clock)
    b = await open_node(dd.path, clock)
    try:
        await scenario(a)
        clock.set("2025-10-09 12:00")
        assert await b.escalator.ensure_calendar([2025])  # the year its days are counted with
        stale = escalations_due(b.escalator.projector, clock()).decisions  # B decides...
        assert [d.stage for d in stale] == ["reminder"]
        # ...then HR backfills a re-approval of the leave (it becomes part of the basis) and A decides.
        await a.add("leave.approved", "2025-09-20 09:00", {"leave_id": "L1"}, event_id="reapproved")
        assert len((await a.escalator.tick()).appended) == 1
        late = await b.escalator.record(stale)
        assert (late.appended, late.conflicts) == ([], 1)
        assert b.escalator.stats.conflicts == 1
        assert await stage_names(b) == ["reminder"]
    finally:
        await a.close()
        await b.close()


async def test_restart_mid_case_loses_and_doubles_nothing(tmp_path: Path) -> None:
    dd = new_datadir(tmp_path)
    clock = Clock()
    node = await open_node(dd.path, clock)
    await scenario(node)
    for day in (1, 2):
        clock.set(f"{DAYS[day]} 12:00")
        await node.escalator.tick()
    await node.close()

    clock.set(f"{DAYS[2]} 18:00")
    node = await open_node(dd.path, clock)  # a new Log and escalator on the same SQLite file
    try:
        assert node.escalator.projector.position == await node.store.tree_size() - 1
        assert (await node.escalator.tick()).appended == []
        for day in (3, 4, 8):
            clock.set(f"{DAYS[day]} 12:00")
            assert len((await node.escalator.tick()).appended) == 1
        assert await stage_names(node) == list(STAGE_AT.values())
    finally:
        await node.close()


async def test_a_backfilled_clock_in_withdraws_the_stages_it_undoes_exactly_once(tmp_path: Path) -> None:
    """Issue 14: a clock-in backfilled to day 2 left termination_review standing in the log (and so in
    bundles). The escalator appends escalation.stage_withdrawn for each stage it undoes, once, across a
    racing second process and a restart."""
    dd = new_datadir(tmp_path)
    clock = Clock()
    a = await open_node(dd.path, clock)
    b = await open_node(dd.path, clock)
    try:
        await scenario(a)
        clock.set("2025-10-20 12:00")
        assert len((await a.escalator.tick()).appended) == 5
        clock.set("2025-10-21 10:00")
        clock_in = await a.add("attendance.clock_in", "2025-10-10 09:20", {"method": "manual"})
        ra, rb = await asyncio.gather(a.escalator.tick(), b.escalator.tick())
        assert len(ra.withdrawn) + len(rb.withdrawn) == 4 and ra.appended == rb.appended == []
        withdrawn = await a.store.scan_entries(type="escalation.stage_withdrawn", limit=100)
        data = [json.loads(e.data or b"{}") for e in withdrawn]
        assert [d["stage"] for d in data] == ["hr_alert", "lost_contact", "absenteeism", "termination_review"]
        assert all(d["reason"] == "returned" and d["basis"] == [clock_in] for d in data)
        assert all(e.occurred_at == e.recorded_at for e in withdrawn)
        await b.close()
        b = await open_node(dd.path, clock)  # a restart: nothing is withdrawn twice, nothing re-entered
        clock.set("2025-10-22 12:00")
        again = await b.escalator.tick()
        assert (again.withdrawn, again.appended) == ([], [])
        case = b.escalator.projector.case(CASE, clock())
        assert case is not None and [s["stage"] for s in case["withdrawn_stages"]] == [d["stage"] for d in data]
        assert b.escalator.stats.withdrawals == 0 and a.escalator.stats.withdrawals + len(rb.withdrawn) == 4
    finally:
        await a.close()
        await b.close()


async def test_a_backfilled_clock_in_before_the_tick_prevents_the_stage(tmp_path: Path) -> None:
    dd = new_datadir(tmp_path)
    clock = Clock()
    node = await open_node(dd.path, clock)
    try:
        await scenario(node)
        clock.set("2025-10-09 12:00")
        assert len((await node.escalator.tick()).appended) == 1  # reminder
        # the attendance system uploads, late, a clock-in from 09:20 on day 2
        clock.set("2025-10-10 16:00")
        await node.add("attendance.clock_in", "2025-10-10 09:20", {"method": "face"})
        assert (await node.escalator.tick()).appended == []
        clock.set("2025-10-20 12:00")
        assert (await node.escalator.tick()).appended == []
        assert await stage_names(node) == ["reminder"]
        absence = node.escalator.projector.absence("E1001", clock())
        assert absence["state"] == "returned" and absence["overdue_days"] == 1
    finally:
        await node.close()


async def test_clock_in_backfilled_before_the_first_tick_means_no_stage_at_all(tmp_path: Path) -> None:
    dd = new_datadir(tmp_path)
    clock = Clock()
    node = await open_node(dd.path, clock)
    try:
        await scenario(node)
        clock.set("2025-10-09 15:00")
        await node.add("attendance.clock_in", "2025-10-09 08:55", {"method": "card"})
        assert (await node.escalator.tick()).appended == []
        assert await stage_names(node) == []
    finally:
        await node.close()


async def test_run_loop_ticks_until_stopped(tmp_path: Path) -> None:
    dd = new_datadir(tmp_path)
    clock = Clock()
    node = await open_node(dd.path, clock)
    try:
        await scenario(node)
        clock.set("2025-10-13 12:00")
        stop = asyncio.Event()
        task = asyncio.create_task(node.escalator.run(stop, 0.01))
        while node.escalator.stats.ticks < 3:
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 2)
        assert await stage_names(node) == ["reminder", "hr_alert", "lost_contact", "absenteeism"]
    finally:
        await node.close()


async def test_an_erasure_applies_to_the_projection_as_an_event(tmp_path: Path) -> None:
    """Every process following the log (the sequencer or a standby) forgets the personal data as soon as
    it reads the ledger.erased entry, and never rebuilds for it."""
    from ledger.admin.erase import erase_subject

    dd = new_datadir(tmp_path)
    clock = Clock()
    node = await open_node(dd.path, clock)
    follower = await open_node(dd.path, clock)  # another process that only reads the log
    try:
        await scenario(node)
        clock.set("2025-10-10 12:00")
        assert len((await node.escalator.tick()).appended) == 2
        await follower.escalator.catch_up()
        assert follower.escalator.projector.cases(clock()) != []
        rebuilds = node.escalator.follower.stats.rebuilds, follower.escalator.follower.stats.rebuilds
        await erase_subject(node.log, "E1001", now=clock())
        for esc in (node.escalator, follower.escalator):
            await esc.catch_up()
            facts = esc.projector.facts("E1001", clock())
            assert facts and all(f.data is None for f in facts if f.type != "ledger.erased")
            assert esc.projector.cases(clock()) == []
        clock.set("2025-10-13 12:00")
        for _ in range(3):
            assert (await node.escalator.tick()).appended == []  # no leave facts left to escalate on
        assert (node.escalator.follower.stats.rebuilds, follower.escalator.follower.stats.rebuilds) == rebuilds
    finally:
        await follower.close()
        await node.close()
