"""Projections of the log: absence state, cases and contact health, at any ``as_of`` instant.

A :class:`Projector` consumes facts in seq order and tracks ``position`` (the last seq applied); it only
indexes them by subject. Every evaluation is a pure function of those facts, ``as_of``, the policy and
the calendar: only facts whose ``occurred_at`` is at or before ``as_of`` count (HR systems backfill, so
receipt order is not the order of facts).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from ledger.core.records import StoredEntry
from ledger.domain.attention import attention_reasons
from ledger.domain.calendar import CALENDAR_TYPE, CalendarBook, WorkCalendar
from ledger.domain.case_view import case_doc
from ledger.domain.contacts import SNAPSHOT_TYPES, contact_file, contact_health
from ledger.domain.episodes import Episode, deadline_position, episodes
from ledger.domain.facts import Fact, fact_from_entry
from ledger.domain.leaves import leave_flags
from ledger.domain.policy import Policy
from ledger.domain.references import unmatched_facts
from ledger.domain.schemas import COMPANY, ERASED_TYPE, STAGE_ENTERED
from ledger.domain.timeline import Timeline
from ledger.errors import ProjectionGapError

_HOUR = timedelta(hours=1)
TERMINATED = "employment.terminated"
CASE_STATUSES = ("open", "returned", "closed", "terminated", "superseded")
ABSENCE_STATES = ("present", "on_leave", "overdue", "absence_reported", "returned", "terminated")


def _late(facts: Iterable[Fact], policy: Policy) -> list[dict[str, Any]]:
    return [
        {
            "seq": f.seq,
            "type": f.type,
            "occurred_at": f.occurred_text or f.occurred_at.isoformat(),
            "recorded_at": f.recorded_at.isoformat(),
            "delay_hours": round((f.recorded_at - f.occurred_at) / _HOUR, 1),
        }
        for f in sorted(facts, key=lambda f: f.seq)
        if f.recorded_at - f.occurred_at > policy.late_recorded
    ]


class Projector:
    """Indexes facts as they are sequenced; answers absence, case and contact questions at any instant."""

    def __init__(self, policy: Policy, *, first_seq: int = 0) -> None:
        self.policy = policy
        self.first_seq = first_seq
        self.reset()

    # -- feeding ----------------------------------------------------------------------------------

    def reset(self) -> None:
        self.position = self.first_seq - 1  # last seq applied
        self._subjects: dict[str, Timeline] = {}
        self._sorted: list[str] | None = None  # subjects() until a new subject arrives
        self._stage_ids: set[str] = set()  # event_ids of stage entries (has_event); other ids are not kept
        self.calendars = CalendarBook(self.policy.calendar)

    def feed(self, fact: Fact | StoredEntry) -> bool:
        """Apply the next fact; False if it was applied before. A gap raises ProjectionGapError."""
        if isinstance(fact, StoredEntry):
            fact = fact_from_entry(fact)
        if fact.seq <= self.position:
            if not self._holds(fact):
                raise ProjectionGapError(
                    f"seq {fact.seq} ({fact.event_id}) does not match what was applied there; rebuild the projection"
                )
            return False
        if fact.seq != self.position + 1:
            raise ProjectionGapError(f"expected seq {self.position + 1}, got {fact.seq}; rebuild the projection")
        timeline = self._subjects.get(fact.subject)
        if timeline is None:
            timeline = self._subjects[fact.subject] = Timeline()
            self._sorted = None
        timeline.add(fact)
        if fact.type == ERASED_TYPE:
            # The erasure applies as an event: the entries it names lose their data in the projection at
            # once, whether or not the store has dropped it yet (it does so just after the append).
            timeline.erase(frozenset(s for s in fact.get("seqs", []) if isinstance(s, int)))
        elif fact.type == CALENDAR_TYPE and fact.subject == COMPANY:
            self.calendars.add(fact.seq, fact.occurred_at, fact.data)
        if fact.type == STAGE_ENTERED:
            self._stage_ids.add(fact.event_id)
        self.position = fact.seq
        return True

    def feed_all(self, facts: Iterable[Fact | StoredEntry]) -> int:
        return sum(self.feed(f) for f in facts)

    def rebuild(self, facts: Iterable[Fact | StoredEntry]) -> None:
        """Start from scratch and apply every fact of the log, in seq order."""
        self.reset()
        self.feed_all(facts)

    def _holds(self, fact: Fact) -> bool:
        """Whether the fact applied at ``fact.seq`` is this one (a re-fed fact must match what was applied)."""
        timeline = self._subjects.get(fact.subject)
        return timeline is not None and timeline.holds(fact)

    def has_event(self, event_id: str) -> bool:
        """Whether a stage entry with this event_id was applied (the escalator's exactly-once check); the
        ids of other entries are not indexed, since a projection holding every id grows with the log."""
        return event_id in self._stage_ids

    def subjects(self) -> list[str]:
        if self._sorted is None:
            self._sorted = sorted(s for s in self._subjects if s != COMPANY)
        return list(self._sorted)

    def facts(self, subject: str, as_of: datetime) -> list[Fact]:
        """One subject's facts that count at ``as_of``, in occurrence order."""
        tl = self._subjects.get(subject)
        return tl.until(as_of) if tl else []

    def _may_have(self, subject: str, *types: str) -> bool:
        """Whether any fact of ``subject``, visible at some instant or not, has one of ``types``."""
        tl = self._subjects.get(subject)
        return tl is not None and not tl.types.isdisjoint(types)

    def history(self, subject: str) -> list[Fact]:
        """Every fact of one subject the log holds, whenever it occurred, in occurrence order."""
        tl = self._subjects.get(subject)
        return list(tl.facts) if tl else []

    # -- evaluation -------------------------------------------------------------------------------

    def calendar(self, as_of: datetime) -> WorkCalendar:
        """The working-day calendar an evaluation at ``as_of`` uses (``calendar.adopted`` entries)."""
        return self.calendars.at(as_of)

    def can_escalate(self, subject: str) -> bool:
        """False for a subject that can have no episode at any instant and holds no stage to withdraw (no
        leave request, absence without one not counted, no stage entry): the escalator skips it."""
        tl = self._subjects.get(subject)
        if tl is None:
            return False
        return tl.may_have_episodes(self.policy) or STAGE_ENTERED in tl.types

    def episodes(self, subject: str, as_of: datetime) -> list[Episode]:
        return episodes(subject, self.facts(subject, as_of), as_of, self.policy, self.calendar(as_of))

    def _shared_episodes(
        self, subject: str, as_of: datetime, calendar: WorkCalendar, position: tuple[date, date]
    ) -> list[Episode]:
        """``episodes(subject, as_of)`` remembered by its inputs (see ``ledger.domain.timeline``): read only."""
        tl = self._subjects.get(subject)
        return tl.episodes(subject, as_of, position, self.policy, calendar) if tl else []

    def _calendar_doc(self, eps: Sequence[Episode], calendar: WorkCalendar) -> dict[str, Any]:
        problem = next((e for e in eps if e.calendar_error), None)
        seqs = sorted({s for e in eps for s in calendar.seqs(*e.calendar_years())})
        return {
            "complete": problem is None,
            "missing_year": problem.calendar_year if problem else None,
            "detail": problem.calendar_error if problem else None,
            "seqs": seqs,
        }

    def absence(self, subject: str, as_of: datetime) -> dict[str, Any]:
        """``{"subject","state","overdue_days","return_day","leave_id"}`` (plus ``case_id``, ``missed_days``,
        the reasons reported, the leave-rule flags). ``calendar`` says whether the working-day calendar could
        answer for every day counted."""
        facts = self.facts(subject, as_of)
        calendar = self.calendar(as_of)
        eps = episodes(subject, facts, as_of, self.policy, calendar)
        today = as_of.astimezone(self.policy.tz).date()
        current = next((e for e in reversed(eps) if e.span_start <= today), None)
        terminated = any(f.type == "employment.terminated" for f in facts)
        out: dict[str, Any] = {
            "subject": subject,
            "state": "present",
            "overdue_days": 0,
            "return_day": None,
            "leave_id": None,
            "case_id": None,
            "kind": None,
            "missed_days": [],
            "suspended": False,
            "reports": [],
            "leave_flags": [],
            "as_of": as_of.isoformat(),
            "calendar": self._calendar_doc([current] if current else [], calendar),
            "unmatched": unmatched_facts(facts),
        }
        if current is not None:
            out.update(
                overdue_days=current.overdue_days,
                leave_id=current.leave_id,
                case_id=current.case_id,
                kind=current.kind,
                return_day=current.return_day.isoformat() if current.return_day else None,
                missed_days=[m.day.isoformat() for m in current.missed],
                suspended=current.suspended,
                reports=[r.doc() for r in current.reports],
                leave_flags=leave_flags(current.leave, self.policy) if current.leave else [],
            )
            out["state"] = self._state(current, today)
        if terminated:
            out["state"] = "terminated"
        return out

    @staticmethod
    def _state(ep: Episode, today: Any) -> str:
        if ep.kind == "leave" and ep.leave is not None and today <= ep.leave.end:
            return "on_leave"
        if ep.status == "returned":
            return "returned"
        if ep.status != "open":
            return "present"
        if ep.suspended or any(r.excuses(today) for r in ep.reports):
            return "absence_reported"
        if ep.overdue_days:
            return "overdue"
        return "on_leave" if ep.kind == "leave" else "present"

    def _case(self, ep: Episode, facts: Sequence[Fact], as_of: datetime, calendar: WorkCalendar) -> dict[str, Any]:
        p = self.policy
        company = self.facts(COMPANY, as_of)
        cal = self._calendar_doc([ep], calendar)
        doc = case_doc(ep, facts, company, as_of, p, calendar, cal)
        ready = doc["readiness"]
        cf = contact_file(ep.subject, facts)
        used = {s for item in ready["items"] for s in item["seqs"]} | set(ep.basis)
        if cf is not None:
            used.add(cf.fact.seq)
        evidence = [f for f in facts if f.seq in used or f.local_date(p.tz) >= ep.span_start]
        late = _late([*evidence, *(f for f in company if f.seq in used)], p)
        termination = next((f for f in facts if f.type == "employment.terminated"), None)
        doc.update(
            termination=self._at_termination(ep, termination) if termination is not None else None,
            calendar=cal,
            late_recorded=late,
            unmatched=unmatched_facts(facts),  # facts naming a leave or notice the log does not hold
            evidence_seqs=sorted({f.seq for f in evidence} | used),
            as_of=as_of.isoformat(),
            policy_digest=p.digest,
        )
        return doc

    def _at_termination(self, ep: Episode, termination: Fact) -> dict[str, Any]:
        """The termination and the readiness items missing when it was recorded: the case as the log stood
        just before the termination's entry (earlier seqs only), at the instant the termination occurred. The
        working-day calendar is the one in force then, whenever its entries were recorded (the service
        records a year when it first needs it; the official calendar is no fact HR could have lacked)."""
        at, before = termination.occurred_at, termination.seq
        facts = [f for f in self.facts(ep.subject, at) if f.seq < before]
        company = [f for f in self.facts(COMPANY, at) if f.seq < before]
        calendar = self.calendars.at(at)  # the State Council's calendar is public: recorded lazily, not a fact HR knew
        then = next(
            (e for e in episodes(ep.subject, facts, at, self.policy, calendar) if e.case_id == ep.case_id), None
        )
        out: dict[str, Any] = {
            "seq": termination.seq,
            "effective_on": termination.get("effective_on"),
            "notice_id": termination.get("notice_id"),
            "confirmed_by": termination.get("confirmed_by"),
            "occurred_at": termination.occurred_text,
        }
        if then is None:
            out.update(ready_when_recorded=False, missing_when_recorded=[])
            out["note"] = {
                "zh": "解除时尚无本案（无逾期工作日）",
                "en": "no case existed when it was recorded (no overdue day)",
            }
            return out
        items = case_doc(then, facts, company, at, self.policy, calendar, self._calendar_doc([then], calendar))
        ready = items["readiness"]
        out["ready_when_recorded"] = ready["ready"]
        out["missing_when_recorded"] = [
            {"name": i["name"], "label": i["label"], "missing": i["missing"], "seqs": i["seqs"]}
            for i in ready["items"]
            if not i["ok"]
        ]
        return out

    def _is_case(self, ep: Episode, as_of: datetime) -> bool:
        """An episode is a case once a day is overdue, suspended or excused, a reason is reported, a stage is
        recorded, or it is over and the calendar cannot say whether the employee is overdue (the operator
        must see that case)."""
        today = as_of.astimezone(self.policy.tz).date()
        over = ep.leave is None or ep.kind != "leave" or today > ep.leave.end
        counted = ep.missed or ep.suspended_days or ep.excused_days
        return bool(counted or ep.stage_facts or (over and ep.calendar_error and ep.status == "open"))

    def cases(self, as_of: datetime, *, subject: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """Cases by subject then start; a case the calendar cannot finish names the missing year."""
        out: list[dict[str, Any]] = []
        calendar = self.calendar(as_of)
        position = deadline_position(as_of, self.policy)
        for s in [subject] if subject is not None else self.subjects():
            found = [
                ep
                for ep in self._shared_episodes(s, as_of, calendar, position)
                if self._is_case(ep, as_of) and (status is None or ep.status == status)
            ]
            if found:
                facts = self.facts(s, as_of)
                out.extend(self._case(ep, facts, as_of, calendar) for ep in found)
        return out

    def case(self, case_id: str, as_of: datetime) -> dict[str, Any] | None:
        """One case by id, or None when no such case exists at ``as_of``."""
        calendar = self.calendar(as_of)
        position = deadline_position(as_of, self.policy)
        for s in self.subjects():
            if not case_id.startswith(s + "/"):
                continue
            for ep in self._shared_episodes(s, as_of, calendar, position):
                if ep.case_id == case_id and self._is_case(ep, as_of):
                    return self._case(ep, self.facts(s, as_of), as_of, calendar)
        return None

    def missing_calendar_years(self, as_of: datetime) -> dict[int, list[str]]:
        """Years the calendar lacks that some episode at ``as_of`` needs, with the cases that need them."""
        missing: dict[int, list[str]] = {}
        calendar = self.calendar(as_of)
        position = deadline_position(as_of, self.policy)
        for s in self.subjects():
            for ep in self._shared_episodes(s, as_of, calendar, position):
                if ep.calendar_year is not None:
                    missing.setdefault(ep.calendar_year, []).append(ep.case_id)
        return missing

    def attention(self, as_of: datetime, *, subject: str | None = None) -> dict[str, Any]:
        """Employees at risk of becoming unreachable, each with the reasons (SPEC section 4): it informs HR
        and decides nothing (PIPL art. 24)."""
        employees = []
        for s in [subject] if subject is not None else self.subjects():
            if not self._may_have(s, *SNAPSHOT_TYPES, TERMINATED):
                found = attention_reasons(s, (), as_of, self.policy)  # no contact file at any instant
            else:
                facts = self.facts(s, as_of)
                if any(f.type == TERMINATED for f in facts):
                    continue
                found = attention_reasons(s, facts, as_of, self.policy)
            if found["reasons"]:
                employees.append(found)
        return {
            "as_of": as_of.isoformat(),
            "employees": employees,
            "note": {
                "zh": "本名单仅供人事部门参考，不作任何自动决定（个人信息保护法第二十四条）",
                "en": "this list informs HR and decides nothing (PIPL art. 24)",
            },
        }

    def contact_health(self, as_of: datetime, *, subject: str | None = None) -> dict[str, Any]:
        """Stale contacts and never-verified emergency contacts of every current employee (or one)."""
        employees = []
        for s in [subject] if subject is not None else self.subjects():
            if not self._may_have(s, *SNAPSHOT_TYPES):
                continue  # no contact file at any instant
            facts = self.facts(s, as_of)
            cf = contact_file(s, facts)
            if cf is None or any(f.type == TERMINATED for f in facts):
                continue
            health = contact_health(cf, facts, as_of, self.policy)
            if health["stale_contacts"] or health["unverified_emergency_contacts"]:
                employees.append(health)
        return {
            "as_of": as_of.isoformat(),
            "employees": employees,
            "stale_contacts": sum(len(e["stale_contacts"]) for e in employees),
            "unverified_emergency_contacts": sum(len(e["unverified_emergency_contacts"]) for e in employees),
        }
