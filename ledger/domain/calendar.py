"""The company's working-day calendar (SPEC section 4), as evidence and as data.

Every year a decision uses is in the log as a ``calendar.adopted`` entry of subject ``company``:
its weekdays off (``holidays``), its weekend days worked (``workdays``, 调休) and the official source.
For a year, the entry with the highest seq among those that ``as_of`` admits (``occurred_at`` at or
before it) wins; when ``as_of`` admits none, the first entry recorded for that year answers, so history
stays evaluable after a year was recorded (an append-only log never changes that choice). The company's
own overrides from the policy file apply on top. A year no entry covers is a :class:`CalendarError`
naming that year: never a guess.

:func:`national_year` reads the bundled national calendar (``chinese_calendar``, static data) so the
service can record a year from it; it is a source of entries, never consulted when evaluating.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from chinese_calendar import constants as _national

from ledger.errors import CalendarError

#: the longest run of non-working days we accept before calling the calendar broken
MAX_DAYS_OFF = 60
CALENDAR_TYPE = "calendar.adopted"
FIRST_YEAR, LAST_YEAR = 1970, 2200


@dataclass(frozen=True, slots=True)
class YearCalendar:
    """One year: Monday–Friday minus ``holidays`` plus ``workdays``; ``seq`` is its log entry, if any."""

    year: int
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    source: str = ""
    seq: int | None = None

    def data(self) -> dict[str, Any]:
        """The ``calendar.adopted`` data for this year (dates sorted, so equal years give equal data)."""
        return {
            "year": self.year,
            "holidays": sorted(d.isoformat() for d in self.holidays),
            "workdays": sorted(d.isoformat() for d in self.workdays),
            "source": self.source,
        }

    def same_days(self, other: YearCalendar) -> bool:
        return (self.year, self.holidays, self.workdays) == (other.year, other.holidays, other.workdays)

    def event_id(self) -> str:
        """Deterministic idempotency key: the same year with the same days and source is one entry."""
        text = repr((sorted(self.holidays), sorted(self.workdays), self.source)).encode("utf-8")
        return f"calendar/{self.year}/{hashlib.sha256(text).hexdigest()[:16]}"


def year_from_data(data: Mapping[str, Any], seq: int | None = None) -> YearCalendar | None:
    """Read ``calendar.adopted`` data (already schema-checked at intake); None if it does not parse."""
    try:
        year = data["year"]
        holidays = frozenset(date.fromisoformat(d) for d in data["holidays"])
        workdays = frozenset(date.fromisoformat(d) for d in data["workdays"])
    except (KeyError, TypeError, ValueError):
        return None
    if not isinstance(year, int) or isinstance(year, bool):
        return None
    return YearCalendar(year, holidays, workdays, str(data.get("source", "")), seq)


def year_problem(cal: YearCalendar) -> str | None:
    """Why a year's days cannot be right (for intake and the CLI), or None."""
    if not FIRST_YEAR <= cal.year <= LAST_YEAR:
        return f"year must be from {FIRST_YEAR} to {LAST_YEAR}"
    for label, days in (("holidays", cal.holidays), ("workdays", cal.workdays)):
        stray = sorted(d for d in days if d.year != cal.year)
        if stray:
            return f"{label}: {stray[0].isoformat()} is not in {cal.year}"
    weekend_off = sorted(d for d in cal.holidays if d.weekday() >= 5)
    if weekend_off:
        return (
            f"holidays: {weekend_off[0].isoformat()} is a {weekend_off[0]:%A}; list only the weekdays off "
            "(weekends are off anyway)"
        )
    weekday_on = sorted(d for d in cal.workdays if d.weekday() < 5)
    if weekday_on:
        return (
            f"workdays: {weekday_on[0].isoformat()} is a {weekday_on[0]:%A}; list only the weekend days worked (调休)"
        )
    return None


@dataclass(frozen=True, slots=True)
class CalendarOverrides:
    """Company days off and extra working days on top of the national calendar, and supplied years.

    ``years`` are a source for ``calendar.adopted`` entries (the service records them), not consulted
    directly when evaluating."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    years: tuple[YearCalendar, ...] = field(default=())


def _library_version() -> str:
    try:
        return version("chinese_calendar")
    except PackageNotFoundError:  # pragma: no cover - installed as a dependency
        return "?"


NATIONAL_LIBRARY = f"chinese-calendar {_library_version()}"
NATIONAL_YEARS = (
    min(d.year for d in (*_national.holidays, *_national.workdays)),
    max(d.year for d in (*_national.holidays, *_national.workdays)),
)


def national_year(year: int) -> YearCalendar | None:
    """The bundled national calendar's year (国务院办公厅 holiday notices, as the library publishes them)."""
    lo, hi = NATIONAL_YEARS
    if not lo <= year <= hi:
        return None
    holidays = frozenset(d for d in _national.holidays if d.year == year and d.weekday() < 5)
    workdays = frozenset(d for d in _national.workdays if d.year == year and d.weekday() >= 5)
    return YearCalendar(
        year, holidays, workdays, f"{NATIONAL_LIBRARY} (bundled national calendar: State Council holiday notices)"
    )


