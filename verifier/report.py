"""The verifier's own reports of a Result: plain text for the terminal and a printable A4 HTML page.

Both are built from verified facts only (nothing of the producer's report.html or case.json), and every
piece of text from the bundle passes through ``verifier.text`` first. The HTML is self-contained (inline
CSS, no scripts, no external resources), in Chinese and English.
"""

from __future__ import annotations

from verifier.result import FAILED, OK, Fact, Result
from verifier.text import html, shown

STATUS_ZH = {OK: "通过", FAILED: "失败", "not checked": "未检查"}
FACT_ZH = {"proven": "已证明", "FAILED": "失败"}
DATA_ZH = {"present": "有", "withheld": "未提供", "erased": "已删除", "erasure pending": "待删除"}


def _flags(f: Fact) -> str:
    flags = [f"stage {f.stage}"] if f.stage else []
    flags += ["late-recorded"] if f.late else []
    flags += [f"data {f.data}"] if f.data != "present" else []
    flags += [f"erased by seq {f.erased_by}"] if f.erased_by is not None else []
    flags += ["company"] if f.chain == "company" else []
    flags += ["outside the period"] if f.in_period is False and f.chain != "company" else []
    return ", ".join(flags)


def verdict(r: Result) -> str:
    if r.ok:
        return "RESULT: every check holds; completeness shown" + ("" if r.tsa_checked else " (timestamps not checked)")
    failures = f"{len(r.failures)} failure(s)"
    return f"RESULT: {failures}" + ("" if r.complete else "; completeness is not shown")


def render_text(r: Result) -> str:
    out = [
        f"hrledger evidence bundle: {r.bundle}",
        f"subject {r.subject}  period {r.period_from} to {r.period_to} ({r.time_zone})  origin {r.origin}",
        f"tree size {r.tree_size}  root {r.root}  built_at {r.built_at}  latest {r.latest}",
        "",
    ]
    for s in r.steps.values():
        out.append(f"step {s.number}  {s.title}: {s.status}")
        out += [f"    {n}" for n in s.notes]
        out += [f"    FAIL {m}" for m in s.failures]
    out += ["", "timeline (occurred_at order):"]
    for f in r.timeline:
        out.append(
            f"  {f.occurred_at or '?':<32} seq {f.seq:<6} {f.subject or '?':<12} {f.type or '?':<28} {f.status:<7} "
            f"recorded {f.recorded_at or '?'}  TSA {f.tsa_time or '-'}  {_flags(f)}"
        )
        if f.summary:
            out.append(f"      {f.summary}")
    if r.receipts:
        out += ["", "receipts:"]
        out += [
            f"  {x.name}: {x.outcome} (seq {x.seq}, {x.subject}, tree size {x.tree_size}) {x.detail}"
            for x in r.receipts
        ]
    out += ["", "what the bundle shows, and what it alone cannot prove:"]
    out += [f"  - {line}" for line in r.limits]
    out += ["", verdict(r)]
    if not r.ok:
        out += [f"  {m}" for m in r.failures]
    # One line per line, each made safe: bundle text can break no line and hide nothing.
    return "\n".join(shown(line) for line in out) + "\n"


