"""The company's working-day calendar (SPEC section 4).

Monday to Friday, PRC public holidays and make-up working days (调休) from ``chinese_calendar``, then the
company's own overrides. A year neither ``chinese_calendar`` nor the policy file covers is a
:class:`CalendarError`, never a guess.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib.metadata import PackageNotFoundError, version

import chinese_calendar
from chinese_calendar import constants as _cc_constants

from ledger.errors import LedgerError

#: the longest run of non-working days we accept before calling the calendar broken
MAX_DAYS_OFF = 60


class CalendarError(LedgerError):
    """The working-day calendar cannot answer for a date; the operator must supply the year."""

    title = "Working-day calendar incomplete"

    def __init__(self, message: str, *, year: int | None = None) -> None:
        super().__init__(message)
        self.year = year


@dataclass(frozen=True, slots=True)
class YearCalendar:
    """A whole year supplied by the operator: Monday–Friday minus ``holidays`` plus ``workdays``."""

    year: int
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()


@dataclass(frozen=True, slots=True)
class CalendarOverrides:
    """Company days off and extra working days on top of the national calendar, and supplied years."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    years: tuple[YearCalendar, ...] = field(default=())


def _cc_years() -> tuple[int, int]:
    keys = list(_cc_constants.holidays) + list(_cc_constants.workdays)
    return min(keys).year, max(keys).year


def _cc_version() -> str:
    try:
        return version("chinese_calendar")
    except PackageNotFoundError:  # pragma: no cover - installed as a dependency
        return "?"


BUILTIN_YEARS = _cc_years()


class WorkCalendar:
    """Answers "is this a working day" for the company; pure and cheap (results are memoised)."""

    def __init__(self, overrides: CalendarOverrides | None = None) -> None:
        self.overrides = overrides or CalendarOverrides()
        self._years = {y.year: y for y in self.overrides.years}
        self._memo: dict[date, bool] = {}

    def covers(self, year: int) -> bool:
        return year in self._years or BUILTIN_YEARS[0] <= year <= BUILTIN_YEARS[1]

    def _base(self, day: date) -> bool:
        supplied = self._years.get(day.year)
        if supplied is not None:
            return day in supplied.workdays or (day.weekday() < 5 and day not in supplied.holidays)
        if not self.covers(day.year):
            lo, hi = BUILTIN_YEARS
            raise CalendarError(
                f"the working-day calendar has no data for {day.year} (chinese-calendar {_cc_version()} covers "
                f"{lo}–{hi}); supply the whole year in the policy file, e.g. [calendar.years.{day.year}] "
                f'holidays = ["{day.year}-01-01", ...] (weekdays off) and workdays = [...] (weekend days '
                "worked, 调休), or upgrade chinese-calendar once it publishes that year",
                year=day.year,
            )
        return bool(chinese_calendar.is_workday(day))

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

    def next_workday_after(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        d = day
        for _ in range(MAX_DAYS_OFF):
            d += timedelta(days=1)
            if self.is_workday(d):
                return d
        raise CalendarError(f"no working day within {MAX_DAYS_OFF} days after {day.isoformat()}; check the "
                            "calendar overrides in the policy file", year=d.year)

    def workdays(self, start: date, end: date) -> Iterator[date]:
        """Working days from ``start`` to ``end``, both inclusive."""
        d = start
        while d <= end:
            if self.is_workday(d):
                yield d
            d += timedelta(days=1)
