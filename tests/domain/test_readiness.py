"""The readiness checklist for a lawful termination, built up one fact at a time (SPEC section 4)."""

from __future__ import annotations

from ledger.domain import Policy
from ledger.domain.readiness import ITEMS
from tests.support.domain import (
    CASE,
    E,
    Log,
    assess,
    at,
    attempt,
    case_log,
    delivered,
    enrolment,
    items,
    notice,
    ready,
    ready_log,
    report,
)

NAMES = [
    "rule_book",
    "overdue_threshold",
    "calendar",
    "reminder_issued",
    "return_demand_issued",
    "lawful_service",
    "return_deadline_passed",
    "channels_attempted",
    "emergency_contacts_attempted",
    "reported_reasons_assessed",
    "union_notified",
]


def test_items_are_a_table_named_in_chinese_and_english() -> None:
    """The checklist's items are data (the workbench reads their names): each has a stable name, a label in
    Chinese and English, the event that supplies it, and the order the answer lists them in."""
    assert [i.name for i in ITEMS] == NAMES
    for i in ITEMS:
        assert i.zh and i.en and i.supplied_by
    first = items(case_log(), "2025-10-09 11:00")
    assert list(first) == NAMES
    for name, it in first.items():
        spec = next(i for i in ITEMS if i.name == name)
        assert it["label"] == {"zh": spec.zh, "en": spec.en} and it["supplied_by"] == spec.supplied_by


def test_readiness_false_until_every_item_holds() -> None:
    """劳动合同法 art. 39(2) and art. 43; 劳办发〔1995〕179号: every item must hold, and each missing one says
    what is missing in both languages."""
    log = case_log()
    first = items(log, "2025-10-09 11:00")
    not_ok = [n for n, i in first.items() if not i["ok"]]
    assert not_ok == [
        "overdue_threshold",
        "reminder_issued",
        "return_demand_issued",
        "lawful_service",
        "return_deadline_passed",
        "channels_attempted",
        "emergency_contacts_attempted",
        "union_notified",
    ]
    for name in not_ok:
        assert first[name]["missing"]["zh"] and first[name]["missing"]["en"]
    assert "+86 138 0000 0001" in first["channels_attempted"]["missing"]["en"]  # the value as on file
    full = ready_log()
    assert not ready(full, "2025-10-17 23:59")  # the 催告函's deadline ends at 24:00 of 17 Oct
    assert ready(full, "2025-10-18 00:00")


def test_rule_book_needs_adoption_and_acknowledgement() -> None:
    """劳动合同法 art. 4: a rule book binds the employee once adopted by democratic procedure and made known."""
    log = Log()
    log.add("employee.enrolled", "2025-03-01 09:00", enrolment())
    log.leave("L1", "2025-09-22", "2025-09-30", "2025-09-19 10:00")
    assert "policy.adopted" in items(log, "2025-10-09 12:00")["rule_book"]["missing"]["en"]
    adopted = log.add(
        "policy.adopted",
        "2025-01-02 09:00",
        {
            "policy_id": "HB",
            "version": "1",
            "document_digest": "sha256:" + "ab" * 32,
            "effective_from": "2025-01-10",
            "democratic_procedure": "职代会",
        },
        subject="company",
    )
    assert "acknowledged" in items(log, "2025-10-09 12:00")["rule_book"]["missing"]["en"]
    ack = log.add("policy.acknowledged", "2025-03-02 09:00", {"policy_id": "HB", "version": "1"})
    rb = items(log, "2025-10-09 12:00")["rule_book"]
    assert (rb["ok"], rb["seqs"]) == (True, [adopted, ack])


def test_overdue_threshold_follows_the_policy() -> None:
    """The threshold is the policy's (termination_threshold, default 8 working days)."""
    log = case_log()
    assert not items(log, "2025-10-16 12:00")["overdue_threshold"]["ok"]  # 7 days
    assert items(log, "2025-10-17 11:00")["overdue_threshold"]["ok"]  # 8 days
    assert items(log, "2025-10-11 11:00", Policy(termination_threshold=3))["overdue_threshold"]["ok"]


def test_attempts_before_the_leave_ended_do_not_count() -> None:
    log = case_log()
    attempt(log, "2025-09-25 10:00", "phone", "13800000001")
    assert items(log, "2025-10-09 12:00")["channels_attempted"]["seqs"] == []


