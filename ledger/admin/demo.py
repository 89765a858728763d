"""``hrledger demo``: the seed case played into a fresh ledger, from the first fact to a verified bundle.

张三 (E-ZS) is on sick leave from 9 to 18 June 2025 and does not come back. His mobile number is dead, his
emergency contact does not answer; HR sends the reminder, takes the case, issues the 催告函 by e-mail,
SMS and EMS, records the absenteeism, fails to serve it in person, gets the EMS letter back, publishes
the notice and informs the union; 30 days after publication the file is ready. A simulated clock moves
day by day and the real escalator ticks every day, so the stage events are real log entries.
"""

from __future__ import annotations

import hashlib
import json
import os
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from ledger.admin.datadir import init_datadir
from ledger.core.entries import validate_envelope
from ledger.core.records import StoredEntry
from ledger.domain import DEFAULT_POLICY, validate_event
from ledger.domain.escalation import STAGE_EVENT
from ledger.log import Log
from ledger.services.escalator import Escalator
from ledger.services.notify import STAGE_LABEL

SUBJECT = "E-ZS"
LEAVE = "L-2025-0609"
CASE = f"{SUBJECT}/{LEAVE}"
TZ = DEFAULT_POLICY.tz
TICK_AT = time(11, 30)  # the daily evaluation, after the 09:00 + 2 h deadline
FIRST_DAY, LAST_DAY = date(2025, 6, 6), date(2025, 7, 31)
ADDRESS = "上海市浦东新区世纪大道 100 号 5 楼"
MOBILE, EMAIL = "13800000001", "zhangsan@example.com"
EC_NAME, EC_MOBILE = "李四", "13900000002"


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Step:
    when: datetime
    type: str
    data: dict[str, Any]
    zh: str
    en: str
    subject: str = SUBJECT


def _at(day: str, hm: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(hm), TZ)


def _notice(day: str, hm: str, nid: str, kind: str, channels: list[str], zh: str, en: str) -> Step:
    return Step(
        _at(day, hm),
        "notice.issued",
        {"notice_id": nid, "kind": kind, "document_digest": _digest(nid), "recipients": ["张三"], "channels": channels},
        zh,
        en,
    )


def _attempt(day: str, hm: str, channel: str, target: str, value: str, result: str, zh: str, en: str) -> Step:
    return Step(
        _at(day, hm),
        "contact.attempted",
        {"channel": channel, "target": target, "value": value, "result": result},
        zh,
        en,
    )


SCRIPT: list[Step] = [
    Step(
        _at("2025-01-02", "09:00"),
        "policy.adopted",
        {
            "policy_id": "HB-2025",
            "version": "1",
            "document_digest": _digest("员工手册 2025"),
            "effective_from": "2025-01-10",
            "democratic_procedure": "职工代表大会讨论通过并公示",
        },
        "《员工手册》HB-2025 v1 经职代会通过并公示",
        "rule book HB-2025 v1 adopted by the workers' congress",
        subject="company",
    ),
    Step(
        _at("2025-03-03", "09:00"),
        "employee.enrolled",
        {
            "name": "张三",
            "hired_on": "2023-03-01",
            "contacts": [
                {"channel": "mobile", "value": MOBILE, "verified_at": "2025-03-03T09:00:00+08:00"},
                {"channel": "email", "value": EMAIL},
                {"channel": "address", "value": ADDRESS},
            ],
            "emergency_contacts": [{"name": EC_NAME, "relation": "配偶", "mobile": EC_MOBILE}],
        },
        "入职档案：手机、邮箱、地址，紧急联系人李四（配偶）",
        "file: mobile, e-mail, address; emergency contact 李四 (spouse)",
    ),
    Step(
        _at("2025-03-03", "09:30"),
        "policy.acknowledged",
        {"policy_id": "HB-2025", "version": "1"},
        "张三签收《员工手册》",
        "张三 acknowledged the rule book",
    ),
    Step(
        _at("2025-06-06", "10:00"),
        "leave.requested",
        {
            "leave_id": LEAVE,
            "kind": "sick",
            "start": "2025-06-09",
            "end": "2025-06-18",
            "certificate_digest": _digest("病假证明"),
        },
        "申请病假 6/9–6/18（附病假证明）",
        "sick leave requested 9–18 June (certificate attached)",
    ),
    Step(_at("2025-06-06", "15:00"), "leave.approved", {"leave_id": LEAVE}, "病假获批", "sick leave approved"),
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
        "发出催告函（限期返岗通知）：邮件、短信、EMS",
        "return demand (催告函) issued: e-mail, SMS, EMS",
    ),
    Step(
        _at("2025-06-23", "14:05"),
        "notice.delivered",
        {"notice_id": "N-02", "channel": "email", "evidence": "Message-ID <n02@hr.example>"},
        "催告函邮件已送达",
        "return demand e-mail delivered",
    ),
    Step(
        _at("2025-06-23", "14:06"),
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
        _at("2025-06-25", "10:05"),
        "notice.delivery_failed",
        {"notice_id": "N-02", "channel": "visit", "reason": "上门送达催告函，无人应门"},
        "直接送达催告函失败",
        "personal service of the return demand failed",
    ),
    Step(
        _at("2025-06-27", "16:00"),
        "notice.delivery_failed",
        {"notice_id": "N-02", "channel": "post", "reason": "EMS 退回：查无此人"},
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
        "公告送达催告函（报纸、公告栏），30 日后视为送达",
        "return demand published (newspaper, notice board); served after 30 days",
    ),
    Step(
        _at("2025-07-02", "10:00"),
        "union.notified",
        {"union": "公司工会", "note": "拟因连续旷工解除劳动合同"},
        "通知工会：拟解除劳动合同",
        "union notified of the intended termination",
    ),
]


class SimClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


ITEM_LABEL = {
    "rule_book": ("规章制度已通过并签收", "rule book adopted and acknowledged"),
    "overdue_threshold": ("逾期天数达到制度标准", "overdue days at the policy threshold"),
    "reminder_issued": ("已发出返岗提醒", "reminder issued"),
    "return_demand_issued": ("已发出催告函", "return demand (催告函) issued"),
    "channels_attempted": ("已尝试档案中全部联系方式", "every contact on file attempted"),
    "emergency_contacts_attempted": ("已联系紧急联系人", "emergency contacts attempted"),
    "lawful_service": ("依法定顺序送达", "service in lawful order"),
    "union_notified": ("已通知工会", "union notified"),
}


def _stage_text(data: dict[str, Any]) -> tuple[str, str]:
    zh, en = STAGE_LABEL.get(str(data.get("stage")), (str(data.get("stage")), str(data.get("stage"))))
    n = data.get("overdue_days")
    days = "day" if n == 1 else "days"
    return f"▶ hrledger 升级：{zh}（逾期 {n} 个工作日）", f"▶ hrledger escalation: {en} ({n} overdue working {days})"


async def _play(log: Log, esc: Escalator, clock: SimClock, out: Callable[[str], None]) -> dict[str, Step]:
    """Post each scripted fact at its time and tick the escalator once a day; returns steps by event_id."""
    steps: dict[str, Step] = {}
    ticks = [
        datetime.combine(FIRST_DAY + timedelta(days=i), TICK_AT, TZ) for i in range((LAST_DAY - FIRST_DAY).days + 1)
    ]
    agenda: list[tuple[datetime, int, Step | None]] = [(t, 0, None) for t in ticks]
    agenda += [(s.when, 1, s) for s in SCRIPT]
    for n, (when, _, step) in enumerate(sorted(agenda, key=lambda a: (a[0], a[1]))):
        clock.now = when + timedelta(seconds=30)  # recorded half a minute after it happened
        if step is None:
            for res in (await esc.tick(when)).appended:
                entry = await log.store.get_entry(res.seq)
                assert entry is not None
                data = json.loads(entry.data or b"{}")
                out(f"  {when:%Y-%m-%d}  seq {res.seq:>2}  {_stage_text(data)[0]}  /  {_stage_text(data)[1][2:]}")
            continue
        event_id = f"demo-{n:03d}-{step.type}"
        doc = {
            "event_id": event_id,
            "type": step.type,
            "subject": step.subject,
            "occurred_at": step.when.isoformat(),
            "source": "hr-system",
            "data": step.data,
        }
        event = validate_envelope(doc, now=clock.now)
        validate_event(event)
        await log.append([event])
        steps[event_id] = step
    return steps


def _timeline(entries: list[StoredEntry], steps: dict[str, Step], out: Callable[[str], None]) -> None:
    out("")
    out("案件时间线 / Case timeline  (时间为上海时间 / times in Asia/Shanghai)")
    out(f"  {'seq':>3}  {'发生时间 occurred':<17}  {_pad('事件 event', 24)}  事实 / fact")
    for e in sorted(entries, key=lambda e: (e.occurred_at, e.seq)):
        when = datetime.fromisoformat(e.occurred_at).astimezone(TZ)
        step = steps.get(e.event_id)
        if e.type == STAGE_EVENT:
            zh, en = _stage_text(json.loads(e.data or b"{}"))
        elif step is not None:
            zh, en = step.zh, step.en
        else:
            zh, en = e.type, e.type
        out(f"  {e.seq:>3}  {when:%Y-%m-%d %H:%M}  {_pad(e.type, 24)}  {zh}")
        out(f"  {'':>3}  {'':17}  {'':24}  {en}")


