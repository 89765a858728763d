"""Leaves and absence episodes of one employee, evaluated at an instant (SPEC section 4).

An approved leave (requested + approved, latest decision not cancelled/rejected; ``leave.extended`` moves
its end) expects the employee back on R, the first working day after its end. Each working day d >= R
without a clock-in counts as overdue once d's shift start + grace has passed. The episode ends at the
first clock-in dated after the leave's end (``returned``), a ``case.closed`` naming the case
(``closed``), ``employment.terminated`` (``terminated``) or the start of the next approved leave
(``superseded``); until then it is ``open``. Everything here is a pure function of facts and ``as_of``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from ledger.domain.calendar import WorkCalendar
from ledger.domain.facts import Fact
from ledger.domain.policy import Policy, StageRule
from ledger.domain.schemas import parse_date
from ledger.errors import CalendarError, ValidationError

LEAVE_DECISIONS = ("leave.approved", "leave.rejected", "leave.cancelled")


def case_id_for(subject: str, leave_id: str) -> str:
    return f"{subject}/{leave_id}"


def stage_event_id(case_id: str, stage: str) -> str:
    """Deterministic idempotency key of a stage event; long case ids are hashed to fit 128 characters."""
    event_id = f"escalation/{case_id}/{stage}"
    if len(event_id) <= 128:
        return event_id
    return f"escalation/sha256-{hashlib.sha256(case_id.encode('utf-8')).hexdigest()}/{stage}"


def _date(fact: Fact, name: str) -> date | None:
    try:
        return parse_date(fact.get(name), name)
    except ValidationError:
        return None  # erased or (in a foreign log) malformed: the fact cannot set a date


@dataclass(frozen=True, slots=True)
class Leave:
    leave_id: str
    kind: str
    start: date
    end: date
    requested: Fact
    facts: tuple[Fact, ...]  # requested, decisions and extensions, in order
    active: bool

    @property
    def seqs(self) -> list[int]:
        return sorted(f.seq for f in self.facts)


def resolve_leaves(facts: Sequence[Fact]) -> dict[str, Leave]:
    """Leaves by id from one employee's facts (already cut at as_of, in occurrence order)."""
    requested: dict[str, Fact] = {}
    related: dict[str, list[Fact]] = {}
    for f in facts:
        if f.type.startswith("leave.") and isinstance(f.get("leave_id"), str):
            related.setdefault(f.get("leave_id"), []).append(f)
            if f.type == "leave.requested":
                requested[f.get("leave_id")] = f
    leaves = {}
    for leave_id, req in requested.items():
        start, end = _date(req, "start"), _date(req, "end")
        if start is None or end is None:
            continue
        group = related[leave_id]
        decisions = [f for f in group if f.type in LEAVE_DECISIONS]
        extensions = [f for f in group if f.type == "leave.extended" and _date(f, "end") is not None]
        if extensions:
            end = _date(extensions[-1], "end") or end
        active = bool(decisions) and decisions[-1].type == "leave.approved"
        leaves[leave_id] = Leave(leave_id, str(req.get("kind", "")), start, end, req, tuple(group), active)
    return leaves


@dataclass(frozen=True, slots=True)
class OverdueDay:
    day: date
    deadline: datetime  # shift start + grace on that day, company time zone


@dataclass(slots=True)
class Episode:
    subject: str
    leave: Leave
    case_id: str
    return_day: date | None
    missed: list[OverdueDay] = field(default_factory=list)
    status: str = "open"  # open | returned | closed | terminated | superseded
    ended_by: Fact | None = None
    stage_facts: list[Fact] = field(default_factory=list)
    #: why the days could not all be counted: the calendar lacks a year (``calendar_year``) or is broken;
    #: the overdue days are then counted up to the first day the calendar cannot answer for
    calendar_error: str | None = None
    calendar_year: int | None = None
    walked_to: date | None = None  # the last day whose working-day status was looked up

    def calendar_years(self) -> tuple[int, int]:
        """The first and last year of the calendar this episode's days were counted with."""
        return self.leave.end.year, max(
            self.leave.end, self.return_day or self.leave.end, self.walked_to or self.leave.end
        ).year

    @property
    def overdue_days(self) -> int:
        return len(self.missed)

    def reached(self, policy: Policy) -> list[tuple[StageRule, OverdueDay]]:
        """Stages whose threshold the overdue days met, each with the day (and instant) it was met."""
        return [(s, self.missed[s.overdue_days - 1]) for s in policy.stages if s.overdue_days <= len(self.missed)]


