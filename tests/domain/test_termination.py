"""A termination: the items missing when it was recorded, and the checklist after it (SPEC section 4;
劳动合同法 art. 50)."""

from __future__ import annotations

from typing import Any

from tests.support.domain import CASE, DIGEST, Log, at, case_log, delivered, notice, ready_log


def terminate(log: Log, when: str, effective_on: str, nid: str = "N9") -> int:
    return log.add(
        "employment.terminated", when, {"effective_on": effective_on, "notice_id": nid, "confirmed_by": "人事总监"}
    )


def case(log: Log, when: str) -> dict[str, Any]:
    found = log.projector().case(CASE, at(when))
    assert found is not None
    return found


def test_termination_recorded_while_not_ready_names_the_missing_items() -> None:
    """Issue 14: a termination was accepted while readiness was false, and nothing said so afterwards.
    SPEC section 4: it is accepted (it is a fact) and the case says which items were missing, computed from
    the entries recorded before it."""
    log = case_log()
    seq = terminate(log, "2025-10-20 15:00", "2025-10-20")
    c = case(log, "2025-10-25 12:00")
    assert c["status"] == "terminated"
    t = c["termination"]
    assert (t["seq"], t["ready_when_recorded"]) == (seq, False)
    missing = [m["name"] for m in t["missing_when_recorded"]]
    assert missing == [
        "reminder_issued",
        "return_demand_issued",
        "lawful_service",
        "return_deadline_passed",
        "channels_attempted",
        "emergency_contacts_attempted",
        "union_notified",
    ]
    assert all(m["missing"]["zh"] and m["label"]["en"] for m in t["missing_when_recorded"])


def test_facts_recorded_after_the_termination_do_not_change_what_was_missing() -> None:
    """What was missing is read from the entries recorded before the termination's entry: a notice
    backfilled later (dated before it) does not make it ready then."""
    log = case_log()
    terminate(log, "2025-10-20 15:00", "2025-10-20")
    notice(log, "2025-10-09 11:05", "N1", "reminder", ["sms"])  # recorded after, dated before
    missing = [m["name"] for m in case(log, "2025-10-25 12:00")["termination"]["missing_when_recorded"]]
    assert "reminder_issued" in missing
    assert next(i for i in case(log, "2025-10-25 12:00")["readiness"]["items"] if i["name"] == "reminder_issued")["ok"]


def test_a_termination_recorded_while_ready_says_so() -> None:
    log = ready_log()
    terminate(log, "2025-10-20 15:00", "2025-10-20")
    t = case(log, "2025-10-25 12:00")["termination"]
    assert (t["ready_when_recorded"], t["missing_when_recorded"]) == (True, [])


def test_after_termination_checklist_with_deadlines() -> None:
    """劳动合同法 art. 50: the termination certificate at termination, social insurance and the personnel file
    transferred within 15 days; the termination notice served no later than the termination takes effect."""
    log = ready_log()
    notice(log, "2025-10-20 09:00", "N9", "termination", ["visit"])
    terminate(log, "2025-10-20 15:00", "2025-10-20")
    after = case(log, "2025-10-21 12:00")["after_termination"]
    assert [i["name"] for i in after["items"]] == [
        "termination_notice_served",
        "certificate_issued",
        "social_insurance_transferred",
        "personnel_file_transferred",
    ]
    assert after["complete"] is False
    due = {i["name"]: i["deadline"] for i in after["items"]}
    # 20 Oct + 15 days = Tue 4 Nov
    assert due == {
        "termination_notice_served": "2025-10-20",
        "certificate_issued": "2025-10-20",
        "social_insurance_transferred": "2025-11-04",
        "personnel_file_transferred": "2025-11-04",
    }
    delivered(log, "2025-10-20 10:00", "N9", "visit", received_by="employee")
    log.add("employment.certificate_issued", "2025-10-20 16:00", {"issued_on": "2025-10-20", "document_digest": DIGEST})
    log.add("employment.records_transferred", "2025-10-30 10:00", {"social_insurance_on": "2025-10-30"})
    after = case(log, "2025-10-31 12:00")["after_termination"]
    assert {i["name"]: i["ok"] for i in after["items"]} == {
        "termination_notice_served": True,
        "certificate_issued": True,
        "social_insurance_transferred": True,
        "personnel_file_transferred": False,
    }
    log.add("employment.records_transferred", "2025-11-05 10:00", {"personnel_file_on": "2025-11-05"})
    late = next(
        i
        for i in case(log, "2025-11-06 12:00")["after_termination"]["items"]
        if i["name"] == "personnel_file_transferred"
    )
    assert late["ok"] is False and late["late"] is True and "after the deadline 2025-11-04" in late["missing"]["en"]


def test_a_termination_effective_before_its_notice_was_served_is_flagged() -> None:
    """SPEC section 4: the termination notice must be served too, and a termination whose effective_on
    precedes that service is flagged."""
    log = ready_log()
    notice(log, "2025-10-20 09:00", "N9", "termination", ["post"])
    terminate(log, "2025-10-20 15:00", "2025-10-20")
    delivered(log, "2025-10-23 10:00", "N9", "post", received_by="employee")
    after = case(log, "2025-10-24 12:00")["after_termination"]
    served = after["items"][0]
    assert served["ok"] is False and after["flags"] == ["effective_before_service"]
    assert "before its notice was served on 2025-10-23" in served["missing"]["en"]
