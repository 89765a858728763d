"""Absence episodes of one employee, evaluated at an instant (SPEC section 4).

Three kinds of episode, each one case:

- ``leave``: a leave approved before the shift start plus grace of its first working day (and not
  rejected or cancelled since). The employee is expected back on R, the first working day after its end.
- ``unapproved_leave``: a leave requested and rejected, or not approved by its first day (the deadline
  of its first working day): absence without approved leave, counted from that first working day. One
  that begins inside another episode still running, or inside an approved leave, adds no case.
- ``absence``: absence with no leave request at all, only where the policy counts it
  (``count_absence_without_request``, since it needs every employee's attendance to be posted): a run of
  working days without a clock-in, from the first attendance on record (or the enrolment), case id
  ``<subject>/absence-<first overdue day>``.

Each working day d from R on without a clock-in counts as overdue once d's shift start + grace has passed,
unless a reported reason suspends it (a pending ``absence.reported``) or HR excused it (see
``ledger.domain.reports``). The episode ends at the first clock-in (``returned``), a ``case.closed``
naming it (``closed``), ``employment.terminated`` (``terminated``) or the start of the next approved leave
(``superseded``); until then it is ``open``. Everything here is a pure function of facts and ``as_of``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from ledger.domain.calendar import WorkCalendar
from ledger.domain.facts import Fact
from ledger.domain.leaves import Leave, fact_date, resolve_leaves
from ledger.domain.policy import Policy, StageRule
from ledger.domain.reports import Report, absence_reports
from ledger.domain.schemas import STAGE_ENTERED, STAGE_WITHDRAWN
from ledger.errors import CalendarError

KINDS = ("leave", "unapproved_leave", "absence")
ATTENDANCE = ("attendance.clock_in", "attendance.clock_out")


def case_id_for(subject: str, leave_id: str) -> str:
    return f"{subject}/{leave_id}"


def stage_event_id(case_id: str, stage: str, occurrence: int = 1) -> str:
    """Deterministic idempotency key of a stage event; long case ids are hashed to fit 128 characters.

    Occurrence 1 keeps the key it always had, so logs written before withdrawals existed stay idempotent."""
    tail = stage if occurrence == 1 else f"{stage}/{occurrence}"
    event_id = f"escalation/{case_id}/{tail}"
    if len(event_id) <= 128:
        return event_id
    return f"escalation/sha256-{hashlib.sha256(case_id.encode('utf-8')).hexdigest()}/{tail}"


@dataclass(frozen=True, slots=True)
class OverdueDay:
    day: date
    deadline: datetime  # shift start + grace on that day, company time zone


@dataclass(slots=True)
class Episode:
    subject: str
    kind: str  # leave | unapproved_leave | absence
    case_id: str
    leave: Leave | None  # None for absence without any request
    return_day: date | None  # R: the first working day the employee was expected at work
    span_start: date  # the first day of the episode (the leave's start, or the first absent day)
    window_start: date  # notices, attempts and reports count from this day on
    basis_facts: tuple[Fact, ...]  # the facts the expectation rests on
    missed: list[OverdueDay] = field(default_factory=list)
    suspended_days: list[date] = field(default_factory=list)  # while a reported reason awaits assessment
    excused_days: list[date] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)  # reported reasons that reach this episode
    suspended: bool = False  # a reported reason reaching it is not assessed yet
    status: str = "open"  # open | returned | closed | terminated | superseded
    ended_by: Fact | None = None
    until: date | None = None  # the first day no longer counted (None while open)
    stage_facts: list[Fact] = field(default_factory=list)
    withdrawals: dict[int, Fact] = field(default_factory=dict)  # stage_entered seq -> its withdrawal
    #: why the days could not all be counted: the calendar lacks a year (``calendar_year``) or is broken;
    #: the overdue days are then counted up to the first day the calendar cannot answer for
    calendar_error: str | None = None
    calendar_year: int | None = None
    walked_to: date | None = None  # the last day whose working-day status was looked up

    @property
    def leave_id(self) -> str | None:
        return self.leave.leave_id if self.leave else None

    @property
    def basis(self) -> list[int]:
        return sorted(f.seq for f in self.basis_facts)

    def calendar_years(self) -> tuple[int, int]:
        """The first and last year of the calendar this episode's days were counted with."""
        first = self.leave.end if self.kind == "leave" and self.leave else self.span_start
        return first.year, max(first, self.return_day or first, self.walked_to or first).year

    @property
    def overdue_days(self) -> int:
        return len(self.missed)

    def reached(self, policy: Policy) -> list[tuple[StageRule, OverdueDay]]:
        """Stages whose threshold the overdue days met, each with the day (and instant) it was met."""
        return [(s, self.missed[s.overdue_days - 1]) for s in policy.stages if s.overdue_days <= len(self.missed)]


