"""Shared builders for the domain tests (no tests here): a log of facts written like HR systems post them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger.domain import Fact, Policy, Projector, make_fact
from ledger.entries import parse_rfc3339

DIGEST = "sha256:" + "ab" * 32
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

    def add(self, type_: str, when: str, data: dict[str, Any] | None = None, *, subject: str = E,
            recorded: str | None = None, event_id: str | None = None) -> int:
        seq = len(self.facts)
        rec = at(recorded).isoformat() if recorded else None
        self.facts.append(make_fact(seq, type_, subject, at(when).isoformat(), data or {}, recorded_at=rec,
                                    event_id=event_id))
        return seq

    def leave(self, leave_id: str, start: str, end: str, when: str, *, approve: bool = True,
              subject: str = E) -> list[int]:
        seqs = [self.add("leave.requested", when, {"leave_id": leave_id, "kind": "sick", "start": start,
                                                  "end": end}, subject=subject)]
        if approve:
            seqs.append(self.add("leave.approved", when, {"leave_id": leave_id}, subject=subject))
        return seqs

    def clock_in(self, when: str, subject: str = E) -> int:
        return self.add("attendance.clock_in", when, {"method": "face"}, subject=subject)

    def projector(self, policy: Policy | None = None) -> Projector:
        p = Projector(policy or Policy())
        p.feed_all(self.facts)
        return p


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
