"""Chinese and English names for what people read: event types, stages, readiness items, channels, results.

One table for the workbench pages, the drafted notices and the bundle's court exhibit, so a stage or an
event is called the same everywhere. Unknown identifiers come back as themselves, never as an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.domain.readiness import ITEMS as READINESS_ITEMS
from ledger.domain.schemas import ATTEMPT_RESULTS
from ledger.domain.termination import AFTER_ITEMS

Label = tuple[str, str]  # (zh, en)

EVENT_TYPES: Mapping[str, Label] = {
    "employee.enrolled": ("入职登记", "employee enrolled"),
    "employee.contacts_updated": ("联系方式更新", "contacts updated"),
    "contact.verification_requested": ("请求核实联系方式", "contact verification requested"),
    "contact.verified": ("联系方式已核实", "contact verified"),
    "policy.adopted": ("规章制度通过", "rule book adopted"),
    "policy.acknowledged": ("规章制度签收", "rule book acknowledged"),
    "leave.requested": ("请假申请", "leave requested"),
    "leave.approved": ("请假批准", "leave approved"),
    "leave.rejected": ("请假驳回", "leave rejected"),
    "leave.cancelled": ("请假撤销", "leave cancelled"),
    "leave.extended": ("请假延长", "leave extended"),
    "attendance.clock_in": ("上班打卡", "clock-in"),
    "attendance.clock_out": ("下班打卡", "clock-out"),
    "contact.attempted": ("联系尝试", "contact attempt"),
    "notice.drafted": ("文书起草", "notice drafted"),
    "notice.issued": ("文书发出", "notice issued"),
    "notice.delivered": ("文书送达", "notice delivered"),
    "notice.delivery_failed": ("送达失败", "delivery failed"),
    "notice.refused": ("拒收（留置送达）", "refused (left at the residence)"),
    "union.notified": ("通知工会", "union notified"),
    "absence.reported": ("缺勤原因报告", "absence reason reported"),
    "absence.assessed": ("缺勤原因认定", "absence reason assessed"),
    "calendar.adopted": ("工作日历", "working-day calendar"),
    "employment.terminated": ("解除劳动合同", "employment terminated"),
    "employment.certificate_issued": ("出具解除证明", "termination certificate issued"),
    "employment.records_transferred": ("社保与档案转移", "records transferred"),
    "case.closed": ("结案", "case closed"),
    "escalation.stage_entered": ("进入升级阶段", "escalation stage entered"),
    "escalation.stage_withdrawn": ("撤回升级阶段", "escalation stage withdrawn"),
    "ledger.erased": ("个人数据删除", "personal data erased"),
}

STAGES: Mapping[str, Label] = {
    "reminder": ("提醒", "reminder"),
    "hr_alert": ("HR 预警", "HR alert"),
    "lost_contact": ("失联催告", "lost contact (return demand)"),
    "absenteeism": ("旷工", "absenteeism"),
    "termination_review": ("解除审查", "termination review"),
}

#: the readiness checklist's items and the after-termination ones, named where the domain defines them
ITEMS: Mapping[str, Label] = {i.name: (i.zh, i.en) for i in (*READINESS_ITEMS, *AFTER_ITEMS)}

NOTICE_KINDS: Mapping[str, Label] = {
    "reminder": ("返岗提醒", "reminder"),
    "return_demand": ("催告函", "return demand"),
    "absenteeism": ("旷工通知书", "absenteeism notice"),
    "termination": ("解除劳动合同通知书", "termination notice"),
    "publication": ("公告", "publication"),
}

CHANNELS: Mapping[str, Label] = {
    "phone": ("电话", "phone"),
    "sms": ("短信", "SMS"),
    "email": ("电子邮件", "e-mail"),
    "wechat": ("微信", "WeChat"),
    "post": ("邮寄（EMS）", "registered post"),
    "visit": ("上门", "visit"),
    "newspaper": ("报纸", "newspaper"),
    "notice_board": ("公告栏", "notice board"),
    "mobile": ("手机", "mobile"),
    "address": ("地址", "address"),
}

RESULTS: Mapping[str, Label] = ATTEMPT_RESULTS  # the schema holds the words with the codes

RECEIVED_BY: Mapping[str, Label] = {
    "employee": ("员工本人", "the employee"),
    "co_resident_adult": ("同住成年家属", "an adult living with the employee"),
    "service_agent": ("约定代收人", "the agreed service agent"),
    "other": ("其他人（不构成送达）", "someone else (not service)"),
}

LEAVE_KINDS: Mapping[str, Label] = {
    "sick": ("病假", "sick leave"),
    "annual": ("年假", "annual leave"),
    "personal": ("事假", "personal leave"),
    "marriage": ("婚假", "marriage leave"),
    "maternity": ("产假", "maternity leave"),
    "bereavement": ("丧假", "bereavement leave"),
    "other": ("其他假期", "other leave"),
}

CASE_STATUSES: Mapping[str, Label] = {
    "open": ("进行中", "open"),
    "returned": ("已返岗", "returned"),
    "closed": ("已结案", "closed"),
    "terminated": ("已解除", "terminated"),
    "superseded": ("已被新假期取代", "superseded"),
}

TABLES: Mapping[str, Mapping[str, Label]] = {
    "event": EVENT_TYPES,
    "stage": STAGES,
    "item": ITEMS,
    "notice": NOTICE_KINDS,
    "channel": CHANNELS,
    "result": RESULTS,
    "leave": LEAVE_KINDS,
    "received": RECEIVED_BY,
    "status": CASE_STATUSES,
}


def label(table: str, key: object) -> Label:
    """(zh, en) for ``key`` in one of :data:`TABLES`; an unknown key names itself in both languages."""
    text = str(key)
    return TABLES[table].get(text, (text, text))


def name(table: str, key: object, lang: str) -> str:
    zh, en = label(table, key)
    return en if lang == "en" else zh


def summary(type_: str, data: Mapping[str, Any] | None) -> Label:
    """One line saying what a fact records, in Chinese and English, from its type and data (untrusted text:
    callers escape it). Erased data says so."""
    if data is None:
        return ("个人数据已依法删除", "personal data erased")
    d = {k: data.get(k) for k in data}

    def ch(key: str) -> Label:
        return label("channel", d.get(key))

    if type_ == "contact.attempted":
        c, r = ch("channel"), label("result", d.get("result"))
        who = ("紧急联系人", "emergency contact") if d.get("target") == "emergency_contact" else ("本人", "employee")
        value = f" {d['value']}" if d.get("value") else ""
        return (f"{c[0]}联系{who[0]}{value}：{r[0]}", f"{c[1]} to the {who[1]}{value}: {r[1]}")
    if type_ in ("notice.issued", "notice.drafted"):
        k = label("notice", d.get("kind"))
        chans = d.get("channels") or []
        zh = "、".join(label("channel", c)[0] for c in chans)
        en = ", ".join(label("channel", c)[1] for c in chans)
        deadline = ""
        if d.get("return_within_days") is not None:
            deadline = f"; {d['return_within_days']} d"
        elif d.get("return_by"):
            deadline = f"; ≤ {d['return_by']}"
        return (
            f"{k[0]} {d.get('notice_id')}{'：' + zh if zh else ''}{deadline}",
            f"{k[1]} {d.get('notice_id')}{': ' + en if en else ''}{deadline}",
        )
    if type_ == "notice.delivered":
        c = ch("channel")
        return (
            f"{d.get('notice_id')} 经{c[0]}送达（{d.get('evidence')}）",
            f"{d.get('notice_id')} delivered by {c[1]} ({d.get('evidence')})",
        )
    if type_ == "notice.delivery_failed":
        c = ch("channel")
        return (
            f"{d.get('notice_id')} {c[0]}送达失败：{d.get('reason')}",
            f"{d.get('notice_id')} {c[1]} failed: {d.get('reason')}",
        )
    if type_ == "notice.refused":
        return (
            f"{d.get('notice_id')} 被拒收，留置于 {d.get('left_at')}",
            f"{d.get('notice_id')} refused, left at {d.get('left_at')}",
        )
    if type_.startswith("leave."):
        k = label("leave", d.get("kind")) if d.get("kind") else ("", "")
        span = (
            f" {d.get('start')} – {d.get('end')}" if d.get("start") else (f" → {d.get('end')}" if d.get("end") else "")
        )
        return (f"{k[0]} {d.get('leave_id')}{span}".strip(), f"{k[1]} {d.get('leave_id')}{span}".strip())
    if type_ in ("escalation.stage_entered", "escalation.stage_withdrawn"):
        s = label("stage", d.get("stage"))
        return (
            f"{s[0]}（逾期 {d.get('overdue_days')} 个工作日）",
            f"{s[1]} ({d.get('overdue_days')} overdue working days)",
        )
    if type_ in ("employee.enrolled", "employee.contacts_updated"):
        n = len(d.get("contacts") or []), len(d.get("emergency_contacts") or [])
        return (
            f"{d.get('name')}：联系方式 {n[0]} 项，紧急联系人 {n[1]} 人",
            f"{d.get('name')}: {n[0]} contacts, {n[1]} emergency contacts",
        )
    if type_ == "union.notified":
        return (f"已通知 {d.get('union')}", f"notified {d.get('union')}")
    if type_ in ("policy.adopted", "policy.acknowledged"):
        return (f"{d.get('policy_id')} 第 {d.get('version')} 版", f"{d.get('policy_id')} version {d.get('version')}")
    if type_ == "absence.reported":
        return (
            f"{d.get('reason')}，自 {d.get('from')}（报告人 {d.get('reported_by')}）",
            f"{d.get('reason')} from {d.get('from')} (reported by {d.get('reported_by')})",
        )
    if type_ == "absence.assessed":
        return (
            f"认定 seq {d.get('report_seq')}：{d.get('decision')}",
            f"assessed seq {d.get('report_seq')}: {d.get('decision')}",
        )
    if type_ == "employment.terminated":
        return (
            f"自 {d.get('effective_on')} 解除（{d.get('notice_id')}，确认人 {d.get('confirmed_by')}）",
            f"terminated from {d.get('effective_on')} ({d.get('notice_id')}, confirmed by {d.get('confirmed_by')})",
        )
    if type_ == "attendance.clock_in":
        return (f"打卡（{d.get('method')}）", f"clock-in ({d.get('method')})")
    if type_ == "calendar.adopted":
        return (f"{d.get('year')} 年（{d.get('source')}）", f"{d.get('year')} ({d.get('source')})")
    return ("", "")
