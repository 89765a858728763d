"""Readiness for a lawful termination: the SPEC section 4 checklist, computed from the log.

:data:`ITEMS` names every item in Chinese and English, with the event that supplies it and its basis;
the workbench and the demo read the names from this table. Each item in an answer is
``{"name", "ok", "seqs", "missing", "label", "supplied_by", "basis"}``: ``missing`` is None when ok, else
``{"zh", "en"}`` in words an HR person understands. Only facts of the episode count for the notices,
attempts, service and union items: those that occurred from its window start on (the day after the
leave ended, or the first day of an absence without approved leave).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from ledger.domain.calendar import WorkCalendar
from ledger.domain.contacts import ATTEMPTS_FOR, ContactFile, normalise
from ledger.domain.deadlines import Deadline, return_deadline
from ledger.domain.episodes import Episode
from ledger.domain.facts import Fact
from ledger.domain.policy import Policy
from ledger.domain.service import Service


@dataclass(frozen=True, slots=True)
class Item:
    name: str
    zh: str
    en: str
    supplied_by: str
    basis: str = ""


ITEMS = (
    Item(
        "rule_book",
        "规章制度经民主程序通过并经员工签收",
        "rule book adopted and acknowledged",
        "policy.adopted (subject company), policy.acknowledged",
        "劳动合同法 art. 4",
    ),
    Item(
        "overdue_threshold",
        "逾期未返岗工作日达到制度标准",
        "overdue working days at the policy threshold",
        "the absence itself (no attendance.clock_in); policy termination_threshold",
        "劳动合同法 art. 39(2)",
    ),
    Item("calendar", "工作日历完整", "the working-day calendar covers every day counted", "calendar.adopted (admin)"),
    Item("reminder_issued", "已发出返岗提醒", "a reminder issued", "notice.issued kind=reminder"),
    Item(
        "return_demand_issued",
        "已发出催告函",
        "a return demand (催告函) issued",
        "notice.issued kind=return_demand",
        "劳办发〔1995〕179号 (by analogy)",
    ),
    Item(
        "lawful_service",
        "催告函已依法送达",
        "the return demand (催告函) itself served lawfully",
        "notice.delivered, notice.refused, notice.delivery_failed, notice.issued kind=publication (serves)",
        "劳办发〔1995〕179号 (by analogy); 民事诉讼法 art. 88–91, 95",
    ),
    Item(
        "return_deadline_passed",
        "催告函期限合理且届满未返岗",
        "the return demand's deadline was reasonable and passed without a return",
        "notice.issued return_by or return_within_days; policy return_demand_min_days",
        "民法典 art. 201, 203; 民事诉讼法 art. 85",
    ),
    Item(
        "channels_attempted",
        "已尝试档案中的全部联系方式",
        "every contact on file attempted",
        "contact.attempted target=employee",
    ),
    Item(
        "emergency_contacts_attempted",
        "已联系全部紧急联系人",
        "every emergency contact attempted",
        "employee.enrolled / employee.contacts_updated emergency_contacts; contact.attempted target=emergency_contact",
    ),
    Item(
        "reported_reasons_assessed",
        "报告的缺勤原因均已审查",
        "every reason reported for the absence assessed",
        "absence.assessed",
        "劳动合同法 art. 39, 42",
    ),
    Item(
        "union_notified",
        "解除前已通知工会",
        "the union notified before the termination",
        "union.notified",
        "劳动合同法 art. 43",
    ),
)
ITEM = {i.name: i for i in ITEMS}
KIND_LABEL = {
    "mobile": ("手机", "mobile"),
    "email": ("电子邮箱", "e-mail"),
    "wechat": ("微信", "WeChat"),
    "address": ("地址", "address"),
}


def item(spec: Item, ok: bool, seqs: Sequence[int], zh: str = "", en: str = "", **extra: Any) -> dict[str, Any]:
    return {
        "name": spec.name,
        "ok": ok,
        "seqs": sorted(set(seqs)),
        "missing": None if ok else {"zh": zh, "en": en},
        "label": {"zh": spec.zh, "en": spec.en},
        "supplied_by": spec.supplied_by,
        "basis": spec.basis,
        **extra,
    }


def _rule_book(facts: Sequence[Fact], company: Sequence[Fact]) -> dict[str, Any]:
    spec = ITEM["rule_book"]
    adopted = [f for f in company if f.type == "policy.adopted" and f.data is not None]
    if not adopted:
        return item(
            spec,
            False,
            [],
            "未记录规章制度经民主程序通过并公示（policy.adopted）",
            "no rule book adoption recorded (policy.adopted, subject company)",
        )
    acks = {(f.get("policy_id"), f.get("version")): f for f in facts if f.type == "policy.acknowledged"}
    for a in reversed(adopted):
        ack = acks.get((a.get("policy_id"), a.get("version")))
        if ack is not None:
            return item(spec, True, [a.seq, ack.seq])
    a = adopted[-1]
    label = f"{a.get('policy_id')} v{a.get('version')}"
    return item(
        spec,
        False,
        [a.seq],
        f"员工未签收规章制度 {label}（policy.acknowledged）",
        f"the employee has not acknowledged the rule book {label} (policy.acknowledged)",
    )


def _notice(window: Sequence[Fact], kind: str, name: str, zh: str, en: str) -> dict[str, Any]:
    issued = [f.seq for f in window if f.type == "notice.issued" and f.get("kind") == kind]
    return item(
        ITEM[name],
        bool(issued),
        issued,
        f"未发出{zh}（notice.issued kind={kind}）",
        f"no {en} issued since the leave ended (notice.issued kind={kind})",
    )


def _attempts_match(attempts: Sequence[Fact], kind: str, value: str, alone: bool) -> list[int]:
    """Attempts reaching one contact: same value, or no value given and it is the only contact of its kind."""
    want = normalise(kind, value)
    return [
        f.seq
        for f in attempts
        if f.get("channel") in ATTEMPTS_FOR[kind]
        and (normalise(kind, f.get("value")) == want if f.get("value") is not None else alone)
    ]


def _channels(window: Sequence[Fact], cf: ContactFile | None) -> dict[str, Any]:
    spec = ITEM["channels_attempted"]
    if cf is None:
        return item(
            spec, False, [], "档案中没有联系方式（employee.enrolled）", "no contacts on file (employee.enrolled)"
        )
    if not cf.contacts:
        return item(
            spec, False, [cf.fact.seq], "档案中没有员工本人的联系方式", "the file holds no contact of the employee"
        )
    attempts = [f for f in window if f.type == "contact.attempted" and f.get("target") == "employee"]
    seqs: list[int] = []
    gaps = []
    for c in cf.contacts:
        alone = sum(1 for o in cf.contacts if o.kind == c.kind) == 1
        hits = _attempts_match(attempts, c.kind, c.value, alone)
        seqs += hits
        if not hits:
            gaps.append(c)
    zh = "、".join(f"{KIND_LABEL[c.kind][0]} {c.value}" for c in gaps)
    en = ", ".join(f"{KIND_LABEL[c.kind][1]} {c.value}" for c in gaps)
    return item(spec, not gaps, seqs, f"尚未尝试联系：{zh}", f"not yet attempted: {en}")


def _emergency(window: Sequence[Fact], cf: ContactFile | None) -> dict[str, Any]:
    spec = ITEM["emergency_contacts_attempted"]
    if cf is None or not cf.emergency:
        return item(
            spec,
            False,
            [cf.fact.seq] if cf else [],
            "档案中没有紧急联系人：请补充（employee.contacts_updated emergency_contacts）后联系",
            "no emergency contact on file: add one (employee.contacts_updated emergency_contacts) and try it",
        )
    attempts = [f for f in window if f.type == "contact.attempted" and f.get("target") == "emergency_contact"]
    alone = len(cf.emergency) == 1
    seqs: list[int] = []
    gaps = []
    for e in cf.emergency:
        hits = _attempts_match(attempts, "mobile", e.mobile, alone)
        if e.address:
            hits += _attempts_match(attempts, "address", e.address, alone)
        seqs += hits
        if not hits:
            gaps.append(e)
    zh = "、".join(f"{e.name}（{e.relation}，{e.mobile}）" for e in gaps)
    en = ", ".join(f"{e.name} ({e.relation}, {e.mobile})" for e in gaps)
    return item(spec, not gaps, seqs, f"尚未联系紧急联系人：{zh}", f"emergency contacts not yet attempted: {en}")


def _service(demands: Sequence[Service]) -> tuple[dict[str, Any], list[Service]]:
    spec = ITEM["lawful_service"]
    if not demands:
        return item(spec, False, [], "尚未发出催告函，无从送达", "no return demand (催告函) to serve yet"), []
    served = sorted((s for s in demands if s.served), key=lambda s: (s.effective_at, s.notice.seq))
    if served:
        first = served[0]
        day = first.day.isoformat() if first.day else None
        return item(spec, True, first.seqs, method=first.method, service_date=day), served
    best = next((s for s in demands if s.effective_at is not None), demands[-1])
    zh, en = best.missing or ("尚未送达", "not served")
    nid = best.notice.get("notice_id")
    return item(spec, False, best.seqs, f"催告函 {nid}：{zh}", f"return demand {nid}: {en}"), []


def _deadline(
    served: Sequence[Service], facts: Sequence[Fact], ep: Episode, as_of: datetime, policy: Policy, cal: WorkCalendar
) -> dict[str, Any]:
    spec = ITEM["return_deadline_passed"]
    if not served:
        return item(
            spec,
            False,
            [],
            "催告函尚未送达，期限尚未起算",
            "the return demand is not served: its deadline has not begun",
        )
    since = datetime.combine(ep.window_start, time(0, 0), policy.tz)
    came = [f for f in facts if f.type == "attendance.clock_in" and since <= f.occurred_at]
    found: list[tuple[Service, Deadline, Fact | None]] = []
    for svc in served:
        dl = return_deadline(svc, cal, policy)
        back = next((f for f in came if dl.ends_at is not None and f.occurred_at < dl.ends_at), None)
        if dl.ok and dl.ends_at is not None and dl.ends_at <= as_of and back is None:
            return item(spec, True, [*svc.seqs, *dl.seqs], **dl.fields())
        found.append((svc, dl, back))
    svc, dl, back = found[0]
    zh, en = dl.problem(as_of, policy, clocked_in=back)
    return item(spec, False, [*svc.seqs, *dl.seqs], zh, en, **dl.fields())


def _reasons(ep: Episode) -> dict[str, Any]:
    spec = ITEM["reported_reasons_assessed"]
    pending = [r for r in ep.reports if r.status == "pending"]
    seqs = [s for r in ep.reports for s in r.seqs]
    if not pending:
        return item(spec, True, seqs)
    words = [r.words() for r in pending]
    return item(
        spec,
        False,
        seqs,
        "；".join(zh for zh, _ in words) + "：请核实后记录审查结论（absence.assessed）；审查前本案暂停",
        "; ".join(en for _, en in words) + ": assess it (absence.assessed); the case is suspended until then",
    )


def _union(window: Sequence[Fact], facts: Sequence[Fact], policy: Policy) -> dict[str, Any]:
    spec = ITEM["union_notified"]
    if not policy.has_union:
        return item(
            spec,
            True,
            [],
            note={"zh": "公司未设工会（has_union = false）", "en": "no union (policy has_union = false)"},
        )
    end = next((f.occurred_at for f in facts if f.type == "employment.terminated"), None)
    union = [f.seq for f in window if f.type == "union.notified" and (end is None or f.occurred_at < end)]
    return item(
        spec,
        bool(union),
        union,
        "解除劳动合同前尚未通知工会（劳动合同法第四十三条）",
        "the union has not been notified before the termination (Labour Contract Law art. 43)",
    )


def _calendar(calendar: Mapping[str, Any]) -> dict[str, Any]:
    """The working days counted rest on ``calendar.adopted`` entries; a missing year is never guessed."""
    spec = ITEM["calendar"]
    if calendar["complete"]:
        return item(spec, True, calendar["seqs"])
    year = calendar["missing_year"]
    if year is None:
        return item(
            spec,
            False,
            calendar["seqs"],
            f"工作日历有误：{calendar['detail']}",
            f"the working-day calendar is wrong: {calendar['detail']}",
        )
    return item(
        spec,
        False,
        calendar["seqs"],
        f"工作日历缺少 {year} 年的放假和调休安排，逾期工作日无法计算完整（hrledger calendar add --year {year}）",
        f"the working-day calendar has no entry for {year}: overdue working days cannot all be counted "
        f"(hrledger calendar add --year {year})",
    )


def readiness(
    episode: Episode,
    facts: Sequence[Fact],
    company: Sequence[Fact],
    cf: ContactFile | None,
    services: Sequence[Service],
    as_of: datetime,
    policy: Policy,
    calendar: Mapping[str, Any],
    work_calendar: WorkCalendar,
) -> dict[str, Any]:
    """The checklist for one case; ``facts`` (the employee's) and ``company`` are cut at ``as_of``;
    ``services`` is the service of each notice issued in the episode; ``calendar`` the case's calendar
    summary (complete, missing_year, detail, seqs)."""
    since = datetime.combine(episode.window_start, time(0, 0), policy.tz)
    window = [f for f in facts if f.occurred_at >= since]
    n, threshold = episode.overdue_days, policy.termination_threshold
    held = f"（另有 {len(episode.suspended_days)} 个工作日因报告的缺勤原因暂停计算）" if episode.suspended_days else ""
    held_en = f" ({len(episode.suspended_days)} more suspended by a reported reason)" if episode.suspended_days else ""
    service, served = _service([s for s in services if s.notice.get("kind") == "return_demand"])
    items = [
        _rule_book(facts, company),
        item(
            ITEM["overdue_threshold"],
            n >= threshold,
            episode.basis if n >= threshold else [],
            f"逾期未返岗 {n} 个工作日{held}，未达到制度规定的 {threshold} 个工作日",
            f"{n} overdue working days{held_en}, below the {threshold} the policy requires",
        ),
        _calendar(calendar),
        _notice(window, "reminder", "reminder_issued", "提醒通知", "reminder notice"),
        _notice(window, "return_demand", "return_demand_issued", "催告函（限期返岗通知）", "return demand (催告函)"),
        service,
        _deadline(served, facts, episode, as_of, policy, work_calendar),
        _channels(window, cf),
        _emergency(window, cf),
        _reasons(episode),
        _union(window, facts, policy),
    ]
    return {"ready": all(i["ok"] for i in items), "suspended": episode.suspended, "items": items}
