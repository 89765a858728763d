"""The drafting hook: a Drafter turns each stage just entered into notice.drafted events, which the escalator
appends right after the stage events as hrledger's own entries; nothing for a suspended case; a draft is
shown as superseded once its stage is withdrawn (SPEC section 4)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ledger.core.entries import Event
from ledger.domain.escalation import StageDecision
from tests.support.escalator import CASE, Clock, new_datadir, open_node, scenario

NOTICE_OF = {"lost_contact": "return_demand", "absenteeism": "absenteeism", "termination_review": "termination"}


class TextDrafter:
    """A drafter that writes a plain-text notice: enough to exercise the port (the real templates live in
    the workbench)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, dict[str, Any]]] = []

    async def draft(self, decision: StageDecision, case: Mapping[str, Any], stage_seq: int) -> Sequence[Event]:
        self.calls.append((decision.stage, stage_seq, dict(case)))
        kind = NOTICE_OF.get(decision.stage)
        if kind is None:
            return []
        text = f"{case['subject']} {kind} overdue {case['overdue_days']} since {case['return_day']}"
        data = {
            "notice_id": f"D-{stage_seq}",
            "kind": kind,
            "document_digest": "sha256:" + hashlib.sha256(text.encode()).hexdigest(),
            "template": kind,
            "template_version": "test-1",
        }
        return [
            Event(f"draft/{stage_seq}/{kind}", "notice.drafted", decision.subject, "2000-01-01T00:00:00Z", "x", data)
        ]


async def test_each_stage_entered_gets_its_drafts_in_the_log(tmp_path: Path) -> None:
    clock = Clock()
    drafter = TextDrafter()
    node = await open_node(new_datadir(tmp_path).path, clock, drafter=drafter)
    try:
        await scenario(node)
        clock.set("2025-10-13 12:00")
        result = await node.escalator.tick()
        assert len(result.appended) == 4 and len(result.drafted) == 2  # lost_contact, absenteeism
        stage_seqs = {json.loads(e.data or b"{}")["stage"]: e.seq for e in await node.stages()}
        assert [(s, q) for s, q, _ in drafter.calls] == list(stage_seqs.items())
        # the case the drafter saw already names the entry it drafts for
        _, seq, seen = drafter.calls[2]
        assert next(s for s in seen["stages"] if s["stage"] == "lost_contact")["seq"] == seq
        drafts = await node.store.scan_entries(type="notice.drafted", limit=10)
        assert [e.seq for e in drafts] == sorted(r.seq for r in result.drafted)
        assert min(e.seq for e in drafts) > max(stage_seqs.values())  # right after the stage events
        first = json.loads(drafts[0].data or b"{}")
        assert (first["case_id"], first["stage_seq"]) == (CASE, stage_seqs["lost_contact"])  # filled in
        assert drafts[0].occurred_at == drafts[0].recorded_at  # hrledger's own entry
        assert json.loads(drafts[0].entry)["source"] == "hrledger"
        again = await node.escalator.tick()
        assert again.drafted == [] and len(drafter.calls) == 4  # only stages just entered are drafted
        now = node.escalator.projector.case(CASE, clock())
        assert now is not None and [d["status"] for d in now["notices"]["drafted"]] == ["draft", "draft"]
        # a backfilled clock-in on day 2 withdraws lost_contact and absenteeism: their drafts are superseded
        clock.set("2025-10-14 09:00")
        await node.add("attendance.clock_in", "2025-10-10 09:30", {"method": "manual"})
        assert len((await node.escalator.tick()).withdrawn) == 3
        later = node.escalator.projector.case(CASE, clock())
        assert later is not None and [d["status"] for d in later["notices"]["drafted"]] == ["superseded"] * 2
    finally:
        await node.close()


async def test_nothing_is_drafted_for_a_suspended_case(tmp_path: Path) -> None:
    clock = Clock()
    drafter = TextDrafter()
    node = await open_node(new_datadir(tmp_path).path, clock, drafter=drafter)
    try:
        await scenario(node)
        clock.set("2025-10-09 09:00")  # the family's report is recorded when it is made, not before
        await node.add(
            "absence.reported",
            "2025-10-09 09:00",
            {"reason": "hospitalised", "reported_by": "family", "from": "2025-10-09"},
        )
        clock.set("2025-10-20 12:00")
        result = await node.escalator.tick()
        assert (result.appended, result.drafted, drafter.calls) == ([], [], [])
        assert await node.store.scan_entries(type="notice.drafted", limit=10) == []
    finally:
        await node.close()


async def test_a_drafter_returning_something_else_is_not_recorded(tmp_path: Path) -> None:
    class Wrong(TextDrafter):
        async def draft(self, decision: StageDecision, case: Mapping[str, Any], stage_seq: int) -> Sequence[Event]:
            good = await super().draft(decision, case, stage_seq)
            bad_type = Event(f"x/{stage_seq}", "notice.issued", decision.subject, "2000-01-01T00:00:00Z", "x", {})
            bad_data = [
                Event(e.event_id + "/bad", e.type, e.subject, e.occurred_at, e.source, {"kind": "x"}) for e in good
            ]
            return [bad_type, *bad_data, *good]

    clock = Clock()
    node = await open_node(new_datadir(tmp_path).path, clock, drafter=Wrong())
    try:
        await scenario(node)
        clock.set("2025-10-11 12:00")
        result = await node.escalator.tick()
        assert len(result.drafted) == 1  # only the well-formed notice.drafted
        assert await node.store.scan_entries(type="notice.issued", limit=10) == []
    finally:
        await node.close()
