"""The escalation scheduler: the thin I/O shell around the pure decisions of ``ledger.domain.escalation``.

It reads the projection a :class:`~ledger.services.follower.ProjectionFollower` keeps current, and on
every :meth:`Escalator.tick` appends, in this order and each group in one group commit (each event its own
request, so one refused decision does not refuse the others): the ``escalation.stage_withdrawn`` of stages
later facts undid, the due ``escalation.stage_entered`` events, and the ``notice.drafted`` a
:class:`~ledger.services.drafting_port.Drafter` makes for each stage just entered (never for a suspended
case). Exactly once per case, stage and occurrence holds across restarts and racing evaluators (two
processes on one store included): event_ids are deterministic and the log is idempotent by event_id, so a
second append of the same decision returns the original entry (``created=False``). A ConflictError means
the log already holds a *different* decision under that id (facts were backfilled between two
evaluations): it is logged and counted, and the recorded one stands. Only the process that created an
entry notifies.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from ledger.core.entries import AT_RECORDING, Event, parse_leaf, parse_rfc3339
from ledger.core.records import StoredEntry
from ledger.domain import Policy, Projector, escalations_due, validate_event
from ledger.domain.contacts import contact_file
from ledger.domain.escalation import STAGE_EVENT, EscalationPlan, StageDecision, Withdrawal
from ledger.errors import ConflictError, LedgerError, ValidationError
from ledger.log import AppendResult, Log
from ledger.services.calendar_keeper import CalendarKeeper, CalendarStatus
from ledger.services.drafting_port import DRAFTED, Drafter
from ledger.services.follower import ProjectionFollower
from ledger.services.notify import Notifier, StageNotice
from ledger.storage.base import iter_entries

log = logging.getLogger("hrledger.escalator")

#: after a restart, stage events this recent without a delivery record are notified (a crash between
#: the append and the outbox write must not lose the alert)
RECOVERY_WINDOW = timedelta(hours=24)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class TickResult:
    now: datetime
    appended: list[AppendResult] = field(default_factory=list)  # stage events this tick created
    withdrawn: list[AppendResult] = field(default_factory=list)  # withdrawals this tick created
    drafted: list[AppendResult] = field(default_factory=list)  # notice.drafted entries this tick created
    existing: int = 0  # decisions another evaluation had already recorded (same content)
    conflicts: int = 0  # decisions refused because a different one is recorded under the id
    #: calendar years open cases need that neither the log nor a source holds, with those cases
    calendar_missing: dict[int, list[str]] = field(default_factory=dict)


@dataclass(slots=True)
class EscalatorStats:
    ticks: int = 0
    stage_events: int = 0
    withdrawals: int = 0
    drafts: int = 0
    existing: int = 0
    conflicts: int = 0
    failed_ticks: int = 0
    standby_ticks: int = 0  # ticks skipped because another process is the sequencer
    last_tick: str | None = None
    last_error: str | None = None


class Escalator:
    def __init__(
        self,
        log: Log,
        policy: Policy,
        *,
        follower: ProjectionFollower | None = None,
        clock: Callable[[], datetime] = utc_now,
        notifier: Notifier | None = None,
        drafter: Drafter | None = None,
        source: str = "hrledger",
    ) -> None:
        self.log = log
        self.policy = policy
        self.follower = follower or ProjectionFollower(log, policy)
        self.clock = clock
        self.notifier = notifier
        self.drafter = drafter
        self.source = source
        self.calendar = CalendarKeeper(log, policy)
        self.calendar_missing: dict[int, list[str]] = {}  # from the last tick
        self.stats = EscalatorStats()
        self._lock = asyncio.Lock()  # one tick at a time in this process; reads never take it
        self.on_duty = False  # escalating and delivering: only the sequencer does (see run)

    @property
    def projector(self) -> Projector:
        return self.follower.projector

    async def catch_up(self) -> int:
        """Bring the projection up to the log (see ``ProjectionFollower.catch_up``)."""
        return await self.follower.catch_up()

    # -- deciding and appending -------------------------------------------------------------------

    async def tick(self, now: datetime | None = None) -> TickResult:
        """Append every stage event due at ``now`` (default: the clock) and notify the new ones."""
        now = now or self.clock()
        result = TickResult(now)
        async with self._lock:
            await self.catch_up()
            plan = escalations_due(self.projector, now)
            if plan.missing_years and await self._record_calendar(plan.missing_years):
                plan = escalations_due(self.projector, now)
            result.calendar_missing = self.calendar_missing = plan.missing_years
            for year, cases in plan.missing_years.items():
                log.error(
                    "the working-day calendar has no entry for %d; %d case(s) cannot be counted past it "
                    "(%s): add the year with 'hrledger calendar add'",
                    year,
                    len(cases),
                    ", ".join(cases[:5]),
                )
            await self._record(plan, result)
        self.stats.ticks += 1
        self._count(result)
        return result

    async def record(self, decisions: list[StageDecision] | EscalationPlan, now: datetime | None = None) -> TickResult:
        """Append decisions made earlier (by :func:`escalations_due`); what ``tick`` does after deciding."""
        result = TickResult(now or self.clock())
        plan = decisions if isinstance(decisions, EscalationPlan) else EscalationPlan(decisions=list(decisions))
        async with self._lock:
            await self._record(plan, result)
        self._count(result)
        return result

    async def _record(self, plan: EscalationPlan, result: TickResult) -> None:
        # Group by group: the sequencer takes each group's pending requests into one commit, and a
        # withdrawal is in the log before the stage it makes room for is entered again.
        if plan.withdrawals:
            await asyncio.gather(*(self._withdraw(w, result) for w in plan.withdrawals))
            await self.catch_up()
        entered = await asyncio.gather(*(self._append(d, result) for d in plan.decisions))
        await self.catch_up()  # our own entries, so the next tick does not decide them again
        if self.drafter is not None:
            drafts = [
                e
                for d, res in zip(plan.decisions, entered, strict=True)
                if res
                for e in await self._drafts(d, res, result.now)
            ]
            if drafts:
                created = await asyncio.gather(*(self._append_draft(e) for e in drafts))
                result.drafted += [r for r in created if r is not None]
                await self.catch_up()

    async def _drafts(self, decision: StageDecision, entry: AppendResult, now: datetime) -> list[Event]:
        """The drafter's events for a stage just entered, made hrledger's own (see drafting_port)."""
        assert self.drafter is not None
        case = self.projector.case(decision.case_id, max(now, self.clock()))
        if case is None or case.get("suspended"):
            return []
        out = []
        for event in await self.drafter.draft(decision, case, entry.seq):
            if event.type != DRAFTED or event.subject != decision.subject:
                log.error(
                    "drafter returned %s for %s; only notice.drafted of that subject is kept", event.type, event.subject
                )
                continue
            data = {"case_id": decision.case_id, "stage_seq": entry.seq, **event.data}
            own = replace(
                event, occurred_at=AT_RECORDING, source=self.source, data=data, canonical_data=None, occurred=None
            )
            try:
                validate_event(own)
            except ValidationError as exc:
                log.error("drafter's notice.drafted %s is invalid and not recorded: %s", event.event_id, exc)
                continue
            out.append(own)
        return out

    async def _append_draft(self, event: Event) -> AppendResult | None:
        try:
            (res,) = await self.log.append([event])
        except ConflictError as exc:
            log.warning("draft %s already recorded differently; keeping the recorded one: %s", event.event_id, exc)
            return None
        return res if res.created else None

    async def _withdraw(self, withdrawal: Withdrawal, result: TickResult) -> None:
        try:
            (res,) = await self.log.append([withdrawal.event(self.source)])
        except ConflictError as exc:
            result.conflicts += 1
            log.warning("withdrawal of stage entry %d already recorded differently: %s", withdrawal.stage_seq, exc)
            return
        if not res.created:
            result.existing += 1
            return
        result.withdrawn.append(res)
        log.info(
            "case %s: stage %s (seq %d) withdrawn (%s) at seq %d",
            withdrawal.case_id,
            withdrawal.stage,
            withdrawal.stage_seq,
            withdrawal.reason,
            res.seq,
        )

    async def _record_calendar(self, years: Iterable[int]) -> bool:
        """Record the years a source knows (only the sequencer writes); True if the projection changed."""
        if not self.log.is_sequencer():
            return False
        if not await self.calendar.ensure(years, self.projector.calendars):
            return False
        await self.catch_up()
        return True

    async def ensure_calendar(self, years: Iterable[int]) -> bool:
        """For reads: record the calendar years an evaluation found missing, where a source knows them
        (idempotent, so it needs no lock: two reads recording one year append one entry)."""
        await self.catch_up()
        return await self._record_calendar(years)

    def calendar_status(self) -> CalendarStatus:
        """How far the working-day calendar reaches from today, and the years open cases miss."""
        today = self.clock().astimezone(self.policy.tz).date()
        return self.calendar.sources.status(self.projector.calendars, today, self.calendar_missing)

    def _count(self, result: TickResult) -> None:
        self.stats.stage_events += len(result.appended)
        self.stats.withdrawals += len(result.withdrawn)
        self.stats.drafts += len(result.drafted)
        self.stats.existing += result.existing
        self.stats.conflicts += result.conflicts
        self.stats.last_tick = result.now.isoformat()

    async def _append(self, decision: StageDecision, result: TickResult) -> AppendResult | None:
        """Append one stage event; the result when this call created it, else None."""
        event = decision.event(self.source)
        try:
            (res,) = await self.log.append([event])
        except ConflictError as exc:
            result.conflicts += 1
            log.warning(
                "stage %s of %s already decided differently; keeping the recorded one: %s",
                decision.stage,
                decision.case_id,
                exc,
            )
            return None
        if not res.created:
            result.existing += 1
            return None
        result.appended.append(res)
        log.info(
            "case %s entered stage %s (%d overdue working days) at seq %d",
            decision.case_id,
            decision.stage,
            decision.overdue_days,
            res.seq,
        )
        if self.notifier is not None and self.notifier.enabled:
            await self._notify(replace(event, occurred_at=res.recorded_at), res.seq, res.leaf_hash, res.recorded_at)
        return res

    def employee_name(self, subject: str) -> str | None:
        """The employee's name on file now, from the log (None once erased); the notifier asks at each send."""
        cf = contact_file(subject, self.projector.facts(subject, self.clock()))
        return cf.name if cf is not None and cf.name else None

    async def _notify(self, event: Event, seq: int, leaf_hash: bytes, recorded_at: str) -> None:
        assert self.notifier is not None
        notice = StageNotice.from_event(
            event, seq=seq, leaf_hash=leaf_hash, recorded_at=recorded_at, policy=self.policy
        )
        try:
            await self.notifier.notify(notice)
        except LedgerError as exc:  # the stage event stands; recover_notifications retries on restart
            log.error("stage event %d recorded but its notification could not be queued: %s", seq, exc)

    # -- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Catch up with the log; on the sequencer, record the policy file's changed calendar years and take
        up escalation duty (see ``run``)."""
        await self.catch_up()
        if self.log.is_sequencer():
            async with self._lock:
                if await self.calendar.sync_policy(self.projector.calendars):
                    await self.catch_up()
            await self._take_duty()

    async def _take_duty(self) -> None:
        """Resume the deliveries left pending (by a crash, a stop, or a sequencer that died) and queue
        alerts lost to a crash between a stage event and its outbox record."""
        if self.notifier is not None and self.notifier.enabled:
            await self.notifier.start()
            await self.recover_notifications()
        self.on_duty = True  # only once both succeeded: a store error here is retried at the next tick

    async def recover_notifications(self, window: timedelta = RECOVERY_WINDOW) -> int:
        """Queue stage events recorded within ``window`` that have no delivery record yet."""
        if self.notifier is None or not self.notifier.enabled:
            return 0
        since = self.clock() - window
        queued = 0
        async for rows in iter_entries(self.log.store, type=STAGE_EVENT):
            for e in rows:
                if (
                    parse_rfc3339(e.recorded_at, "recorded_at") >= since
                    and e.data is not None
                    and not await self.notifier.has_record(e.seq, e.event_id)
                ):
                    await self._notify(_event_of(e), e.seq, e.leaf_hash, e.recorded_at)
                    queued += 1
        return queued

    async def run(self, stop: asyncio.Event, tick_seconds: float) -> None:
        """Tick every ``tick_seconds`` until ``stop`` is set; a failed tick is logged and retried next time.

        Only the sequencer escalates and delivers. The others (MongoDB deployments with several processes)
        keep their projection current for reads and stand by, instead of failing every tick on a write
        they may not make and delivering each alert once per process. On becoming the sequencer a process
        takes up the duty, including the deliveries a dead sequencer left pending."""
        while not stop.is_set():
            try:
                if self.log.is_sequencer():
                    if not self.on_duty:
                        log.info("this process is the sequencer: it now escalates and delivers notifications")
                        await self._take_duty()
                    await self.tick()
                else:
                    if self.on_duty or self.stats.standby_ticks == 0:
                        log.info("standing by: another process holds the sequencer lease and escalates")
                    self.on_duty = False
                    self.stats.standby_ticks += 1
                    await self.catch_up()
            except LedgerError as exc:
                self.stats.failed_ticks += 1
                self.stats.last_error = str(exc)
                log.error("escalation tick failed: %s", exc)
            except Exception as exc:  # a bug must not stop escalation for good
                self.stats.failed_ticks += 1
                self.stats.last_error = repr(exc)
                log.exception("escalation tick crashed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(tick_seconds):
                    await stop.wait()


def _event_of(entry: StoredEntry) -> Event:
    leaf = parse_leaf(entry.entry)
    data = json.loads(entry.data or b"{}")
    return Event(entry.event_id, entry.type, entry.subject, entry.occurred_at, str(leaf.get("source")), data)
