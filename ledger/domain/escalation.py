"""Escalation decisions: which ``escalation.stage_entered`` and ``escalation.stage_withdrawn`` events the log
should hold by now.

Pure: the scheduler passes the projector (caught up with the log) and ``now``; it appends each decision's
event through the log, whose ``event_id`` idempotency makes the append exactly-once even when two
evaluations race. Every field of a stage event is derived from facts that occurred no later than the
instant the threshold was met, so two processes deciding at different times produce the same event; the
entry itself is stamped at recording (hrledger's own entries occur when the log records them) and carries
the rule's date in ``reached_on``.

A stage entered *holds* while the rules, evaluated now, reach it on the same ``reached_on``. When later
facts undo it (a backfilled clock-in, an excused absence, a leave approved after all) it is withdrawn,
once (the withdrawal's id is derived from the stage entry's seq); if the stage is reached again it is
entered again with the next ``occurrence``. Nothing is entered or withdrawn for a suspended case (a reason
reported and not yet assessed), nor withdrawn where the calendar could not count every day or the basis
was erased (the facts can no longer tell).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ledger.core.entries import AT_RECORDING, Event
from ledger.domain.calendar import CALENDAR_TYPE
from ledger.domain.episodes import Episode, stage_event_id
from ledger.domain.facts import Fact
from ledger.domain.projection import Projector
from ledger.domain.schemas import COMPANY, STAGE_ENTERED, STAGE_WITHDRAWN, SYSTEM_ONLY

STAGE_EVENT = STAGE_ENTERED
WITHDRAWN_EVENT = STAGE_WITHDRAWN
SOURCE = "hrledger"


@dataclass(frozen=True, slots=True)
class StageDecision:
    case_id: str
    subject: str
    stage: str
    overdue_days: int
    reached_on: date
    reached_at: datetime  # shift start + grace on reached_on, company time zone
    basis: tuple[int, ...]  # seqs of the facts the expectation rests on
    policy_digest: str
    calendar_seqs: tuple[int, ...] = ()  # the calendar.adopted entries the working days were counted with
    occurrence: int = 1  # more than 1 after a withdrawal

    @property
    def event_id(self) -> str:
        return stage_event_id(self.case_id, self.stage, self.occurrence)

    @property
    def data(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "stage": self.stage,
            "occurrence": self.occurrence,
            "overdue_days": self.overdue_days,
            "reached_on": self.reached_on.isoformat(),
            "basis": list(self.basis),
            "policy_digest": self.policy_digest,
            "calendar_seqs": list(self.calendar_seqs),
        }

    def event(self, source: str = SOURCE) -> Event:
        return Event(self.event_id, STAGE_EVENT, self.subject, AT_RECORDING, source, self.data)


@dataclass(frozen=True, slots=True)
class Withdrawal:
    case_id: str
    subject: str
    stage: str
    stage_seq: int  # the stage_entered entry it withdraws
    reason: str  # returned | excused | closed | terminated | no_longer_reached | case_gone
    basis: tuple[int, ...]  # the facts that undo it

    @property
    def event_id(self) -> str:
        return f"escalation-withdrawn/{self.stage_seq}"

    @property
    def data(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "stage": self.stage,
            "stage_seq": self.stage_seq,
            "reason": self.reason,
            "basis": list(self.basis),
        }

    def event(self, source: str = SOURCE) -> Event:
        return Event(self.event_id, WITHDRAWN_EVENT, self.subject, AT_RECORDING, source, self.data)


@dataclass(slots=True)
class EscalationPlan:
    withdrawals: list[Withdrawal] = field(default_factory=list)
    decisions: list[StageDecision] = field(default_factory=list)
    #: calendar years some open case needs and the log lacks, with those cases; the others go on
    missing_years: dict[int, list[str]] = field(default_factory=dict)
    suspended: list[str] = field(default_factory=list)  # cases held by a reported reason


class StageLedger:
    """Every stage entry and withdrawal of one employee in the log, whatever ``as_of`` an answer uses."""

    def __init__(self, history: Sequence[Fact]) -> None:
        self.by_seq = {f.seq: f for f in history}
        self.entered: dict[str, list[Fact]] = {}
        self.withdrawn: dict[int, Fact] = {}
        for f in sorted(history, key=lambda f: f.seq):
            if f.type == STAGE_ENTERED and isinstance(f.get("case_id"), str):
                self.entered.setdefault(f.get("case_id"), []).append(f)
            elif f.type == STAGE_WITHDRAWN and isinstance(f.get("stage_seq"), int):
                self.withdrawn.setdefault(f.get("stage_seq"), f)

    def holding(self, case_id: str) -> dict[str, Fact]:
        """Stage -> its latest entry, where that is not withdrawn."""
        latest: dict[str, Fact] = {}
        for f in self.entered.get(case_id, []):
            latest[str(f.get("stage"))] = f
        return {s: f for s, f in latest.items() if f.seq not in self.withdrawn}

    def next_occurrence(self, case_id: str, stage: str) -> int:
        done = [f for f in self.entered.get(case_id, []) if f.get("stage") == stage]
        return max((_occurrence(f) for f in done), default=0) + 1

    def basis_erased(self, fact: Fact) -> bool:
        return any((b := self.by_seq.get(s)) is not None and b.data is None for s in fact.get("basis", []))


def _occurrence(f: Fact) -> int:
    n = f.get("occurrence", 1)
    return n if isinstance(n, int) and not isinstance(n, bool) else 1


def recorded_reached_on(f: Fact, projector: Projector) -> str:
    """The stage entry's ``reached_on``; entries written before it was data occurred at the deadline."""
    text = f.get("reached_on")
    return text if isinstance(text, str) else f.local_date(projector.policy.tz).isoformat()


