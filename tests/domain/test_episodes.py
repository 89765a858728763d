"""Absence state and stages, walked day by day through real PRC calendar dates.

Sick leave 2025-09-22 .. 2025-09-30. National Day holidays run 2025-10-01 .. 10-08, so R = 2025-10-09
(Thursday). Saturday 2025-10-11 is a make-up working day (调休); Sunday 2025-10-12 is off.
Overdue working days: 10-09 (1), 10-10 (2), 10-11 Sat (3), 10-13 (4), 10-14, 10-15, 10-16, 10-17 (8).
"""

from __future__ import annotations

import pytest

from ledger.domain import Policy, escalations_due
from tests.support.domain import E, Log, at


def sick_leave() -> Log:
    log = Log()
    log.leave("L1", "2025-09-22", "2025-09-30", "2025-09-19 10:00")
    return log


def state(log: Log, when: str) -> dict[str, object]:
    return log.projector().absence(E, at(when))


def stages(log: Log, when: str) -> list[tuple[str, str]]:
    case = log.projector().case(f"{E}/L1", at(when))
    assert case is not None
    return [(s["stage"], s["reached_on"]) for s in case["stages"]]


@pytest.mark.parametrize(
    ("when", "expected_state", "overdue"),
    [
        ("2025-09-18 12:00", "present", 0),  # before the leave starts
        ("2025-09-25 12:00", "on_leave", 0),
        ("2025-10-03 12:00", "on_leave", 0),  # leave over, but National Day: nobody is expected
        ("2025-10-09 10:59", "on_leave", 0),  # R, before shift start + grace
        ("2025-10-09 11:00", "overdue", 1),  # day 1 counts at 09:00 + 2 h
        ("2025-10-10 10:00", "overdue", 1),
        ("2025-10-10 11:00", "overdue", 2),  # day 2
        ("2025-10-11 11:00", "overdue", 3),  # day 3 on the 调休 Saturday
        ("2025-10-12 23:59", "overdue", 3),  # Sunday off: nothing more
        ("2025-10-13 11:00", "overdue", 4),  # day 4
        ("2025-10-16 23:00", "overdue", 7),
        ("2025-10-17 11:00", "overdue", 8),  # day 8
    ],
)
def test_day_by_day(when: str, expected_state: str, overdue: int) -> None:
    s = state(sick_leave(), when)
    assert (s["state"], s["overdue_days"]) == (expected_state, overdue)
    if expected_state != "present":
        assert s["return_day"] == "2025-10-09"
        assert s["leave_id"] == "L1"


def test_stages_reached_on_the_day_the_threshold_was_met() -> None:
    log = sick_leave()
    assert log.projector().case(f"{E}/L1", at("2025-10-09 10:59")) is None  # no case before day 1
    assert stages(log, "2025-10-09 11:00") == [("reminder", "2025-10-09")]
    assert stages(log, "2025-10-10 11:00")[-1] == ("hr_alert", "2025-10-10")
    assert stages(log, "2025-10-11 11:00")[-1] == ("lost_contact", "2025-10-11")
    assert stages(log, "2025-10-13 11:00")[-1] == ("absenteeism", "2025-10-13")  # "more than 3"
    assert stages(log, "2025-10-16 12:00")[-1] == ("absenteeism", "2025-10-13")
    # noticed a month late: still reached on the day the threshold was met
    assert stages(log, "2025-11-20 12:00") == [
        ("reminder", "2025-10-09"),
        ("hr_alert", "2025-10-10"),
        ("lost_contact", "2025-10-11"),
        ("absenteeism", "2025-10-13"),
        ("termination_review", "2025-10-17"),
    ]
    case = log.projector().case(f"{E}/L1", at("2025-10-17 11:00"))
    assert case is not None
    assert case["stage"] == "termination_review" and case["status"] == "open"
    assert case["missed_days"] == [
        "2025-10-09",
        "2025-10-10",
        "2025-10-11",
        "2025-10-13",
        "2025-10-14",
        "2025-10-15",
        "2025-10-16",
        "2025-10-17",
    ]
    assert case["stages"][-1]["at"] == "2025-10-17T11:00:00+08:00"


def test_weekend_return_day_and_make_up_sunday() -> None:
    # leave ends Friday 2025-09-26; Sunday 09-28 is a make-up working day, so R is that Sunday
    log = Log()
    log.leave("L1", "2025-09-15", "2025-09-26", "2025-09-12 10:00")
    s = state(log, "2025-09-27 12:00")
    assert (s["state"], s["return_day"]) == ("on_leave", "2025-09-28")
    assert state(log, "2025-09-28 11:00")["overdue_days"] == 1
    assert state(log, "2025-09-30 23:00")["overdue_days"] == 3
    assert state(log, "2025-10-08 23:00")["overdue_days"] == 3  # holidays
    assert state(log, "2025-10-09 11:00")["overdue_days"] == 4


