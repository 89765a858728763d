"""Service of the return demand (送达), method by method, with each method's service date (SPEC section 4).

The case: sick leave 22–30 Sep 2025, R = 9 Oct; the 催告函 N2 is issued on 11 Oct. Each test records how it
went and reads the ``lawful_service`` item and the notice's service in the case answer.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.domain import ADDRESS, CASE, Log, at, case_log, delivered, enrolment, failed, items, notice


def demand(log: Log, channels: list[str] | None = None) -> int:
    return notice(log, "2025-10-11 11:05", "N2", "return_demand", channels or ["visit", "post"], return_within_days=3)


def service(log: Log, when: str) -> dict[str, Any]:
    case = log.projector().case(CASE, at(when))
    assert case is not None
    return next(n for n in case["notices"]["issued"] if n["notice_id"] == "N2")


def test_the_table_cites_a_basis_for_every_method() -> None:
    """The service-order rules as a table: personal, refusal, registered post, agreed address, electronic,
    publication, each with its service date and legal basis."""
    from ledger.domain.service import SERVICE_METHODS  # the table itself (the other tests read the answers)

    assert [m.name for m in SERVICE_METHODS] == [
        "personal",
        "refusal",
        "registered_post",
        "agreed_address",
        "electronic",
        "publication",
    ]
    for m in SERVICE_METHODS:
        assert m.zh and m.en and m.counts_when and m.service_date and m.basis
    assert "民事诉讼法 art. 89" in next(m for m in SERVICE_METHODS if m.name == "refusal").basis
    assert "art. 95" in next(m for m in SERVICE_METHODS if m.name == "publication").basis


@pytest.mark.parametrize("who", ["employee", "co_resident_adult"])
def test_personal_service_to_the_employee_or_a_co_resident_adult(who: str) -> None:
    """劳办发〔1995〕179号 (by analogy), 民事诉讼法 art. 88: handed to the employee or, absent, to an adult
    family member living with them (同住成年家属); served that day."""
    log = case_log()
    demand(log)
    seq = delivered(log, "2025-10-13 15:00", "N2", "visit", received_by=who, recipient_name="李四")
    svc = service(log, "2025-10-13 16:00")
    assert (svc["served"], svc["method"], svc["service_date"]) == (True, "personal", "2025-10-13")
    assert seq in items(log, "2025-10-13 16:00")["lawful_service"]["seqs"]


def test_received_by_co_resident_adult_is_service_a_neighbour_is_not() -> None:
    """Issue 14: who received it could not be recorded, and a neighbour's signature read as service.
    民事诉讼法 art. 88 names the co-resident adult family member; a neighbour is not one (received_by other)."""
    log = case_log()
    demand(log)
    delivered(log, "2025-10-13 15:00", "N2", "visit", received_by="other", recipient_name="邻居王某")
    assert items(log, "2025-10-13 16:00")["lawful_service"]["ok"] is False
    assert service(log, "2025-10-13 16:00")["outcomes"][0]["counts_as"] is None
    delivered(log, "2025-10-14 15:00", "N2", "visit", received_by="co_resident_adult", recipient_name="李四")
    assert items(log, "2025-10-14 16:00")["lawful_service"]["ok"] is True


def test_the_service_agent_must_be_named_on_file() -> None:
    """民事诉讼法 art. 88: delivery to the agent the employee named for receiving documents (代收人) is service;
    a 'service agent' the file does not name is not."""
    log = case_log()
    demand(log)
    delivered(log, "2025-10-13 15:00", "N2", "visit", received_by="service_agent")
    assert items(log, "2025-10-13 16:00")["lawful_service"]["ok"] is False
    agent = case_log(
        emergency_contacts=[
            {"name": "李四", "relation": "配偶", "mobile": "13900000002", "address": "杭州", "service_agent": True}
        ]
    )
    demand(agent)
    delivered(agent, "2025-10-14 15:00", "N2", "post", received_by="service_agent", address="杭州")
    assert service(agent, "2025-10-14 16:00")["method"] == "registered_post"


def test_refusal_before_witnesses_is_service() -> None:
    """Issue 14: a refusal before witnesses (留置送达) was recorded as a failed delivery. 民事诉讼法 art. 89:
    left at the residence, recorded by witnesses or on video, it is served that day."""
    log = case_log()
    demand(log)
    log.add(
        "notice.refused",
        "2025-10-13 15:00",
        {"notice_id": "N2", "refused_by": "employee", "left_at": ADDRESS, "witnesses": ["居委会 赵主任"]},
    )
    svc = service(log, "2025-10-13 16:00")
    assert (svc["served"], svc["method"], svc["service_date"]) == (True, "refusal", "2025-10-13")


def test_registered_post_signed_for_is_service_without_a_visit_first() -> None:
    """Issue 14: a 催告函 sent by EMS and signed by the employee was not accepted unless a home visit failed
    first. 劳办发〔1995〕179号, 民事诉讼法 art. 91: the signed receipt's date is the service date; no failed
    visit is needed before post."""
    log = case_log()
    demand(log, ["post"])
    seq = delivered(log, "2025-10-14 15:00", "N2", "post", received_by="employee", address=ADDRESS)
    svc = items(log, "2025-10-14 16:00")["lawful_service"]
    assert svc["ok"] is True and seq in svc["seqs"] and svc["service_date"] == "2025-10-14"


def test_registered_post_must_go_to_an_address_on_file() -> None:
    """Post counts when it went to the address on file or the agreed service address; with no address given,
    only when the file holds one address."""
    log = case_log()
    demand(log, ["post"])
    delivered(log, "2025-10-14 15:00", "N2", "post", received_by="employee", address="北京市朝阳区某路 9 号")
    assert items(log, "2025-10-14 16:00")["lawful_service"]["ok"] is False
    delivered(log, "2025-10-15 15:00", "N2", "post", received_by="employee")  # the only address on file
    assert service(log, "2025-10-15 16:00")["service_date"] == "2025-10-15"


def test_agreed_service_address_returned_is_served_on_return() -> None:
    """Issue 14: the contract's agreed service address (约定送达地址) was not data. 法发〔2017〕19号 art. 3 and
    法释〔2004〕13号 art. 11 (by analogy): a letter to the agreed address that comes back is served the day it
    came back."""
    agreed = "上海市徐汇区约定路 8 号"
    log = case_log(service_address=agreed)
    demand(log, ["post"])
    failed(log, "2025-10-16 10:00", "N2", "post", address=ADDRESS)  # the home address: just a failure
    assert items(log, "2025-10-16 12:00")["lawful_service"]["ok"] is False
    failed(log, "2025-10-17 10:00", "N2", "post", address=agreed)
    svc = service(log, "2025-10-17 12:00")
    assert (svc["served"], svc["method"], svc["service_date"]) == (True, "agreed_address", "2025-10-17")


def test_electronic_service_only_on_agreed_channels() -> None:
    """Issue 14: the channels the employee agreed to receive notices on were not data. 民事诉讼法 art. 90: with
    the addressee's consent, electronic service counts on the day it reaches the agreed channel."""
    log = case_log()
    demand(log, ["email"])
    delivered(log, "2025-10-13 10:00", "N2", "email", address="zhangsan@example.com")
    assert items(log, "2025-10-13 12:00")["lawful_service"]["ok"] is False  # no e-service agreed
    agreed = case_log(e_service=[{"channel": "email", "value": "ZhangSan@example.com"}])
    demand(agreed, ["email"])
    delivered(agreed, "2025-10-13 10:00", "N2", "email", address="zhangsan@example.com")
    assert service(agreed, "2025-10-13 12:00")["method"] == "electronic"