def deadline_on(day: date, policy: Policy) -> datetime:
    return datetime.combine(day, policy.shift_start, policy.tz) + policy.grace


def _local_midnight(day: date, policy: Policy) -> datetime:
    return datetime.combine(day, time(0, 0), policy.tz)


def episodes(
    subject: str, facts: Sequence[Fact], as_of: datetime, policy: Policy, calendar: WorkCalendar
) -> list[Episode]:
    """Every approved leave of the employee as an episode, oldest first; ``facts`` must be cut at ``as_of``."""
    tz = policy.tz
    today = as_of.astimezone(tz).date()
    active = sorted(
        (lv for lv in resolve_leaves(facts).values() if lv.active), key=lambda lv: (lv.start, lv.end, lv.leave_id)
    )
    clock_ins = [f for f in facts if f.type == "attendance.clock_in"]
    closures: dict[str, Fact] = {}
    stage_facts: dict[str, list[Fact]] = {}
    for f in facts:
        if f.type == "case.closed" and isinstance(f.get("case_id"), str):
            closures.setdefault(f.get("case_id"), f)
        elif f.type == "escalation.stage_entered" and isinstance(f.get("case_id"), str):
            stage_facts.setdefault(f.get("case_id"), []).append(f)
    termination = next((f for f in facts if f.type == "employment.terminated"), None)

    out = []
    for i, leave in enumerate(active):
        case_id = case_id_for(subject, leave.leave_id)
        next_start = active[i + 1].start if i + 1 < len(active) else None
        ep = Episode(subject, leave, case_id, None, stage_facts=stage_facts.get(case_id, []))
        try:
            ep.return_day = calendar.next_workday_after(leave.end)
        except CalendarError as exc:
            ep.calendar_error, ep.calendar_year = str(exc), exc.year
        ret = next(
            (
                f
                for f in clock_ins
                if f.local_date(tz) > leave.end and (next_start is None or f.local_date(tz) < next_start)
            ),
            None,
        )
        enders: list[tuple[datetime, str, Fact | None]] = []
        if ret is not None:
            enders.append((ret.occurred_at, "returned", ret))
        if case_id in closures:
            enders.append((closures[case_id].occurred_at, "closed", closures[case_id]))
        if termination is not None:
            enders.append((termination.occurred_at, "terminated", termination))
        if next_start is not None and next_start <= today:
            enders.append((_local_midnight(next_start, policy), "superseded", None))
        if enders:
            _, ep.status, ep.ended_by = min(enders, key=lambda e: e[0])
        stop = min((e[0] for e in enders if e[1] in ("closed", "terminated")), default=None)
        ret_day = ret.local_date(tz) if ret is not None else None
        d = ep.return_day
        while d is not None and d <= today:
            if (next_start is not None and d >= next_start) or (ret_day is not None and d >= ret_day):
                break
            if stop is not None and d > stop.astimezone(tz).date():
                break
            try:
                workday = calendar.is_workday(d)
            except CalendarError as exc:  # named in this case's answer; every other case still answers
                ep.calendar_error, ep.calendar_year = str(exc), exc.year
                break
            ep.walked_to = d
            if workday:
                deadline = deadline_on(d, policy)
                if deadline > as_of or (stop is not None and deadline > stop):
                    break
                ep.missed.append(OverdueDay(d, deadline))
            d += timedelta(days=1)
        out.append(ep)
    return out