def test_clock_in_ends_the_episode_and_missed_days_stay() -> None:
    log = sick_leave()
    log.clock_in("2025-10-10 09:30")
    s = state(log, "2025-10-10 12:00")
    assert (s["state"], s["overdue_days"], s["missed_days"]) == ("returned", 1, ["2025-10-09"])
    assert state(log, "2025-10-20 12:00")["overdue_days"] == 1
    case = log.projector().case(f"{E}/L1", at("2025-10-20 12:00"))
    assert case is not None
    assert case["status"] == "returned" and case["ended"]["seq"] == 2 and case["stage"] == "reminder"
    assert escalations_due(log.projector(), at("2025-10-20 12:00")).decisions == []


def test_late_clock_in_counts_the_day_until_it_happens() -> None:
    log = sick_leave()
    log.clock_in("2025-10-10 14:00")
    assert state(log, "2025-10-10 12:00")["overdue_days"] == 2
    s = state(log, "2025-10-10 14:00")
    assert (s["state"], s["overdue_days"]) == ("returned", 1)


def test_on_time_return() -> None:
    log = sick_leave()
    log.clock_in("2025-10-09 08:55")
    s = state(log, "2025-10-09 12:00")
    assert (s["state"], s["overdue_days"]) == ("returned", 0)
    assert log.projector().cases(at("2025-10-30 12:00")) == []


def test_clock_in_during_the_leave_does_not_end_the_episode() -> None:
    log = sick_leave()
    log.clock_in("2025-09-22 08:50")  # clocked in, then went to hospital
    assert state(log, "2025-10-09 11:00")["state"] == "overdue"


def test_extension_moves_the_return_day() -> None:
    log = sick_leave()
    log.add("leave.extended", "2025-10-09 08:00", {"leave_id": "L1", "end": "2025-10-10"})
    s = state(log, "2025-10-10 12:00")
    assert (s["state"], s["return_day"], s["overdue_days"]) == ("on_leave", "2025-10-11", 0)
    assert state(log, "2025-10-11 11:00")["overdue_days"] == 1
    # before the extension occurred, day 1 was overdue
    assert state(log, "2025-10-09 07:59")["return_day"] == "2025-10-09"


def test_a_cancelled_leave_creates_no_expectation() -> None:
    log = Log()
    log.add(
        "leave.requested",
        "2025-09-19 10:00",
        {"leave_id": "L1", "kind": "annual", "start": "2025-09-22", "end": "2025-09-30"},
    )
    log.add("leave.approved", "2025-09-19 11:00", {"leave_id": "L1"})
    log.add("leave.cancelled", "2025-09-19 12:00", {"leave_id": "L1"})
    s = state(log, "2025-10-20 12:00")
    assert (s["state"], s["overdue_days"], s["leave_id"]) == ("present", 0, None)
    assert log.projector().cases(at("2025-10-20 12:00")) == []


@pytest.mark.parametrize("decision", ["leave.rejected", None])
def test_rejected_or_undecided_leave_is_absence_without_leave(decision: str | None) -> None:
    """Issue 14: a rejected request, or one never decided, with the employee absent, read present, 0 days.
    SPEC section 4: a leave requested and rejected, or not approved by its first day, with no clock-in from
    that day on, counts from its first working day; the case id is <subject>/<leave_id>."""
    log = Log()
    log.leave("L1", "2025-09-22", "2025-09-30", "2025-09-19 10:00", approve=False)
    if decision:
        log.add(decision, "2025-09-19 12:00", {"leave_id": "L1", "reason": "人手不足"})
    assert state(log, "2025-09-22 10:59")["overdue_days"] == 0
    s = state(log, "2025-09-22 11:00")  # the first working day, once shift start + grace has passed
    assert (s["state"], s["overdue_days"], s["leave_id"], s["return_day"]) == ("overdue", 1, "L1", "2025-09-22")
    case = log.projector().case(f"{E}/L1", at("2025-09-30 12:00"))
    assert case is not None and case["kind"] == "unapproved_leave"
    # 22-26, Sun 28 (调休), 29, 30 Sep
    assert case["missed_days"][:3] == ["2025-09-22", "2025-09-23", "2025-09-24"] and case["overdue_days"] == 8
    log.clock_in("2025-10-09 08:50")
    assert state(log, "2025-10-09 12:00")["state"] == "returned"


