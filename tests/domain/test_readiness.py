"""Readiness checklist and escalation decisions, built up one fact at a time (SPEC section 4)."""

from __future__ import annotations

from typing import Any

from ledger.domain import Policy, escalations_due, validate_event
from ledger.domain.schemas import STAGES
from tests.support.domain import DIGEST, E, Log, at, enrolment

CASE = f"{E}/L1"


def base() -> Log:
    log = Log()
    log.add("employee.enrolled", "2025-03-01 09:00", enrolment())
    log.leave("L1", "2025-09-22", "2025-09-30", "2025-09-19 10:00")
    return log


def items(log: Log, when: str) -> dict[str, dict[str, Any]]:
    case = log.projector().case(CASE, at(when))
    assert case is not None
    return {i["name"]: i for i in case["readiness"]["items"]}


def ready(log: Log, when: str) -> bool:
    case = log.projector().case(CASE, at(when))
    assert case is not None
    return bool(case["readiness"]["ready"])


def notice(log: Log, when: str, nid: str, kind: str, channels: list[str], recipients: list[str] | None = None) -> int:
    return log.add(
        "notice.issued",
        when,
        {
            "notice_id": nid,
            "kind": kind,
            "document_digest": DIGEST,
            "recipients": recipients or ["张三"],
            "channels": channels,
        },
    )


def attempt(
    log: Log, when: str, channel: str, value: str | None, target: str = "employee", result: str = "no_answer"
) -> int:
    data = {"channel": channel, "target": target, "result": result}
    if value is not None:
        data["value"] = value
    return log.add("contact.attempted", when, data)


