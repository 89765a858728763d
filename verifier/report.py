"""Renderers for a verification Result: plain text for the terminal and a printable A4 HTML page.

The HTML is self-contained (inline CSS, no scripts, no external resources), in Chinese and English, and
is also what the bundle builder stores as ``report.html``.
"""

from __future__ import annotations

from html import escape
from typing import Any

from verifier.result import FAILED, OK, Fact, Result

STATUS_ZH = {OK: "通过", FAILED: "失败", "not checked": "未检查"}
FACT_ZH = {"proven": "已证明", "proven (erased)": "已证明（个人数据已删除）", "FAILED": "失败"}


def _flags(f: Fact) -> str:
    flags = [f"stage {f.stage}"] if f.stage else []
    flags += ["late-recorded"] if f.late else []
    flags += ["erased"] if f.erased else []
    flags += ["context"] if f.role == "context" else []
    return ", ".join(flags)


def render_text(r: Result) -> str:
    out = [
        f"hrledger evidence bundle: {r.bundle}",
        f"origin {r.origin}  subject {r.subject}  period {r.period_from} to {r.period_to} ({r.time_zone})",
        f"tree size {r.tree_size}  root {r.root}",
        "",
    ]
    for s in r.steps.values():
        out.append(f"step {s.number}  {s.title}: {s.status}")
        out += [f"    {n}" for n in s.notes]
        out += [f"    FAIL {m}" for m in s.failures]
    out += ["", "timeline (occurred_at order):"]
    for f in r.timeline:
        out.append(
            f"  {f.occurred_at or '?':<32} seq {f.seq:<6} {f.type or '?':<28} {f.status:<16} "
            f"recorded {f.recorded_at or '?'}  TSA {f.tsa_time or '-'}  {_flags(f)}"
        )
        if f.summary:
            out.append(f"      {f.summary}")
    out.append("")
    if r.ok:
        out.append("RESULT: every check holds" + ("" if r.tsa_checked else " (timestamps not checked)"))
    else:
        out.append(f"RESULT: {len(r.failures)} failure(s)")
        out += [f"  {m}" for m in r.failures]
    return "\n".join(out) + "\n"


CSS = """
@page { size: A4; margin: 14mm 12mm; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
       "DejaVu Sans", sans-serif; font-size: 9pt; color: #111; margin: 0; }
h1 { font-size: 15pt; margin: 0 0 4pt; } h2 { font-size: 11.5pt; margin: 12pt 0 4pt;
  border-bottom: 1px solid #999; }
table { border-collapse: collapse; width: 100%; } thead { display: table-header-group; }
th, td { border: 1px solid #bbb; padding: 2pt 3pt; text-align: left; vertical-align: top; }
th { background: #eee; } tr { page-break-inside: avoid; }
td.mono, span.mono { font-family: "DejaVu Sans Mono", monospace; font-size: 7.5pt; word-break: break-all; }
.ok { color: #075e07; font-weight: bold; } .failed { color: #a00; font-weight: bold; }
.nc { color: #775500; } .late { background: #fff3cd; } .erased { color: #555; font-style: italic; }
.verdict { border: 2px solid; padding: 5pt; margin: 6pt 0; font-size: 11pt; }
.small { font-size: 7.5pt; color: #444; }
"""


def _hours(r: Result) -> str:
    return "?" if r.late_recorded_hours is None else f"{r.late_recorded_hours:g}"


def _cls(status: str) -> str:
    return {OK: "ok", FAILED: "failed"}.get(status, "nc")


def _case_html(case: Any) -> list[str]:
    cases = case.get("cases", [case]) if isinstance(case, dict) else case if isinstance(case, list) else []
    out = [
        "<h2>案件与解除条件清单（服务器计算，未经本核验） / Case and readiness (computed by the server, "
        "not verified here)</h2>"
    ]
    for c in cases:
        if not isinstance(c, dict):
            continue
        out.append(
            f"<p>case <b>{escape(str(c.get('case_id')))}</b> · status {escape(str(c.get('status')))} · "
            f"overdue working days {escape(str(c.get('overdue_days')))} · "
            f"return day {escape(str(c.get('return_day')))}</p>"
        )
        stages = [s for s in c.get("stages") or [] if isinstance(s, dict)]
        if stages:
            out.append("<table><thead><tr><th>阶段 Stage</th><th>达到日期 Reached on</th></tr></thead><tbody>")
            out += [
                f"<tr><td>{escape(str(s.get('stage')))}</td><td>{escape(str(s.get('reached_on')))}</td></tr>"
                for s in stages
            ]
            out.append("</tbody></table>")
        readiness = c.get("readiness")
        raw_items = readiness.get("items") if isinstance(readiness, dict) else None
        items = [i for i in raw_items or [] if isinstance(i, dict)]
        if items:
            out.append(
                "<table><thead><tr><th>条件 Item</th><th>满足 OK</th><th>依据 seqs</th>"
                "<th>缺少 Missing</th></tr></thead><tbody>"
            )
            for i in items:
                ok = i.get("ok") is True
                out.append(
                    f"<tr><td>{escape(str(i.get('name')))}</td><td class='{'ok' if ok else 'failed'}'>"
                    f"{'是 yes' if ok else '否 no'}</td><td>{escape(', '.join(map(str, i.get('seqs') or [])))}"
                    f"</td><td>{escape(str(i.get('missing') or ''))}</td></tr>"
                )
            out.append("</tbody></table>")
    return out


