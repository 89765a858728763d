"""The bundle's report.html as a court exhibit, rendered from a real (in-memory) log of the seed case and
checked by the real verifier: the catalogue, zh/en names, notices with their evidence, the proof result kept
apart from readiness, no raw Python values, and hostile text escaped."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from ledger.core.bundle import build_bundle
from ledger.services.exhibit_parts import clean
from tests.support.bundles import MemLog
from tests.support.domain import at
from tests.support.seed import SUBJECT, events_until, projector_until

END = at("2025-08-06 12:00")  # the day before the termination: every item met
PERIOD = (END.date().replace(month=3, day=1), END.date())


def seed_log(extra_events: list[dict[str, Any]] = ()) -> MemLog:  # type: ignore[assignment]
    log = MemLog()
    for e in [*events_until(END), *extra_events]:
        log.append(e["subject"], e["type"], e["occurred_at"], e["data"])
    return log


def report_of(log: MemLog, case: Any) -> str:
    with zipfile.ZipFile(io.BytesIO(build_bundle(log.inputs(SUBJECT, period=PERIOD, case=case)))) as z:
        return z.read("report.html").decode("utf-8")


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def case_claim(until: Any = END) -> dict[str, Any]:
    p = projector_until(until)
    return {"as_of": until.isoformat(), "cases": p.cases(until, subject=SUBJECT)}


def test_the_exhibit_catalogues_every_entry_with_what_it_proves() -> None:
    html = report_of(seed_log(), case_claim())
    body = text(html)
    for phrase in (
        "证据目录",
        "Evidence catalogue",
        "证明目的",
        "规章制度经民主程序制定并公示",
        "the employer tried to reach the employee",
        "请假申请",
        "leave requested",
        "已证明",
        "proven",
        "2025-06-23 14:00",  # Beijing time, not UTC
    ):
        assert phrase in body, phrase
    assert "{'en'" not in html and "{'zh'" not in html and "None" not in body


def test_notices_show_recipients_channels_digest_and_delivery_evidence() -> None:
    body = text(report_of(seed_log(), case_claim()))
    for phrase in (
        "催告函",
        "N-02",
        "Message-ID <n02@hr.example>",
        "EMS 退回：查无此人",
        "号码停机",
        "sha256:",
        "张三",
    ):
        assert clean(phrase) in body or phrase in body, phrase
    assert "13900000002" in body and "上海市浦东新区世纪大道 100 号 5 楼" in body  # tried, and on file


def test_the_proof_result_is_not_the_readiness() -> None:
    early = at("2025-06-30 12:00")  # day 8: the proofs hold, the case is not ready
    html = report_of(seed_log(), case_claim(early))
    body = text(html)
    assert "证明成立" in body and "The proofs hold" in body
    assert "尚未齐备" in body and "NOT ready" in body
    assert "解除条件：服务器计算为齐备" not in body
    assert "否 no" in body and "催告函已依法送达" in body  # an item missing, named in both languages
    ready = text(report_of(seed_log(), case_claim()))
    assert "Readiness: the server computes the case as ready" in ready


def test_hostile_text_is_escaped_and_cannot_reorder_the_page() -> None:
    hostile = "<script>alert(1)</script>\u202eevil"
    log = seed_log(
        [
            {
                "subject": SUBJECT,
                "type": "contact.attempted",
                "occurred_at": "2025-07-01T09:00:00+08:00",
                "data": {"channel": "phone", "target": "employee", "value": hostile, "result": "no_answer"},
            }
        ]
    )
    html = report_of(log, case_claim())
    assert "<script>" not in html and "\u202e" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\\u202eevil" in html


def test_a_bundle_without_a_case_says_so() -> None:
    body = text(report_of(seed_log(), {"note": "the server could not compute the case"}))
    assert "the bundle holds no case computed by the server" in body


def test_after_a_termination_the_second_checklist_and_who_confirmed_it() -> None:
    done = at("2025-08-20 12:00")
    log = MemLog()
    for e in events_until(done):
        log.append(e["subject"], e["type"], e["occurred_at"], e["data"])
    inputs = log.inputs(SUBJECT, period=(PERIOD[0], done.date()), case=case_claim(done))
    with zipfile.ZipFile(io.BytesIO(build_bundle(inputs))) as z:
        body = text(z.read("report.html").decode("utf-8"))
    assert "After the termination" in body and "a termination certificate issued at termination" in body
    assert "confirmed by" in body and "解除劳动合同" in body
