"""Identifiers at intake: the ASCII fast path, and the event ids hrledger keeps for its own entries
(``ledger.core.entries.RESERVED_ID_PREFIXES``): a client's event
under one would squat the deterministic id of a decision hrledger has yet to record (a stage, a withdrawal, a
calendar year, a drafted notice, an erasure), and the log's idempotency would refuse that decision forever."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.admin.erase import erasure_event_id
from ledger.core.entries import RESERVED_ID_PREFIXES, identifier_problem, validate_envelope
from ledger.domain.calendar import YearCalendar
from ledger.domain.episodes import stage_event_id
from ledger.domain.escalation import Withdrawal
from ledger.errors import ValidationError
from ledger.services.drafting import draft_event_id

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def envelope(event_id: str) -> dict[str, object]:
    return {
        "event_id": event_id,
        "type": "attendance.clock_in",
        "subject": "E1",
        "occurred_at": "2026-03-02T09:00:00+08:00",
        "source": "hris",
        "data": {},
    }


@pytest.mark.parametrize("prefix", RESERVED_ID_PREFIXES)
def test_a_client_may_not_take_an_id_hrledger_records_its_decisions_under(prefix: str) -> None:
    with pytest.raises(ValidationError, match="are hrledger's own") as info:
        validate_envelope(envelope(prefix + "E1/L1/reminder"), now=NOW)
    assert info.value.field == "event_id" and repr(prefix) in str(info.value)
    assert validate_envelope(envelope(prefix + "x"), now=NOW, allow_system=True).event_id == prefix + "x"


@pytest.mark.parametrize("event_id", ["escalations/1", "my-calendar/2027", "drafts", "E1/escalation/x", "calendar"])
def test_ids_that_only_look_alike_are_the_clients(event_id: str) -> None:
    assert validate_envelope(envelope(event_id), now=NOW).event_id == event_id


def test_every_id_hrledger_gives_its_own_entries_is_reserved() -> None:
    own = [
        stage_event_id("E1/L1", "reminder"),
        stage_event_id("E1/L1", "reminder", 2),
        stage_event_id("E" * 120 + "/L1", "hr_alert"),  # a long case id is hashed
        Withdrawal("E1/L1", "E1", "reminder", 7, "returned", (9,)).event_id,
        YearCalendar(2027, frozenset({date(2027, 1, 1)}), source="test").event_id(),
        draft_event_id(7, "return_demand"),
        erasure_event_id("E1", NOW),
    ]
    assert [i for i in own if not i.startswith(RESERVED_ID_PREFIXES)] == []


@given(st.text(alphabet=st.characters(max_codepoint=0x7F), min_size=1, max_size=40))
def test_ascii_ids_are_judged_as_every_other_id(value: str) -> None:
    """Printable ASCII skips the per-character scan (most ids are such): the fast path must agree with it."""
    slow = next((c for c in value if unicodedata.category(c) in ("Cc", "Cf")), None)
    assert (identifier_problem(value) is None) == (slow is None)
