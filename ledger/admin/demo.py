"""``hrledger demo``: the seed case played into a fresh ledger, from the first fact to a verified bundle.

The story and its facts are in ``ledger.admin.demo_script``. A simulated clock moves day by day and the
real escalator ticks every day, so the stage events are real log entries. The checklists printed along
the way are the projector's answers at those instants; the last one is read from the bundle's own
``case.json``, so what the demo says and what the bundle holds cannot disagree.
"""

from __future__ import annotations

import io
import json
import os
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from ledger.admin.datadir import init_datadir
from ledger.admin.demo_script import CASE, SCRIPT, SUBJECT, TZ, Ref, Step, at
from ledger.core.entries import validate_envelope
from ledger.core.records import StoredEntry
from ledger.domain import DEFAULT_POLICY, Policy, validate_event
from ledger.domain.escalation import STAGE_EVENT, WITHDRAWN_EVENT
from ledger.domain.policy import LeaveRule
from ledger.domain.readiness import ITEM
from ledger.domain.termination import AFTER_ITEM
from ledger.log import Log
from ledger.services.escalator import Escalator
from ledger.services.notify import STAGE_LABEL

TICK_AT = time(11, 30)  # the daily evaluation, after the 09:00 + 2 h deadline
FIRST_DAY, LAST_DAY = date(2025, 6, 6), date(2025, 8, 20)
#: the seed company's rule book: sick leave needs a certificate, a day's notice, at most 15 days
POLICY: Policy = replace(
    DEFAULT_POLICY, leave_rules=(LeaveRule("sick", certificate=True, min_notice_days=1, max_days=15),)
)
CHECKPOINTS = (
    (at("2025-06-30", "12:00"), "就绪清单 2025-06-30（逾期第 8 个工作日）/ Readiness checklist on 30 June (day 8)"),
    (
        at("2025-07-22", "12:00"),
        "就绪清单 2025-07-22（家属报告事故，本案暂停）/ Readiness checklist on 22 July (family report: suspended)",
    ),
    (
        at("2025-08-07", "10:30"),
        "就绪清单 2025-08-07（审查后恢复，期限已过）/ Readiness checklist on 7 August (resumed, deadline passed)",
    ),
)


class SimClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _stage_text(type_: str, data: dict[str, Any]) -> tuple[str, str]:
    zh, en = STAGE_LABEL.get(str(data.get("stage")), (str(data.get("stage")), str(data.get("stage"))))
    if type_ == WITHDRAWN_EVENT:
        return f"▶ hrledger 撤回阶段：{zh}（{data.get('reason')}）", f"▶ hrledger withdrew: {en} ({data.get('reason')})"
    n = data.get("overdue_days")
    days = "day" if n == 1 else "days"
    return (
        f"▶ hrledger 升级：{zh}（逾期 {n} 个工作日，{data.get('reached_on')} 达到）",
        f"▶ hrledger escalation: {en} ({n} overdue working {days}, reached {data.get('reached_on')})",
    )


def _resolve(data: dict[str, Any], seqs: dict[str, int]) -> dict[str, Any]:
    return {k: seqs[v.label] if isinstance(v, Ref) else v for k, v in data.items()}


