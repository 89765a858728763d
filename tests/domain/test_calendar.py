"""The working-day calendar as evidence (SPEC section 4): years come from calendar.adopted entries only."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest

from ledger.domain import CalendarBook, CalendarError, CalendarOverrides, WorkCalendar, YearCalendar, national_year
from ledger.domain.calendar import NATIONAL_YEARS, year_from_data, year_problem
from ledger.domain.schemas import ADMIN_TYPES, validate_data
from ledger.errors import ValidationError
from tests.support.domain import at


def test_national_years_agree_with_the_library_on_every_day() -> None:
    lo, hi = NATIONAL_YEARS
    assert lo <= 2004 and hi >= 2026  # the library's range when this was written; never guessed beyond it
    for year in range(lo, hi + 1):
        cal = national_year(year)
        assert cal is not None and year_problem(cal) is None
        work = WorkCalendar([cal])
        day = date(year, 1, 1)
        while day.year == year:
            assert work.is_workday(day) == chinese_calendar.is_workday(day), day
            day += timedelta(days=1)
    assert national_year(hi + 1) is None and national_year(lo - 1) is None


def test_2025_national_day_and_its_make_up_saturday() -> None:
    cal = WorkCalendar([national_year(2025)])  # type: ignore[list-item]
    assert cal.is_workday(date(2025, 9, 28))  # Sunday, 调休
    assert cal.is_workday(date(2025, 10, 11))  # Saturday, 调休
    assert not cal.is_workday(date(2025, 10, 12))
    assert not any(cal.is_workday(date(2025, 10, d)) for d in range(1, 9))
    assert cal.next_workday_after(date(2025, 9, 30)) == date(2025, 10, 9)
    assert list(cal.workdays(date(2025, 10, 9), date(2025, 10, 13))) == [
        date(2025, 10, 9),
        date(2025, 10, 10),
        date(2025, 10, 11),
        date(2025, 10, 13),
    ]


def test_a_year_with_no_entry_is_an_error_naming_it() -> None:
    cal = WorkCalendar([national_year(2026)])  # type: ignore[list-item]
    with pytest.raises(CalendarError) as err:
        cal.is_workday(date(2027, 3, 1))
    assert err.value.year == 2027 and "hrledger calendar add --year 2027" in str(err.value)
    assert "2026" in str(err.value)  # says which years the log has


def test_company_overrides_apply_on_top() -> None:
    cal = WorkCalendar(
        [national_year(2025)],  # type: ignore[list-item]
        CalendarOverrides(holidays=frozenset({date(2025, 10, 9)}), workdays=frozenset({date(2025, 10, 12)})),
    )
    assert cal.next_workday_after(date(2025, 9, 30)) == date(2025, 10, 10)
    assert cal.is_workday(date(2025, 10, 12))


def test_a_calendar_with_no_working_days_is_an_error() -> None:
    days = frozenset(date(2025, 10, 1) + timedelta(days=i) for i in range(80))
    cal = WorkCalendar([national_year(2025)], CalendarOverrides(holidays=days))  # type: ignore[list-item]
    with pytest.raises(CalendarError) as err:
        cal.next_workday_after(date(2025, 9, 30))
    assert err.value.year is None and "no working day within 60 days" in str(err.value)


def _year(seq: int, holidays: list[str]) -> dict[str, object]:
    return {"year": 2027, "holidays": holidays, "workdays": [], "source": f"entry {seq}"}


def test_highest_admitted_seq_wins_and_earlier_instants_use_the_first_entry() -> None:
    """SPEC: for a year, the entry with the highest seq among those as_of admits wins. Before any entry
    is admitted, the first one recorded answers, so history recorded before its calendar still evaluates."""
    book = CalendarBook()
    book.add(10, at("2026-12-01 10:00"), _year(10, ["2027-01-01"]))
    book.add(20, at("2027-02-01 10:00"), _year(20, ["2027-01-01", "2027-02-10"]))
    feb10 = date(2027, 2, 10)
    assert book.at(at("2027-03-01 12:00")).is_workday(feb10) is False  # seq 20 admitted and highest
    assert book.at(at("2027-01-15 12:00")).is_workday(feb10) is True  # only seq 10 admitted
    assert book.at(at("2025-06-01 12:00")).is_workday(feb10) is True  # none admitted: the first recorded
    assert book.at(at("2027-03-01 12:00")).seqs(2027, 2027) == [20]
    assert book.latest(2027) is not None and book.latest(2027).seq == 20  # type: ignore[union-attr]
    assert book.at(at("2027-03-01 12:00")) is book.at(at("2027-04-01 12:00"))  # one view per choice


def test_calendar_adopted_schema() -> None:
    good = {"year": 2027, "holidays": ["2027-01-01"], "workdays": [], "source": "测试数据"}
    validate_data("calendar.adopted", good)
    assert "calendar.adopted" in ADMIN_TYPES
    bad = [
        ({**good, "year": 1969}, "data.year"),
        ({**good, "year": "2027"}, "data.year"),
        ({**good, "holidays": ["2028-01-03"]}, "data.holidays"),
        ({**good, "holidays": ["2027-01-02"]}, "data.holidays"),  # a Saturday: weekends are off anyway
        ({**good, "workdays": ["2027-01-04"]}, "data.workdays"),  # a Monday is a working day anyway
        ({**good, "holidays": ["2027-01-01", "2027-01-01"]}, "data.holidays"),
        ({**good, "workdays": ["2027-01-09"], "holidays": ["2027-01-01"], "extra": 1}, "data.extra"),
        ({k: v for k, v in good.items() if k != "source"}, "data.source"),
    ]
    for data, field in bad:
        with pytest.raises(ValidationError) as err:
            validate_data("calendar.adopted", data)
        assert err.value.field == field, (data, err.value)


def test_year_data_round_trip() -> None:
    cal = YearCalendar(2027, frozenset({date(2027, 1, 1)}), frozenset({date(2027, 2, 6)}), "test data", 7)
    again = year_from_data(cal.data(), 7)
    assert again == cal and again is not None and again.same_days(cal)
    assert cal.event_id() == YearCalendar(2027, cal.holidays, cal.workdays, "test data").event_id()
    assert cal.event_id() != YearCalendar(2027, cal.holidays, frozenset(), "test data").event_id()
    assert year_from_data({"year": "x"}) is None
