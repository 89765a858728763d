"""Escalation decisions: stage events entered exactly once, withdrawn when later facts undo them, entered
again with the next occurrence, nothing for a suspended case (SPEC section 4)."""

from __future__ import annotations

from ledger.core.entries import AT_RECORDING
from ledger.domain import Policy, escalations_due, validate_data
from ledger.domain.escalation import EscalationPlan
from ledger.domain.schemas import STAGES
from tests.support.domain import CASE, E, Log, assess, at, case_log, report


def record(log: Log, plan: EscalationPlan, when: str) -> list[int]:
    """Append a plan's events as the escalator would (hrledger's entries occur when recorded)."""
    seqs = []
    for w in plan.withdrawals:
        seqs.append(log.add(w.event().type, when, w.data, event_id=w.event_id))
    for d in plan.decisions:
        seqs.append(log.add(d.event().type, when, d.data, event_id=d.event_id))
    return seqs


def walked_to_day_8() -> Log:
    """The case with its five stages entered, each on its day at 12:00."""
    log = case_log()
    for day in ("2025-10-09", "2025-10-10", "2025-10-11", "2025-10-13", "2025-10-17"):
        record(log, escalations_due(log.projector(), at(f"{day} 12:00")), f"{day} 12:00")
    return log


def test_escalation_decisions_are_exactly_once_and_deterministic() -> None:
    """Every field is derived from facts that occurred no later than the threshold's instant, so a racing
    process decides the very same events; the entry occurs at recording and carries reached_on."""
    log = case_log()
    plan = escalations_due(log.projector(), at("2025-10-13 12:00"))
    assert [d.stage for d in plan.decisions] == list(STAGES[:4])
    first = plan.decisions[0]
    assert first.event_id == f"escalation/{CASE}/reminder"
    assert first.reached_at.isoformat() == "2025-10-09T11:00:00+08:00"
    national_2025 = len(log.facts) + 1  # Log.projector() records 2024, 2025, 2026 after the facts
    assert first.data == {
        "case_id": CASE,
        "stage": "reminder",
        "occurrence": 1,
        "overdue_days": 1,
        "basis": [3, 4],
        "reached_on": "2025-10-09",
        "policy_digest": Policy().digest,
        "calendar_seqs": [national_2025],
    }
    ev = first.event()
    assert ev.occurred_at == AT_RECORDING  # the sequencer writes recorded_at there
    validate_data(ev.type, ev.data)
    later = escalations_due(log.projector(), at("2025-10-13 18:00"))
    assert [d.event() for d in later.decisions] == [d.event() for d in plan.decisions]
    record(log, plan, "2025-10-13 12:00")
    p = log.projector()
    assert escalations_due(p, at("2025-10-13 12:00")).decisions == []
    case = p.case(CASE, at("2025-10-13 12:00"))
    assert case is not None and all(s["seq"] is not None and s["status"] == "entered" for s in case["stages"])
    # as_of before the entries were recorded: the stages were reached, not yet entered
    early = p.case(CASE, at("2025-10-13 11:30"))
    assert early is not None and [s["status"] for s in early["stages"]] == ["due"] * 4
    assert [s["reached_on"] for s in early["stages"]][-1] == "2025-10-13"
    nxt = escalations_due(p, at("2025-10-17 11:00")).decisions
    assert [(d.stage, d.reached_on.isoformat(), d.overdue_days) for d in nxt] == [
        ("termination_review", "2025-10-17", 8)
    ]


def test_no_decisions_for_ended_cases() -> None:
    log = case_log()
    log.add("case.closed", "2025-10-09 10:00", {"case_id": CASE, "reason": "家属已联系"})
    assert escalations_due(log.projector(), at("2025-10-20 12:00")).decisions == []


def test_long_case_ids_get_a_hashed_event_id() -> None:
    log = Log()
    log.leave("L" * 120, "2025-09-22", "2025-09-30", "2025-09-19 10:00")
    d = escalations_due(log.projector(), at("2025-10-09 12:00")).decisions[0]
    assert len(d.event_id) <= 128 and d.event_id.startswith("escalation/sha256-")