def deadline_on(day: date, policy: Policy) -> datetime:
    return datetime.combine(day, policy.shift_start, policy.tz) + policy.grace


def deadline_position(as_of: datetime, policy: Policy) -> tuple[date, date]:
    """``as_of`` as :func:`episodes` sees it: the local day, and the last day whose deadline (shift start +
    grace) is at or before ``as_of``. Episodes read ``as_of`` only through the local day and comparisons with
    ``deadline_on(d)`` for days d; ``deadline_on`` grows with d, so two instants with the same position give
    every such comparison the same result, and the same facts and calendar the same episodes."""
    today = as_of.astimezone(policy.tz).date()
    day = today
    if deadline_on(day, policy) <= as_of:
        while deadline_on(day + timedelta(days=1), policy) <= as_of:
            day += timedelta(days=1)
    else:
        while deadline_on(day, policy) > as_of:
            day -= timedelta(days=1)
    return today, day


def _local_midnight(day: date, policy: Policy) -> datetime:
    return datetime.combine(day, time(0, 0), policy.tz)


@dataclass(slots=True)
class _Context:
    """One employee's facts sorted out once for all of that employee's episodes."""

    subject: str
    facts: Sequence[Fact]
    as_of: datetime
    policy: Policy
    calendar: WorkCalendar
    today: date
    clock_ins: list[Fact]
    closures: dict[str, Fact]
    termination: Fact | None
    reports: list[Report]
    stage_facts: dict[str, list[Fact]]
    withdrawals: dict[int, Fact]


def _context(subject: str, facts: Sequence[Fact], as_of: datetime, policy: Policy, cal: WorkCalendar) -> _Context:
    closures: dict[str, Fact] = {}
    stage_facts: dict[str, list[Fact]] = {}
    withdrawals: dict[int, Fact] = {}
    for f in facts:
        if f.type == "case.closed" and isinstance(f.get("case_id"), str):
            closures.setdefault(f.get("case_id"), f)
        elif f.type == STAGE_ENTERED and isinstance(f.get("case_id"), str):
            stage_facts.setdefault(f.get("case_id"), []).append(f)
        elif f.type == STAGE_WITHDRAWN and isinstance(f.get("stage_seq"), int):
            withdrawals.setdefault(f.get("stage_seq"), f)
    return _Context(
        subject,
        facts,
        as_of,
        policy,
        cal,
        as_of.astimezone(policy.tz).date(),
        [f for f in facts if f.type == "attendance.clock_in"],
        closures,
        next((f for f in facts if f.type == "employment.terminated"), None),
        absence_reports(facts),
        stage_facts,
        withdrawals,
    )


def _first_workday(day: date, calendar: WorkCalendar) -> date:
    return day if calendar.is_workday(day) else calendar.next_workday_after(day)