async def _play(log: Log, esc: Escalator, clock: SimClock, out: Callable[[str], None]) -> dict[str, Step]:
    """Post each scripted fact at its time and tick the escalator once a day; returns steps by event_id."""
    steps: dict[str, Step] = {}
    labels: dict[str, int] = {}
    ticks = [
        datetime.combine(FIRST_DAY + timedelta(days=i), TICK_AT, TZ) for i in range((LAST_DAY - FIRST_DAY).days + 1)
    ]
    agenda: list[tuple[datetime, int, Step | None]] = [(t, 0, None) for t in ticks]
    agenda += [(s.when, 1, s) for s in SCRIPT]
    for n, (when, _, step) in enumerate(sorted(agenda, key=lambda a: (a[0], a[1]))):
        clock.now = when + timedelta(seconds=30)  # recorded half a minute after it happened
        if step is None:
            result = await esc.tick(when)
            for res in [*result.withdrawn, *result.appended]:
                entry = await log.store.get_entry(res.seq)
                assert entry is not None
                zh, en = _stage_text(entry.type, json.loads(entry.data or b"{}"))
                out(f"  {when:%Y-%m-%d}  seq {res.seq:>2}  {zh}  /  {en[2:]}")
            continue
        event_id = f"demo-{n:03d}-{step.type}"
        doc = {
            "event_id": event_id,
            "type": step.type,
            "subject": step.subject,
            "occurred_at": step.when.isoformat(),
            "source": "hr-system",
            "data": _resolve(step.data, labels),
        }
        event = validate_envelope(doc, now=clock.now)
        validate_event(event)
        (res,) = await log.append([event])
        if step.label:
            labels[step.label] = res.seq
        steps[event_id] = step
    return steps


def _timeline(entries: list[StoredEntry], steps: dict[str, Step], out: Callable[[str], None]) -> None:
    out("")
    out("案件时间线 / Case timeline  (时间为上海时间 / times in Asia/Shanghai)")
    out(f"  {'seq':>3}  {'发生时间 occurred':<17}  {_pad('事件 event', 28)}  事实 / fact")
    for e in sorted(entries, key=lambda e: (e.occurred_at, e.seq)):
        when = datetime.fromisoformat(e.occurred_at.replace("Z", "+00:00")).astimezone(TZ)
        step = steps.get(e.event_id)
        if e.type in (STAGE_EVENT, WITHDRAWN_EVENT):
            zh, en = _stage_text(e.type, json.loads(e.data or b"{}"))
        elif step is not None:
            zh, en = step.zh, step.en
        else:
            zh, en = e.type, e.type
        out(f"  {e.seq:>3}  {when:%Y-%m-%d %H:%M}  {_pad(e.type, 28)}  {zh}")
        out(f"  {'':>3}  {'':17}  {'':28}  {en}")


def _items(items: list[dict[str, Any]], out: Callable[[str], None]) -> None:
    labels = {**ITEM, **AFTER_ITEM}
    width = max(_width(spec.zh) for spec in labels.values()) + 2
    for item in items:
        spec = labels.get(item["name"])
        zh, en = (spec.zh, spec.en) if spec else (item["name"], item["name"])
        seqs = ", ".join(str(s) for s in item["seqs"]) or "—"
        due = f"  (期限 due {item['deadline'][:10]})" if item.get("deadline") else ""
        out(f"  {'✔' if item['ok'] else '✘'} {_pad(zh, width)} {en}  seq {seqs}{due}")
        if not item["ok"]:
            out(f"      缺 missing: {item['missing']['zh']}")
            out(f"                  {item['missing']['en']}")


def _checklist(case: dict[str, Any], title: str, out: Callable[[str], None]) -> None:
    out("")
    out(title)
    out(
        f"  案件 case {case['case_id']}  状态 status {case['status']}  逾期 overdue {case['overdue_days']} "
        f"工作日 working days  返岗日 return day {case['return_day']}"
        + (f"  暂停 suspended ({len(case['suspended_days'])} 日 days held)" if case["suspended"] else "")
    )
    for s in case["stages"]:
        zh, en = STAGE_LABEL.get(s["stage"], (s["stage"], s["stage"]))
        out(f"  阶段 stage  {s['reached_on']}  {_pad(zh, 10)} {en:<30} seq {s['seq']}")
    _items(case["readiness"]["items"], out)
    for flag in case.get("leave_flags", []):
        out(f"  ⚑ 请假规则 leave rule: {flag['zh']} / {flag['en']}")
    if case.get("late_recorded"):
        out(f"  ⚠ 补录事实 late-recorded facts: seq {', '.join(str(f['seq']) for f in case['late_recorded'])}")
    out(
        "  结论 verdict: "
        + (
            "可以依法解除劳动合同（须由专人确认） / READY for a lawful termination (a person must confirm)"
            if case["readiness"]["ready"]
            else "尚未就绪 / NOT READY"
        )
    )