CSS = """
@page { size: A4; margin: 14mm 12mm; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
       "WenQuanYi Zen Hei", "DejaVu Sans", sans-serif; font-size: 9pt; color: #111; margin: 0; }
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


def _cls(status: str) -> str:
    return {OK: "ok", FAILED: "failed"}.get(status, "nc")


def render_html(r: Result) -> str:
    zh = "全部核验通过，记录完整 / Every check holds; completeness shown" if r.ok else f"核验未通过 / {verdict(r)[8:]}"
    h: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>证据包核验报告 Evidence bundle report {html(r.subject)}</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>证据包核验报告 / Evidence bundle verification report</h1>",
        f"<div class='verdict {'ok' if r.ok else 'failed'}'>{html(zh)}"
        + ("" if r.tsa_checked else " — 时间戳未检查 / timestamps not checked")
        + "</div>",
        "<p class='small'>本报告由核验程序根据已核验的条目生成，不含证据包制作方的 report.html 或 case.json。"
        "<br>Built by the verifier from the verified entries only; nothing of the producer's report.html or "
        "case.json is shown.</p>",
        "<table><tbody>",
    ]
    rows = [
        ("当事人 Subject", r.subject),
        ("期间 Period", f"{r.period_from} – {r.period_to} ({r.time_zone})"),
        ("日志 Origin", r.origin),
        ("验证密钥 Verifier key", r.vkey),
        ("树大小 Tree size", r.tree_size),
        ("根哈希 Root hash", r.root),
        ("生成时间 Built at", f"{r.built_at} (latest: {r.latest})"),
        ("文件 Bundle", r.bundle),
    ]
    h += [f"<tr><th>{html(k)}</th><td class='mono'>{html(v)}</td></tr>" for k, v in rows]
    h += [
        "</tbody></table>",
        "<h2>核验步骤 / Verification steps</h2>",
        "<table><thead><tr><th>#</th><th>步骤 Step</th><th>结果 Result</th><th>说明 Details</th></tr></thead><tbody>",
    ]
    for s in r.steps.values():
        details = "<br>".join([html(n) for n in s.notes] + [f"<b>{html(m)}</b>" for m in s.failures])
        h.append(
            f"<tr><td>{s.number}</td><td>{html(s.title_zh)}<br>{html(s.title)}</td>"
            f"<td class='{_cls(s.status)}'>{html(STATUS_ZH.get(s.status, s.status))}<br>{html(s.status)}"
            f"</td><td>{details}</td></tr>"
        )
    h += [
        "</tbody></table>",
        "<h2>时间线（按发生时间） / Timeline (by time of occurrence)</h2>",
        "<table><thead><tr><th>发生 Occurred</th><th>seq</th><th>当事人 Subject</th><th>事件 Event</th>"
        "<th>证明 Proof</th><th>数据 Data</th><th>接收 Recorded</th><th>时间戳 TSA</th><th>标记 Flags</th>"
        "</tr></thead><tbody>",
    ]
    for f in r.timeline:
        cls = "late" if f.late else "erased" if f.data == "erased" else ""
        event = html(f.type or "?") + (f"<br><span class='small'>{html(f.summary)}</span>" if f.summary else "")
        h.append(
            f"<tr class='{cls}'><td class='mono'>{html(f.occurred_at or '?')}</td><td>{f.seq}</td>"
            f"<td>{html(f.subject or '?')}</td><td>{event}</td><td class='{'failed' if f.problems else 'ok'}'>"
            f"{html(FACT_ZH.get(f.status, f.status))}<br>{html(f.status)}</td>"
            f"<td>{html(DATA_ZH.get(f.data, f.data))}<br>{html(f.data)}</td>"
            f"<td class='mono'>{html(f.recorded_at or '?')}</td>"
            f"<td class='mono'>{html(f.tsa_time or '—')}</td><td>{html(_flags(f))}</td></tr>"
        )
    h.append("</tbody></table>")
    if r.receipts:
        h.append("<h2>回执 / Receipts</h2><table><tbody>")
        h += [
            f"<tr><td>{html(x.name)}</td><td>{html(x.outcome)}</td><td>seq {html(x.seq)} · {html(x.subject)} · "
            f"tree size {html(x.tree_size)}</td><td>{html(x.detail)}</td></tr>"
            for x in r.receipts
        ]
        h.append("</tbody></table>")
    h.append("<h2>本包能证明与不能单独证明的事项 / What the bundle shows, and what it alone cannot prove</h2><ul>")
    h += [f"<li>{html(line)}</li>" for line in r.limits]
    h += [
        "</ul><p class='small'>迟录：接收时间晚于发生时间超过案件政策规定的小时数"
        f"（{html(r.late_recorded_hours)}）。“已证明”表示条目的叶子经包含证明还原出由日志密钥签名的检查点根哈希。"
        "<br>Late-recorded: received more than the case policy's hours "
        f"({html(r.late_recorded_hours)}) after it occurred. “Proven”: the entry's leaf rebuilds, through its "
        "inclusion proof, the root of a checkpoint signed by the log key.</p>",
        "</body></html>",
    ]
    return "\n".join(h) + "\n"