def _walk(ep: Episode, ctx: _Context, boundary: date | None, ret: Fact | None) -> None:
    """Count the episode's days from R; set its status, end and reports (``boundary``: the next approved
    leave's start; ``ret``: the clock-in that ends it)."""
    tz, policy = ctx.policy.tz, ctx.policy
    closure = ctx.closures.get(ep.case_id)
    enders: list[tuple[datetime, str, Fact | None]] = []
    if ret is not None:
        enders.append((ret.occurred_at, "returned", ret))
    if closure is not None:
        enders.append((closure.occurred_at, "closed", closure))
    if ctx.termination is not None:
        enders.append((ctx.termination.occurred_at, "terminated", ctx.termination))
    if boundary is not None and boundary <= ctx.today:
        enders.append((_local_midnight(boundary, policy), "superseded", None))
    if enders:
        _, ep.status, ep.ended_by = min(enders, key=lambda e: e[0])
    stop = min((e[0] for e in enders if e[1] in ("closed", "terminated")), default=None)
    ret_day = ret.local_date(tz) if ret is not None else None
    stop_day = stop.astimezone(tz).date() if stop is not None else None
    ends = [d for d in (ret_day, boundary, stop_day + timedelta(days=1) if stop_day else None) if d is not None]
    ep.until = min(ends) if ep.status != "open" and ends else None
    last = ep.until - timedelta(days=1) if ep.until else None
    ep.reports = [r for r in ctx.reports if r.reaches(ep.span_start, last)]
    ep.suspended = any(r.status == "pending" and r.start <= ctx.today for r in ep.reports)
    d = ep.return_day
    while d is not None and d <= ctx.today and (ep.until is None or d < ep.until):
        try:
            workday = ctx.calendar.is_workday(d)
        except CalendarError as exc:  # named in this case's answer; every other case still answers
            ep.calendar_error, ep.calendar_year = str(exc), exc.year
            break
        ep.walked_to = d
        if workday:
            deadline = deadline_on(d, policy)
            if deadline > ctx.as_of or (stop is not None and deadline > stop):
                break
            if any(r.suspends(d) for r in ep.reports):
                ep.suspended_days.append(d)
            elif any(r.excuses(d) for r in ep.reports):
                ep.excused_days.append(d)
            else:
                ep.missed.append(OverdueDay(d, deadline))
        d += timedelta(days=1)
    ep.stage_facts = ctx.stage_facts.get(ep.case_id, [])
    ep.withdrawals = {f.seq: w for f in ep.stage_facts if (w := ctx.withdrawals.get(f.seq)) is not None}


def _leave_episode(
    ctx: _Context, leave: Leave, approved: bool, first_day: date, error: CalendarError | None
) -> Episode:
    kind = "leave" if approved else "unapproved_leave"
    ep = Episode(
        ctx.subject,
        kind,
        case_id_for(ctx.subject, leave.leave_id),
        leave,
        None if approved else first_day,
        leave.start,
        leave.end + timedelta(days=1) if approved else first_day,
        leave.facts,
    )
    if error is not None:
        ep.calendar_error, ep.calendar_year = str(error), error.year
    elif approved:
        try:
            ep.return_day = ctx.calendar.next_workday_after(leave.end)
        except CalendarError as exc:
            ep.calendar_error, ep.calendar_year = str(exc), exc.year
    return ep


def _leave_episodes(ctx: _Context, leaves: Sequence[Leave]) -> list[Episode]:
    tz = ctx.policy.tz
    plans: list[tuple[Leave, bool, date, CalendarError | None]] = []
    for leave in leaves:
        error, first_day = None, leave.start
        # approved before the start day's deadline: approved in time, whatever the calendar says
        approved = leave.approved_at is not None and leave.approved_at < deadline_on(leave.start, ctx.policy)
        if not approved:
            try:
                first_day = _first_workday(leave.start, ctx.calendar)
            except CalendarError as exc:
                error = exc
            first_deadline = deadline_on(first_day, ctx.policy)
            if error is not None:  # cannot tell which day was its first: an approval is given the benefit
                approved = leave.approved_at is not None
            else:
                approved = leave.approved_at is not None and leave.approved_at < first_deadline
            if not approved and leave.decision is None and ctx.as_of < first_deadline:
                continue  # undecided, and its first day is not over yet: nothing to count
            if approved:
                error = None
        plans.append((leave, approved, first_day, error))
    approved_leaves = [lv for lv, ok, _, _ in plans if ok]
    out: list[Episode] = []
    for i, (leave, approved, first_day, error) in enumerate(plans):
        boundary = next((lv.start for lv in approved_leaves if lv.start > leave.start), None)
        if approved:
            boundary = next((lv.start for lv, ok, _, _ in plans[i + 1 :] if ok), None)
        elif any(lv.start <= first_day <= lv.end for lv in approved_leaves) or any(
            e.return_day is not None and e.return_day <= first_day and (e.until is None or first_day < e.until)
            for e in out
        ):
            continue  # inside an approved leave, or inside an episode still running: no case of its own
        ep = _leave_episode(ctx, leave, approved, first_day, error)
        after = leave.end if approved else leave.start - timedelta(days=1)
        ret = next(
            (
                f
                for f in ctx.clock_ins
                if f.local_date(tz) > after and (boundary is None or f.local_date(tz) < boundary)
            ),
            None,
        )
        _walk(ep, ctx, boundary, ret)
        out.append(ep)
    return out