class WorkCalendar:
    """Answers "is this a working day" for the company from the chosen years; pure and memoised."""

    def __init__(self, years: Iterable[YearCalendar] = (), overrides: CalendarOverrides | None = None) -> None:
        self.overrides = overrides or CalendarOverrides()
        self.years: dict[int, YearCalendar] = {y.year: y for y in years}
        self._memo: dict[date, bool] = {}

    def covers(self, year: int) -> bool:
        return year in self.years

    def seqs(self, first_year: int, last_year: int) -> list[int]:
        """The log entries of the years from ``first_year`` to ``last_year`` this calendar holds."""
        return sorted(
            s
            for y in range(first_year, last_year + 1)
            if (c := self.years.get(y)) is not None and (s := c.seq) is not None
        )

    def _base(self, day: date) -> bool:
        supplied = self.years.get(day.year)
        if supplied is None:
            known = ", ".join(str(y) for y in sorted(self.years)) or "none"
            raise CalendarError(
                f"the working-day calendar has no entry for {day.year} (years in the log: {known}); record "
                f"the year's official holidays and make-up days with 'hrledger calendar add --year {day.year} "
                "...' (or a calendar.adopted event), or supply it in the policy file as "
                f"[calendar.years.{day.year}]",
                year=day.year,
            )
        return day in supplied.workdays or (day.weekday() < 5 and day not in supplied.holidays)

    def is_workday(self, day: date) -> bool:
        cached = self._memo.get(day)
        if cached is not None:
            return cached
        base = self._base(day)
        if day in self.overrides.workdays:
            result = True
        elif day in self.overrides.holidays:
            result = False
        else:
            result = base
        self._memo[day] = result
        return result

    def is_statutory_workday(self, day: date) -> bool:
        """A working day by the calendar entries alone, without the company's own overrides: statutory
        periods end on a 法定休假日 only when the State Council's calendar says so (民法典 art. 203)."""
        return self._base(day)

    def next_workday_after(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        d = day
        for _ in range(MAX_DAYS_OFF):
            d += timedelta(days=1)
            if self.is_workday(d):
                return d
        raise CalendarError(
            f"no working day within {MAX_DAYS_OFF} days after {day.isoformat()}; check the "
            "calendar entries and the overrides in the policy file"
        )

    def workdays(self, start: date, end: date) -> Iterator[date]:
        """Working days from ``start`` to ``end``, both inclusive."""
        d = start
        while d <= end:
            if self.is_workday(d):
                yield d
            d += timedelta(days=1)


class CalendarBook:
    """The ``calendar.adopted`` entries of a log, by year; chooses each year's entry for an instant."""

    def __init__(self, overrides: CalendarOverrides | None = None) -> None:
        self.overrides = overrides or CalendarOverrides()
        self._entries: dict[int, list[tuple[int, datetime, YearCalendar]]] = {}
        self._views: dict[tuple[int, ...], WorkCalendar] = {}

    def add(self, seq: int, occurred_at: datetime, data: Mapping[str, Any] | None) -> None:
        cal = year_from_data(data or {}, seq)
        if cal is not None:
            self._entries.setdefault(cal.year, []).append((seq, occurred_at, cal))

    def years(self) -> list[int]:
        return sorted(self._entries)

    def latest(self, year: int) -> YearCalendar | None:
        """The entry that wins for ``year`` from now on (the highest seq), if any."""
        found = self._entries.get(year)
        return max(found, key=lambda e: e[0])[2] if found else None

    def at(self, as_of: datetime) -> WorkCalendar:
        """The calendar an evaluation at ``as_of`` uses (see the module docstring)."""
        chosen: list[YearCalendar] = []
        for found in self._entries.values():
            admitted = [e for e in found if e[1] <= as_of]
            chosen.append(max(admitted, key=lambda e: e[0])[2] if admitted else min(found, key=lambda e: e[0])[2])
        key = tuple(sorted(c.seq for c in chosen if c.seq is not None))
        view = self._views.get(key)
        if view is None:
            view = self._views[key] = WorkCalendar(chosen, self.overrides)
        return view
