"""The overview: who is overdue, on which stage, since when, the next deadline and what is missing; then the
employees who need attention (contacts unverified, stale or failed)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from aiohttp import web

from api.cases import evaluate
from api.workbench.page import now, page, projection
from ledger.domain import Policy, Projector
from ledger.domain.contacts import contact_file
from ledger.errors import CalendarError


def employee_name(p: Projector, subject: str, as_of: datetime) -> str:
    cf = contact_file(subject, p.facts(subject, as_of))
    return cf.name if cf is not None and cf.name else ""


def next_stage(case: dict[str, Any], p: Projector, policy: Policy, as_of: datetime) -> dict[str, Any] | None:
    """The next stage and the working day it is reached if nobody clocks in; None past the last stage."""
    n = int(case.get("overdue_days") or 0)
    rule = next((s for s in policy.stages if s.overdue_days > n), None)
    if rule is None or case.get("status") != "open" or not case.get("return_day"):
        return None
    missed = case.get("missed_days") or []
    day = date.fromisoformat(missed[-1]) if missed else date.fromisoformat(case["return_day"]) - timedelta(days=1)
    calendar = p.calendar(as_of)
    try:
        for _ in range(rule.overdue_days - n):
            day = calendar.next_workday_after(day)
    except CalendarError:
        return {"stage": rule.name, "on": None}
    return {"stage": rule.name, "on": day.isoformat()}


def return_deadline(p: Projector, case: dict[str, Any], as_of: datetime) -> str | None:
    """The deadline the latest 催告函 set, as its notice says (a date, or N days after service)."""
    demands = [
        f
        for f in p.facts(case["subject"], as_of)
        if f.type == "notice.issued" and f.get("kind") in ("return_demand", "publication")
    ]
    if not demands:
        return None
    last = demands[-1]
    if last.get("return_by"):
        return str(last.get("return_by"))
    days = last.get("return_within_days")
    return f"+{days}d" if days is not None else None


def summarise(case: dict[str, Any], p: Projector, policy: Policy, as_of: datetime) -> dict[str, Any]:
    stages = case.get("stages") or []
    return {
        **case,
        "name": employee_name(p, case["subject"], as_of),
        "since": stages[-1]["reached_on"] if stages else case.get("return_day"),
        "next_stage": next_stage(case, p, policy, as_of),
        "return_deadline": return_deadline(p, case, as_of),
        "missing": [i for i in case["readiness"]["items"] if not i["ok"]],
    }


async def overview(request: web.Request) -> web.Response:
    at = now(request)
    p = await projection(request)
    cases = await evaluate(request, lambda p: p.cases(at, status="open"), lambda cs: cs)
    rows = [summarise(c, p, p.policy, at) for c in cases]
    rows.sort(key=lambda r: (-int(r.get("overdue_days") or 0), r["case_id"]))
    attention = p.attention(at)
    context = {"cases": rows, "attention": attention["employees"], "attention_note": attention["note"]}
    return page(request, "overview.html", {**context, "as_of": at.isoformat()})
