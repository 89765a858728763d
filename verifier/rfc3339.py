"""RFC 3339 date-times with an explicit offset, strictly (the one parser: the ledger uses it too)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

# ASCII digits only ([0-9], not \d, which also matches other scripts' digits); the whole string or nothing.
_RFC3339 = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]([0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


class TimeFormatError(ValueError):
    """Not an RFC 3339 date-time with an offset."""


def parse_rfc3339(value: Any) -> datetime:
    """An aware datetime; fractions beyond microseconds are dropped, naive or loose forms are refused."""
    if not isinstance(value, str):
        raise TimeFormatError("must be an RFC 3339 date-time string")
    m = _RFC3339.fullmatch(value)
    if not m:
        raise TimeFormatError(f"{value!r} is not an RFC 3339 date-time with offset (e.g. 2026-03-02T09:00:00+08:00)")
    day, clock, frac, offset = m.groups()
    micro = "." + frac[1:7].ljust(6, "0") if frac else ""
    offset = "+00:00" if offset in ("Z", "z") else offset
    try:
        return datetime.fromisoformat(f"{day}T{clock}{micro}{offset}")
    except ValueError as exc:
        raise TimeFormatError(f"{value!r} is not a valid date-time: {exc}") from None


def parse_time(value: Any) -> datetime | None:
    """``parse_rfc3339``, or None when the value is not one (for display code that shows "?" instead)."""
    try:
        return parse_rfc3339(value)
    except TimeFormatError:
        return None
