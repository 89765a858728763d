"""Shared builders for the domain tests (no tests here): a log of facts written like HR systems post them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger.core.entries import parse_rfc3339
from ledger.domain import Fact, Policy, Projector, make_fact, national_year

DIGEST = "sha256:" + "ab" * 32
NATIONAL = (2024, 2025, 2026)  # the years the tests' cases run in
E = "E1001"


def at(text: str) -> datetime:
    """'2025-10-09 11:00' in company time (+08:00), or a full RFC 3339 string."""
    if "T" not in text:
        text = text.replace(" ", "T") + (":00" if text.count(":") == 1 else "") + "+08:00"
    return parse_rfc3339(text, "as_of")


class Log:
    """Facts in receipt (seq) order; ``add`` returns the seq."""

    def __init__(self) -> None:
        self.facts: list[Fact] = []

    def add(
        self,
        type_: str,
        when: str,
        data: dict[str, Any] | None = None,
        *,
        subject: str = E,
        recorded: str | None = None,
        event_id: str | None = None,
    ) -> int:
        seq = len(self.facts)
        rec = at(recorded).isoformat() if recorded else None
        self.facts.append(
            make_fact(seq, type_, subject, at(when).isoformat(), data or {}, recorded_at=rec, event_id=event_id)
        )
        return seq

    def leave(
        self, leave_id: str, start: str, end: str, when: str, *, approve: bool = True, subject: str = E
    ) -> list[int]:
        seqs = [
            self.add(
                "leave.requested",
                when,
                {"leave_id": leave_id, "kind": "sick", "start": start, "end": end},
                subject=subject,
            )
        ]
        if approve:
            seqs.append(self.add("leave.approved", when, {"leave_id": leave_id}, subject=subject))
        return seqs

    def clock_in(self, when: str, subject: str = E) -> int:
        return self.add("attendance.clock_in", when, {"method": "face"}, subject=subject)

    def calendar(self, year: int, *, when: str = "2000-01-01 00:00", **days: list[str]) -> int:
        """Record a year of the working-day calendar (``holidays=``, ``workdays=``); returns its seq."""
        data = {
            "year": year,
            "holidays": days.get("holidays", []),
            "workdays": days.get("workdays", []),
            "source": "test data",
        }
        return self.add("calendar.adopted", when, data, subject="company")

    def projector(self, policy: Policy | None = None, *, national: tuple[int, ...] = NATIONAL) -> Projector:
        """The facts so far, then (at the next seqs, so tests' seqs stay put) the national calendar's
        ``national`` years as the service would record them."""
        p = Projector(policy or Policy())
        p.feed_all(self.facts)
        p.feed_all(national_calendar(len(self.facts), national))
        return p


def national_calendar(first_seq: int, years: tuple[int, ...] = NATIONAL) -> list[Fact]:
    """``calendar.adopted`` facts of the bundled national calendar's ``years``, from seq ``first_seq`` on."""
    facts = []
    for offset, year in enumerate(years):
        cal = national_year(year)
        assert cal is not None
        facts.append(
            make_fact(
                first_seq + offset,
                "calendar.adopted",
                "company",
                "2000-01-01T00:00:00+00:00",
                cal.data(),
                event_id=cal.event_id(),
            )
        )
    return facts


def enrolment(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "张三",
        "hired_on": "2023-03-01",
        "contacts": [
            {"channel": "mobile", "value": "+86 138 0000 0001"},
            {"channel": "email", "value": "zhangsan@example.com"},
            {"channel": "address", "value": "上海市浦东新区世纪大道 1 号"},
        ],
        "emergency_contacts": [{"name": "李四", "relation": "配偶", "mobile": "13900000002"}],
    }
    data.update(extra)
    return data


# -- the facts of a case, as HR systems post them ---------------------------------------------------

CASE = f"{E}/L1"
ADDRESS = "上海市浦东新区世纪大道 1 号"


def notice(log: Log, when: str, nid: str, kind: str, channels: list[str], **extra: Any) -> int:
    """A notice.issued; ``extra`` adds return_by, return_within_days, serves, recipients."""
    data = {"notice_id": nid, "kind": kind, "document_digest": DIGEST, "recipients": ["张三"], "channels": channels}
    return log.add("notice.issued", when, {**data, **extra})


def delivered(log: Log, when: str, nid: str, channel: str, **extra: Any) -> int:
    return log.add("notice.delivered", when, {"notice_id": nid, "channel": channel, "evidence": "回执", **extra})


def failed(log: Log, when: str, nid: str, channel: str, **extra: Any) -> int:
    return log.add("notice.delivery_failed", when, {"notice_id": nid, "channel": channel, "reason": "退回", **extra})


def attempt(
    log: Log, when: str, channel: str, value: str | None, target: str = "employee", result: str = "no_answer"
) -> int:
    data = {"channel": channel, "target": target, "result": result}
    if value is not None:
        data["value"] = value
    return log.add("contact.attempted", when, data)


def rule_book(log: Log) -> tuple[int, int]:
    adopted = log.add(
        "policy.adopted",
        "2025-01-02 09:00",
        {
            "policy_id": "HB-2025",
            "version": "2",
            "document_digest": DIGEST,
            "effective_from": "2025-01-10",
            "democratic_procedure": "职工代表大会讨论通过并公示",
        },
        subject="company",
    )
    return adopted, log.add("policy.acknowledged", "2025-03-02 09:00", {"policy_id": "HB-2025", "version": "2"})


def report(log: Log, when: str, start: str, end: str | None = None, **extra: Any) -> int:
    """An absence.reported (by the family, a hospital stay by default)."""
    data = {"reason": "hospitalised", "reported_by": "family", "from": start, **extra}
    if end is not None:
        data["to"] = end
    return log.add("absence.reported", when, data)


def assess(log: Log, when: str, report_seq: int, decision: str, **extra: Any) -> int:
    return log.add(
        "absence.assessed", when, {"report_seq": report_seq, "decision": decision, "assessed_by": "王五", **extra}
    )


def case_log(**enrolment_extra: Any) -> Log:
    """The National Day case: enrolled, rule book acknowledged, sick leave 22–30 Sep 2025 approved.
    R = Thu 9 Oct; day 8 = Fri 17 Oct (Sat 11 Oct is a make-up working day)."""
    log = Log()
    log.add("employee.enrolled", "2025-03-01 09:00", enrolment(**enrolment_extra))
    rule_book(log)
    log.leave("L1", "2025-09-22", "2025-09-30", "2025-09-19 10:00")
    return log


def ready_log(channel: str = "post") -> Log:
    """The case, ready at 18 Oct: reminder, every contact tried, a 催告函 sent on 11 Oct (back within 3 days of
    service) and signed for by the employee on 14 Oct, by EMS or, with ``channel="visit"``, in person
    (deadline: the end of 17 Oct), union told."""
    log = case_log()
    notice(log, "2025-10-09 11:05", "N1", "reminder", ["sms", "email"])
    attempt(log, "2025-10-09 11:10", "phone", "13800000001", result="number_invalid")
    attempt(log, "2025-10-09 11:12", "email", "zhangsan@example.com", result="bounced")
    attempt(log, "2025-10-09 11:15", "phone", "13900000002", target="emergency_contact")
    notice(log, "2025-10-11 11:05", "N2", "return_demand", [channel], return_within_days=3)
    attempt(log, "2025-10-11 11:20", "post", None, result="returned")
    delivered(log, "2025-10-14 15:00", "N2", channel, received_by="employee")
    log.add("union.notified", "2025-10-15 10:00", {"union": "公司工会", "note": "拟解除劳动合同"})
    return log


def items(log: Log, when: str, policy: Policy | None = None, case_id: str = CASE) -> dict[str, dict[str, Any]]:
    case = log.projector(policy).case(case_id, at(when))
    assert case is not None, f"no case {case_id} at {when}"
    return {i["name"]: i for i in case["readiness"]["items"]}


def ready(log: Log, when: str, policy: Policy | None = None) -> bool:
    case = log.projector(policy).case(CASE, at(when))
    assert case is not None
    return bool(case["readiness"]["ready"])
