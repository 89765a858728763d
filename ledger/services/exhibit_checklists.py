"""The readiness checklists of the court exhibit, as the server computed them (``case.json``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from ledger.services.exhibit_parts import Row, both, by_type, clean, head
from ledger.services.labels import label


def _missing(item: Mapping[str, Any]) -> str:
    missing = item.get("missing")
    if isinstance(missing, Mapping):
        return f"{clean(missing.get('zh'))}<br><span class='en'>{clean(missing.get('en'))}</span>"
    return clean(missing) if missing else ""


def _after(after: Any) -> list[str]:
    """The second checklist, kept after a termination (劳动合同法 art. 50), each item with its deadline."""
    if not isinstance(after, Mapping):
        return []
    done = ("已完成", "complete") if after.get("complete") else ("尚未完成", "not complete")
    out = [
        f"<h3>解除后的事项 After the termination（生效 effective <span class='t'>{clean(after.get('effective_on'))}"
        f"</span>）：{both(done)}</h3>",
        head("事项 Item", "完成 Done", "依据 seq", "缺少 Missing"),
    ]
    for i in after.get("items") or []:
        if isinstance(i, Mapping):
            ok = i.get("ok") is True
            seqs = ", ".join(clean(s) for s in i.get("seqs") or [])
            out.append(
                f"<tr><td>{both(label('item', i.get('name')))}</td><td class='{'ok' if ok else 'failed'}'>"
                f"{'是 yes' if ok else '否 no'}</td><td>{seqs}</td><td>{_missing(i)}</td></tr>"
            )
    return [*out, "</tbody></table>"]


def checklists(case: Any, rows: Sequence[Row], tz: ZoneInfo) -> list[str]:
    out = [
        "<h2>五、解除条件清单（服务器依日志计算，核验程序不核验此项）/ Readiness (computed by the server from the log; "
        "not checked by the verifier)</h2>"
    ]
    cases = case.get("cases") if isinstance(case, Mapping) else None
    if not isinstance(cases, list) or not cases:
        return [*out, "<p>证据包中没有服务器计算的案件 / the bundle holds no case computed by the server.</p>"]
    for c in cases:
        if not isinstance(c, Mapping):
            continue
        readiness = c.get("readiness")
        ready: Mapping[str, Any] = readiness if isinstance(readiness, Mapping) else {}
        verdict = (
            ("齐备（仍须专人确认）", "ready (a person must still confirm)")
            if ready.get("ready")
            else ("尚未齐备", "NOT ready")
        )
        stages = "；".join(
            f"{clean(label('stage', s.get('stage'))[0])} {clean(s.get('reached_on'))}"
            for s in c.get("stages") or []
            if isinstance(s, Mapping)
        )
        out += [
            f"<h3>{clean(c.get('case_id'))}：{both(verdict)}</h3>",
            f"<p>状态 status {both(label('status', c.get('status')))} · 应返岗日 return day "
            f"<span class='t'>{clean(c.get('return_day'))}</span> · 逾期工作日 overdue working days "
            f"{clean(c.get('overdue_days'))}</p>",
            *([f"<p>阶段 stages: {stages}</p>"] if stages else []),
            head("条件 Item", "满足 Met", "依据 seq", "缺少 Missing"),
        ]
        for i in ready.get("items") or []:
            if not isinstance(i, Mapping):
                continue
            ok = i.get("ok") is True
            seqs = ", ".join(clean(s) for s in i.get("seqs") or [])
            out.append(
                f"<tr><td>{both(label('item', i.get('name')))}</td><td class='{'ok' if ok else 'failed'}'>"
                f"{'是 yes' if ok else '否 no'}</td><td>{seqs}</td><td>{_missing(i)}</td></tr>"
            )
        out.append("</tbody></table>")
        out += _after(c.get("after_termination"))
    for t in by_type(rows, "employment.terminated"):
        d = t["data"]
        out.append(
            f"<p>解除劳动合同 termination: 自 {clean(d.get('effective_on'))} 起 · 通知 {clean(d.get('notice_id'))} · "
            f"确认人 confirmed by <b>{clean(d.get('confirmed_by'))}</b> · seq {t['seq']}</p>"
        )
    return out
