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

#: The projection holds one fact per entry of the log, and most of a fact's bytes repeat from one entry to
#: the next: the type, the subject, the receipt time a commit shares, a clock-in's ``{"method": "face"}``.
#: Equal values are decoded once and shared (facts and their data are never changed in place). The tables
#: are bounded: once full they are emptied and fill again, so sharing stays a saving, never a leak.
SHARED_TEXTS = 65_536  # types and subjects: a company's employees fit
SHARED_INSTANTS = 4_096  # receipt and occurrence times, recent ones
SHARED_DATA = 4_096
SHARED_DATA_MAX_BYTES = 128  # only small payloads repeat byte for byte; large ones are kept as decoded
_texts: dict[str, str] = {}
_instants: dict[str, tuple[str, datetime]] = {}
_data: dict[bytes, dict[str, Any]] = {}


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


def _text(value: str) -> str:
    found = _texts.get(value)
    if found is None:
        if len(_texts) >= SHARED_TEXTS:
            _texts.clear()
        found = _texts[value] = value
    return found


def _instant(text: str, name: str) -> tuple[str, datetime]:
    """The text as first seen (shared) and its parsed instant."""
    found = _instants.get(text)
    if found is None:
        if len(_instants) >= SHARED_INSTANTS:
            _instants.clear()
        found = _instants[text] = (text, parse_rfc3339(text, name))
    return found


def _decode_data(raw: bytes) -> Any:
    if len(raw) > SHARED_DATA_MAX_BYTES:
        return json.loads(raw.decode("utf-8"))
    found = _data.get(raw)
    if found is None:
        found = json.loads(raw.decode("utf-8"))
        if not isinstance(found, dict):
            return found
        if len(_data) >= SHARED_DATA:
            _data.clear()
        _data[raw] = found
    return found


def fact_from_entry(entry: StoredEntry) -> Fact:
    """Decode one stored entry; a stored entry that does not parse is an IntegrityError. Equal types,
    subjects, times and small payloads of different entries come out as one shared object each."""
    try:
        occurred_text, occurred = _instant(entry.occurred_at, "occurred_at")
        recorded = _instant(entry.recorded_at, "recorded_at")[1]
        data = None if entry.data is None else _decode_data(entry.data)
    except (ValidationError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IntegrityError(f"entry {entry.seq} cannot be read as a fact: {exc}") from None
    if data is not None and not isinstance(data, dict):
        raise IntegrityError(f"entry {entry.seq}: data is not a JSON object")
    return Fact(
        entry.seq, entry.event_id, _text(entry.type), _text(entry.subject), occurred, recorded, data, occurred_text
    )


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
