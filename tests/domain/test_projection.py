"""The projector's incremental form, contact health, and properties of evaluation at an instant."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.records import StoredEntry
from ledger.domain import Fact, Policy, ProjectionGapError, Projector, fact_from_entry, make_fact
from ledger.errors import IntegrityError
from tests.support.domain import E, Log, at, enrolment, national_calendar


def stored(seq: int, type_: str, occurred: str, data: dict[str, object] | None, subject: str = E) -> StoredEntry:
    raw = None if data is None else json.dumps(data, ensure_ascii=False).encode()
    return StoredEntry(
        seq,
        f"e{seq}",
        type_,
        subject,
        occurred,
        "2025-10-09T03:00:00.000000Z",
        b"{}",
        hashlib.sha256(b"x").digest(),
        raw,
        b"s" * 32 if raw else None,
    )


def test_feed_tracks_position_and_refuses_gaps() -> None:
    p = Projector(Policy())
    assert p.position == -1
    e0 = stored(
        0,
        "leave.requested",
        "2025-09-19T10:00:00+08:00",
        {"leave_id": "L1", "kind": "sick", "start": "2025-09-22", "end": "2025-09-30"},
    )
    e1 = stored(1, "leave.approved", "2025-09-19T10:00:00+08:00", {"leave_id": "L1"})
    assert p.feed(e0) and p.feed(e1) and p.position == 1
    assert not p.feed(e1)  # applied before: ignored
    assert p.feed_all(national_calendar(2)) == 3 and p.position == 4
    with pytest.raises(ProjectionGapError):
        p.feed(stored(6, "attendance.clock_in", "2025-10-09T09:00:00+08:00", {"method": "face"}))
    with pytest.raises(ProjectionGapError):  # same seq, another event: the position is corrupt
        p.feed(Fact(1, "other", "leave.approved", E, at("2025-09-19 10:00"), at("2025-09-19 10:00"), {}))
    assert p.absence(E, at("2025-10-09 12:00"))["state"] == "overdue"
    p.rebuild(
        [
            e0,
            e1,
            stored(2, "attendance.clock_in", "2025-10-09T09:00:00+08:00", {"method": "face"}),
            *national_calendar(3),
        ]
    )
    assert p.position == 5 and p.absence(E, at("2025-10-09 12:00"))["state"] == "returned"


def test_an_erasure_entry_erases_the_facts_it_names_at_once() -> None:
    """Between the ledger.erased append and the store dropping the data, a reader still gets the data
    from the store: the projection must not keep it."""
    p = Projector(Policy())
    p.feed_all(
        [
            stored(
                0,
                "leave.requested",
                "2025-09-19T10:00:00+08:00",
                {"leave_id": "L1", "kind": "sick", "start": "2025-09-22", "end": "2025-09-30"},
            ),
            stored(1, "leave.approved", "2025-09-19T10:00:00+08:00", {"leave_id": "L1"}),
            stored(2, "attendance.clock_in", "2025-09-19T09:00:00+08:00", {"method": "face"}, subject="E9"),
            stored(3, "contact.attempted", "2025-10-09T12:00:00+08:00", {"channel": "phone", "outcome": "no_answer"}),
            *national_calendar(4),
        ]
    )
    instant = at("2025-10-10 12:00")
    assert p.cases(instant) != []
    p.feed(stored(7, "ledger.erased", "2025-10-10T09:00:00+08:00", {"seqs": [0, 1], "count": 2}))
    data = {f.seq: f.data for f in p.facts(E, instant)}
    assert data[0] is None and data[1] is None  # named: erased
    assert data[3] == {"channel": "phone", "outcome": "no_answer"}  # not named: kept
    assert p.facts("E9", instant)[0].data == {"method": "face"}  # another subject: untouched
    assert p.cases(instant) == []  # no leave data left to open a case on


def test_erased_and_unreadable_entries() -> None:
    f = fact_from_entry(stored(0, "attendance.clock_in", "2025-10-09T09:00:00+08:00", None))
    assert f.data is None and f.get("method") is None
    with pytest.raises(IntegrityError):
        fact_from_entry(stored(0, "x.y", "yesterday", {}))
    # an erased employee: clock-ins still count (type and time are in the leaf), leave data is gone
    p = Projector(Policy())
    p.feed_all(
        [
            stored(0, "leave.requested", "2025-09-19T10:00:00+08:00", None),
            stored(1, "leave.approved", "2025-09-19T10:00:00+08:00", None),
            *national_calendar(2),
        ]
    )
    assert p.absence(E, at("2025-10-20 12:00"))["state"] == "present"


def test_contact_health() -> None:
    log = Log()
    data = enrolment()
    data["contacts"][0]["verified_at"] = "2025-01-10T10:00:00+08:00"
    data["contacts"][1]["verified_at"] = "2025-03-01T10:00:00+08:00"
    log.add("employee.enrolled", "2025-01-05 09:00", data)
    log.add("employee.enrolled", "2025-01-05 09:00", enrolment(contacts=[]), subject="E2002")
    p = log.projector()
    h = p.contact_health(at("2025-08-15 12:00"))
    assert [e["subject"] for e in h["employees"]] == [E, "E2002"]
    mine = h["employees"][0]
    assert mine["stale_before"] == "2025-02-15"
    assert [c["channel"] for c in mine["stale_contacts"]] == ["mobile", "address"]
    assert mine["stale_contacts"][1]["last_verified"] is None
    assert [c["name"] for c in mine["unverified_emergency_contacts"]] == ["李四"]
    assert (h["stale_contacts"], h["unverified_emergency_contacts"]) == (2, 2)
    log.add(
        "contact.verified", "2025-08-01 10:00", {"channel": "mobile", "value": "13800000001", "method": "sms_reply"}
    )
    log.add("contact.verified", "2025-08-01 10:05", {"channel": "sms", "value": "+86 139 0000 0002"})
    mine = log.projector().contact_health(at("2025-08-15 12:00"), subject=E)["employees"][0]
    assert [c["channel"] for c in mine["stale_contacts"]] == ["address"]
    assert mine["unverified_emergency_contacts"] == []
    # as of before the verification, it did not count yet
    before = log.projector().contact_health(at("2025-07-31 12:00"), subject=E)["employees"][0]
    assert len(before["stale_contacts"]) == 2  # mobile (Jan) and address (never); email (Mar) is fresh


# -- properties -------------------------------------------------------------------------------------

BASE = date(2025, 9, 1)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[tuple[str, str, dict[str, object]]], str]:
    """A leave with optional extension, cancellation and clock-ins, each at a distinct instant."""
    end = BASE + timedelta(days=draw(st.integers(10, 60)))
    events: list[tuple[str, str, dict[str, object]]] = [
        (
            "leave.requested",
            "2025-08-25T10:00:00+08:00",
            {"leave_id": "L1", "kind": "sick", "start": BASE.isoformat(), "end": end.isoformat()},
        ),
        ("leave.approved", "2025-08-25T11:00:00+08:00", {"leave_id": "L1"}),
    ]
    minutes = draw(st.lists(st.integers(0, 90 * 24 * 60), min_size=0, max_size=4, unique=True))
    for i, m in enumerate(minutes):
        when = (at("2025-09-01 00:00") + timedelta(minutes=m)).isoformat()
        kind = draw(st.sampled_from(["clock_in", "extend", "cancel", "close"]))
        if kind == "clock_in":
            events.append(("attendance.clock_in", when, {"method": "card"}))
        elif kind == "extend":
            new_end = end + timedelta(days=draw(st.integers(-5, 20)))
            events.append(("leave.extended", when, {"leave_id": "L1", "end": max(new_end, BASE).isoformat()}))
        elif kind == "cancel" and i == 0:
            events.append(("leave.cancelled", when, {"leave_id": "L1"}))
        else:
            events.append(("case.closed", when, {"case_id": f"{E}/L1", "reason": "x"}))
    as_of = (at("2025-09-01 00:00") + timedelta(minutes=draw(st.integers(0, 100 * 24 * 60)))).isoformat()
    return events, as_of


def _project(events: list[tuple[str, str, dict[str, object]]]) -> Projector:
    p = Projector(Policy())
    p.feed_all(make_fact(i, t, E, when, d) for i, (t, when, d) in enumerate(events))
    p.feed_all(national_calendar(len(events)))
    return p


def _view(p: Projector, as_of: str) -> tuple[object, ...]:
    a = p.absence(E, at(as_of))
    cases = [
        (c["status"], c["overdue_days"], c["stages"] and [(s["stage"], s["reached_on"]) for s in c["stages"]])
        for c in p.cases(at(as_of))
    ]
    return a["state"], a["overdue_days"], a["return_day"], a["missed_days"], cases


@settings(max_examples=60, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_receipt_order_does_not_matter(
    scenario: tuple[list[tuple[str, str, dict[str, object]]], str], rnd: object
) -> None:
    events, as_of = scenario
    shuffled = list(events)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert _view(_project(events), as_of) == _view(_project(shuffled), as_of)


@settings(max_examples=60, deadline=None)
@given(scenarios(), st.integers(0, 30 * 24 * 60))
def test_facts_after_as_of_are_ignored(
    scenario: tuple[list[tuple[str, str, dict[str, object]]], str], extra: int
) -> None:
    events, as_of = scenario
    visible = [e for e in events if at(e[1]) <= at(as_of)]
    assert _view(_project(events), as_of) == _view(_project(visible), as_of)


@settings(max_examples=40, deadline=None)
@given(st.integers(10, 60), st.integers(0, 60 * 24 * 60), st.integers(0, 20 * 24 * 60))
def test_overdue_days_never_decrease_without_new_facts(end_offset: int, t1: int, dt: int) -> None:
    end = BASE + timedelta(days=end_offset)
    p = _project(
        [
            (
                "leave.requested",
                "2025-08-25T10:00:00+08:00",
                {"leave_id": "L1", "kind": "sick", "start": BASE.isoformat(), "end": end.isoformat()},
            ),
            ("leave.approved", "2025-08-25T11:00:00+08:00", {"leave_id": "L1"}),
        ]
    )
    first = at("2025-09-01 00:00") + timedelta(minutes=t1)
    a, b = p.absence(E, first), p.absence(E, first + timedelta(minutes=dt))
    assert b["overdue_days"] >= a["overdue_days"]
    assert b["missed_days"][: len(a["missed_days"])] == a["missed_days"]


def test_fact_is_hashable_data() -> None:
    f: Fact = make_fact(0, "attendance.clock_in", E, "2025-10-09T09:00:00+08:00", {"method": "face"})
    assert f.key == (at("2025-10-09 09:00"), 0)
    assert f.local_date(Policy().tz) == date(2025, 10, 9)