def test_backfilled_clock_in_withdraws_stages_once() -> None:
    """Issue 14: a clock-in backfilled to day 2 left termination_review standing in the log and in bundles.
    SPEC section 4: when later facts undo a stage already entered, hrledger appends escalation.stage_withdrawn
    once; cases show withdrawn stages as such."""
    log = walked_to_day_8()
    clock_in = log.add("attendance.clock_in", "2025-10-10 09:20", {"method": "manual"}, recorded="2025-10-20 09:00")
    plan = escalations_due(log.projector(), at("2025-10-20 12:00"))
    assert plan.decisions == []
    assert [(w.stage, w.reason, w.basis) for w in plan.withdrawals] == [
        (stage, "returned", (clock_in,)) for stage in STAGES[1:]
    ]
    assert plan.withdrawals[0].event_id == f"escalation-withdrawn/{plan.withdrawals[0].stage_seq}"
    for w in plan.withdrawals:
        validate_data(w.event().type, w.data)
    record(log, plan, "2025-10-20 12:00")
    p = log.projector()
    assert escalations_due(p, at("2025-10-20 13:00")).withdrawals == []  # exactly once
    case = p.case(CASE, at("2025-10-20 13:00"))
    assert case is not None
    assert (case["status"], case["stage"], [s["stage"] for s in case["stages"]]) == (
        "returned",
        "reminder",
        ["reminder"],
    )
    assert [w["stage"] for w in case["withdrawn_stages"]] == list(STAGES[1:])
    assert {e["stage"]: e["status"] for e in case["stage_events"]} == {
        "reminder": "holds",
        **{s: "withdrawn" for s in STAGES[1:]},
    }


def test_a_stage_reached_again_is_entered_again_with_the_next_occurrence() -> None:
    """SPEC section 4: if the stage is reached again it is entered again with the next occurrence; its
    event_id differs from the first's (escalation/<case>/<stage>/<n>), the first's stays as it was."""
    log = case_log()
    record(log, escalations_due(log.projector(), at("2025-10-09 12:00")), "2025-10-09 12:00")
    # the leave is extended (backfilled): the reminder was reached on another day
    extension = log.add(
        "leave.extended", "2025-10-08 18:00", {"leave_id": "L1", "end": "2025-10-09"}, recorded="2025-10-10 15:00"
    )
    plan = escalations_due(log.projector(), at("2025-10-10 16:00"))
    assert [(w.stage, w.reason) for w in plan.withdrawals] == [("reminder", "no_longer_reached")]
    assert extension in plan.withdrawals[0].basis  # the backfilled fact that undid it
    assert [(d.stage, d.occurrence, d.reached_on.isoformat()) for d in plan.decisions] == [
        ("reminder", 2, "2025-10-10")
    ]
    assert plan.decisions[0].event_id == f"escalation/{CASE}/reminder/2"
    record(log, plan, "2025-10-10 16:00")
    case = log.projector().case(CASE, at("2025-10-10 17:00"))
    assert case is not None
    assert [(s["stage"], s["occurrence"], s["reached_on"]) for s in case["stages"]] == [("reminder", 2, "2025-10-10")]
    assert [w["occurrence"] for w in case["withdrawn_stages"]] == [1]


def test_nothing_is_entered_for_a_suspended_case_and_entered_stages_stay() -> None:
    """SPEC section 4: while a reported reason awaits assessment no stage is entered; stages already entered
    stay. Excused days then withdraw the stages that no longer hold."""
    log = case_log()
    record(log, escalations_due(log.projector(), at("2025-10-10 12:00")), "2025-10-10 12:00")  # reminder, hr_alert
    seq = report(log, "2025-10-10 15:00", "2025-10-10")
    plan = escalations_due(log.projector(), at("2025-10-20 12:00"))
    assert (plan.decisions, plan.withdrawals, plan.suspended) == ([], [], [CASE])
    assessment = assess(log, "2025-10-21 10:00", seq, "excused", to="2025-10-20")
    plan = escalations_due(log.projector(), at("2025-10-21 12:00"))
    assert [(w.stage, w.reason, w.basis) for w in plan.withdrawals] == [("hr_alert", "excused", (seq, assessment))]
    # 9 Oct, then 21 Oct: the second overdue day is 21 Oct
    assert [(d.stage, d.occurrence, d.reached_on.isoformat()) for d in plan.decisions] == [
        ("hr_alert", 2, "2025-10-21")
    ]


def test_a_case_that_no_longer_exists_has_its_stages_withdrawn() -> None:
    """A leave cancelled after the fact leaves no case: its stages are withdrawn (case_gone)."""
    log = case_log()
    record(log, escalations_due(log.projector(), at("2025-10-09 12:00")), "2025-10-09 12:00")
    log.add("leave.cancelled", "2025-10-09 13:00", {"leave_id": "L1"})
    plan = escalations_due(log.projector(), at("2025-10-09 14:00"))
    assert [(w.stage, w.reason) for w in plan.withdrawals] == [("reminder", "case_gone")]


def test_nothing_is_withdrawn_on_a_calendar_the_log_lacks() -> None:
    """A case the calendar cannot count past a year is never withdrawn on a guess."""
    log = Log()
    log.leave("L1", "2026-12-14", "2026-12-18", "2026-12-11 10:00")
    record(log, escalations_due(log.projector(), at("2026-12-31 12:00")), "2026-12-31 12:00")
    plan = escalations_due(log.projector(), at("2027-01-05 12:00"))
    assert plan.withdrawals == [] and 2027 in plan.missing_years
    assert E in plan.missing_years[2027][0]