def _checklist(case: dict[str, Any], title: str, out: Callable[[str], None]) -> None:
    ready = case["readiness"]["ready"]
    out("")
    out(title)
    out(
        f"  案件 case {case['case_id']}  状态 status {case['status']}  逾期 overdue {case['overdue_days']} "
        f"工作日 working days  返岗日 return day {case['return_day']}"
    )
    for s in case["stages"]:
        zh, en = STAGE_LABEL.get(s["stage"], (s["stage"], s["stage"]))
        out(f"  阶段 stage  {s['reached_on']}  {_pad(zh, 10)} {en:<30} seq {s['seq']}")
    width = max(_width(zh) for zh, _ in ITEM_LABEL.values()) + 2
    for item in case["readiness"]["items"]:
        zh, en = ITEM_LABEL.get(item["name"], (item["name"], item["name"]))
        mark = "✔" if item["ok"] else "✘"
        seqs = ", ".join(str(s) for s in item["seqs"]) or "—"
        out(f"  {mark} {_pad(zh, width)} {_pad(en, 38)} seq {seqs}")
        if not item["ok"]:
            out(f"      缺 missing: {item['missing']['zh']}")
            out(f"                  {item['missing']['en']}")
    if case.get("late_recorded"):
        out(f"  ⚠ 补录事实 late-recorded facts: seq {', '.join(str(f['seq']) for f in case['late_recorded'])}")
    out(
        "  结论 verdict: "
        + (
            "可以依法解除劳动合同（须由专人确认） / READY for a lawful termination (a person must confirm)"
            if ready
            else "尚未就绪 / NOT READY"
        )
    )


async def _bundle(log: Log, esc: Escalator, workdir: Path, now: datetime, out: Callable[[str], None]) -> bool:
    try:
        from ledger.services.evidence import build_subject_bundle
        from verifier.check import verify_bundle
        from verifier.note import parse_vkey
    except ImportError as exc:  # pragma: no cover - the bundle half is installed with the ledger
        out(f"\n（证据包功能不可用 / evidence bundles unavailable: {exc}）")
        return True
    data = await build_subject_bundle(
        log, subject=SUBJECT, start=date(2025, 3, 1), end=LAST_DAY, now=now, policy=esc.policy, projector=esc.projector
    )
    path = workdir / f"{SUBJECT}-bundle.zip"
    path.write_bytes(data)
    result = verify_bundle(data, parse_vkey(log.signer.vkey), name=path.name)
    out("")
    out("证据包离线验证 / Offline verification of the evidence bundle")
    out(f"  文件 file {path}")
    out(f"  公钥 vkey {log.signer.vkey}")
    for step in result.steps.values():
        out(
            f"  {'✔' if step.status == 'ok' else '✘' if step.status == 'failed' else '·'} "
            f"步骤 step {step.number}  {step.title}: {step.status}"
        )
        for failure in step.failures:
            out(f"      {failure}")
    out(f"  条目 entries {len(result.timeline)}  树大小 tree size {result.tree_size}")
    out(
        "  结果 result: "
        + ("全部校验通过 / every check holds" if result.ok else f"{len(result.failures)} 项失败 / failure(s)")
    )
    out(f"  自行复核 check it yourself: hrledger-verify {path} --vkey '{log.signer.vkey}'")
    return result.ok


async def run_demo(workdir: Path, out: Callable[[str], None] = print) -> int:
    """Play the seed case into a new ledger under ``workdir``; 0 when the case ends ready and verified."""
    dd = init_datadir(workdir / "ledger", origin="demo.hrledger.local/ledger")
    store = dd.open_store()
    await store.open()
    clock = SimClock(_at("2025-01-02", "08:00"))
    log = Log(store, dd.signer(), clock=clock, random_bytes=os.urandom)
    try:
        await log.start()
        esc = Escalator(log, DEFAULT_POLICY, clock=clock)
        await esc.start()
        out("hrledger 演示：张三（E-ZS）病假结束后未返岗 / demo: 张三 (E-ZS) does not return after sick leave")
        out(f"账本 ledger {dd.path}  (origin {dd.origin})")
        out("")
        out("逐日运行升级调度 / running the escalator day by day (6 June – 31 July 2025):")
        steps = await _play(log, esc, clock, out)
        await esc.catch_up()
        entries = await store.scan_entries(limit=10_000)
        _timeline(entries, steps, out)
        day8 = esc.projector.case(CASE, _at("2025-06-30", "12:00"))
        final_at = datetime.combine(LAST_DAY, time(12, 0), TZ)
        final = esc.projector.case(CASE, final_at)
        assert day8 is not None and final is not None
        _checklist(day8, "就绪清单 2025-06-30（逾期第 8 个工作日）/ Readiness checklist on 30 June (day 8)", out)
        _checklist(
            final,
            "就绪清单 2025-07-31（公告满 30 日）/ Readiness checklist on 31 July (30 days after publication)",
            out,
        )
        clock.now = final_at
        verified = await _bundle(log, esc, workdir, final_at, out)
        stages = sum(1 for e in entries if e.type == STAGE_EVENT)
        out(
            f"\n日志共 {len(entries)} 条，其中 hrledger 升级事件 {stages} 条 / {len(entries)} entries, "
            f"{stages} of them escalation events appended by hrledger"
        )
        return 0 if final["readiness"]["ready"] and verified else 1
    finally:
        await log.stop()
        await store.close()