def test_readiness_false_until_every_item_holds_and_true_30_days_after_publication() -> None:
    log = base()
    first = items(log, "2025-10-09 11:00")
    assert list(first) == [
        "rule_book",
        "overdue_threshold",
        "calendar",
        "reminder_issued",
        "return_demand_issued",
        "channels_attempted",
        "emergency_contacts_attempted",
        "lawful_service",
        "union_notified",
    ]
    calendar = first.pop("calendar")  # the national years the tests record: it holds from the start
    assert calendar["ok"] and len(calendar["seqs"]) == 1 and calendar["missing"] is None
    assert not any(i["ok"] for i in first.values())
    for i in first.values():
        assert i["missing"]["zh"] and i["missing"]["en"]
    assert "13800000001" not in first["channels_attempted"]["missing"]["en"]  # the value as on file
    assert "+86 138 0000 0001" in first["channels_attempted"]["missing"]["en"]

    adopted = log.add(
        "policy.adopted",
        "2025-01-02 09:00",
        {
            "policy_id": "HB-2025",
            "version": "2",
            "document_digest": DIGEST,
            "effective_from": "2025-01-10",
            "democratic_procedure": "职工代表大会讨论通过并公示",
        },
        subject="company",
    )
    assert items(log, "2025-10-09 12:00")["rule_book"]["ok"] is False
    ack = log.add("policy.acknowledged", "2025-03-02 09:00", {"policy_id": "HB-2025", "version": "2"})
    rb = items(log, "2025-10-09 12:00")["rule_book"]
    assert (rb["ok"], rb["seqs"], rb["missing"]) == (True, [adopted, ack], None)

    reminder = notice(log, "2025-10-09 11:05", "N1", "reminder", ["sms", "email"])
    assert items(log, "2025-10-09 12:00")["reminder_issued"]["seqs"] == [reminder]
    demand = notice(log, "2025-10-11 11:05", "N2", "return_demand", ["sms", "email", "post"])
    assert items(log, "2025-10-11 12:00")["return_demand_issued"]["seqs"] == [demand]

    a1 = attempt(log, "2025-10-09 11:10", "phone", "13800000001", result="number_invalid")
    a2 = attempt(log, "2025-10-09 11:12", "email", "ZhangSan@example.com", result="bounced")
    ch = items(log, "2025-10-11 12:00")["channels_attempted"]
    assert (ch["ok"], ch["seqs"]) == (False, [a1, a2])
    assert "上海市" in ch["missing"]["zh"] and "mobile" not in ch["missing"]["en"]
    a3 = attempt(log, "2025-10-11 11:20", "post", None, result="returned")  # the only address on file
    assert items(log, "2025-10-11 12:00")["channels_attempted"]["ok"]
    assert not items(log, "2025-10-11 12:00")["emergency_contacts_attempted"]["ok"]
    attempt(log, "2025-10-09 11:15", "phone", "139-0000-0002", target="emergency_contact")
    assert items(log, "2025-10-11 12:00")["emergency_contacts_attempted"]["ok"]

    svc = items(log, "2025-10-11 12:00")["lawful_service"]
    assert not svc["ok"] and "personal service" in svc["missing"]["en"]
    visit = log.add(
        "notice.delivery_failed", "2025-10-14 15:00", {"notice_id": "N2", "channel": "visit", "reason": "无人应门"}
    )
    assert "registered post" in items(log, "2025-10-14 16:00")["lawful_service"]["missing"]["en"]
    early_pub = notice(log, "2025-10-15 09:00", "P0", "publication", ["newspaper"])
    post = log.add(
        "notice.delivery_failed",
        "2025-10-20 10:00",
        {"notice_id": "N2", "channel": "post", "reason": "EMS 退回：查无此人"},
    )
    svc = items(log, "2025-10-20 12:00")["lawful_service"]
    assert "out of order" in svc["missing"]["en"] and early_pub not in svc["seqs"]
    pub = notice(log, "2025-10-22 10:00", "P1", "publication", ["newspaper", "notice_board"])
    svc = items(log, "2025-10-22 12:00")["lawful_service"]
    assert not svc["ok"] and "2025-11-21" in svc["missing"]["en"]
    assert svc["seqs"] == sorted([demand, visit, post, pub])

    union = log.add("union.notified", "2025-10-23 10:00", {"union": "公司工会", "note": "拟解除劳动合同"})
    it = items(log, "2025-10-23 12:00")
    assert it["union_notified"]["seqs"] == [union]
    assert [n for n, i in it.items() if not i["ok"]] == ["lawful_service"]
    assert not ready(log, "2025-11-21 09:59")
    assert ready(log, "2025-11-21 10:00")
    assert items(log, "2025-11-21 10:00")["overdue_threshold"]["ok"]
    assert a3 in items(log, "2025-11-21 10:00")["channels_attempted"]["seqs"]


def test_overdue_threshold_follows_the_policy() -> None:
    log = base()
    assert not items(log, "2025-10-16 12:00")["overdue_threshold"]["ok"]  # 7 days
    assert items(log, "2025-10-17 11:00")["overdue_threshold"]["ok"]  # 8 days
    lenient = Policy(termination_threshold=3)
    case = log.projector(lenient).case(CASE, at("2025-10-11 11:00"))
    assert case is not None and case["readiness"]["items"][1]["ok"]


def test_personal_service_or_service_agent_completes_service() -> None:
    log = base()
    notice(log, "2025-10-11 11:05", "N2", "return_demand", ["visit"])
    d = log.add("notice.delivered", "2025-10-13 15:00", {"notice_id": "N2", "channel": "visit", "evidence": "签收"})
    assert items(log, "2025-10-13 16:00")["lawful_service"]["ok"]
    assert d in items(log, "2025-10-13 16:00")["lawful_service"]["seqs"]
    agent = Log()
    agent.add(
        "employee.enrolled",
        "2025-03-01 09:00",
        enrolment(
            emergency_contacts=[
                {"name": "李四", "relation": "配偶", "mobile": "13900000002", "address": "杭州", "service_agent": True}
            ]
        ),
    )
    agent.leave("L1", "2025-09-22", "2025-09-30", "2025-09-19 10:00")
    notice(agent, "2025-10-11 11:05", "N2", "return_demand", ["post"], recipients=["张三", "李四"])
    agent.add("notice.delivered", "2025-10-14 15:00", {"notice_id": "N2", "channel": "post", "evidence": "EMS1"})
    assert items(agent, "2025-10-14 16:00")["lawful_service"]["ok"]


