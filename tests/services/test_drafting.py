"""Drafted notices from the seed case: facts, the deadline as SPEC section 4 counts it, digests that change
with the template, the sandbox and escaping, a company's own templates, and the stage hook."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from ledger.domain import Policy
from ledger.errors import NotFoundError, PolicyError, ValidationError
from ledger.services.drafting import (
    DRAFTED,
    TEMPLATE_DIR,
    NoticeDrafter,
    Templates,
    load_settings,
    notice_id_for,
)
from ledger.storage.sqlite import SQLiteStorage
from tests.support.domain import at
from tests.support.seed import CASE, SUBJECT, projector_until

POLICY = Policy()
LATE_JUNE = at("2025-06-23 12:00")  # day 3 overdue: the lost_contact stage calls for the 催告函


@pytest.fixture
async def store(tmp_path: Path) -> SQLiteStorage:
    s = SQLiteStorage(tmp_path / "s.sqlite3")
    await s.open()
    return s


def text_of(html: bytes) -> str:
    return re.sub(r"<[^>]+>", "", html.decode("utf-8"))


def test_the_return_demand_states_the_case_facts_and_the_deadline() -> None:
    p = projector_until(LATE_JUNE)
    draft = NoticeDrafter(SQLiteStorage(Path("unused")), POLICY).compose(p, CASE, "return_demand", LATE_JUNE)
    body = text_of(draft.html)
    for phrase in ("催告函", "张三", "2025年6月9日", "2025年6月18日", "2025年6月19日", "连续 3 个工作日", "3 日内"):
        assert phrase in body, phrase
    assert "劳动合同法》第三十九条第（二）项" in body and "员工手册" in body
    # letter 23 June, expected service 3 days later (Thursday 26 June), 3 days from the day after: Sunday
    # 29 June is a rest day, so the period ends on Monday 30 June (民法典 art. 203)
    assert draft.facts["deadline"] == {
        "days": 3,
        "expected_service": "2025-06-26",
        "expected_service_zh": "2025年6月26日",
        "return_by": "2025-06-30",
        "return_by_zh": "2025年6月30日",
    }
    assert "2025年6月30日" in body
    assert draft.digest == "sha256:" + hashlib.sha256(draft.html).hexdigest()
    assert draft.data()["template"] == "return_demand" and draft.data()["template_version"].startswith("1+")
    assert draft.notice_id == f"{CASE}/return_demand" and draft.notice_id in body


@pytest.mark.parametrize(
    ("kind", "phrases"),
    [
        ("reminder", ("返岗提醒通知", "尽快返岗")),
        ("absenteeism", ("旷工通知书", "按旷工处理", "2025年6月19日至2025年6月23日")),
        ("termination", ("解除劳动合同通知书", "自本通知送达之日起解除", "第五十条")),
        ("publication", ("公告", "公告送达", "30 日", "N-02")),
    ],
)
def test_every_kind_is_drafted_from_the_facts(kind: str, phrases: tuple[str, ...]) -> None:
    p = projector_until(LATE_JUNE)
    draft = NoticeDrafter(SQLiteStorage(Path("unused")), POLICY).compose(p, CASE, kind, LATE_JUNE, serves="N-02")
    body = text_of(draft.html)
    for phrase in phrases:
        assert phrase in body, (kind, phrase)
    assert draft.kind == kind and "张三" in body


def test_the_same_facts_give_the_same_bytes_and_a_changed_template_another_digest(tmp_path: Path) -> None:
    p = projector_until(LATE_JUNE)
    a = NoticeDrafter(SQLiteStorage(Path("unused")), POLICY).compose(p, CASE, "return_demand", LATE_JUNE)
    b = NoticeDrafter(SQLiteStorage(Path("unused")), POLICY).compose(p, CASE, "return_demand", LATE_JUNE)
    assert a.html == b.html
    own = tmp_path / "ours"
    own.mkdir()
    source = (TEMPLATE_DIR / "return_demand.html").read_text(encoding="utf-8")
    (own / "return_demand.html").write_text(source.replace("特此通知。", "特此通知，请知悉。"), encoding="utf-8")
    (own / "notices.toml").write_text('company_name = "上海某某科技有限公司"\nrule_book_clause = "第五章第十二条"\n')
    c = NoticeDrafter(SQLiteStorage(Path("unused")), POLICY, Templates(own)).compose(
        p, CASE, "return_demand", LATE_JUNE
    )
    for phrase in ("请知悉", "上海某某科技有限公司", "第五章第十二条"):
        assert phrase in text_of(c.html)
    assert c.digest != a.digest and c.template_version != a.template_version
    assert c.template_version.split("+")[0] == a.template_version.split("+")[0] == "1"


def test_case_text_is_escaped_and_templates_run_sandboxed(tmp_path: Path) -> None:
    from ledger.domain import make_fact

    p = projector_until(LATE_JUNE)
    hostile = "<script>alert(1)</script>张三"
    p.feed(
        make_fact(
            p.position + 1,
            "employee.contacts_updated",
            SUBJECT,
            "2025-06-20T09:00:00+08:00",
            {"name": hostile, "contacts": [], "emergency_contacts": []},
        )
    )
    draft = NoticeDrafter(SQLiteStorage(Path("unused")), POLICY).compose(p, CASE, "reminder", LATE_JUNE)
    assert b"<script>" not in draft.html and "&lt;script&gt;alert(1)&lt;/script&gt;张三".encode() in draft.html
    own = tmp_path / "evil"
    own.mkdir()
    (own / "reminder.html").write_text("{# version: 9 #}{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(PolicyError, match=r"reminder\.html"):
        NoticeDrafter(SQLiteStorage(Path("unused")), POLICY, Templates(own)).compose(p, CASE, "reminder", LATE_JUNE)


def test_bad_requests_and_settings_are_named(tmp_path: Path) -> None:
    p = projector_until(LATE_JUNE)
    drafter = NoticeDrafter(SQLiteStorage(Path("unused")), POLICY)
    with pytest.raises(ValidationError, match="kind"):
        drafter.compose(p, CASE, "love_letter", LATE_JUNE)
    with pytest.raises(NotFoundError, match="no case"):
        drafter.compose(p, "E-ZS/nothing", "reminder", LATE_JUNE)
    with pytest.raises(PolicyError, match=r"notices\.toml\.colour"):
        load_settings('colour = "red"')
    with pytest.raises(PolicyError, match="an integer"):
        load_settings('return_within_days = "three"')
    own = tmp_path / "unversioned"
    own.mkdir()
    (own / "reminder.html").write_text("<p>{{ title }}</p>")
    with pytest.raises(PolicyError, match="declares no version"):
        NoticeDrafter(SQLiteStorage(Path("unused")), POLICY, Templates(own)).compose(p, CASE, "reminder", LATE_JUNE)
    assert len(notice_id_for("E" * 120 + "/L", "termination")) <= 128


@dataclass(frozen=True)
class Entered:
    """A stage decision as the escalator hands it to its drafter."""

    case_id: str
    stage: str
    reached_at: datetime
    occurrence: int = 1


async def test_a_new_stage_drafts_its_notice_and_keeps_the_document(store: SQLiteStorage) -> None:
    p = projector_until(LATE_JUNE)
    drafter = NoticeDrafter(store, POLICY, projector=lambda: p)
    case = p.case(CASE, LATE_JUNE)
    assert case is not None
    assert await drafter.draft(Entered(CASE, "hr_alert", LATE_JUNE), case, 11) == []
    entered = Entered(CASE, "lost_contact", at("2025-06-23 11:00"))
    (event,) = await drafter.draft(entered, case, 12)
    assert event.type == DRAFTED and event.subject == SUBJECT and event.data["kind"] == "return_demand"
    assert event.event_id == "draft/12/return_demand" and event.data["notice_id"] == f"{CASE}/return_demand"
    again = await drafter.draft(entered, p.case(CASE, at("2025-06-23 13:00")) or case, 12)
    assert again[0].data == event.data  # deterministic: a later evaluation drafts the same document
    kept = await drafter.document(event.data["document_digest"])
    assert kept is not None and kept["digest_matches"] and kept["subject"] == SUBJECT and "催告函" in kept["html"]
    assert await drafter.document("sha256:" + "0" * 64) is None and await drafter.document("../etc") is None
    (second,) = await drafter.draft(Entered(CASE, "lost_contact", entered.reached_at, occurrence=2), case, 20)
    assert second.data["notice_id"] == f"{CASE}/return_demand/occurrence-2"
    await store.close()


async def test_nothing_is_drafted_for_a_suspended_or_ended_case(store: SQLiteStorage) -> None:
    p = projector_until(LATE_JUNE)
    drafter = NoticeDrafter(store, POLICY, projector=lambda: p)
    case = p.case(CASE, LATE_JUNE)
    assert case is not None
    entered = Entered(CASE, "lost_contact", LATE_JUNE)
    assert await drafter.draft(entered, {**case, "suspended": True}, 12) == []
    assert await drafter.draft(entered, {**case, "status": "returned"}, 12) == []
    assert await NoticeDrafter(store, POLICY).draft(entered, case, 12) == []  # no projection to draft from
    await store.close()


async def test_a_broken_template_is_logged_and_drafts_nothing(store: SQLiteStorage, tmp_path: Path) -> None:
    own = tmp_path / "broken"
    own.mkdir()
    (own / "return_demand.html").write_text("{# version: 2 #}{{ no_such_fact }}")
    p = projector_until(LATE_JUNE)
    drafter = NoticeDrafter(store, POLICY, Templates(own), projector=lambda: p)
    case = p.case(CASE, LATE_JUNE)
    assert case is not None
    assert await drafter.draft(Entered(CASE, "lost_contact", LATE_JUNE), case, 12) == []
    await store.close()


async def test_an_erasure_forgets_the_documents_drafted_for_the_employee(store: SQLiteStorage) -> None:
    from ledger.services.drafting import forget_documents

    p = projector_until(LATE_JUNE)
    drafter = NoticeDrafter(store, POLICY, projector=lambda: p)
    case = p.case(CASE, LATE_JUNE)
    assert case is not None
    (event,) = await drafter.draft(Entered(CASE, "lost_contact", LATE_JUNE), case, 12)
    assert await forget_documents(store, "E-OTHER") == 0
    assert await forget_documents(store, SUBJECT) == 1
    assert await drafter.document(event.data["document_digest"]) is None
    await store.close()


def test_no_notice_is_drafted_on_an_incomplete_calendar() -> None:
    from ledger.domain import Projector
    from ledger.errors import CalendarError
    from tests.support.seed import facts_until

    p = Projector(POLICY)
    p.feed_all([f for f in facts_until(LATE_JUNE) if f.type != "calendar.adopted"])
    with pytest.raises(CalendarError, match="cannot draft the return_demand"):
        NoticeDrafter(SQLiteStorage(Path("unused")), POLICY).compose(p, CASE, "return_demand", LATE_JUNE)