def render_html(r: Result) -> str:
    verdict = "全部核验通过 / Every check holds" if r.ok else f"核验失败 / {len(r.failures)} failure(s)"
    h: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>证据包核验报告 Evidence bundle report {escape(str(r.subject))}</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>证据包核验报告 / Evidence bundle verification report</h1>",
        f"<div class='verdict {'ok' if r.ok else 'failed'}'>{escape(verdict)}"
        + ("" if r.tsa_checked else " — 时间戳未检查 / timestamps not checked")
        + "</div>",
        "<table><tbody>",
    ]
    rows = [
        ("当事人 Subject", r.subject),
        ("期间 Period", f"{r.period_from} – {r.period_to} ({r.time_zone})"),
        ("日志 Origin", r.origin),
        ("验证密钥 Verifier key", r.vkey),
        ("树大小 Tree size", r.tree_size),
        ("根哈希 Root hash", r.root),
        ("文件 Bundle", r.bundle),
    ]
    h += [f"<tr><th>{escape(k)}</th><td class='mono'>{escape(str(v))}</td></tr>" for k, v in rows]
    h += [
        "</tbody></table>",
        "<h2>核验步骤 / Verification steps</h2>",
        "<table><thead><tr><th>#</th><th>步骤 Step</th><th>结果 Result</th><th>说明 Details</th></tr></thead><tbody>",
    ]
    for s in r.steps.values():
        details = "<br>".join([escape(n) for n in s.notes] + [f"<b>{escape(m)}</b>" for m in s.failures])
        h.append(
            f"<tr><td>{s.number}</td><td>{escape(s.title_zh)}<br>{escape(s.title)}</td>"
            f"<td class='{_cls(s.status)}'>{escape(STATUS_ZH.get(s.status, s.status))}<br>{escape(s.status)}"
            f"</td><td>{details}</td></tr>"
        )
    h += [
        "</tbody></table>",
        "<h2>时间线（按发生时间） / Timeline (by time of occurrence)</h2>",
        "<table><thead><tr><th>发生 Occurred</th><th>seq</th><th>事件 Event</th><th>证明 Proof</th>"
        "<th>接收 Recorded</th><th>时间戳 TSA</th><th>标记 Flags</th></tr></thead><tbody>",
    ]
    for f in r.timeline:
        cls = "late" if f.late else "erased" if f.erased else ""
        event = escape(f.type or "?") + (f"<br><span class='small'>{escape(f.summary)}</span>" if f.summary else "")
        h.append(
            f"<tr class='{cls}'><td class='mono'>{escape(f.occurred_at or '?')}</td><td>{f.seq}</td>"
            f"<td>{event}</td><td class='{'failed' if f.problems else 'ok'}'>"
            f"{escape(FACT_ZH.get(f.status, f.status))}<br>{escape(f.status)}</td>"
            f"<td class='mono'>{escape(f.recorded_at or '?')}</td>"
            f"<td class='mono'>{escape(f.tsa_time or '—')}</td><td>{escape(_flags(f))}</td></tr>"
        )
    h.append("</tbody></table>")
    if r.case is not None:
        h += _case_html(r.case)
    h += [
        "<h2>说明 / Notes</h2><p class='small'>",
        "“已证明”表示该条目的叶子哈希经包含证明可还原出由日志密钥签名的检查点根哈希。"
        f"迟录：接收时间晚于发生时间 {_hours(r)} 小时以上。已删除：个人数据依法删除，叶子仍可证明。"
        "完整性依据清单声明（subject_seqs）。时间戳栏为第三方（TSA）证明该条目已入账的最晚时间。<br>",
        "“Proven” means the entry's leaf hash rebuilds, through its inclusion proof, the root of a checkpoint "
        f"signed by the log key. Late-recorded: received more than {_hours(r)} h after it occurred. "
        "Erased: personal data lawfully deleted, the leaf is still proven. "
        "Completeness rests on the manifest's subject_seqs. The TSA "
        "column is the time by which a third-party timestamp shows the entry was logged. Verify independently "
        "with <span class='mono'>hrledger-verify BUNDLE --vkey VKEY</span> (see VERIFY.md).</p>",
        "</body></html>",
    ]
    return "\n".join(h) + "\n"
