"""Escalation decisions: which ``escalation.stage_entered`` events the log should hold by now.

Pure: the scheduler passes the projector (caught up with the log) and ``now``; it appends each
decision's :meth:`StageDecision.event` through the log, whose ``event_id`` idempotency makes the append
exactly-once even when two evaluations race. Every field is derived from facts that occurred no later than
the instant the threshold was met, so two processes deciding at different times produce the same event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ledger.core.entries import Event
from ledger.domain.episodes import stage_event_id
from ledger.domain.projection import Projector

STAGE_EVENT = "escalation.stage_entered"
SOURCE = "hrledger"


@dataclass(frozen=True, slots=True)
class StageDecision:
    case_id: str
    subject: str
    stage: str
    overdue_days: int
    reached_on: date
    occurred_at: datetime  # shift start + grace on reached_on, company time zone
    basis: tuple[int, ...]  # seqs of the leave facts the expectation rests on
    policy_digest: str
    calendar_seqs: tuple[int, ...] = ()  # the calendar.adopted entries the working days were counted with

    @property
    def event_id(self) -> str:
        return stage_event_id(self.case_id, self.stage)

    @property
    def data(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "stage": self.stage,
            "overdue_days": self.overdue_days,
            "reached_on": self.reached_on.isoformat(),
            "basis": list(self.basis),
            "policy_digest": self.policy_digest,
            "calendar_seqs": list(self.calendar_seqs),
        }

    def event(self, source: str = SOURCE) -> Event:
        return Event(self.event_id, STAGE_EVENT, self.subject, self.occurred_at.isoformat(), source, self.data)


@dataclass(slots=True)
class EscalationPlan:
    decisions: list[StageDecision] = field(default_factory=list)
    #: calendar years some open case needs and the log lacks, with those cases; the others go on
    missing_years: dict[int, list[str]] = field(default_factory=dict)


def escalations_due(projector: Projector, now: datetime) -> EscalationPlan:
    """Stage events reached by open cases at ``now`` and not yet in the log, in the order they were reached."""
    plan = EscalationPlan()
    policy = projector.policy
    calendar = projector.calendar(now)
    for subject in projector.subjects():
        for ep in projector.episodes(subject, now):
            if ep.status != "open":
                continue
            if ep.calendar_year is not None:
                plan.missing_years.setdefault(ep.calendar_year, []).append(ep.case_id)
            recorded = {f.get("stage") for f in ep.stage_facts}
            for rule, day in ep.reached(policy):
                if rule.name in recorded or projector.has_event(stage_event_id(ep.case_id, rule.name)):
                    continue
                basis = tuple(sorted(f.seq for f in ep.leave.facts if f.occurred_at <= day.deadline))
                plan.decisions.append(
                    StageDecision(
                        ep.case_id,
                        subject,
                        rule.name,
                        rule.overdue_days,
                        day.day,
                        day.deadline,
                        basis or tuple(ep.leave.seqs),
                        policy.digest,
                        tuple(calendar.seqs(ep.leave.end.year, day.day.year)),
                    )
                )
    plan.decisions.sort(key=lambda d: (d.occurred_at, d.case_id, d.overdue_days))
    return plan
