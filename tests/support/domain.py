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
