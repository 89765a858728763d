"""Periods counted as the statutes count them, in the company time zone.

- 民法典 art. 201: a period counted in days starts on the day after the event (the event's own day is
  not counted); 民事诉讼法 art. 85 says the same for procedural periods.
- 民法典 art. 203 and 民事诉讼法 art. 85: a period whose last day is a statutory rest day (法定休假日)
  ends on the first day after it; the last day ends at 24:00.

So a publication on 2025-11-24 with a 30-day period (民事诉讼法 art. 95) is served at the end of
2025-12-24, not at 10:00 that day. Rest days are those of the ``calendar.adopted`` entries (the State
Council's holidays and make-up working days), not the company's own extra days off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ledger.domain.calendar import MAX_DAYS_OFF, WorkCalendar
from ledger.errors import CalendarError


@dataclass(frozen=True, slots=True)
class Period:
    """A period of ``days`` calendar days after ``event_day``: its last day and the instant it ends."""

    event_day: date
    days: int
    last_day: date  # after any move past rest days
    moved: bool  # the plain last day was a rest day
    ends_at: datetime  # 24:00 of the last day, i.e. 00:00 of the day after it, company time zone

    def over(self, as_of: datetime) -> bool:
        return as_of >= self.ends_at


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """24:00 of ``day`` in ``tz``: the first instant after it (民法典 art. 203: a last day ends at 24:00)."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tz)


def period(event_day: date, days: int, calendar: WorkCalendar, tz: ZoneInfo) -> Period:
    """The period of ``days`` days counted from the day after ``event_day`` (民法典 art. 201), its last day
    moved past statutory rest days (民法典 art. 203, 民事诉讼法 art. 85). Raises CalendarError when the
    calendar cannot say whether the last day is a rest day."""
    plain = event_day + timedelta(days=days)
    last = plain
    for _ in range(MAX_DAYS_OFF):
        if calendar.is_statutory_workday(last):
            return Period(event_day, days, last, last != plain, end_of_day(last, tz))
        last += timedelta(days=1)
    raise CalendarError(f"no working day within {MAX_DAYS_OFF} days after {plain.isoformat()}; check the calendar")
