"""One case as the API answers it (SPEC section 2 shape, plus the evidence behind it).

``{"case_id","subject","status","leave_id","return_day","overdue_days","stage","stages","readiness"}`` and
more: the stages withdrawn, every stage entry, the notices drafted and issued with their service, the
reasons reported, the leave-rule flags, the termination and the checklist after it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time
from typing import Any

from ledger.domain.calendar import WorkCalendar
from ledger.domain.contacts import ContactHistory, contact_file
from ledger.domain.episodes import Episode
from ledger.domain.facts import Fact
from ledger.domain.leaves import leave_flags
from ledger.domain.policy import Policy
from ledger.domain.readiness import readiness
from ledger.domain.service import Service, serve
from ledger.domain.termination import after_termination


def services(
    ep: Episode, facts: Sequence[Fact], as_of: datetime, policy: Policy, calendar: WorkCalendar
) -> dict[str, Service]:
    """The service of every notice issued in the episode (publications serve others), and of the
    termination notice wherever it was issued, by notice_id."""
    since = datetime.combine(ep.window_start, time(0, 0), policy.tz)
    termination = next((f for f in facts if f.type == "employment.terminated"), None)
    wanted = termination.get("notice_id") if termination is not None else None
    history = ContactHistory(ep.subject, facts)
    out: dict[str, Service] = {}
    for f in facts:
        if f.type != "notice.issued" or f.get("kind") == "publication" or not isinstance(f.get("notice_id"), str):
            continue
        if f.occurred_at >= since or f.get("notice_id") == wanted:
            out.setdefault(f.get("notice_id"), serve(f, facts, history, as_of, calendar, policy))
    return out


def _stages(ep: Episode, policy: Policy) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(stages reached under the rules, stages withdrawn, every stage entry) at the evaluation instant."""
    tz = policy.tz
    holding: dict[str, Fact] = {}
    for f in ep.stage_facts:
        if f.seq not in ep.withdrawals:
            holding[str(f.get("stage"))] = f
    stages = []
    for rule, day in ep.reached(policy):
        entry = holding.get(rule.name)
        matches = entry is not None and _reached_on(entry, tz) == day.day.isoformat()
        stages.append(
            {
                "stage": rule.name,
                "reached_on": day.day.isoformat(),
                "at": day.deadline.isoformat(),
                "overdue_days": rule.overdue_days,
                "seq": entry.seq if matches and entry else None,
                "occurrence": entry.get("occurrence", 1) if matches and entry else None,
                "status": "entered" if matches else "suspended" if ep.suspended else "due",
            }
        )
    reached = {(s["stage"], s["reached_on"]) for s in stages}
    events, withdrawn = [], []
    for f in ep.stage_facts:
        w = ep.withdrawals.get(f.seq)
        status = "withdrawn" if w else "holds" if (f.get("stage"), _reached_on(f, tz)) in reached else "no_longer_holds"
        events.append(
            {
                "seq": f.seq,
                "stage": f.get("stage"),
                "occurrence": f.get("occurrence", 1),
                "reached_on": _reached_on(f, tz),
                "occurred_at": f.occurred_text,
                "overdue_days": f.get("overdue_days"),
                "status": status,
                "withdrawn_seq": w.seq if w else None,
            }
        )
        if w is not None:
            withdrawn.append(
                {
                    "stage": f.get("stage"),
                    "reached_on": _reached_on(f, tz),
                    "occurrence": f.get("occurrence", 1),
                    "seq": f.seq,
                    "withdrawn_seq": w.seq,
                    "withdrawn_at": w.occurred_text,
                    "reason": w.get("reason"),
                    "basis": w.get("basis", []),
                }
            )
    return stages, withdrawn, events


def _reached_on(f: Fact, tz: Any) -> str:
    text = f.get("reached_on")
    return text if isinstance(text, str) else f.local_date(tz).isoformat()


def _notices(ep: Episode, facts: Sequence[Fact], svcs: Mapping[str, Service]) -> dict[str, Any]:
    stage_seqs = {f.seq for f in ep.stage_facts}
    drafts = []
    for f in facts:
        if f.type == "notice.drafted" and (f.get("case_id") == ep.case_id or f.get("stage_seq") in stage_seqs):
            issued = [g.seq for g in facts if g.type == "notice.issued" and g.get("draft_seq") == f.seq]
            superseded = f.get("stage_seq") in ep.withdrawals
            drafts.append(
                {
                    "notice_id": f.get("notice_id"),
                    "kind": f.get("kind"),
                    "seq": f.seq,
                    "stage_seq": f.get("stage_seq"),
                    "template": f.get("template"),
                    "template_version": f.get("template_version"),
                    "document_digest": f.get("document_digest"),
                    "status": "superseded" if superseded else "issued" if issued else "draft",
                    "issued_seqs": issued,
                }
            )
    return {"drafted": drafts, "issued": [s.doc() for s in svcs.values()]}


def case_doc(
    ep: Episode,
    facts: Sequence[Fact],
    company: Sequence[Fact],
    as_of: datetime,
    policy: Policy,
    calendar: WorkCalendar,
    calendar_doc: Mapping[str, Any],
) -> dict[str, Any]:
    """The case answer; ``facts`` (the employee's) and ``company`` are cut at ``as_of``."""
    cf = contact_file(ep.subject, facts)
    svcs = services(ep, facts, as_of, policy, calendar)
    ready = readiness(ep, facts, company, cf, list(svcs.values()), as_of, policy, calendar_doc, calendar)
    stages, withdrawn, events = _stages(ep, policy)
    termination = next((f for f in facts if f.type == "employment.terminated"), None)
    leave = ep.leave
    return {
        "case_id": ep.case_id,
        "subject": ep.subject,
        "kind": ep.kind,
        "status": ep.status,
        "leave_id": ep.leave_id,
        "leave": None
        if leave is None
        else {
            "kind": leave.kind,
            "start": leave.start.isoformat(),
            "end": leave.end.isoformat(),
            "decision": leave.decision,
            "approved_in_time": ep.kind == "leave",
            "seqs": leave.seqs,
        },
        "leave_flags": leave_flags(leave, policy) if leave is not None else [],
        "return_day": ep.return_day.isoformat() if ep.return_day else None,
        "overdue_days": ep.overdue_days,
        "missed_days": [m.day.isoformat() for m in ep.missed],
        "suspended": ep.suspended,
        "suspended_days": [d.isoformat() for d in ep.suspended_days],
        "excused_days": [d.isoformat() for d in ep.excused_days],
        "reports": [r.doc() for r in ep.reports],
        "stage": stages[-1]["stage"] if stages else None,
        "stages": stages,
        "withdrawn_stages": withdrawn,
        "stage_events": events,
        "notices": _notices(ep, facts, svcs),
        "ended": None
        if ep.status == "open"
        else {
            "by": ep.status,
            "seq": ep.ended_by.seq if ep.ended_by else None,
            "at": ep.ended_by.occurred_text if ep.ended_by else None,
        },
        "readiness": ready,
        "after_termination": after_termination(termination, facts, svcs, calendar, policy, as_of)
        if termination is not None and ep.status == "terminated"
        else None,
    }
