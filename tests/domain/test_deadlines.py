"""The 催告函's deadline: set by the notice, counted from service, at least ``return_demand_min_days``
after it and passed without a clock-in (SPEC section 4; 民法典 art. 201, 203; 民事诉讼法 art. 85)."""

from __future__ import annotations

from typing import Any

from ledger.domain import Policy
from tests.support.domain import CASE, Log, at, case_log, delivered, failed, items, notice


def deadline(log: Log, when: str, policy: Policy | None = None) -> dict[str, Any]:
    return items(log, when, policy)["return_deadline_passed"]


def served_on_14_oct(**deadline_fields: Any) -> Log:
    log = case_log()
    notice(log, "2025-10-11 11:05", "N2", "return_demand", ["post"], **deadline_fields)
    delivered(log, "2025-10-14 15:00", "N2", "post", received_by="employee")
    return log


def test_within_days_counts_from_the_day_after_service() -> None:
    """return_within_days: calendar days from the day after service, ending at 24:00 of the last day."""
    log = served_on_14_oct(return_within_days=5)  # 15..19 Oct; Sun 19 Oct is a rest day: Mon 20 Oct
    d = deadline(log, "2025-10-20 12:00")
    assert (d["ok"], d["deadline"], d["service_date"]) == (False, "2025-10-20", "2025-10-14")
    assert d["missing"]["en"] == "the deadline has not passed yet (2025-10-20 24:00)"  # Beijing time, as read
    assert deadline(log, "2025-10-21 00:00")["ok"] is True


def test_a_deadline_at_a_given_hour_reads_in_company_time() -> None:
    log = served_on_14_oct(return_by="2025-10-20T10:00:00Z")  # 18:00 in Beijing
    assert deadline(log, "2025-10-20 12:00")["missing"]["zh"] == "返岗期限尚未届满（2025-10-20 18:00）"


def test_deadline_before_service_loses() -> None:
    """Issue 14: the 催告函's deadline was not data, so nothing checked that it gave the employee a reasonable
    time after it arrived: a deadline that passed before the letter arrived loses the case."""
    log = served_on_14_oct(return_by="2025-10-13T18:00:00+08:00")
    d = deadline(log, "2025-10-30 12:00")
    assert d["ok"] is False and "passed before the notice was served" in d["missing"]["en"]
    case = log.projector().case(CASE, at("2025-10-30 12:00"))
    assert case is not None and case["readiness"]["ready"] is False


def test_a_deadline_too_close_to_service_is_not_reasonable() -> None:
    """policy return_demand_min_days (default 3): the deadline must fall at least that many days after service."""
    log = served_on_14_oct(return_by="2025-10-16T18:00:00+08:00")  # 2 days after
    d = deadline(log, "2025-10-30 12:00")
    assert d["ok"] is False and "only 2 day(s) after service" in d["missing"]["en"]
    assert deadline(log, "2025-10-30 12:00", Policy(return_demand_min_days=2))["ok"] is True


def test_a_clock_in_before_the_deadline_means_it_did_not_pass_unanswered() -> None:
    """The deadline must pass without a clock-in: one before it answers the demand."""
    log = served_on_14_oct(return_within_days=3)
    log.clock_in("2025-10-16 08:50")
    case = log.projector().case(CASE, at("2025-10-20 12:00"))
    assert case is not None and case["status"] == "returned"
    d = next(i for i in case["readiness"]["items"] if i["name"] == "return_deadline_passed")
    assert d["ok"] is False and "clocked in on 2025-10-16" in d["missing"]["en"]


def test_a_publication_may_set_a_later_deadline_that_replaces_the_notices() -> None:
    """SPEC section 3: a publication may set a later deadline, which then replaces the published notice's;
    it runs from the publication's service (the end of its 30th day)."""
    log = case_log()
    notice(log, "2025-10-11 11:05", "N2", "return_demand", ["visit", "post"], return_within_days=3)
    failed(log, "2025-10-13 10:00", "N2", "visit")
    failed(log, "2025-10-15 10:00", "N2", "post")
    notice(log, "2025-10-16 10:00", "P1", "publication", ["newspaper"], serves="N2", return_within_days=10)
    # served at the end of Sat 15 Nov -> moved to Mon 17 Nov; + 10 days = Thu 27 Nov
    d = deadline(log, "2025-11-27 12:00")
    assert (d["ok"], d["service_date"], d["deadline"]) == (False, "2025-11-17", "2025-11-27")
    assert deadline(log, "2025-11-28 00:00")["ok"] is True