def test_publication_takes_effect_at_the_end_of_the_30th_day() -> None:
    """Issue 14: publication was counted as 30 × 24 h from the minute it was issued. 民事诉讼法 art. 95 and
    art. 85, 民法典 art. 201 and 203: the day of publication is not counted; a publication on 24 Nov takes
    effect at the end of 24 Dec, not at 10:00 that day."""
    log = case_log()
    demand(log)
    failed(log, "2025-10-20 10:00", "N2", "visit")
    failed(log, "2025-10-22 10:00", "N2", "post")
    notice(log, "2025-11-24 10:00", "P1", "publication", ["newspaper"], serves="N2")
    svc = items(log, "2025-12-24 12:00")["lawful_service"]
    assert svc["ok"] is False and "end of 2025-12-24" in svc["missing"]["en"]
    assert items(log, "2025-12-24 23:59")["lawful_service"]["ok"] is False
    assert items(log, "2025-12-25 00:00")["lawful_service"]["ok"] is True
    assert service(log, "2025-12-25 00:00")["service_date"] == "2025-12-24"


def test_publication_only_after_personal_service_and_post_both_failed() -> None:
    """劳办发〔1995〕179号 and 民事诉讼法 art. 95: publication only where the other ways cannot serve; one that
    comes before both failures serves nothing; one that serves another notice serves nothing here."""
    log = case_log()
    demand(log)
    failed(log, "2025-10-14 15:00", "N2", "visit")
    notice(log, "2025-10-15 09:00", "P0", "publication", ["newspaper"], serves="N2")  # post not tried yet
    failed(log, "2025-10-20 10:00", "N2", "post")
    svc = items(log, "2025-12-20 12:00")["lawful_service"]
    assert not svc["ok"] and "predates" in svc["missing"]["en"]
    notice(log, "2025-10-22 10:00", "P2", "publication", ["newspaper"], serves="N3")  # another notice
    assert not items(log, "2025-12-20 12:00")["lawful_service"]["ok"]
    notice(log, "2025-10-23 10:00", "P1", "publication", ["newspaper"], serves="N2")
    # 23 Oct + 30 days = Sat 22 Nov, a rest day: the period ends at the end of Mon 24 Nov
    assert not items(log, "2025-11-24 12:00")["lawful_service"]["ok"]
    assert items(log, "2025-11-25 00:00")["lawful_service"]["ok"]


def test_a_last_day_on_a_rest_day_moves_to_the_next_working_day() -> None:
    """民法典 art. 203, 民事诉讼法 art. 85: a period whose last day is a statutory rest day ends on the next
    working day. Published Thu 2 Oct 2025 (National Day): the 30th day is Sat 1 Nov, so it ends on Mon 3 Nov."""
    log = Log()
    log.add("employee.enrolled", "2025-03-01 09:00", enrolment())
    log.leave("L1", "2025-09-15", "2025-09-19", "2025-09-12 10:00")  # R = Mon 22 Sep
    notice(log, "2025-09-23 11:05", "N2", "return_demand", ["visit", "post"], return_within_days=3)
    failed(log, "2025-09-24 10:00", "N2", "visit")
    failed(log, "2025-09-26 10:00", "N2", "post")
    notice(log, "2025-10-02 10:00", "P1", "publication", ["newspaper"], serves="N2")
    assert items(log, "2025-11-03 23:59")["lawful_service"]["ok"] is False
    assert items(log, "2025-11-04 00:00")["lawful_service"]["ok"] is True
