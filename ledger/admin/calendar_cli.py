"""``hrledger calendar add|show``: record a year of the working-day calendar, and say what is known."""

from __future__ import annotations

import argparse
import json
import os
import re
from datetime import date
from pathlib import Path

from ledger.core.entries import AT_RECORDING, Event, parse_rfc3339
from ledger.domain import Policy
from ledger.domain.calendar import CALENDAR_TYPE, NATIONAL_YEARS, CalendarBook, YearCalendar
from ledger.domain.schemas import COMPANY, validate_event
from ledger.errors import ValidationError
from ledger.log import AppendResult, Log
from ledger.services.calendar_keeper import CalendarSources
from ledger.storage.base import Storage, iter_entries

SOURCE = "hrledger-cli"
_SEPARATORS = re.compile(r"[\s,;]+")


def parse_days(text: str, option: str) -> frozenset[date]:
    """A comma- or space-separated list of dates, or a file holding one (``#`` starts a comment); ``none``
    or an empty value is the empty list."""
    if text.strip().lower() in ("", "none"):
        return frozenset()
    if os.path.isfile(text):
        try:
            body = Path(text).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(option, f"cannot read {text}: {exc}") from None
        text = "\n".join(line.split("#", 1)[0] for line in body.splitlines())
    days = set()
    for token in _SEPARATORS.split(text.strip()):
        if not token:
            continue
        try:
            day = date.fromisoformat(token)
        except ValueError:
            raise ValidationError(option, f"{token!r} is not a date YYYY-MM-DD (nor a file that exists)") from None
        if day in days:
            raise ValidationError(option, f"{token} is listed twice")
        days.add(day)
    return frozenset(days)


def year_event(args: argparse.Namespace) -> Event:
    """The ``calendar.adopted`` event for the command's arguments, checked like a posted one. It takes the
    time it is recorded at, so running the same command again is the same entry (idempotent)."""
    cal = YearCalendar(
        args.year, parse_days(args.holidays, "--holidays"), parse_days(args.workdays, "--workdays"), args.source
    )
    event = Event(cal.event_id(), CALENDAR_TYPE, COMPANY, AT_RECORDING, SOURCE, cal.data())
    try:
        validate_event(event)
    except ValidationError as exc:  # name the option, not the data field
        option = {
            "data.year": "--year",
            "data.holidays": "--holidays",
            "data.workdays": "--workdays",
            "data.source": "--source",
        }
        field = next((o for k, o in option.items() if exc.field.startswith(k)), exc.field)
        raise ValidationError(field, exc.detail) from None
    return event


async def add_year(log: Log, event: Event) -> AppendResult:
    (result,) = await log.append([event])
    return result


async def read_book(store: Storage, policy: Policy) -> CalendarBook:
    book = CalendarBook(policy.calendar)
    async for page in iter_entries(store, subject=COMPANY, type=CALENDAR_TYPE):
        for e in page:
            data = json.loads(e.data) if e.data is not None else None
            book.add(e.seq, parse_rfc3339(e.occurred_at, "occurred_at"), data)
    return book


def describe(book: CalendarBook, sources: CalendarSources, today: date) -> list[str]:
    """What ``hrledger calendar show`` prints: each recorded year, the sources, and how far it reaches."""
    lines = []
    for year in book.years():
        cal = book.latest(year)
        assert cal is not None
        lines.append(
            f"{year}  in the log, seq {cal.seq}: {len(cal.holidays)} weekdays off, {len(cal.workdays)} "
            f"weekend days worked; source: {cal.source}"
        )
    lo, hi = NATIONAL_YEARS
    policy_years = sorted(y for y in sources.policy_years if book.latest(y) is None)
    if policy_years:
        lines.append(f"policy file: {', '.join(map(str, policy_years))} (recorded when first needed)")
    lines.append(f"bundled national calendar: {lo}–{hi} (recorded when first needed)")
    status = sources.status(book, today, {})
    through = status.known_through.isoformat() if status.known_through else f"nothing covers {today.year}"
    lines.append(f"known through: {through}")
    if status.warning:
        lines.append(f"WARNING: {status.warning}")
    return lines