def test_a_leave_approved_after_its_first_day_does_not_count_as_approved() -> None:
    """SPEC section 3: a leave counts as approved when leave.approved occurred before the shift start plus
    grace of its first working day; approved at 10:59 it counts, at 11:00 the day is already missed."""
    log = Log()
    log.leave("L1", "2025-09-22", "2025-09-30", "2025-09-19 10:00", approve=False)
    log.add("leave.approved", "2025-09-22 10:59", {"leave_id": "L1"})
    assert state(log, "2025-09-25 12:00")["state"] == "on_leave"
    late = Log()
    late.leave("L1", "2025-09-22", "2025-09-30", "2025-09-19 10:00", approve=False)
    late.add("leave.approved", "2025-09-22 11:00", {"leave_id": "L1"})
    s = state(late, "2025-09-25 12:00")
    assert (s["state"], s["overdue_days"]) == ("overdue", 4)


def test_a_rejected_extension_continues_the_episode_it_falls_in() -> None:
    """A rejected request for days already overdue (or inside an approved leave) adds no case of its own: the
    running episode goes on counting."""
    log = sick_leave()
    log.add(
        "leave.requested",
        "2025-10-10 09:00",
        {"leave_id": "L2", "kind": "sick", "start": "2025-10-13", "end": "2025-10-17"},
    )
    log.add("leave.rejected", "2025-10-10 15:00", {"leave_id": "L2"})
    cases = log.projector().cases(at("2025-10-17 12:00"))
    assert [(c["case_id"], c["overdue_days"]) for c in cases] == [(f"{E}/L1", 8)]


def test_absence_without_any_request_counts_only_where_the_policy_says() -> None:
    """SPEC section 4: absence with no leave request at all is counted only where the policy turns it on
    (count_absence_without_request), since it needs every employee's attendance to be posted; its case id is
    <subject>/absence-<first overdue day>."""
    log = Log()
    for day in ("2025-10-13", "2025-10-14", "2025-10-15"):
        log.clock_in(f"{day} 08:50")
    assert state(log, "2025-10-20 12:00")["state"] == "present"
    assert log.projector().cases(at("2025-10-20 12:00")) == []
    counted = Policy(count_absence_without_request=True)
    s = log.projector(counted).absence(E, at("2025-10-20 12:00"))
    assert (s["state"], s["overdue_days"], s["case_id"]) == ("overdue", 3, f"{E}/absence-2025-10-16")
    assert s["missed_days"] == ["2025-10-16", "2025-10-17", "2025-10-20"]
    log.clock_in("2025-10-21 09:00")
    (case,) = log.projector(counted).cases(at("2025-10-21 12:00"))
    assert (case["case_id"], case["status"], case["leave_id"], case["kind"]) == (
        f"{E}/absence-2025-10-16",
        "returned",
        None,
        "absence",
    )
    # the next day without a clock-in is a new absence of its own
    assert [c["case_id"] for c in log.projector(counted).cases(at("2025-10-22 12:00"))][-1] == f"{E}/absence-2025-10-22"


def test_unapproved_leave_has_its_own_stages() -> None:
    """Stages run on absence without approved leave as on any overdue case."""
    log = Log()
    log.leave("L1", "2025-09-22", "2025-09-30", "2025-09-19 10:00", approve=False)
    log.add("leave.rejected", "2025-09-19 12:00", {"leave_id": "L1"})
    plan = escalations_due(log.projector(), at("2025-09-25 12:00"))
    assert [(d.case_id, d.stage) for d in plan.decisions][:2] == [(f"{E}/L1", "reminder"), (f"{E}/L1", "hr_alert")]


def test_backfill_counts_only_facts_occurred_by_as_of() -> None:
    log = sick_leave()
    # recorded on 10-15 but says it occurred on 10-10 at 09:00
    log.add("attendance.clock_in", "2025-10-10 09:00", {"method": "manual"}, recorded="2025-10-15 09:00")
    assert state(log, "2025-10-09 12:00")["state"] == "overdue"
    assert state(log, "2025-10-10 08:59")["overdue_days"] == 1
    assert state(log, "2025-10-10 09:00")["state"] == "returned"
    case = log.projector().case(f"{E}/L1", at("2025-10-16 12:00"))
    assert case is not None
    assert [x["seq"] for x in case["late_recorded"]] == [2]
    assert case["late_recorded"][0]["delay_hours"] == 120.0