def _after(case: dict[str, Any], out: Callable[[str], None]) -> bool:
    """The termination and the checklist after it, from the bundle's case.json; True when both hold."""
    out("")
    out(f"证据包中的案件（case.json，截至 {case['as_of']}）/ The case as the bundle holds it (as of {case['as_of']})")
    term, after = case.get("termination"), case.get("after_termination")
    if term is None or after is None:
        out("  ✘ 未见解除记录 / no termination on record")
        return False
    ready = term["ready_when_recorded"]
    out(
        f"  解除 termination seq {term['seq']}  生效 effective {term['effective_on']}  "
        + ("解除时清单已就绪 / recorded while ready" if ready else "解除时清单未就绪 / recorded while NOT ready")
    )
    for missing in term["missing_when_recorded"]:
        out(f"      当时缺 missing then: {missing['label']['zh']} / {missing['label']['en']}")
    out("  解除后清单 / after the termination:")
    _items(after["items"], out)
    done = bool(ready and after["complete"])
    out("  结论 verdict: " + ("解除程序完整 / the termination is complete" if done else "尚有缺项 / items missing"))
    return done


async def _bundle(log: Log, esc: Escalator, workdir: Path, now: datetime, out: Callable[[str], None]) -> bool:
    from ledger.services.evidence import build_subject_bundle
    from verifier.check import verify_bundle
    from verifier.note import parse_vkey

    data = await build_subject_bundle(
        log, subject=SUBJECT, start=date(2025, 3, 1), end=LAST_DAY, now=now, policy=esc.policy, projector=esc.projector
    )
    path = workdir / f"{SUBJECT}-bundle.zip"
    path.write_bytes(data)
    result = verify_bundle(data, parse_vkey(log.signer.vkey), name=path.name)
    claim = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("case.json"))
    case = next((c for c in claim.get("cases", []) if c["case_id"] == CASE), None)
    complete = case is not None and _after(case, out)
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
    return bool(result.ok and complete)


async def run_demo(workdir: Path, out: Callable[[str], None] = print) -> int:
    """Play the seed case into a new ledger under ``workdir``; 0 when the termination the bundle holds was
    ready when recorded, its after-checklist complete, and the bundle verifies."""
    dd = init_datadir(workdir / "ledger", origin="demo.hrledger.local/ledger")
    store = dd.open_store()
    await store.open()
    clock = SimClock(at("2025-01-02", "08:00"))
    log = Log(store, dd.signer(), clock=clock, random_bytes=os.urandom)
    try:
        await log.start()
        esc = Escalator(log, POLICY, clock=clock)
        await esc.start()
        out("hrledger 演示：张三（E-ZS）病假结束后未返岗 / demo: 张三 (E-ZS) does not return after sick leave")
        out(f"账本 ledger {dd.path}  (origin {dd.origin})")
        out("")
        out(f"逐日运行升级调度 / running the escalator day by day ({FIRST_DAY} – {LAST_DAY}):")
        steps = await _play(log, esc, clock, out)
        await esc.catch_up()
        entries = await store.scan_entries(limit=10_000)
        _timeline(entries, steps, out)
        for when, title in CHECKPOINTS:
            case = esc.projector.case(CASE, when)
            assert case is not None
            _checklist(case, title, out)
        final_at = datetime.combine(LAST_DAY, time(12, 0), TZ)
        clock.now = final_at
        verified = await _bundle(log, esc, workdir, final_at, out)
        stages = sum(1 for e in entries if e.type in (STAGE_EVENT, WITHDRAWN_EVENT))
        out(
            f"\n日志共 {len(entries)} 条，其中 hrledger 升级事件 {stages} 条 / {len(entries)} entries, "
            f"{stages} of them escalation events appended by hrledger"
        )
        return 0 if verified else 1
    finally:
        await log.stop()
        await store.close()
