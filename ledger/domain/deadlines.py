"""The return demand's deadline (催告函的返岗期限), counted from its service (SPEC section 4).

A ``return_demand`` sets ``return_by`` (an instant) or ``return_within_days`` (calendar days counted from
the day after service, 民法典 art. 201; ending at 24:00 of the last day, moved past a statutory rest day,
民法典 art. 203, 民事诉讼法 art. 85). A publication that serves it may set a later one, which replaces it.
The deadline must fall at least ``return_demand_min_days`` after the service date: a deadline that passed
before the letter arrived, or that left no reasonable time to come back, demanded nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from ledger.core.entries import parse_rfc3339
from ledger.domain.calendar import WorkCalendar
from ledger.domain.facts import Fact
from ledger.domain.periods import period
from ledger.domain.policy import Policy
from ledger.domain.service import Service
from ledger.errors import CalendarError, ValidationError


@dataclass(frozen=True, slots=True)
class Deadline:
    service: Service
    source: Fact | None  # the notice or the publication that set it; None when neither did
    ends_at: datetime | None = None
    last_day: date | None = None
    min_days: int = 0
    error: str | None = None  # the calendar could not count it
    seqs: list[int] = field(default_factory=list)

    @property
    def gap_days(self) -> int | None:
        if self.last_day is None or self.service.day is None:
            return None
        return (self.last_day - self.service.day).days

    @property
    def ok(self) -> bool:
        gap = self.gap_days
        return self.ends_at is not None and gap is not None and gap >= self.min_days

    def fields(self) -> dict[str, Any]:
        """The deadline as an answer shows it: its last day, the instant it ends, the service date."""
        return {
            "deadline": self.last_day.isoformat() if self.last_day else None,
            "deadline_ends_at": self.ends_at.isoformat() if self.ends_at else None,
            "service_date": self.service.day.isoformat() if self.service.day else None,
        }

    def problem(self, as_of: datetime, policy: Policy, *, clocked_in: Fact | None = None) -> tuple[str, str]:
        """What keeps the deadline item from holding, in Chinese and English."""
        if self.error is not None:
            return f"返岗期限无法计算：{self.error}", f"the deadline cannot be counted: {self.error}"
        if self.ends_at is None or self.last_day is None or self.service.day is None:
            return (
                "催告函未载明返岗期限（notice.issued return_by 或 return_within_days）",
                "the return demand sets no deadline (notice.issued return_by or return_within_days)",
            )
        served, gap = self.service.day.isoformat(), self.gap_days
        last = self.last_day.isoformat()
        if gap is not None and gap < 0:
            return (
                f"返岗期限 {last} 早于送达日 {served}：期限在送达前已届满，催告无效",
                f"the deadline {last} passed before the notice was served on {served}: it demanded nothing",
            )
        if not self.ok:
            return (
                f"返岗期限 {last} 距送达日 {served} 仅 {gap} 日，少于制度要求的 {self.min_days} 日"
                "（policy return_demand_min_days）",
                f"the deadline {last} is only {gap} day(s) after service on {served}; the policy requires at "
                f"least {self.min_days} (return_demand_min_days)",
            )
        if clocked_in is not None:
            day = clocked_in.local_date(policy.tz).isoformat()
            return f"员工已于 {day} 在期限内打卡返岗", f"the employee clocked in on {day}, within the deadline"
        at = local_time(self.ends_at, policy)
        return f"返岗期限尚未届满（{at}）", f"the deadline has not passed yet ({at})"


def local_time(instant: datetime, policy: Policy) -> str:
    """An instant as HR and a court read it, in the company's zone: ``2025-10-20 24:00`` for the end of a day
    (a period ends at 二十四时 of its last day, 民法典 art. 203), else ``2025-10-20 18:00``."""
    local = instant.astimezone(policy.tz)
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        return f"{(local.date() - timedelta(days=1)).isoformat()} 24:00"
    return local.strftime("%Y-%m-%d %H:%M")


def _sets_deadline(f: Fact | None) -> bool:
    return f is not None and (f.get("return_by") is not None or f.get("return_within_days") is not None)


def return_deadline(service: Service, calendar: WorkCalendar, policy: Policy) -> Deadline:
    """The deadline of a served return demand (its publication's, where that sets one)."""
    source = service.publication if _sets_deadline(service.publication) else service.notice
    if not _sets_deadline(source) or service.day is None:
        return Deadline(service, None, min_days=policy.return_demand_min_days)
    assert source is not None
    seqs = [source.seq]
    if source.get("return_by") is not None:
        try:
            ends = parse_rfc3339(source.get("return_by"), "return_by")
        except ValidationError as exc:  # pragma: no cover - intake checks it
            return Deadline(service, source, min_days=policy.return_demand_min_days, error=str(exc), seqs=seqs)
        return Deadline(
            service, source, ends, ends.astimezone(policy.tz).date(), policy.return_demand_min_days, None, seqs
        )
    days = source.get("return_within_days")
    if isinstance(days, bool) or not isinstance(days, int):
        return Deadline(service, None, min_days=policy.return_demand_min_days)
    try:
        p = period(service.day, days, calendar, policy.tz)
    except CalendarError as exc:
        return Deadline(service, source, min_days=policy.return_demand_min_days, error=str(exc), seqs=seqs)
    return Deadline(service, source, p.ends_at, p.last_day, policy.return_demand_min_days, None, seqs)
