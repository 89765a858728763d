"""Periods counted as the statutes count them (民法典 art. 201, 203; 民事诉讼法 art. 85)."""

from __future__ import annotations

from datetime import date

from ledger.domain import CalendarOverrides, Policy, WorkCalendar, national_year
from ledger.domain.periods import end_of_day, period

TZ = Policy().tz


def calendar(overrides: CalendarOverrides | None = None) -> WorkCalendar:
    years = [y for y in (national_year(2025), national_year(2026)) if y is not None]
    return WorkCalendar(years, overrides)


def test_the_day_of_the_event_is_not_counted_and_the_last_day_ends_at_24_00() -> None:
    """民法典 art. 201: counting starts the day after; art. 203: the last day ends at 24:00."""
    p = period(date(2025, 11, 24), 30, calendar(), TZ)
    assert (p.last_day, p.moved) == (date(2025, 12, 24), False)
    assert p.ends_at.isoformat() == "2025-12-25T00:00:00+08:00"
    assert end_of_day(date(2025, 12, 24), TZ) == p.ends_at


def test_a_last_day_on_a_statutory_rest_day_moves_to_the_next_working_day() -> None:
    """民法典 art. 203, 民事诉讼法 art. 85: National Day 2025 runs 1–8 Oct; a period ending on 3 Oct ends on
    Thu 9 Oct. A make-up working day (Sat 11 Oct 2025, 调休) is a working day: nothing moves."""
    p = period(date(2025, 9, 30), 3, calendar(), TZ)
    assert (p.last_day, p.moved) == (date(2025, 10, 9), True)
    assert period(date(2025, 10, 8), 3, calendar(), TZ).last_day == date(2025, 10, 11)


def test_a_company_day_off_is_not_a_statutory_rest_day() -> None:
    """Only 法定休假日 move a period's end: the company's own extra day off (policy overrides) does not."""
    extra = CalendarOverrides(holidays=frozenset({date(2025, 12, 24)}))
    assert period(date(2025, 11, 24), 30, calendar(extra), TZ).last_day == date(2025, 12, 24)
