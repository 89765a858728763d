"""Readiness for a lawful termination: the SPEC section 4 checklist, computed from the log.

Each item is ``{"name", "ok", "seqs", "missing"}``; ``missing`` is None when ok, else
``{"zh": ..., "en": ...}`` in words an HR person understands. Only facts of the episode count for the
notices, attempts, service and union items: those that occurred after the leave ended.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from typing import Any

from ledger.domain.contacts import ATTEMPTS_FOR, ContactFile, normalise
from ledger.domain.episodes import Episode
from ledger.domain.facts import Fact
from ledger.domain.policy import Policy

ITEMS = (
    "rule_book",
    "overdue_threshold",
    "calendar",
    "reminder_issued",
    "return_demand_issued",
    "channels_attempted",
    "emergency_contacts_attempted",
    "lawful_service",
    "union_notified",
)
SERVED_KINDS = ("return_demand", "absenteeism", "termination")
KIND_LABEL = {
    "mobile": ("手机", "mobile"),
    "email": ("电子邮箱", "e-mail"),
    "wechat": ("微信", "WeChat"),
    "address": ("地址", "address"),
}


def _item(name: str, ok: bool, seqs: Sequence[int], zh: str = "", en: str = "") -> dict[str, Any]:
    return {"name": name, "ok": ok, "seqs": sorted(set(seqs)), "missing": None if ok else {"zh": zh, "en": en}}


def _rule_book(facts: Sequence[Fact], company: Sequence[Fact]) -> dict[str, Any]:
    adopted = [f for f in company if f.type == "policy.adopted" and f.data is not None]
    if not adopted:
        return _item(
            "rule_book",
            False,
            [],
            "未记录规章制度经民主程序通过并公示（policy.adopted）",
            "no rule book adoption recorded (policy.adopted, subject company)",
        )
    acks = {(f.get("policy_id"), f.get("version")): f for f in facts if f.type == "policy.acknowledged"}
    for a in reversed(adopted):
        ack = acks.get((a.get("policy_id"), a.get("version")))
        if ack is not None:
            return _item("rule_book", True, [a.seq, ack.seq])
    a = adopted[-1]
    label = f"{a.get('policy_id')} v{a.get('version')}"
    return _item(
        "rule_book",
        False,
        [a.seq],
        f"员工未签收规章制度 {label}（policy.acknowledged）",
        f"the employee has not acknowledged the rule book {label} (policy.acknowledged)",
    )


def _notice(window: Sequence[Fact], kind: str, name: str, zh: str, en: str) -> dict[str, Any]:
    issued = [f.seq for f in window if f.type == "notice.issued" and f.get("kind") == kind]
    return _item(
        name,
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
    if cf is None:
        return _item(
            "channels_attempted",
            False,
            [],
            "档案中没有联系方式（employee.enrolled）",
            "no contacts on file (employee.enrolled)",
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
    if not cf.contacts:
        return _item(
            "channels_attempted",
            False,
            [cf.fact.seq],
            "档案中没有员工本人的联系方式",
            "the file holds no contact of the employee",
        )
    zh = "、".join(f"{KIND_LABEL[c.kind][0]} {c.value}" for c in gaps)
    en = ", ".join(f"{KIND_LABEL[c.kind][1]} {c.value}" for c in gaps)
    return _item("channels_attempted", not gaps, seqs, f"尚未尝试联系：{zh}", f"not yet attempted: {en}")


def _emergency(window: Sequence[Fact], cf: ContactFile | None) -> dict[str, Any]:
    if cf is None:
        return _item(
            "emergency_contacts_attempted",
            False,
            [],
            "档案中没有紧急联系人信息（employee.enrolled）",
            "no emergency contacts on file (employee.enrolled)",
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
    return _item(
        "emergency_contacts_attempted",
        not gaps,
        seqs,
        f"尚未联系紧急联系人：{zh}",
        f"emergency contacts not yet attempted: {en}",
    )


def _service(window: Sequence[Fact], cf: ContactFile | None, as_of: datetime, policy: Policy) -> dict[str, Any]:
    """Personal service (visit, or delivery to the named service agent), then registered post to the
    address on file, publication only after both failed, effective ``publication_days`` later."""
    name = "lawful_service"
    notices = {f.get("notice_id"): f for f in window if f.type == "notice.issued" and f.get("kind") in SERVED_KINDS}
    agents = {" ".join(e.name.split()) for e in (cf.emergency if cf else ()) if e.service_agent}
    outcomes = [
        f for f in window if f.type in ("notice.delivered", "notice.delivery_failed") and f.get("notice_id") in notices
    ]

    def personal(f: Fact) -> bool:
        recipients = {" ".join(str(r).split()) for r in notices[f.get("notice_id")].get("recipients", [])}
        return f.get("channel") == "visit" or (bool(agents & recipients) and f.get("channel") in ("visit", "post"))

    def seqs(*fs: Fact) -> list[int]:
        return [s for f in fs for s in (notices[f.get("notice_id")].seq, f.seq)]

    step1 = [f for f in outcomes if personal(f)]
    step2 = [f for f in outcomes if not personal(f) and f.get("channel") == "post"]
    done1 = next((f for f in step1 if f.type == "notice.delivered"), None)
    if done1 is not None:
        return _item(name, True, seqs(done1))
    fail1 = next((f for f in step1 if f.type == "notice.delivery_failed"), None)
    if fail1 is None:
        return _item(
            name,
            False,
            [],
            "尚未直接送达（上门送达或送达代收人）催告函等文书",
            "personal service not yet attempted: deliver the return demand in person (visit) "
            "or to the service agent named in the contract",
        )
    has_address = cf is not None and any(c.kind == "address" for c in cf.contacts)
    if not has_address:
        return _item(
            name,
            False,
            seqs(fail1),
            "直接送达未成功，但档案中没有可邮寄送达的地址",
            "personal service failed and there is no address on file for registered post",
        )
    later2 = [f for f in step2 if f.occurred_at >= fail1.occurred_at]
    done2 = next((f for f in later2 if f.type == "notice.delivered"), None)
    if done2 is not None:
        return _item(name, True, seqs(fail1, done2))
    fail2 = next((f for f in later2 if f.type == "notice.delivery_failed"), None)
    if fail2 is None:
        return _item(
            name,
            False,
            seqs(fail1),
            "直接送达未成功，尚未向档案地址邮寄送达（EMS 挂号）",
            "personal service failed; registered post to the address on file not yet recorded",
        )
    pubs = [f for f in window if f.type == "notice.issued" and f.get("kind") == "publication"]
    pub = next((f for f in pubs if f.occurred_at >= fail2.occurred_at), None)
    if pub is None:
        early = "（已有的公告早于送达失败，不符合顺序）" if pubs else ""
        early_en = " (the publication on record predates the failed deliveries, out of order)" if pubs else ""
        return _item(
            name,
            False,
            seqs(fail1, fail2),
            f"直接送达和邮寄送达均未成功，尚未公告送达{early}",
            f"personal service and registered post both failed; publication not yet issued{early_en}",
        )
    effective = pub.occurred_at + timedelta(days=policy.publication_days)
    if as_of < effective:
        day = effective.astimezone(policy.tz).date().isoformat()
        return _item(
            name,
            False,
            [*seqs(fail1, fail2), pub.seq],
            f"公告送达期未满 {policy.publication_days} 日，{day} 起视为送达",
            f"publication period of {policy.publication_days} days not over: service takes effect {day}",
        )
    return _item(name, True, [*seqs(fail1, fail2), pub.seq])


def _calendar(calendar: Mapping[str, Any]) -> dict[str, Any]:
    """The working days counted rest on ``calendar.adopted`` entries; a missing year is never guessed."""
    if calendar["complete"]:
        return _item("calendar", True, calendar["seqs"])
    year = calendar["missing_year"]
    if year is None:
        return _item(
            "calendar",
            False,
            calendar["seqs"],
            f"工作日历有误：{calendar['detail']}",
            f"the working-day calendar is wrong: {calendar['detail']}",
        )
    return _item(
        "calendar",
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
    as_of: datetime,
    policy: Policy,
    calendar: Mapping[str, Any],
) -> dict[str, Any]:
    """The checklist for one case; ``facts`` (the employee's) and ``company`` are cut at ``as_of``;
    ``calendar`` is the case's calendar summary (complete, missing_year, detail, seqs)."""
    since = datetime.combine(episode.leave.end + timedelta(days=1), time(0, 0), policy.tz)
    window = [f for f in facts if f.occurred_at >= since]
    n, threshold = episode.overdue_days, policy.termination_threshold
    union = [f.seq for f in window if f.type == "union.notified"]
    items = [
        _rule_book(facts, company),
        _item(
            "overdue_threshold",
            n >= threshold,
            episode.leave.seqs if n >= threshold else [],
            f"逾期未返岗 {n} 个工作日，未达到制度规定的 {threshold} 个工作日",
            f"{n} overdue working days, below the {threshold} the policy requires",
        ),
        _calendar(calendar),
        _notice(window, "reminder", "reminder_issued", "提醒通知", "reminder notice"),
        _notice(window, "return_demand", "return_demand_issued", "催告函（限期返岗通知）", "return demand (催告函)"),
        _channels(window, cf),
        _emergency(window, cf),
        _service(window, cf, as_of, policy),
        _item(
            "union_notified",
            bool(union),
            union,
            "尚未通知工会（劳动合同法第四十三条）",
            "the union has not been notified (Labour Contract Law art. 43)",
        ),
    ]
    return {"ready": all(i["ok"] for i in items), "items": items}
