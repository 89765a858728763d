"""A case (timeline, readiness checklist with the form for each missing item, notices, bundle export) and an
employee (contacts with their verification state and age, leave history, flags)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from aiohttp import web

from api.cases import evaluate
from api.config import CONFIG, LOG
from api.workbench import timeline
from api.workbench.page import now, page, projection, session_of
from ledger.core.entries import parse_leaf
from ledger.domain import Fact, Projector
from ledger.domain.contacts import contact_file, contact_health
from ledger.domain.leaves import resolve_leaves
from ledger.errors import NotFoundError
from ledger.log import Log

#: the form that records what a missing checklist item lacks (None: nothing HR records fixes it here)
ITEM_FORMS = {
    "rule_book": None,
    "overdue_threshold": None,
    "calendar": None,
    "reminder_issued": "form-notice_issued",
    "return_demand_issued": "form-notice_issued",
    "return_deadline_passed": None,
    "channels_attempted": "form-contact_attempt",
    "emergency_contacts_attempted": "form-contact_attempt",
    "lawful_service": "form-notice_delivered",
    "reported_reasons_assessed": "form-absence_assessed",
    "union_notified": "form-union_notified",
}


async def sources(log: Log, subject: str) -> dict[int, str]:
    """seq -> the ``source`` in the leaf (who recorded it: an HR system, hrledger, workbench/<name>)."""
    out: dict[int, str] = {}
    from_seq = 0
    while True:
        page_ = await log.entries(subject=subject, from_seq=from_seq, limit=1000)
        for e in page_:
            out[e.seq] = str(parse_leaf(e.entry).get("source", ""))
        if len(page_) < 1000:
            return out
        from_seq = page_[-1].seq + 1


def nonce(request: web.Request) -> str:
    """A fresh id for each form shown: posting it twice (a reload) records the event once."""
    return base64.urlsafe_b64encode(request.app[CONFIG].random_bytes(12)).decode("ascii")


def _options(facts: list[Fact], cf: Any) -> dict[str, Any]:
    contacts = [{"kind": c.kind, "value": c.value, "name": None} for c in (cf.contacts if cf else ())]
    for e in cf.emergency if cf else ():
        contacts.append({"kind": "emergency", "value": e.mobile, "name": e.name})
    issued = [f for f in facts if f.type == "notice.issued" and f.data is not None]
    reports = [f for f in facts if f.type == "absence.reported" and f.data is not None]
    return {
        "contacts": contacts,
        # the latest first: it is the one a delivery is usually recorded for
        "issued": [{"notice_id": f.get("notice_id"), "kind": f.get("kind"), "seq": f.seq} for f in reversed(issued)],
        "reports": [{"seq": f.seq, "reason": f.get("reason"), "from": f.get("from")} for f in reports],
        "recipients": [cf.name] if cf and cf.name else [],
    }


async def case_context(request: web.Request, case_id: str, at: datetime) -> dict[str, Any]:
    p = await projection(request)
    case = await evaluate(request, lambda p: p.case(case_id, at), lambda doc: [doc])
    if case is None:
        raise NotFoundError(f"no case {case_id!r} at {at.isoformat()}")
    subject = case["subject"]
    facts = p.facts(subject, at)
    cf = contact_file(subject, facts)
    log = request.app[LOG]
    checkpoint = await log.latest_checkpoint()
    size = checkpoint.size if checkpoint is not None else 0
    used = set(case.get("evidence_seqs") or [])
    leave = case.get("leave") or {}  # None for an absence without an approved leave
    start = leave.get("start") or case.get("return_day") or ""
    end = leave.get("end") or ""
    shown = [f for f in facts if f.seq in used or f.local_date(p.policy.tz).isoformat() >= start]
    shown += [f for f in p.facts("company", at) if f.seq in used and f.type != "calendar.adopted"]
    late = {int(x["seq"]) for x in case.get("late_recorded") or []}
    window = [f for f in facts if f.local_date(p.policy.tz).isoformat() > end or not end]
    withdrawn = {int(w["seq"]) for w in case.get("withdrawn_stages") or [] if isinstance(w.get("seq"), int)}
    return {
        "case": case,
        "name": cf.name if cf and cf.name else subject,
        "timeline": timeline.rows(shown, size, late, {**await sources(log, "company"), **await sources(log, subject)}),
        "items": [{**i, "form": ITEM_FORMS.get(i["name"])} for i in case["readiness"]["items"]],
        "drafts": timeline.drafts(window, withdrawn),
        "bundle_from": start or at.astimezone(p.policy.tz).date().isoformat(),
        "issued": timeline.notices_issued(window),
        "options": _options(window, cf),
        "nonce": nonce(request),
        "checkpoint_size": size,
        "today": at.astimezone(p.policy.tz).date().isoformat(),
        "now_local": at.astimezone(p.policy.tz).strftime("%Y-%m-%dT%H:%M"),
        "csrf": session_of(request).csrf,
        "back": f"/cases/{case_id}",
        "default_channels": [],
        "deadline_days": None,
        "serves": None,
    }


async def case_page(request: web.Request) -> web.Response:
    context = await case_context(request, request.match_info["case_id"], now(request))
    return page(request, "case.html", context)


def _contacts(p: Projector, subject: str, at: datetime) -> list[dict[str, Any]]:
    facts = p.facts(subject, at)
    cf = contact_file(subject, facts)
    if cf is None:
        return []
    health = contact_health(cf, facts, at, p.policy)
    stale = {(c["channel"], c["value"]): c for c in health["stale_contacts"]}
    verified = {
        (str(f.get("channel")), str(f.get("value"))): f for f in facts if f.type == "contact.verified" and f.data
    }
    out = []
    for c in cf.contacts:
        times = [t for t in (c.verified_at, getattr(verified.get((c.kind, c.value)), "occurred_at", None)) if t]
        last = max(times, default=None)
        out.append(
            {
                "kind": c.kind,
                "value": c.value,
                "last_verified": last.isoformat() if last else None,
                "age_days": (at - last).days if last else None,
                "stale": (c.kind, c.value) in stale,
            }
        )
    return out


async def employee_page(request: web.Request) -> web.Response:
    subject = request.match_info["subject"]
    at = now(request)
    p = await projection(request)
    if subject not in p.subjects():
        raise NotFoundError(f"no events about employee {subject!r} in the log")
    facts = p.facts(subject, at)
    cf = contact_file(subject, facts)
    cases = {c["leave_id"]: c for c in await evaluate(request, lambda p: p.cases(at, subject=subject), lambda cs: cs)}
    leaves = sorted(resolve_leaves(facts).values(), key=lambda lv: lv.start)
    health = contact_health(cf, facts, at, p.policy) if cf is not None else None
    snapshot = dict(cf.fact.data or {}) if cf is not None else {}
    absence = p.absence(subject, at)
    flags = [
        {"seq": f["seq"], "type": f["type"], "delay": f["delay_hours"]}
        for c in cases.values()
        for f in c.get("late_recorded") or []
    ]
    context = {
        "subject": subject,
        "name": cf.name if cf and cf.name else subject,
        "absence": absence,
        "contacts": _contacts(p, subject, at),
        "emergency": [vars_of(e) for e in (cf.emergency if cf else ())],
        "unverified": {e["name"] for e in (health or {}).get("unverified_emergency_contacts", [])},
        "service_address": snapshot.get("service_address"),
        "e_service": snapshot.get("e_service") or [],
        "file_seq": cf.fact.seq if cf else None,
        "file_at": cf.fact.occurred_at.isoformat() if cf else None,
        "leaves": [
            {"leave": lv, "case": cases.get(lv.leave_id), "status": "approved" if lv.active else "not approved"}
            for lv in leaves
        ],
        "flags": flags,
        "leave_flags": [f for c in cases.values() for f in c.get("leave_flags") or []],
    }
    return page(request, "employee.html", context)


def vars_of(e: Any) -> dict[str, Any]:
    return {"name": e.name, "relation": e.relation, "mobile": e.mobile, "address": e.address, "agent": e.service_agent}