def _absence_episodes(ctx: _Context, leaves: Sequence[Leave], built: Sequence[Episode]) -> list[Episode]:
    """Runs of working days without a clock-in and without any leave request (policy permitting)."""
    tz = ctx.policy.tz
    attendance = [f for f in ctx.facts if f.type in ATTENDANCE]
    enrolment = next((f for f in ctx.facts if f.type == "employee.enrolled" and f.data is not None), None)
    if attendance:
        start = attendance[0].local_date(tz)
    elif enrolment is not None:
        hired = fact_date(enrolment, "hired_on")
        start = max(enrolment.local_date(tz), hired or enrolment.local_date(tz))
    else:
        return []
    known = sorted(ctx.calendar.years)
    if known:  # history before the first calendar year on record is not scanned
        start = max(start, date(known[0], 1, 1))
    present = {f.local_date(tz) for f in ctx.clock_ins}
    spans = [(lv.start, lv.end) for lv in leaves] + [
        (e.return_day, (e.until or ctx.today + timedelta(days=1)) - timedelta(days=1)) for e in built if e.return_day
    ]
    stop = ctx.termination.local_date(tz) if ctx.termination is not None else None
    out: list[Episode] = []
    run: Episode | None = None
    d = start
    while d <= ctx.today and (stop is None or d <= stop):
        if d in present or any(a <= d <= b for a, b in spans):
            run = None  # a clock-in ends the run; a leave takes over from it
            d += timedelta(days=1)
            continue
        try:
            workday = ctx.calendar.is_workday(d)
        except CalendarError as exc:
            if run is None:  # whether this day was a working day missed is unknown: say so, never guess
                run = Episode(ctx.subject, "absence", f"{ctx.subject}/absence-{d.isoformat()}", None, d, d, d, ())
                out.append(run)
            run.calendar_error, run.calendar_year = str(exc), exc.year
            break
        if workday:
            if deadline_on(d, ctx.policy) > ctx.as_of:
                break
            if run is None:
                before = [f for f in attendance if f.local_date(tz) < d] or ([enrolment] if enrolment else [])
                run = Episode(ctx.subject, "absence", f"{ctx.subject}/absence-{d.isoformat()}", None, d, d, d, ())
                run.basis_facts = tuple(before[-1:])
                out.append(run)
            run.walked_to = d
        d += timedelta(days=1)
    for ep in out:
        first_after = next((f for f in ctx.clock_ins if f.local_date(tz) > ep.span_start), None)
        nxt = min((a for a, _ in spans if a > ep.span_start), default=None)
        _walk(ep, ctx, nxt, first_after)
    return out


def episodes(
    subject: str, facts: Sequence[Fact], as_of: datetime, policy: Policy, calendar: WorkCalendar
) -> list[Episode]:
    """Every episode of the employee, oldest first; ``facts`` must be cut at ``as_of``."""
    ctx = _context(subject, facts, as_of, policy, calendar)
    leaves = sorted(
        (lv for lv in resolve_leaves(facts).values() if lv.decision != "cancelled"),
        key=lambda lv: (lv.start, lv.end, lv.leave_id),
    )
    out = _leave_episodes(ctx, leaves)
    if policy.count_absence_without_request:
        out += _absence_episodes(ctx, leaves, out)
    return sorted(out, key=lambda e: (e.span_start, e.case_id))
