"""Recording the working-day calendar in the log (SPEC section 4): the I/O half of ``ledger.domain.calendar``.

The service records a year as a ``calendar.adopted`` entry the first time an evaluation needs it, from
the policy file's ``[calendar.years.Y]`` or else the bundled national calendar (with that library's name
and version as its source), and again whenever the policy file's days for a year differ from the log's.
A year neither source knows is never guessed: the cases that need it name it until an operator records
it (``hrledger calendar add`` or a ``calendar.adopted`` event posted by an admin).

It also says how far the calendar reaches, so the service can warn from ``WARN_DAYS`` before it ends.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from ledger.core.entries import AT_RECORDING, Event
from ledger.domain.calendar import CALENDAR_TYPE, CalendarBook, YearCalendar, national_year
from ledger.domain.policy import Policy
from ledger.domain.schemas import COMPANY
from ledger.log import AppendResult, Log

log = logging.getLogger("hrledger.calendar")

#: how long before the calendar ends the service starts warning
WARN_DAYS = 60
SOURCE = "hrledger"


@dataclass(frozen=True, slots=True)
class CalendarStatus:
    """How far the calendar reaches from today: in the log, or in a source the service can record from."""

    today: date
    known_through: date | None  # last day of the last year known without a gap from today's year
    recorded_years: tuple[int, ...]  # years with a calendar.adopted entry in the log
    missing_years: dict[int, list[str]]  # years cases need that no entry or source covers, with the cases

    @property
    def days_left(self) -> int | None:
        return None if self.known_through is None else (self.known_through - self.today).days

    @property
    def warning(self) -> str | None:
        parts = []
        if self.missing_years:
            years = ", ".join(str(y) for y in sorted(self.missing_years))
            cases = sum(len(c) for c in self.missing_years.values())
            parts.append(
                f"{cases} case(s) need calendar year(s) {years}, which nothing records: add them with "
                "'hrledger calendar add --year Y ...'"
            )
        left = self.days_left
        if left is None:
            parts.append(f"no working-day calendar covers {self.today.year}: add it with 'hrledger calendar add'")
        elif left <= WARN_DAYS:
            assert self.known_through is not None
            parts.append(
                f"the working-day calendar ends {self.known_through.isoformat()} (in {left} days): record "
                f"{self.known_through.year + 1} with 'hrledger calendar add --year "
                f"{self.known_through.year + 1} ...' once its official schedule is published"
            )
        return "; ".join(parts) or None

    def to_dict(self) -> dict[str, object]:
        return {
            "known_through": self.known_through.isoformat() if self.known_through else None,
            "days_left": self.days_left,
            "recorded_years": list(self.recorded_years),
            "missing_years": {str(y): cases for y, cases in sorted(self.missing_years.items())},
            "warning": self.warning,
        }


class CalendarSources:
    """Where the service takes a year from: the policy file's ``[calendar.years.Y]``, then the national calendar."""

    def __init__(self, policy: Policy) -> None:
        self.policy_years = {y.year: y for y in policy.calendar.years}

    def source(self, year: int) -> YearCalendar | None:
        return self.policy_years.get(year) or national_year(year)

    def known(self, year: int, book: CalendarBook) -> bool:
        return book.latest(year) is not None or self.source(year) is not None

    def status(self, book: CalendarBook, today: date, missing: dict[int, list[str]]) -> CalendarStatus:
        """How far the calendar reaches from ``today``; ``missing`` are the years cases need (from the plan)."""
        year = today.year
        if not self.known(year, book):
            through = None
        else:
            while self.known(year + 1, book):
                year += 1
            through = date(year, 12, 31)
        unknown = {y: cases for y, cases in missing.items() if not self.known(y, book)}
        return CalendarStatus(today, through, tuple(book.years()), unknown)


class CalendarKeeper:
    """Appends ``calendar.adopted`` entries from the policy file or the national calendar, when needed."""

    def __init__(self, log: Log, policy: Policy) -> None:
        self.log = log
        self.sources = CalendarSources(policy)

    async def _record(self, cal: YearCalendar) -> AppendResult:
        event = Event(cal.event_id(), CALENDAR_TYPE, COMPANY, AT_RECORDING, SOURCE, cal.data())
        (result,) = await self.log.append([event])
        if result.created:
            log.info("recorded the %d working-day calendar at seq %d (%s)", cal.year, result.seq, cal.source)
        return result

    async def ensure(self, years: Iterable[int], book: CalendarBook) -> list[int]:
        """Record each of ``years`` the log lacks and a source knows; returns the years recorded."""
        recorded = []
        for year in sorted(set(years)):
            if book.latest(year) is not None:
                continue
            cal = self.sources.source(year)
            if cal is not None and (await self._record(cal)).created:
                recorded.append(year)
        return recorded

    async def sync_policy(self, book: CalendarBook) -> list[int]:
        """Record the policy file's version of each year the log holds with other days; returns those years."""
        recorded = []
        for year, cal in sorted(self.sources.policy_years.items()):
            current = book.latest(year)
            if current is not None and not current.same_days(cal) and (await self._record(cal)).created:
                log.warning(
                    "the policy file's %d calendar differs from the log's (seq %s): recorded the file's",
                    year,
                    current.seq,
                )
                recorded.append(year)
        return recorded