def _why(ep: Episode | None, f: Fact, history: Sequence[Fact], company: Sequence[Fact], tz: Any) -> Withdrawal:
    """The reason a stage no longer holds, and the facts that undo it."""
    case_id, subject, stage = str(f.get("case_id")), f.subject, str(f.get("stage"))
    reached = date.fromisoformat(str(f.get("reached_on") or f.local_date(tz).isoformat()))
    ended = ep.ended_by if ep is not None and ep.status in ("returned", "closed", "terminated") else None
    if ep is not None and ended is not None and ended.local_date(tz) <= reached:
        return Withdrawal(case_id, subject, stage, f.seq, ep.status, (ended.seq,))
    if ep is not None:
        excusing = [r for r in ep.reports if r.status == "excused" and r.excused_span[0] <= reached]
        if excusing:
            return Withdrawal(
                case_id, subject, stage, f.seq, "excused", tuple(sorted(s for r in excusing for s in r.seqs))
            )
    years = range(reached.year - 1, reached.year + 1)
    later = [g.seq for g in history if g.seq > f.seq and g.type not in SYSTEM_ONLY and g.local_date(tz) <= reached]
    later += [g.seq for g in company if g.seq > f.seq and g.type == CALENDAR_TYPE and g.get("year") in years]
    return Withdrawal(
        case_id, subject, stage, f.seq, "case_gone" if ep is None else "no_longer_reached", tuple(sorted(later))
    )


def escalations_due(projector: Projector, now: datetime) -> EscalationPlan:
    """Stage events reached by open cases at ``now`` and not yet in the log, and withdrawals of stages
    that no longer hold, each in the order they happened."""
    plan = EscalationPlan()
    policy = projector.policy
    tz = policy.tz
    calendar = projector.calendar(now)
    company = projector.history(COMPANY)
    for subject in projector.subjects():
        if not projector.can_escalate(subject):
            continue  # most subjects only clock in and out: nothing to decide, nothing to withdraw
        history = projector.history(subject)
        ledger = StageLedger(history)
        seen: set[str] = set()
        eps = projector.episodes(subject, now)
        for ep in eps:
            seen.add(ep.case_id)
            if ep.calendar_year is not None and ep.status == "open":
                plan.missing_years.setdefault(ep.calendar_year, []).append(ep.case_id)
            if ep.suspended:
                plan.suspended.append(ep.case_id)
                continue  # stages already entered stay; none is entered meanwhile
            reached = {rule.name: day for rule, day in ep.reached(policy)}
            holding = ledger.holding(ep.case_id)
            for stage, f in list(holding.items()):
                day = reached.get(stage)
                if day is not None and day.day.isoformat() == recorded_reached_on(f, projector):
                    continue
                if ep.calendar_error or f.recorded_at > now or ledger.basis_erased(f):
                    continue
                plan.withdrawals.append(_why(ep, f, history, company, tz))
                del holding[stage]
            if ep.status != "open":
                continue
            for rule, day in ep.reached(policy):
                if rule.name in holding:
                    continue
                occurrence = ledger.next_occurrence(ep.case_id, rule.name)
                if projector.has_event(stage_event_id(ep.case_id, rule.name, occurrence)):
                    continue
                basis = tuple(sorted(f.seq for f in ep.basis_facts if f.occurred_at <= day.deadline))
                first_year, _ = ep.calendar_years()
                plan.decisions.append(
                    StageDecision(
                        ep.case_id,
                        subject,
                        rule.name,
                        rule.overdue_days,
                        day.day,
                        day.deadline,
                        basis or tuple(ep.basis),
                        policy.digest,
                        tuple(calendar.seqs(first_year, day.day.year)),
                        occurrence,
                    )
                )
        if any(ep.calendar_error for ep in eps):
            continue  # a case the calendar cannot count may be one of these: never withdraw on a guess
        for case_id in sorted(set(ledger.entered) - seen):
            for f in ledger.holding(case_id).values():
                if f.recorded_at <= now and not ledger.basis_erased(f):
                    plan.withdrawals.append(_why(None, f, history, company, tz))
    plan.withdrawals.sort(key=lambda w: w.stage_seq)
    plan.decisions.sort(key=lambda d: (d.reached_at, d.case_id, d.overdue_days))
    return plan
