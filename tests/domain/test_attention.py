"""The attention list: who is at risk of becoming unreachable, with the reasons; it informs HR and decides
nothing (SPEC section 4; PIPL art. 24)."""

from __future__ import annotations

from typing import Any

from tests.support.domain import E, Log, at, attempt, enrolment


def reasons(log: Log, when: str, subject: str = E) -> dict[str, list[dict[str, Any]]]:
    doc = log.projector().attention(at(when))
    found = next((e for e in doc["employees"] if e["subject"] == subject), None)
    out: dict[str, list[dict[str, Any]]] = {}
    for r in found["reasons"] if found else []:
        out.setdefault(r["code"], []).append(r)
    return out


def test_unverified_stale_and_failed_contacts_are_listed_with_reasons() -> None:
    """Issue 14, the seed's outlook: HR wants to see early who is at risk of becoming unreachable (contacts
    unverified or stale, a number already dead). Nothing listed them."""
    data = enrolment()
    data["contacts"][0]["verified_at"] = "2025-01-10T10:00:00+08:00"  # mobile: stale by August
    log = Log()
    log.add("employee.enrolled", "2025-01-05 09:00", data)
    dead = attempt(log, "2025-08-01 10:00", "phone", "13800000001", result="number_invalid")
    found = reasons(log, "2025-08-15 12:00")
    assert [r["value"] for r in found["contact_stale"]] == ["+86 138 0000 0001"]
    assert {r["channel"] for r in found["contact_unverified"]} == {"email", "address"}
    assert found["contact_failed"][0]["seqs"] == [dead] and "already failed" in found["contact_failed"][0]["en"]
    assert found["contact_failed"][0]["zh"].endswith("联系失败（空号）")  # HR's word, not the event's code
    assert "李四" in found["emergency_contact_unverified"][0]["zh"]
    doc = log.projector().attention(at("2025-08-15 12:00"))
    assert "decides nothing" in doc["note"]["en"] and "第二十四条" in doc["note"]["zh"]


def test_a_contact_reached_again_is_no_longer_failed() -> None:
    log = Log()
    log.add("employee.enrolled", "2025-01-05 09:00", enrolment())
    attempt(log, "2025-08-01 10:00", "phone", "13800000001", result="number_invalid")
    attempt(log, "2025-08-02 10:00", "sms", "+86 138 0000 0001", result="replied")
    assert "contact_failed" not in reasons(log, "2025-08-15 12:00")


def test_contacts_changed_often_and_no_emergency_contact() -> None:
    """Contacts changed three times within a year, and an empty emergency list, are reasons of their own."""
    log = Log()
    log.add("employee.enrolled", "2025-01-05 09:00", enrolment())
    for i, when in enumerate(("2025-03-01 09:00", "2025-05-01 09:00", "2025-07-01 09:00")):
        contacts = [{"channel": "mobile", "value": f"1390000000{i}", "verified_at": "2025-07-01T09:00:00+08:00"}]
        log.add("employee.contacts_updated", when, enrolment(contacts=contacts, emergency_contacts=[]))
    found = reasons(log, "2025-08-15 12:00")
    assert len(found["contacts_changed_often"][0]["seqs"]) == 3
    assert "no_emergency_contact" in found and "contact_stale" not in found


def test_nothing_to_flag_and_terminated_employees_are_left_out() -> None:
    data = enrolment(
        contacts=[{"channel": "mobile", "value": "13800000001", "verified_at": "2025-08-01T09:00:00+08:00"}]
    )
    log = Log()
    log.add("employee.enrolled", "2025-08-01 09:00", data)
    log.add("contact.verified", "2025-08-01 10:00", {"channel": "mobile", "value": "13900000002"})
    assert reasons(log, "2025-08-15 12:00") == {}
    log.add("employee.enrolled", "2025-01-05 09:00", enrolment(), subject="E2002")
    log.add(
        "employment.terminated",
        "2025-06-01 09:00",
        {"effective_on": "2025-06-01", "notice_id": "N", "confirmed_by": "x"},
        subject="E2002",
    )
    assert reasons(log, "2025-08-15 12:00", "E2002") == {}
    log.clock_in("2025-08-01 09:00", subject="E3003")
    assert "no_contact_file" in reasons(log, "2025-08-15 12:00", "E3003")


def test_every_reason_is_one_of_the_documented_codes() -> None:
    from ledger.domain.attention import REASON_CODES

    log = Log()
    log.add("employee.enrolled", "2025-01-05 09:00", enrolment(emergency_contacts=[]))
    attempt(log, "2025-08-01 10:00", "phone", "13800000001", result="number_invalid")
    log.clock_in("2025-08-01 09:00", subject="E3003")
    codes = {c for s in (E, "E3003") for c in reasons(log, "2025-08-15 12:00", s)}
    assert codes <= set(REASON_CODES) and {"no_contact_file", "no_emergency_contact", "contact_failed"} <= codes
