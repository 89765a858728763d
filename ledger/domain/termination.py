"""After a termination: the second checklist, each item with its deadline (SPEC section 4).

- the termination notice served, by the day the termination takes effect (a termination whose
  ``effective_on`` precedes the notice's service is flagged: it took effect before the employee could know);
- the termination certificate issued at termination (劳动合同法 art. 50: 解除或者终止劳动合同时出具证明);
- social insurance and the personnel file transferred within 15 days (劳动合同法 art. 50), counted as
  periods are (民法典 art. 201, 203).

A termination recorded while the checklist of ``ledger.domain.readiness`` was not ready is accepted (it is
a fact); the projector says which items were missing then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from ledger.domain.calendar import WorkCalendar
from ledger.domain.facts import Fact
from ledger.domain.leaves import fact_date
from ledger.domain.periods import period
from ledger.domain.policy import Policy
from ledger.domain.readiness import Item, item
from ledger.domain.service import Service
from ledger.errors import CalendarError

TRANSFER_DAYS = 15  # 劳动合同法 art. 50
AFTER_ITEMS = (
    Item(
        "termination_notice_served",
        "解除通知已送达，且不晚于解除生效日",
        "the termination notice served, no later than the day the termination takes effect",
        "notice.delivered, notice.refused, notice.delivery_failed, notice.issued kind=publication (serves)",
        "劳动合同法 art. 50; 民事诉讼法 art. 88–91, 95",
    ),
    Item(
        "certificate_issued",
        "解除时出具解除劳动合同证明",
        "a termination certificate issued at termination",
        "employment.certificate_issued",
        "劳动合同法 art. 50",
    ),
    Item(
        "social_insurance_transferred",
        "十五日内办理社会保险关系转移手续",
        "social insurance transferred within 15 days",
        "employment.records_transferred social_insurance_on",
        "劳动合同法 art. 50",
    ),
    Item(
        "personnel_file_transferred",
        "十五日内办理档案转移手续",
        "the personnel file transferred within 15 days",
        "employment.records_transferred personnel_file_on",
        "劳动合同法 art. 50",
    ),
)
AFTER_ITEM = {i.name: i for i in AFTER_ITEMS}


def _notice_item(effective: date, notice_id: Any, service: Service | None) -> tuple[dict[str, Any], list[str]]:
    spec, deadline = AFTER_ITEM["termination_notice_served"], effective.isoformat()
    if service is None:
        return item(
            spec,
            False,
            [],
            f"未记录解除通知 {notice_id} 的发出（notice.issued），无从送达",
            f"no notice.issued with notice_id {notice_id!r}: the termination notice cannot be served",
            deadline=deadline,
        ), []
    if not service.served or service.day is None:
        zh, en = service.missing or ("尚未送达", "not served")
        return item(spec, False, service.seqs, f"解除通知：{zh}", f"termination notice: {en}", deadline=deadline), []
    if service.day > effective:
        day = service.day.isoformat()
        return item(
            spec,
            False,
            service.seqs,
            f"解除于 {deadline} 生效，早于解除通知送达之日 {day}",
            f"the termination took effect on {deadline}, before its notice was served on {day}",
            deadline=deadline,
            service_date=day,
        ), ["effective_before_service"]
    return item(spec, True, service.seqs, deadline=deadline, service_date=service.day.isoformat()), []


def _dated(
    spec: Item, facts: Sequence[Fact], type_: str, field: str, deadline: date, what: tuple[str, str]
) -> dict[str, Any]:
    done = [(d, f) for f in facts if f.type == type_ and (d := fact_date(f, field)) is not None]
    due = deadline.isoformat()
    if not done:
        return item(
            spec, False, [], f"尚未{what[0]}（期限 {due}）", f"{what[1]} not recorded yet (due by {due})", deadline=due
        )
    day, fact = min(done, key=lambda df: df[0])
    if day > deadline:
        return item(
            spec,
            False,
            [fact.seq],
            f"于 {day.isoformat()} {what[0]}，晚于期限 {due}",
            f"{what[1]} on {day.isoformat()}, after the deadline {due}",
            deadline=due,
            late=True,
        )
    return item(spec, True, [fact.seq], deadline=due, done_on=day.isoformat())


def after_termination(
    termination: Fact,
    facts: Sequence[Fact],
    services: Mapping[str, Service],
    calendar: WorkCalendar,
    policy: Policy,
    as_of: datetime,
) -> dict[str, Any] | None:
    """The checklist after ``termination``; ``facts`` are the employee's, cut at ``as_of``."""
    effective = fact_date(termination, "effective_on")
    if effective is None:
        return None
    notice_id = termination.get("notice_id")
    notice, flags = _notice_item(effective, notice_id, services.get(str(notice_id)))
    try:
        transfer_by = period(effective, TRANSFER_DAYS, calendar, policy.tz).last_day
    except CalendarError:
        transfer_by = effective + timedelta(days=TRANSFER_DAYS)  # the calendar cannot move it: the plain day
    items = [
        notice,
        _dated(
            AFTER_ITEM["certificate_issued"],
            facts,
            "employment.certificate_issued",
            "issued_on",
            effective,
            ("出具解除劳动合同证明", "termination certificate issued"),
        ),
        _dated(
            AFTER_ITEM["social_insurance_transferred"],
            facts,
            "employment.records_transferred",
            "social_insurance_on",
            transfer_by,
            ("办理社会保险关系转移", "social insurance transfer"),
        ),
        _dated(
            AFTER_ITEM["personnel_file_transferred"],
            facts,
            "employment.records_transferred",
            "personnel_file_on",
            transfer_by,
            ("办理档案转移", "personnel file transfer"),
        ),
    ]
    return {
        "effective_on": effective.isoformat(),
        "notice_id": notice_id,
        "complete": all(i["ok"] for i in items),
        "flags": flags,
        "items": items,
        "as_of": as_of.isoformat(),
    }
