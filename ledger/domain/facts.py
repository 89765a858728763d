"""Facts: log entries as the projections read them (parsed times, parsed data, erased data as None)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ledger.core.entries import parse_rfc3339
from ledger.core.records import StoredEntry
from ledger.errors import IntegrityError, ValidationError


@dataclass(frozen=True, slots=True)
class Fact:
    seq: int
    event_id: str
    type: str
    subject: str
    occurred_at: datetime  # aware
    recorded_at: datetime  # aware
    data: Mapping[str, Any] | None  # None once erased
    occurred_text: str = ""

    @property
    def key(self) -> tuple[datetime, int]:
        """Order of facts in the world: when they occurred, receipt order breaking ties."""
        return (self.occurred_at, self.seq)

    def get(self, name: str, default: Any = None) -> Any:
        return default if self.data is None else self.data.get(name, default)

    def local_date(self, tz: ZoneInfo) -> date:
        return self.occurred_at.astimezone(tz).date()


def fact_from_entry(entry: StoredEntry) -> Fact:
    """Decode one stored entry; a stored entry that does not parse is an IntegrityError."""
    try:
        occurred = parse_rfc3339(entry.occurred_at, "occurred_at")
        recorded = parse_rfc3339(entry.recorded_at, "recorded_at")
        data = None if entry.data is None else json.loads(entry.data.decode("utf-8"))
    except (ValidationError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IntegrityError(f"entry {entry.seq} cannot be read as a fact: {exc}") from None
    if data is not None and not isinstance(data, dict):
        raise IntegrityError(f"entry {entry.seq}: data is not a JSON object")
    return Fact(entry.seq, entry.event_id, entry.type, entry.subject, occurred, recorded, data, entry.occurred_at)


def make_fact(
    seq: int,
    type: str,
    subject: str,
    occurred_at: str,
    data: Mapping[str, Any] | None,
    *,
    recorded_at: str | None = None,
    event_id: str | None = None,
) -> Fact:
    """A fact built directly (tests, the demo): ``recorded_at`` defaults to ``occurred_at``."""
    occurred = parse_rfc3339(occurred_at, "occurred_at")
    recorded = parse_rfc3339(recorded_at, "recorded_at") if recorded_at else occurred
    return Fact(seq, event_id or f"e{seq}", type, subject, occurred, recorded, data, occurred_at)
