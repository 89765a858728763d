"""The case answer: the SPEC section 2 shape, plus drafted notices shown as superseded once their stage is
withdrawn (SPEC section 4)."""

from __future__ import annotations

from ledger.domain import escalations_due
from tests.support.domain import CASE, DIGEST, at, case_log, notice


def test_the_case_keeps_the_spec_shape() -> None:
    log = case_log()
    case = log.projector().case(CASE, at("2025-10-13 12:00"))
    assert case is not None
    for key in (
        "case_id",
        "subject",
        "status",
        "leave_id",
        "return_day",
        "overdue_days",
        "stage",
        "stages",
        "readiness",
    ):
        assert key in case
    assert {"stage", "reached_on"} <= set(case["stages"][0])
    assert {"ready", "items"} <= set(case["readiness"])
    assert {"name", "ok", "seqs", "missing"} <= set(case["readiness"]["items"][0])


def test_a_draft_is_superseded_when_its_stage_is_withdrawn() -> None:
    """SPEC section 4: when later facts undo a stage, its drafted notice is shown as superseded."""
    log = case_log()
    plan = escalations_due(log.projector(), at("2025-10-11 12:00"))
    stage_seqs = {}
    for d in plan.decisions:
        stage_seqs[d.stage] = log.add(d.event().type, "2025-10-11 12:00", d.data, event_id=d.event_id)
    draft = log.add(
        "notice.drafted",
        "2025-10-11 12:00",
        {
            "notice_id": "D-lost",
            "kind": "return_demand",
            "document_digest": DIGEST,
            "template": "return_demand",
            "template_version": "1",
            "case_id": CASE,
            "stage_seq": stage_seqs["lost_contact"],
        },
    )
    notice(log, "2025-10-11 14:00", "D-lost", "return_demand", ["post"], return_within_days=3, draft_seq=draft)
    case = log.projector().case(CASE, at("2025-10-11 15:00"))
    assert case is not None
    (drafted,) = case["notices"]["drafted"]
    assert (drafted["seq"], drafted["status"], drafted["issued_seqs"]) == (draft, "issued", [draft + 1])
    log.add("attendance.clock_in", "2025-10-10 09:10", {"method": "manual"}, recorded="2025-10-12 09:00")
    for w in escalations_due(log.projector(), at("2025-10-12 10:00")).withdrawals:
        log.add(w.event().type, "2025-10-12 10:00", w.data, event_id=w.event_id)
    case = log.projector().case(CASE, at("2025-10-12 11:00"))
    assert case is not None
    assert case["notices"]["drafted"][0]["status"] == "superseded"
