"""The seed case of ``hrledger demo``, fact by fact, each with its words in Chinese and English.

张三 (E-ZS) is on sick leave from 9 to 18 June 2025 and does not come back. His mobile number is dead, his
emergency contact does not answer; HR sends the reminder, issues the 催告函 (back within 5 days of
service) by e-mail, SMS and EMS, records the absenteeism, fails to serve the 催告函 in person, gets the EMS
letter back and publishes it (served at the end of 31 July), and informs the union. On 21 July his wife
reports that he was in a traffic accident on 16 June and taken to hospital: the case is suspended. The
hospital's discharge record shows he left hospital fit for work on 18 June, the last day of his leave, so
HR assesses the report as not excusing the absence and the case resumes. The deadline passes on 5 August;
on 7 August the termination notice is handed to his wife at home (a co-resident adult) and the
termination is confirmed; the certificate is issued that day and the records transferred a week later.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from ledger.domain import DEFAULT_POLICY

SUBJECT = "E-ZS"
LEAVE = "L-2025-0609"
CASE = f"{SUBJECT}/{LEAVE}"
TZ = DEFAULT_POLICY.tz
ADDRESS = "上海市浦东新区世纪大道 100 号 5 楼"
MOBILE, EMAIL = "13800000001", "zhangsan@example.com"
EC_NAME, EC_MOBILE = "李四", "13900000002"
REPORT = "report"  # the label of the family's report: the assessment names its seq


def digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Ref:
    """A seq not known until the step it labels is recorded (the assessment names the report's seq)."""

    label: str


@dataclass(frozen=True)
class Step:
    when: datetime
    type: str
    data: dict[str, Any]
    zh: str
    en: str
    subject: str = SUBJECT
    label: str | None = None  # remember this step's seq under the label


def at(day: str, hm: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(hm), TZ)


def _notice(day: str, hm: str, nid: str, kind: str, channels: list[str], zh: str, en: str, **extra: Any) -> Step:
    data = {
        "notice_id": nid,
        "kind": kind,
        "document_digest": digest(nid),
        "recipients": ["张三"],
        "channels": channels,
    }
    return Step(at(day, hm), "notice.issued", {**data, **extra}, zh, en)


def _attempt(day: str, hm: str, channel: str, target: str, value: str, result: str, zh: str, en: str) -> Step:
    data = {"channel": channel, "target": target, "value": value, "result": result}
    return Step(at(day, hm), "contact.attempted", data, zh, en)


SCRIPT: list[Step] = [
    Step(
        at("2025-01-02", "09:00"),
        "policy.adopted",
        {
            "policy_id": "HB-2025",
            "version": "1",
            "document_digest": digest("员工手册 2025"),
            "effective_from": "2025-01-10",
            "democratic_procedure": "职工代表大会讨论通过并公示",
        },
        "《员工手册》HB-2025 v1 经职代会通过并公示",
        "rule book HB-2025 v1 adopted by the workers' congress",
        subject="company",
    ),
    Step(
        at("2025-03-03", "09:00"),
        "employee.enrolled",
        {
            "name": "张三",
            "hired_on": "2023-03-01",
            "contacts": [
                {"channel": "mobile", "value": MOBILE, "verified_at": "2025-03-03T09:00:00+08:00"},
                {"channel": "email", "value": EMAIL},
                {"channel": "address", "value": ADDRESS},
            ],
            "emergency_contacts": [{"name": EC_NAME, "relation": "配偶", "mobile": EC_MOBILE, "address": ADDRESS}],
        },
        "入职档案：手机、邮箱、地址，紧急联系人李四（配偶，同住）",
        "file: mobile, e-mail, address; emergency contact 李四 (spouse, same address)",
    ),
    Step(
        at("2025-03-03", "09:30"),
        "policy.acknowledged",
        {"policy_id": "HB-2025", "version": "1"},
        "张三签收《员工手册》",
        "张三 acknowledged the rule book",
    ),
    Step(
        at("2025-06-06", "10:00"),
        "leave.requested",
        {
            "leave_id": LEAVE,
            "kind": "sick",
            "start": "2025-06-09",
            "end": "2025-06-18",
            "certificate_digest": digest("病假证明"),
        },
        "申请病假 6/9–6/18（附病假证明，提前 3 日）",
        "sick leave requested 9–18 June (certificate attached, 3 days ahead)",
    ),
    Step(at("2025-06-06", "15:00"), "leave.approved", {"leave_id": LEAVE}, "病假获批", "sick leave approved"),
    _notice(
        "2025-06-19",
        "11:45",
        "N-01",
        "reminder",
        ["sms", "email"],
        "发出返岗提醒（短信、邮件）",
        "reminder to return sent (SMS, e-mail)",
    ),
    _attempt(
        "2025-06-19",
        "11:50",
        "phone",
        "employee",
        MOBILE,
        "number_invalid",
        "致电本人：空号",
        "called the employee: number does not exist",
    ),
    _attempt(
        "2025-06-20",
        "14:00",
        "phone",
        "emergency_contact",
        EC_MOBILE,
        "no_answer",
        "致电紧急联系人李四：无人接听",
        "called emergency contact 李四: no answer",
    ),
    _attempt(
        "2025-06-20",
        "14:30",
        "email",
        "employee",
        EMAIL,
        "delivered",
        "邮件联系本人：已送达，无回复",
        "e-mailed the employee: delivered, no reply",
    ),
    _notice(
        "2025-06-23",
        "14:00",
        "N-02",
        "return_demand",
        ["email", "sms", "post"],
        "发出催告函：送达后 5 日内返岗（邮件、短信、EMS）",
        "return demand (催告函) issued: back within 5 days of service (e-mail, SMS, EMS)",
        return_within_days=5,
    ),
    Step(
        at("2025-06-23", "14:05"),
        "notice.delivered",
        {"notice_id": "N-02", "channel": "email", "evidence": "Message-ID <n02@hr.example>"},
        "催告函邮件已送达（未约定电子送达，不构成送达）",
        "return demand e-mail delivered (no e-service agreed: not service)",
    ),
    Step(
        at("2025-06-23", "14:06"),
        "notice.delivery_failed",
        {"notice_id": "N-02", "channel": "sms", "reason": "号码停机"},
        "催告函短信失败：号码停机",
        "return demand SMS failed: number out of service",
    ),
    _attempt(
        "2025-06-23",
        "15:00",
        "sms",
        "emergency_contact",
        EC_MOBILE,
        "no_answer",
        "短信联系紧急联系人：未回复",
        "texted the emergency contact: no reply",
    ),
    _notice(
        "2025-06-24",
        "14:00",
        "N-03",
        "absenteeism",
        ["email", "sms", "post"],
        "发出旷工通知",
        "absenteeism notice issued",
    ),
    _attempt(
        "2025-06-25",
        "10:00",
        "visit",
        "employee",
        ADDRESS,
        "unreachable",
        "上门：无人应门，邻居称久未见",
        "home visit: nobody home, neighbours have not seen him",
    ),
    Step(
        at("2025-06-25", "10:05"),
        "notice.delivery_failed",
        {"notice_id": "N-02", "channel": "visit", "reason": "上门送达催告函，无人应门", "address": ADDRESS},
        "直接送达催告函失败",
        "personal service of the return demand failed",
    ),
    Step(
        at("2025-06-27", "16:00"),
        "notice.delivery_failed",
        {"notice_id": "N-02", "channel": "post", "reason": "EMS 退回：查无此人", "address": ADDRESS},
        "EMS 催告函被退回：查无此人",
        "EMS letter returned: addressee unknown",
    ),
    _attempt(
        "2025-06-27",
        "16:05",
        "post",
        "employee",
        ADDRESS,
        "returned",
        "档案地址邮寄：退回",
        "post to the address on file: returned",
    ),
    _notice(
        "2025-07-01",
        "10:00",
        "N-04",
        "publication",
        ["newspaper", "notice_board"],
        "公告送达催告函（报纸、公告栏）：7 月 31 日二十四时视为送达",
        "return demand published (newspaper, notice board): served at the end of 31 July",
        serves="N-02",
    ),
    Step(
        at("2025-07-02", "10:00"),
        "union.notified",
        {"union": "公司工会", "note": "拟因连续旷工解除劳动合同"},
        "通知工会：拟解除劳动合同",
        "union notified of the intended termination",
    ),
    Step(
        at("2025-07-21", "15:00"),
        "absence.reported",
        {
            "reason": "injury",
            "reported_by": "family",
            "reporter_name": EC_NAME,
            "from": "2025-06-16",
            "note": "家属称张三 6 月 16 日遭遇交通事故入院",
        },
        "家属李四来电：张三 6 月 16 日遭遇交通事故入院（本案暂停）",
        "his wife 李四 reports a traffic accident on 16 June and a hospital stay (the case is suspended)",
        label=REPORT,
    ),
    Step(
        at("2025-07-25", "16:00"),
        "absence.assessed",
        {
            "report_seq": Ref(REPORT),
            "decision": "not_excused",
            "assessed_by": "人事部 王五",
            "note": "医院出院记录：6 月 18 日出院，可正常工作；6 月 19 日起的缺勤与事故无关",
        },
        "人事审查：6 月 18 日已出院、可正常工作，事故不能解释其后的缺勤（恢复计算）",
        "HR assessment: discharged fit for work on 18 June; the accident does not excuse the absence (resumed)",
    ),
    _notice(
        "2025-08-07",
        "09:00",
        "N-05",
        "termination",
        ["visit"],
        "发出解除劳动合同通知书",
        "termination notice issued",
    ),
    Step(
        at("2025-08-07", "10:00"),
        "notice.delivered",
        {
            "notice_id": "N-05",
            "channel": "visit",
            "evidence": "签收回执 2025-08-07",
            "received_by": "co_resident_adult",
            "recipient_name": EC_NAME,
            "address": ADDRESS,
        },
        "解除通知直接送达：同住的妻子李四签收",
        "termination notice handed over at home: signed for by his wife 李四 (co-resident adult)",
    ),
    Step(
        at("2025-08-07", "11:00"),
        "employment.terminated",
        {"effective_on": "2025-08-07", "notice_id": "N-05", "confirmed_by": "人事总监 赵六"},
        "确认解除劳动合同，当日生效",
        "termination confirmed, effective the same day",
    ),
    Step(
        at("2025-08-07", "11:30"),
        "employment.certificate_issued",
        {"issued_on": "2025-08-07", "document_digest": digest("解除劳动合同证明")},
        "出具解除劳动合同证明",
        "termination certificate issued",
    ),
    Step(
        at("2025-08-14", "10:00"),
        "employment.records_transferred",
        {"social_insurance_on": "2025-08-14", "personnel_file_on": "2025-08-14"},
        "办理社会保险关系和档案转移",
        "social insurance and personnel file transferred",
    ),
]
