"""The facts a drafted notice states, taken from the case and the employee's file (pure: no I/O).

Every value is plain data (strings, numbers, None), so it can be shown beside the document, returned by
``GET /v1/notices/{notice_id}`` and filled into a template. Dates are written the Chinese way
(``2025年6月23日``) beside their ISO form. The return deadline is stated as SPEC section 4 counts
periods: ``return_within_days`` calendar days from the day after service, ending at the end of the last
day, a last day on a rest day moving to the next working day; the illustrated date assumes service
``expected_service_days`` after the letter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from ledger.domain.calendar import WorkCalendar
from ledger.domain.contacts import contact_file
from ledger.domain.facts import Fact
from ledger.domain.policy import Policy
from ledger.errors import CalendarError
from ledger.services.labels import CHANNELS, LEAVE_KINDS

TITLES = {
    "reminder": "返岗提醒通知",
    "return_demand": "催告函",
    "absenteeism": "旷工通知书",
    "termination": "解除劳动合同通知书",
    "publication": "公告",
}


def zh_date(day: date | str | None) -> str:
    if day is None or day == "":
        return ""
    d = date.fromisoformat(day) if isinstance(day, str) else day
    return f"{d.year}年{d.month}月{d.day}日"


def period_end(start: date, days: int, calendar: WorkCalendar) -> date | None:
    """The last day of a period of ``days`` counted from the day after ``start`` (民法典 art. 201, 203):
    moved to the next working day when it is a rest day; None when the calendar cannot say."""
    last = start + timedelta(days=days)
    try:
        while not calendar.is_workday(last):
            last += timedelta(days=1)
    except CalendarError:
        return None
    return last


def _rule_book(company: Sequence[Fact], title: str, clause: str) -> dict[str, Any]:
    adopted = [f for f in company if f.type == "policy.adopted" and f.data is not None]
    latest = adopted[-1] if adopted else None
    return {
        "title": title,
        "clause": clause,
        "policy_id": latest.get("policy_id") if latest else None,
        "version": latest.get("version") if latest else None,
        "effective_from": latest.get("effective_from") if latest else None,
        "seq": latest.seq if latest else None,
    }


def _attempts(window: Sequence[Fact]) -> str:
    used = dict.fromkeys(f.get("channel") for f in window if f.type == "contact.attempted")
    names = {"phone": "电话", "sms": "短信", "email": "电子邮件", "wechat": "微信", "post": "邮寄", "visit": "上门"}
    return "、".join(names.get(str(c), CHANNELS.get(str(c), (str(c), ""))[0]) for c in used)


def _served(facts: Sequence[Fact], serves: str | None) -> dict[str, Any]:
    issued = next(
        (f for f in reversed(facts) if f.type == "notice.issued" and serves and f.get("notice_id") == serves), None
    )
    if issued is None:  # the publication of the latest return demand, when none is named
        issued = next(
            (f for f in reversed(facts) if f.type == "notice.issued" and f.get("kind") == "return_demand"), None
        )
    kind = str(issued.get("kind")) if issued is not None else "return_demand"
    return {
        "notice_id": issued.get("notice_id") if issued is not None else serves,
        "kind": kind,
        "title_zh": TITLES.get(kind, "催告函"),
        "issued_zh": zh_date(issued.occurred_at.date()) if issued is not None else "",
        "seq": issued.seq if issued is not None else None,
    }


def notice_facts(
    case: Mapping[str, Any],
    facts: Sequence[Fact],
    company: Sequence[Fact],
    calendar: WorkCalendar,
    policy: Policy,
    settings: Any,
    *,
    kind: str,
    as_of: datetime,
    serves: str | None = None,
) -> dict[str, Any]:
    """The facts of one notice of ``kind`` for ``case`` (the projection's case document) at ``as_of``."""
    tz = policy.tz
    today = as_of.astimezone(tz).date()
    cf = contact_file(str(case["subject"]), facts)
    leave = case.get("leave") or {}
    leave_end = date.fromisoformat(leave["end"]) if leave.get("end") else None
    window = [f for f in facts if leave_end is None or f.local_date(tz) > leave_end]
    missed = list(case.get("missed_days") or [])
    days = max(int(settings.return_within_days), int(getattr(policy, "return_demand_min_days", 3)))
    expected = today + timedelta(days=int(settings.expected_service_days))
    return_by = period_end(expected, days, calendar)
    snapshot = cf.fact if cf is not None else None
    service_address = snapshot.get("service_address") if snapshot is not None else None
    address = next((c.value for c in cf.contacts if c.kind == "address"), None) if cf else None
    return {
        "kind": kind,
        "title": TITLES[kind],
        "case_id": case["case_id"],
        "as_of": as_of.isoformat(),
        "as_of_zh": zh_date(today),
        "letter_date": today.isoformat(),
        "letter_date_zh": zh_date(today),
        "company": {
            "name": settings.company_name,
            "address": settings.company_address,
            "seal": settings.seal,
            "contact": settings.contact,
        },
        "employee": {
            "subject": case["subject"],
            "name": (cf.name if cf and cf.name else str(case["subject"])),
            "address": address,
            "service_address": service_address if isinstance(service_address, str) else None,
            "hired_on": snapshot.get("hired_on") if snapshot is not None else None,
            "file_seq": snapshot.seq if snapshot is not None else None,
        },
        "emergency": [{"name": e.name, "relation": e.relation} for e in (cf.emergency if cf else ())],
        "leave": {
            "leave_id": case.get("leave_id"),
            "kind": leave.get("kind"),
            "kind_zh": LEAVE_KINDS.get(str(leave.get("kind")), ("假期", ""))[0],
            "start": leave.get("start"),
            "end": leave.get("end"),
            "start_zh": zh_date(leave.get("start")),
            "end_zh": zh_date(leave.get("end")),
            "seqs": list(leave.get("seqs") or []),
        },
        "return_day": case.get("return_day"),
        "return_day_zh": zh_date(case.get("return_day")),
        "overdue_days": case.get("overdue_days"),
        "first_missed_zh": zh_date(missed[0]) if missed else "",
        "last_missed_zh": zh_date(missed[-1]) if missed else "",
        "stage": case.get("stage"),
        "attempts_zh": _attempts(window),
        "deadline": {
            "days": days,
            "expected_service": expected.isoformat(),
            "expected_service_zh": zh_date(expected),
            "return_by": return_by.isoformat() if return_by else None,
            "return_by_zh": zh_date(return_by) if return_by else "",
        },
        "rule_book": _rule_book(company, settings.rule_book_title, settings.rule_book_clause),
        "publication_days": policy.publication_days,
        "served": _served(facts, serves) if kind == "publication" else None,
    }