def test_an_attempt_without_a_value_counts_for_the_only_contact_of_its_kind() -> None:
    log = case_log()
    a = attempt(log, "2025-10-11 11:20", "post", None, result="returned")
    it = items(log, "2025-10-11 12:00")["channels_attempted"]
    assert a in it["seqs"] and "上海市" not in it["missing"]["zh"]


def test_no_emergency_contact_on_file_is_missing_not_a_pass() -> None:
    """Issue 14: with no emergency contact on file the item read ok with no seqs. SPEC section 4: none on file
    is a missing item, not a pass."""
    log = case_log(emergency_contacts=[])
    em = items(log, "2025-10-20 12:00")["emergency_contacts_attempted"]
    assert em["ok"] is False
    assert "no emergency contact on file" in em["missing"]["en"] and "紧急联系人" in em["missing"]["zh"]


def test_union_must_be_notified_before_the_termination_where_there_is_one() -> None:
    """劳动合同法 art. 43: the employer tells the union before a unilateral termination; a company without a
    union (policy has_union = false) has nothing to tell."""
    log = ready_log()
    union = items(log, "2025-10-20 12:00")["union_notified"]
    assert union["ok"] and union["seqs"]
    late = case_log()
    late.add(
        "employment.terminated",
        "2025-10-20 15:00",
        {"effective_on": "2025-10-20", "notice_id": "N9", "confirmed_by": "王五"},
    )
    late.add("union.notified", "2025-10-21 10:00", {"union": "公司工会"})
    after = items(late, "2025-10-22 12:00")["union_notified"]
    assert not after["ok"] and "before the termination" in after["missing"]["en"]
    none = items(case_log(), "2025-10-20 12:00", Policy(has_union=False))["union_notified"]
    assert none["ok"] and none["note"]["en"].startswith("no union")


def test_only_the_return_demand_itself_counts_as_served() -> None:
    """Issue 14: the 催告函 went only by SMS and only the 旷工 notice was served (visit, post, publication);
    readiness said served. SPEC section 4: the notice that must be served is the return demand itself."""
    log = case_log()
    notice(log, "2025-10-11 11:05", "N2", "return_demand", ["sms"], return_within_days=3)
    notice(log, "2025-10-13 14:00", "N3", "absenteeism", ["visit", "post"])
    delivered(log, "2025-10-14 10:00", "N3", "visit", received_by="employee")
    delivered(log, "2025-10-15 10:00", "N3", "post", received_by="employee")
    svc = items(log, "2025-10-20 12:00")["lawful_service"]
    assert svc["ok"] is False and "N2" in svc["missing"]["en"]
    case = log.projector().case(CASE, at("2025-10-20 12:00"))
    assert case is not None
    served = {n["notice_id"]: n["served"] for n in case["notices"]["issued"]}
    assert served == {"N2": False, "N3": True}


def test_a_reported_reason_suspends_readiness_until_assessed() -> None:
    """Issue 14, the seed's own story: after the family reports a hospital stay, readiness still said ready.
    SPEC section 4: a reported reason (absence.reported) suspends the case until an absence.assessed."""
    log = ready_log("visit")  # served in person: ready under the old rules too
    assert ready(log, "2025-10-20 12:00")
    seq = report(log, "2025-10-21 10:00", "2025-10-09", reporter_name="李四")
    case = log.projector().case(CASE, at("2025-10-21 12:00"))
    assert case is not None
    assert case["readiness"]["ready"] is False and case["suspended"] is True
    reasons = next(i for i in case["readiness"]["items"] if i["name"] == "reported_reasons_assessed")
    assert not reasons["ok"] and reasons["seqs"] == [seq] and "absence.assessed" in reasons["missing"]["en"]
    assert log.projector().absence(E, at("2025-10-21 12:00"))["state"] == "absence_reported"
    assess(log, "2025-10-22 10:00", seq, "not_excused", note="出院记录：9 月 30 日出院")
    assert ready(log, "2025-10-22 12:00")
    assert items(log, "2025-10-22 12:00")["reported_reasons_assessed"]["seqs"] == [seq, seq + 1]


def test_every_item_names_the_event_that_supplies_it() -> None:
    """Each item carries what would supply it, so HR knows the next step."""
    it = items(case_log(), "2025-10-09 12:00")
    assert it["lawful_service"]["supplied_by"].startswith("notice.delivered")
    assert it["reported_reasons_assessed"]["supplied_by"] == "absence.assessed"
    assert it["union_notified"]["basis"] == "劳动合同法 art. 43"
