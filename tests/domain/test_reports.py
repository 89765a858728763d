"""Reasons reported for an absence and their assessment: suspension, excused days, resumption
(SPEC section 4). The National Day case: R = Thu 9 Oct 2025, overdue days 9, 10, Sat 11, 13, 14, ... Oct."""

from __future__ import annotations

from typing import Any

from tests.support.domain import CASE, E, Log, assess, at, case_log, report


def case(log: Log, when: str) -> dict[str, Any]:
    found = log.projector().case(CASE, at(when))
    assert found is not None
    return found


def test_a_report_suspends_counting_from_its_from_day() -> None:
    """A reported reason (absence.reported, whatever its reason or reporter) suspends the case from its from
    day until an absence.assessed for it: days from then on are not counted, the case is not ready."""
    log = case_log()
    report(log, "2025-10-14 09:00", "2025-10-13", reason="detained", reported_by="authority")
    c = case(log, "2025-10-16 12:00")
    assert (c["overdue_days"], c["suspended"]) == (3, True)  # 9, 10, 11 Oct; from 13 Oct held
    assert c["suspended_days"] == ["2025-10-13", "2025-10-14", "2025-10-15", "2025-10-16"]
    assert c["reports"][0]["status"] == "pending" and c["readiness"]["ready"] is False
    # before the report occurred, nothing was suspended (as_of counts only what had occurred)
    assert case(log, "2025-10-13 12:00")["suspended"] is False


def test_not_excused_resumes_counting_as_if_no_report_had_come() -> None:
    """not_excused: the days count again, all of them."""
    log = case_log()
    seq = report(log, "2025-10-14 09:00", "2025-10-09")
    assert case(log, "2025-10-17 12:00")["overdue_days"] == 0
    assess(log, "2025-10-17 15:00", seq, "not_excused")
    c = case(log, "2025-10-17 16:00")
    assert (c["overdue_days"], c["suspended"], c["suspended_days"]) == (8, False, [])
    assert c["reports"][0]["status"] == "not_excused"


def test_excused_days_are_not_overdue() -> None:
    """excused: the assessed days (the assessment's from/to, else the report's) are not overdue."""
    log = case_log()
    seq = report(log, "2025-10-14 09:00", "2025-10-09", "2025-10-14")
    assess(log, "2025-10-15 10:00", seq, "excused", **{"from": "2025-10-10", "to": "2025-10-13"})
    c = case(log, "2025-10-17 12:00")
    assert c["excused_days"] == ["2025-10-10", "2025-10-11", "2025-10-13"]
    assert c["missed_days"] == ["2025-10-09", "2025-10-14", "2025-10-15", "2025-10-16", "2025-10-17"]
    assert c["reports"][0]["excused"] == {"from": "2025-10-10", "to": "2025-10-13"}


def test_excused_without_an_end_runs_until_a_clock_in() -> None:
    """With no to, every day from from is excused until a clock-in; the employee's state says so."""
    log = case_log()
    seq = report(log, "2025-10-10 09:00", "2025-10-10")
    assess(log, "2025-10-10 10:00", seq, "excused")
    c = case(log, "2025-11-20 12:00")
    assert (c["overdue_days"], c["excused_days"][0], c["suspended"]) == (1, "2025-10-10", False)
    assert log.projector().absence(E, at("2025-11-20 12:00"))["state"] == "absence_reported"
    log.clock_in("2025-11-21 08:55")
    assert log.projector().absence(E, at("2025-11-21 12:00"))["state"] == "returned"


def test_of_two_assessments_the_later_stands() -> None:
    """Of two assessments of one report, the later (highest seq) stands, whatever their occurred_at."""
    log = case_log()
    seq = report(log, "2025-10-14 09:00", "2025-10-09")
    assess(log, "2025-10-16 10:00", seq, "excused")
    assess(log, "2025-10-15 10:00", seq, "not_excused", note="复核：证明系伪造")  # recorded later, dated earlier
    c = case(log, "2025-10-17 12:00")
    assert (c["reports"][0]["status"], c["overdue_days"]) == ("not_excused", 8)


def test_a_report_of_days_within_the_leave_must_still_be_assessed() -> None:
    """A reason reported for the leave's own days (a hospital stay during sick leave) touches the case: the
    case waits for HR's assessment, though it changes no overdue day."""
    log = case_log()
    seq = report(log, "2025-10-15 09:00", "2025-09-25", "2025-09-30")
    c = case(log, "2025-10-17 12:00")
    assert c["suspended"] is True and c["reports"][0]["seq"] == seq
    assess(log, "2025-10-17 14:00", seq, "excused")
    c = case(log, "2025-10-17 15:00")
    assert (c["suspended"], c["overdue_days"], c["excused_days"]) == (False, 8, [])


def test_an_assessment_naming_no_report_changes_nothing() -> None:
    log = case_log()
    assess(log, "2025-10-15 10:00", 999, "excused")
    assert case(log, "2025-10-17 12:00")["overdue_days"] == 8
