"""Event data schemas (SPEC section 3): a valid example of every type, and per-field errors."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.core.entries import validate_envelope
from ledger.domain import validate_data, validate_event
from ledger.domain.schemas import SCHEMAS
from ledger.errors import ValidationError
from tests.support.domain import DIGEST, enrolment

T = "2025-10-09T11:00:00+08:00"
VALID: dict[str, dict[str, Any]] = {
    "employee.enrolled": enrolment(),
    "employee.contacts_updated": enrolment(
        contacts=[{"channel": "wechat", "value": "zs_wx", "verified_at": T}],
        emergency_contacts=[
            {"name": "李四", "relation": "父亲", "mobile": "13900000002", "address": "杭州", "service_agent": True}
        ],
        service_address="上海市徐汇区约定路 8 号",
        e_service=[{"channel": "email", "value": "zs@example.com"}, {"channel": "wechat", "value": "zs_wx"}],
    ),
    "contact.verification_requested": {"channel": "mobile", "value": "13800000001"},
    "contact.verified": {"channel": "mobile", "value": "13800000001", "method": "sms_reply"},
    "policy.adopted": {
        "policy_id": "HB",
        "version": "2025.1",
        "document_digest": DIGEST,
        "effective_from": "2025-01-01",
        "democratic_procedure": "职工代表大会讨论、公示",
    },
    "policy.acknowledged": {"policy_id": "HB", "version": "2025.1"},
    "leave.requested": {
        "leave_id": "L1",
        "kind": "sick",
        "start": "2025-09-22",
        "end": "2025-09-30",
        "certificate_digest": DIGEST,
    },
    "leave.approved": {"leave_id": "L1"},
    "leave.cancelled": {"leave_id": "L1"},
    "leave.rejected": {"leave_id": "L1", "reason": "材料不全"},
    "leave.extended": {"leave_id": "L1", "end": "2025-10-10"},
    "attendance.clock_in": {"method": "face", "location": "上海总部"},
    "attendance.clock_out": {"method": "gps", "location": {"lat": 31.2, "lon": 121.5}},
    "contact.attempted": {
        "channel": "phone",
        "target": "emergency_contact",
        "value": "13900000002",
        "result": "no_answer",
        "note": "三次未接",
    },
    "notice.issued": {
        "notice_id": "N1",
        "kind": "return_demand",
        "document_digest": DIGEST,
        "recipients": ["张三"],
        "channels": ["sms", "post"],
        "return_within_days": 5,
        "draft_seq": 12,
    },
    "notice.drafted": {
        "notice_id": "N1",
        "kind": "return_demand",
        "document_digest": DIGEST,
        "template": "return_demand",
        "template_version": "1",
        "case_id": "E1001/L1",
        "stage_seq": 11,
    },
    "notice.delivered": {
        "notice_id": "N1",
        "channel": "post",
        "evidence": "EMS 1234567890",
        "received_by": "co_resident_adult",
        "recipient_name": "李四",
        "address": "上海市浦东新区世纪大道 1 号",
    },
    "notice.delivery_failed": {"notice_id": "N1", "channel": "visit", "reason": "无人应门", "address": "上海"},
    "notice.refused": {
        "notice_id": "N1",
        "refused_by": "co_resident_adult",
        "left_at": "上海市浦东新区世纪大道 1 号",
        "witnesses": ["居委会 赵主任"],
        "evidence_digest": DIGEST,
    },
    "absence.reported": {
        "reason": "hospitalised",
        "reported_by": "family",
        "reporter_name": "李四",
        "from": "2025-10-09",
        "to": "2025-10-20",
        "evidence_digest": DIGEST,
        "note": "交通事故",
    },
    "absence.assessed": {
        "report_seq": 20,
        "decision": "excused",
        "from": "2025-10-09",
        "to": "2025-10-15",
        "assessed_by": "王五",
        "note": "出院记录",
    },
    "employment.certificate_issued": {"issued_on": "2025-11-30", "document_digest": DIGEST},
    "employment.records_transferred": {"social_insurance_on": "2025-12-05", "personnel_file_on": "2025-12-08"},
    "union.notified": {"union": "公司工会", "note": "拟解除"},
    "employment.terminated": {"effective_on": "2025-11-30", "notice_id": "N9", "confirmed_by": "王五"},
    "case.closed": {"case_id": "E1001/L1", "reason": "已返岗"},
    "calendar.adopted": {"year": 2027, "holidays": ["2027-01-01"], "workdays": [], "source": "test data"},
    "escalation.stage_entered": {
        "case_id": "E1001/L1",
        "stage": "reminder",
        "occurrence": 1,
        "reached_on": "2025-10-09",
        "overdue_days": 1,
        "basis": [3, 4],
        "policy_digest": DIGEST,
        "calendar_seqs": [2],
    },
    "escalation.stage_withdrawn": {
        "case_id": "E1001/L1",
        "stage": "hr_alert",
        "stage_seq": 9,
        "reason": "returned",
        "basis": [14],
    },
    "ledger.erased": {"seqs": [3, 4], "count": 2},
}


def test_every_type_has_a_schema_and_an_example() -> None:
    assert set(VALID) == set(SCHEMAS)


@pytest.mark.parametrize("type_", sorted(VALID))
def test_valid_example_accepted(type_: str) -> None:
    validate_data(type_, VALID[type_])


@pytest.mark.parametrize("type_", sorted(VALID))
def test_unknown_field_refused(type_: str) -> None:
    data = {**VALID[type_], "surprise": 1}
    with pytest.raises(ValidationError) as err:
        validate_data(type_, data)
    assert err.value.field == "data.surprise" and "unknown field" in err.value.detail


def _err(type_: str, change: Any) -> ValidationError:
    data = copy.deepcopy(VALID[type_])
    change(data)
    with pytest.raises(ValidationError) as err:
        validate_data(type_, data)
    return err.value


@pytest.mark.parametrize(
    ("type_", "change", "field", "words"),
    [
        ("employee.enrolled", lambda d: d["contacts"][1].update(channel="fax"), "data.contacts[1].channel", "'fax'"),
        ("employee.enrolled", lambda d: d["contacts"][0].pop("value"), "data.contacts[0].value", "required"),
        (
            "employee.enrolled",
            lambda d: d["emergency_contacts"][0].update(service_agent="yes"),
            "data.emergency_contacts[0].service_agent",
            "true or false",
        ),
        ("employee.enrolled", lambda d: d.update(hired_on="2023/03/01"), "data.hired_on", "YYYY-MM-DD"),
        ("employee.enrolled", lambda d: d.update(contacts={}), "data.contacts", "list"),
        ("employee.enrolled", lambda d: d.pop("emergency_contacts"), "data.emergency_contacts", "required"),
        (
            "employee.contacts_updated",
            lambda d: d["contacts"][0].update(verified_at="2025-10-09 11:00"),
            "data.contacts[0].verified_at",
            "RFC 3339",
        ),
        ("leave.requested", lambda d: d.update(kind="holiday"), "data.kind", "sick"),
        ("leave.requested", lambda d: d.update(end="2025-09-01"), "data.end", "before start"),
        ("leave.requested", lambda d: d.update(start="2025-02-30"), "data.start", "valid calendar date"),
        ("leave.requested", lambda d: d.update(leave_id=""), "data.leave_id", "1 to 128"),
        ("leave.requested", lambda d: d.update(certificate_digest="abc"), "data.certificate_digest", "sha256:"),
        ("leave.extended", lambda d: d.pop("end"), "data.end", "required"),
        ("attendance.clock_in", lambda d: d.update(method="pigeon"), "data.method", "face"),
        ("attendance.clock_in", lambda d: d.update(location=5), "data.location", "a string or a JSON object"),
        ("contact.attempted", lambda d: d.update(result="maybe"), "data.result", "answered"),
        ("contact.attempted", lambda d: d.update(target="boss"), "data.target", "emergency_contact"),
        ("notice.issued", lambda d: d.update(channels=[]), "data.channels", "1 to 100"),
        ("notice.issued", lambda d: d["channels"].append("fax"), "data.channels[2]", "newspaper"),
        ("notice.issued", lambda d: d.update(recipients=["张三", 7]), "data.recipients[1]", "string"),
        ("notice.delivered", lambda d: d.update(evidence=None), "data.evidence", "string"),
        ("escalation.stage_entered", lambda d: d.update(basis=[1, -2]), "data.basis[1]", "non-negative"),
        ("escalation.stage_entered", lambda d: d.update(overdue_days=True), "data.overdue_days", "positive"),
        ("policy.adopted", lambda d: d.update(effective_from=20250101), "data.effective_from", "YYYY-MM-DD"),
        ("union.notified", lambda d: d.update(note="a\x00b"), "data.note", "control"),
        (
            "employee.enrolled",
            lambda d: d.update(e_service=[{"channel": "post", "value": "x"}]),
            "data.e_service[0].channel",
            "email",
        ),
        ("notice.issued", lambda d: d.pop("return_within_days"), "data.return_by", "deadline"),
        (
            "notice.issued",
            lambda d: d.update(return_by="2025-10-20T18:00:00+08:00"),
            "data.return_within_days",
            "not both",
        ),
        ("notice.issued", lambda d: d.update(return_within_days=0), "data.return_within_days", "positive"),
        ("notice.issued", lambda d: d.update(kind="reminder"), "data.return_within_days", "only a return_demand"),
        ("notice.issued", lambda d: d.update(serves="N0"), "data.serves", "only a publication"),
        ("notice.delivered", lambda d: d.update(received_by="neighbour"), "data.received_by", "co_resident_adult"),
        ("notice.refused", lambda d: (d.pop("witnesses"), d.pop("evidence_digest")), "data.witnesses", "留置送达"),
        ("notice.refused", lambda d: d.update(refused_by="other"), "data.refused_by", "employee"),
        ("absence.reported", lambda d: d.update(to="2025-10-01"), "data.to", "before from"),
        ("absence.reported", lambda d: d.update(reason="hangover"), "data.reason", "hospitalised"),
        ("absence.assessed", lambda d: d.update(decision="maybe"), "data.decision", "not_excused"),
        ("absence.assessed", lambda d: d.pop("report_seq"), "data.report_seq", "required"),
        ("employment.records_transferred", lambda d: d.clear(), "data.social_insurance_on", "and/or"),
        ("escalation.stage_withdrawn", lambda d: d.pop("stage_seq"), "data.stage_seq", "required"),
    ],
)
def test_field_errors(type_: str, change: Any, field: str, words: str) -> None:
    err = _err(type_, change)
    assert err.field == field
    assert words in err.detail


def test_data_must_be_an_object_and_types_known() -> None:
    with pytest.raises(ValidationError) as err:
        validate_data("leave.approved", ["L1"])
    assert err.value.field == "data"
    with pytest.raises(ValidationError) as err:
        validate_data("leave.postponed", {})
    assert err.value.field == "type" and "custom." in err.value.detail
    validate_data("custom.payroll_export", {"anything": [1, {"goes": None}]})
    with pytest.raises(ValidationError):
        validate_data("custom.payroll_export", [])


def _event(type_: str, subject: str) -> Any:
    now = datetime(2025, 10, 10, tzinfo=UTC)
    data = VALID.get(type_, {"anything": 1})
    return validate_envelope(
        {"event_id": "x1", "type": type_, "subject": subject, "occurred_at": T, "source": "hris", "data": data},
        now=now,
        allow_system=True,
    )


def test_subject_rules() -> None:
    """SPEC section 1: subject company takes only policy.adopted and calendar.adopted (and the log's own
    entries), so that no personal data travels in every bundle; union.notified is an employee's event."""
    validate_event(_event("policy.adopted", "company"))
    with pytest.raises(ValidationError) as err:
        validate_event(_event("policy.adopted", "E1001"))
    assert err.value.field == "subject" and "'company'" in err.value.detail
    for type_ in ("leave.requested", "union.notified", "custom.payroll"):
        with pytest.raises(ValidationError) as err:
            validate_event(_event(type_, "company"))
        assert err.value.field == "subject" and "policy.adopted" in err.value.detail
    validate_event(_event("union.notified", "E1001"))
    validate_event(_event("employee.enrolled", "E1001"))


@pytest.mark.parametrize("type_", ["escalation.stage_entered", "escalation.stage_withdrawn", "ledger.erased"])
def test_system_types_are_refused_from_clients(type_: str) -> None:
    """hrledger writes its own entries; a client posting one is refused, naming the type."""
    with pytest.raises(ValidationError) as err:
        validate_event(_event(type_, "E1001"))
    assert err.value.field == "type" and "refused from clients" in err.value.detail
    validate_event(_event(type_, "E1001"), system=True)