def test_termination_and_case_closed() -> None:
    log = sick_leave()
    log.add("case.closed", "2025-10-14 10:00", {"case_id": f"{E}/L1", "reason": "resigned by agreement"})
    case = log.projector().case(f"{E}/L1", at("2025-10-20 12:00"))
    assert case is not None
    assert (case["status"], case["overdue_days"]) == ("closed", 4)  # 10-14 closed before 11:00
    assert state(log, "2025-10-20 12:00")["state"] == "present"
    log2 = sick_leave()
    log2.add(
        "employment.terminated",
        "2025-10-20 15:00",
        {"effective_on": "2025-10-20", "notice_id": "N9", "confirmed_by": "王五"},
    )
    assert state(log2, "2025-10-20 14:00")["state"] == "overdue"
    s = state(log2, "2025-10-25 12:00")
    assert (s["state"], s["overdue_days"]) == ("terminated", 9)  # 10-20 was the 9th
    assert log2.projector().cases(at("2025-10-25 12:00"), status="terminated")[0]["case_id"] == f"{E}/L1"


def test_next_leave_supersedes_the_episode() -> None:
    log = sick_leave()
    log.leave("L2", "2025-10-13", "2025-10-17", "2025-10-12 10:00")
    s = state(log, "2025-10-14 12:00")
    assert (s["state"], s["leave_id"]) == ("on_leave", "L2")
    case = log.projector().case(f"{E}/L1", at("2025-10-14 12:00"))
    assert case is not None and (case["status"], case["overdue_days"]) == ("superseded", 3)


def test_a_year_the_log_lacks_is_named_in_that_case_while_other_cases_answer() -> None:
    """SPEC section 4: a year the calendar does not know is named in that case's answer, never guessed;
    the other cases still answer. Recording the year (test data, not an official schedule) resolves it."""
    log = Log()
    log.leave("L1", "2026-12-21", "2026-12-31", "2026-12-18 10:00")
    log.leave("L2", "2026-12-01", "2026-12-04", "2026-11-30 10:00", subject="E2002")
    p = log.projector()
    during = p.absence(E, at("2026-12-25 12:00"))  # still on leave: the return day cannot be known yet
    assert (during["state"], during["return_day"]) == ("on_leave", None)
    assert during["calendar"]["missing_year"] == 2027
    cases = {c["case_id"]: c for c in p.cases(at("2027-01-05 12:00"))}
    mine, other = cases[f"{E}/L1"], cases["E2002/L2"]
    assert mine["calendar"]["complete"] is False and mine["calendar"]["missing_year"] == 2027
    assert "2027" in mine["calendar"]["detail"] and "hrledger calendar add" in mine["calendar"]["detail"]
    assert (mine["return_day"], mine["overdue_days"], mine["readiness"]["ready"]) == (None, 0, False)
    item = next(i for i in mine["readiness"]["items"] if i["name"] == "calendar")
    assert not item["ok"] and "2027" in item["missing"]["en"] and "2027" in item["missing"]["zh"]
    # the other case counted its December days and stops where the calendar ends
    assert other["overdue_days"] == 19 and other["calendar"]["missing_year"] == 2027
    assert p.cases(at("2027-01-05 12:00"), status="terminated") == []
    plan = escalations_due(p, at("2027-01-05 12:00"))
    assert plan.missing_years == {2027: [f"{E}/L1", "E2002/L2"]}
    assert {d.case_id for d in plan.decisions} == {"E2002/L2"}  # its December stages still hold

    seq = log.calendar(2027, when="2026-12-28 10:00", holidays=["2027-01-01"])
    s = log.projector().absence(E, at("2027-01-05 12:00"))
    assert (s["return_day"], s["overdue_days"]) == ("2027-01-04", 2)
    assert s["calendar"]["complete"] and s["calendar"]["missing_year"] is None
    assert s["calendar"]["seqs"] == [seq, seq + 3]  # 2027 (test data) and the national 2026 after it


def test_other_subjects_and_company_facts_do_not_interfere() -> None:
    log = sick_leave()
    log.clock_in("2025-10-09 09:00", subject="E2002")
    log.add(
        "policy.adopted",
        "2025-01-01 09:00",
        {
            "policy_id": "HB",
            "version": "1",
            "document_digest": "sha256:" + "0" * 64,
            "effective_from": "2025-01-01",
            "democratic_procedure": "职代会",
        },
        subject="company",
    )
    p = log.projector()
    assert p.subjects() == [E, "E2002"]
    assert p.absence("E2002", at("2025-10-10 12:00"))["state"] == "present"
    assert p.absence(E, at("2025-10-10 12:00"))["overdue_days"] == 2