def test_registered_post_before_personal_service_is_out_of_order() -> None:
    log = base()
    notice(log, "2025-10-11 11:05", "N2", "return_demand", ["post"])
    log.add("notice.delivered", "2025-10-13 15:00", {"notice_id": "N2", "channel": "post", "evidence": "EMS1"})
    assert not items(log, "2025-10-13 16:00")["lawful_service"]["ok"]
    log.add("notice.delivery_failed", "2025-10-14 15:00", {"notice_id": "N2", "channel": "visit", "reason": "x"})
    log.add("notice.delivered", "2025-10-16 15:00", {"notice_id": "N2", "channel": "post", "evidence": "EMS2"})
    assert items(log, "2025-10-16 16:00")["lawful_service"]["ok"]


def test_attempts_before_the_leave_ended_do_not_count() -> None:
    log = base()
    attempt(log, "2025-09-25 10:00", "phone", "13800000001")
    assert items(log, "2025-10-09 12:00")["channels_attempted"]["seqs"] == []


def test_escalation_decisions_are_exactly_once_and_deterministic() -> None:
    log = base()
    plan = escalations_due(log.projector(), at("2025-10-13 12:00"))
    assert [d.stage for d in plan.decisions] == list(STAGES[:4])
    first = plan.decisions[0]
    assert first.event_id == f"escalation/{CASE}/reminder"
    assert first.occurred_at.isoformat() == "2025-10-09T11:00:00+08:00"
    national_2025 = len(log.facts) + 1  # Log.projector() records 2024, 2025, 2026 after the facts
    assert first.data == {
        "case_id": CASE,
        "stage": "reminder",
        "overdue_days": 1,
        "basis": [1, 2],
        "reached_on": "2025-10-09",
        "policy_digest": Policy().digest,
        "calendar_seqs": [national_2025],
    }
    ev = first.event()
    validate_event(ev)
    # a later evaluation (a racing process) decides the very same events
    later = escalations_due(log.projector(), at("2025-10-13 18:00"))
    assert [d.event() for d in later.decisions] == [d.event() for d in plan.decisions]
    # once appended, they are facts: nothing is due, and the case shows them
    for d in plan.decisions:
        log.add(
            d.event().type, d.occurred_at.isoformat(), d.data, event_id=d.event_id, recorded=d.occurred_at.isoformat()
        )
    p = log.projector()
    assert escalations_due(p, at("2025-10-13 12:00")).decisions == []
    case = p.case(CASE, at("2025-10-13 12:00"))
    assert case is not None
    assert [s["stage"] for s in case["stage_events"]] == list(STAGES[:4])
    assert all(s["seq"] is not None for s in case["stages"])
    nxt = escalations_due(p, at("2025-10-17 11:00")).decisions
    assert [(d.stage, d.reached_on.isoformat(), d.overdue_days) for d in nxt] == [
        ("termination_review", "2025-10-17", 8)
    ]


def test_no_decisions_for_ended_cases() -> None:
    log = base()
    log.add("case.closed", "2025-10-09 10:00", {"case_id": CASE, "reason": "家属已联系"})
    assert escalations_due(log.projector(), at("2025-10-20 12:00")).decisions == []


def test_long_case_ids_get_a_hashed_event_id() -> None:
    log = Log()
    log.leave("L" * 120, "2025-09-22", "2025-09-30", "2025-09-19 10:00")
    d = escalations_due(log.projector(), at("2025-10-09 12:00")).decisions[0]
    assert len(d.event_id) <= 128 and d.event_id.startswith("escalation/sha256-")
