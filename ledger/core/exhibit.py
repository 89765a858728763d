"""report.html: the case as a court exhibit (SPEC section 5), printable, in Chinese and English.

An evidence catalogue (证据目录: each item, what it proves, its seq and proof status), the server's case and
readiness checklist, and the timeline. It is the producer's presentation: it is drawn from the verifier's
own result on the bundle (proof status, data state) and from case.json (marked as the server's claim), and
says that the bundle is checked with ``hrledger-verify``, not with this page. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

from verifier.report import CSS, DATA_ZH, FACT_ZH
from verifier.result import Fact, Result
from verifier.text import html

#: what an entry of each type shows, in the catalogue (Chinese / English)
PROVES: dict[str, tuple[str, str]] = {
    "employee.enrolled": ("员工信息及联系方式登记", "the employee and their contacts on file"),
    "employee.contacts_updated": ("联系方式更新", "the contacts on file, as updated"),
    "policy.adopted": ("规章制度经民主程序通过", "the rule book adopted, and how"),
    "policy.acknowledged": ("员工确认知悉规章制度", "the employee acknowledged the rule book"),
    "calendar.adopted": ("工作日历（节假日与调休）", "the working-day calendar of a year"),
    "leave.requested": ("请假申请", "a leave requested"),
    "leave.approved": ("准假", "the leave approved"),
    "leave.extended": ("延长假期", "the leave extended"),
    "leave.rejected": ("不准假", "the leave refused"),
    "leave.cancelled": ("撤销请假", "the leave cancelled"),
    "attendance.clock_in": ("上班打卡", "the employee clocked in"),
    "attendance.clock_out": ("下班打卡", "the employee clocked out"),
    "contact.attempted": ("联系尝试", "an attempt to reach the employee or an emergency contact"),
    "contact.verified": ("联系方式核实", "a contact verified"),
    "notice.drafted": ("通知书草拟", "a notice drafted from the case facts"),
    "notice.issued": ("通知书发出", "a notice issued"),
    "notice.delivered": ("送达", "a notice delivered"),
    "notice.delivery_failed": ("送达失败", "a delivery that failed"),
    "notice.refused": ("拒收（留置送达）", "a notice refused and left (留置送达)"),
    "union.notified": ("通知工会", "the union notified"),
    "absence.reported": ("缺勤原因报告", "a reason for the absence reported"),
    "absence.assessed": ("缺勤原因认定", "a reported reason assessed"),
    "employment.terminated": ("解除劳动合同", "the employment terminated"),
    "escalation.stage_entered": ("升级阶段（系统判定）", "an escalation stage reached (hrledger's decision)"),
    "escalation.stage_withdrawn": ("撤回升级阶段", "a stage withdrawn after later facts"),
    "ledger.erased": ("个人数据删除记录", "an erasure of personal data (PIPL art. 47)"),
}


def _proves(fact: Fact) -> str:
    zh, en = PROVES.get(fact.type or "", ("", fact.type or "?"))
    return f"{zh} / {en}" if zh else en


def _catalogue(result: Result) -> list[str]:
    out = [
        "<h2>证据目录 / Evidence catalogue</h2>",
        "<table><thead><tr><th>序号 No.</th><th>证据 Item</th><th>证明事项 What it proves</th><th>seq</th>"
        "<th>证明状态 Proof</th><th>数据 Data</th></tr></thead><tbody>",
    ]
    for number, f in enumerate(sorted(result.timeline, key=lambda f: f.seq), start=1):
        item = f"{html(f.type or '?')} · {html(f.subject or '?')} · {html(f.occurred_at or '?')}"
        if f.summary:
            item += f"<br><span class='small'>{html(f.summary)}</span>"
        out.append(
            f"<tr><td>{number}</td><td>{item}</td><td>{html(_proves(f))}</td><td>{f.seq}</td>"
            f"<td class='{'failed' if f.problems else 'ok'}'>{html(FACT_ZH.get(f.status, f.status))} {html(f.status)}"
            f"</td><td>{html(DATA_ZH.get(f.data, f.data))} {html(f.data)}</td></tr>"
        )
    out.append("</tbody></table>")
    return out


def _case(case: Any) -> list[str]:
    cases = case.get("cases", [case]) if isinstance(case, dict) else []
    out = [
        "<h2>案件与解除条件清单（服务器计算） / Case and readiness (computed by the server)</h2>",
        "<p class='small'>以下为服务器根据日志计算的结论（case.json），不是核验结果。"
        "<br>What the server computed from the log (case.json): a claim, not a verification result.</p>",
    ]
    for c in cases:
        if not isinstance(c, dict):
            continue
        out.append(
            f"<p>case <b>{html(c.get('case_id'))}</b> · status {html(c.get('status'))} · overdue working days "
            f"{html(c.get('overdue_days'))} · return day {html(c.get('return_day'))}</p>"
        )
        stages = [s for s in c.get("stages") or [] if isinstance(s, dict)]
        if stages:
            out.append("<table><thead><tr><th>阶段 Stage</th><th>达到日期 Reached on</th></tr></thead><tbody>")
            out += [f"<tr><td>{html(s.get('stage'))}</td><td>{html(s.get('reached_on'))}</td></tr>" for s in stages]
            out.append("</tbody></table>")
        readiness = c.get("readiness")
        items = [
            i for i in (readiness.get("items") if isinstance(readiness, dict) else None) or [] if isinstance(i, dict)
        ]
        if items:
            out.append(
                "<table><thead><tr><th>条件 Item</th><th>满足 OK</th><th>依据 seqs</th><th>缺少 Missing</th></tr>"
                "</thead><tbody>"
            )
            for i in items:
                ok = i.get("ok") is True
                missing = i.get("missing")
                shown = " / ".join(str(v) for v in missing.values()) if isinstance(missing, dict) else missing or ""
                out.append(
                    f"<tr><td>{html(i.get('name'))}</td><td class='{'ok' if ok else 'failed'}'>"
                    f"{'是 yes' if ok else '否 no'}</td><td>{html(', '.join(map(str, i.get('seqs') or [])))}</td>"
                    f"<td>{html(shown)}</td></tr>"
                )
            out.append("</tbody></table>")
    return out


def render_exhibit(result: Result, case: Any) -> str:
    """The printable report.html of a bundle, from the verifier's result on it and the server's case."""
    h = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>证据材料 Evidence {html(result.subject)}</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>证据材料 / Evidence exhibit</h1>",
        "<div class='verdict'>本页为证据包制作方的呈现，不是证据。请用 hrledger-verify 核验证据包（见 VERIFY.md）。"
        "<br>This page is the producer's presentation, not evidence. Verify the bundle with hrledger-verify "
        "(see VERIFY.md).</div>",
        "<table><tbody>",
    ]
    rows = [
        ("当事人 Subject", result.subject),
        ("期间 Period", f"{result.period_from} – {result.period_to} ({result.time_zone})"),
        ("日志 Origin", result.origin),
        ("验证密钥 Verifier key", result.vkey),
        ("树大小 Tree size", result.tree_size),
        ("根哈希 Root hash", result.root),
        ("生成时间 Built at", f"{result.built_at} (latest: {result.latest})"),
    ]
    h += [f"<tr><th>{html(k)}</th><td class='mono'>{html(v)}</td></tr>" for k, v in rows]
    h.append("</tbody></table>")
    h += _catalogue(result)
    if case is not None:
        h += _case(case)
    h += [
        "<h2>时间线 / Timeline</h2><table><thead><tr><th>发生 Occurred</th><th>seq</th><th>当事人 Subject</th>"
        "<th>事件 Event</th><th>接收 Recorded</th><th>标记 Flags</th></tr></thead><tbody>",
    ]
    for f in result.timeline:
        flags = ", ".join(x for x in ("late-recorded" if f.late else "", f.data if f.data != "present" else "") if x)
        h.append(
            f"<tr class='{'late' if f.late else ''}'><td class='mono'>{html(f.occurred_at or '?')}</td><td>{f.seq}</td>"
            f"<td>{html(f.subject or '?')}</td><td>{html(f.type or '?')}</td>"
            f"<td class='mono'>{html(f.recorded_at or '?')}</td><td>{html(flags)}</td></tr>"
        )
    h += ["</tbody></table>", "<h2>本包的证明范围 / What the bundle proves</h2><ul>"]
    h += [f"<li>{html(line)}</li>" for line in result.limits]
    h += ["</ul>", "</body></html>"]
    return "\n".join(h) + "\n"
