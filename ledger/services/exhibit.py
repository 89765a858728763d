"""The bundle's ``report.html`` as a court exhibit (SPEC section 5): pure rendering, no I/O.

Input: the verifier's result as plain data (``verifier.result.Result.to_json()``: the checks, the proof
status of each entry and the server's case from ``case.json``) and the bundled entries themselves. Output:
one self-contained HTML document (inline CSS, no script, no external resource), Chinese and English,
printable on A4, with

1. the two answers kept apart: whether the proofs hold (cryptography, checked by the verifier) and whether
   the case is ready for a lawful termination (the server's reading of the log, which the verifier does not
   check): "the proofs hold" is never "the case is ready";
2. the evidence catalogue (证据目录): number, name, source, what it proves, seq and proof status;
3. the narrative of the case in the company's time zone (Beijing time), every event, stage and item named in
   Chinese and English;
4. each notice with its recipients, channels, deadline, document digest, the draft it came from, and its
   delivery evidence (tracking numbers, message ids, who received it, where), failures and refusals;
5. the contacts on file and the numbers and addresses tried;
6. the readiness checklist(s) as the server computed them, and a termination with who confirmed it.

Every value from the log is untrusted text: it is HTML-escaped, and control, format and bidirectional
characters are shown as ``\\u....`` so that no entry can reorder or hide what is printed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from ledger.core.bundle import BundleEntry
from ledger.services.exhibit_checklists import checklists
from ledger.services.exhibit_parts import Row, both, by_type, cells, clean, head, time_of, verdict
from ledger.services.exhibit_text import CSS, PROVES, STATUS
from ledger.services.labels import label, summary


def _rows(entries: Sequence[BundleEntry], verification: Mapping[str, Any]) -> list[Row]:
    status = {int(f["seq"]): f for f in verification.get("timeline") or [] if isinstance(f, dict) and "seq" in f}
    rows = []
    for e in entries:
        try:
            leaf = json.loads(e.entry.decode("utf-8"))
            data = json.loads(e.data.decode("utf-8")) if e.data is not None else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            leaf, data = {}, None
        fact = status.get(e.seq, {})
        rows.append({"seq": e.seq, "leaf": leaf, "data": data if isinstance(data, dict) else None, "check": fact})
    rows.sort(key=lambda r: (str(r["leaf"].get("occurred_at", "")), r["seq"]))
    return rows


def _proof(row: Row) -> str:
    check = row["check"]
    if not check:
        return f'<span class="nc">{both(STATUS["unchecked"])}</span>'
    if check.get("problems"):
        return f'<span class="failed">{both(STATUS["failed"])}</span>'
    state = check.get("data", "present")  # present, withheld, erased, erasure pending (verifier v2)
    key = {"erased": "erased", "withheld": "withheld", "erasure pending": "pending"}.get(str(state), "proven")
    if check.get("erased"):  # verifier v1
        key = "erased"
    extra = f'<br><span class="small">TSA {clean(check["tsa_time"])}</span>' if check.get("tsa_time") else ""
    late = f'<br><span class="late-flag">{both(STATUS["late"])}</span>' if check.get("late") else ""
    return f'<span class="ok">{both(STATUS[key])}</span>{extra}{late}'


def _name(row: Row) -> str:
    zh, en = summary(str(row["leaf"].get("type")), row["data"])
    event = label("event", row["leaf"].get("type"))
    text = f"{clean(event[0])}：{clean(zh)}" if zh else clean(event[0])
    text_en = f"{clean(event[1])}: {clean(en)}" if en else clean(event[1])
    return f'{text}<br><span class="en">{text_en}</span>'


def catalogue(rows: Sequence[Row], tz: ZoneInfo) -> list[str]:
    out = [
        "<h2>一、证据目录 / Evidence catalogue</h2>",
        head(
            "序号<br>No.",
            "证据名称<br>Evidence",
            "形成时间<br>Occurred",
            "来源<br>Source",
            "证明目的<br>What it proves",
            "seq",
            "证明状态<br>Proof",
            css="catalogue",
        ),
    ]
    for n, row in enumerate(rows, 1):
        proves = PROVES.get(str(row["leaf"].get("type")), ("记录在案的事实", "a fact on record"))
        out.append(
            f"<tr><td>{n}</td><td>{_name(row)}</td><td>{time_of(row['leaf'].get('occurred_at'), tz)}</td>"
            f"<td class='mono'>{clean(row['leaf'].get('source'))}</td><td>{both(proves)}</td>"
            f"<td>{row['seq']}</td><td>{_proof(row)}</td></tr>"
        )
    out.append("</tbody></table>")
    return out


def narrative(rows: Sequence[Row], subject: str, tz: ZoneInfo) -> list[str]:
    out = [f"<h2>二、案件经过（{clean(str(tz))} 时间）/ What happened ({clean(str(tz))} time)</h2><ol class='story'>"]
    for row in rows:
        if row["leaf"].get("subject") not in (subject,):
            continue
        zh, en = summary(str(row["leaf"].get("type")), row["data"])
        event = label("event", row["leaf"].get("type"))
        out.append(
            f"<li>{time_of(row['leaf'].get('occurred_at'), tz)} <b>{clean(event[0])}</b> {clean(zh)}"
            f" <span class='small'>(seq {row['seq']})</span><br><span class='en'>{clean(event[1])}"
            f"{': ' + clean(en) if en else ''}</span></li>"
        )
    out.append("</ol>")
    return out


def notices(rows: Sequence[Row], tz: ZoneInfo) -> list[str]:
    issued = by_type(rows, "notice.issued")
    drafts = {r["seq"]: r for r in by_type(rows, "notice.drafted")}
    outcomes = by_type(rows, "notice.delivered", "notice.delivery_failed", "notice.refused")
    out = ["<h2>三、文书及送达 / Notices and their service</h2>"]
    if not issued:
        return [*out, "<p>本证据包中没有发出文书的记录。/ No notice issued in this bundle.</p>"]
    for r in issued:
        d = r["data"]
        kind = label("notice", d.get("kind"))
        channels = "、".join(clean(label("channel", c)[0]) for c in d.get("channels") or [])
        channels_en = ", ".join(clean(label("channel", c)[1]) for c in d.get("channels") or [])
        deadline = ""
        if d.get("return_within_days") is not None:
            days = clean(d["return_within_days"])
            deadline = f"送达之日起 {days} 日内 / within {days} days of service"
        elif d.get("return_by"):
            deadline = f"{time_of(d['return_by'], tz)} 前 / by"
        draft = drafts.get(d.get("draft_seq")) if isinstance(d.get("draft_seq"), int) else None
        match = ""
        if draft is not None:
            same = draft["data"].get("document_digest") == d.get("document_digest")
            match = (
                "（与起草文书一致 / matches the draft）" if same else "（与起草文书不一致 / differs from the draft）"
            )
        out += [
            f"<h3>{both(kind)} <span class='mono'>{clean(d.get('notice_id'))}</span></h3><table class='kv'><tbody>",
            f"<tr><th>发出 Issued</th><td>{time_of(r['leaf'].get('occurred_at'), tz)} · seq {r['seq']}</td></tr>",
            f"<tr><th>收件人 Recipients</th><td>{'、'.join(clean(x) for x in d.get('recipients') or [])}</td></tr>",
            f"<tr><th>方式 Channels</th><td>{channels}<br><span class='en'>{channels_en}</span></td></tr>",
            *([f"<tr><th>期限 Deadline</th><td>{deadline}</td></tr>"] if deadline else []),
            f"<tr><th>文书摘要 Digest</th><td class='mono'>{clean(d.get('document_digest'))}</td></tr>",
            *(
                [f"<tr><th>起草 Draft</th><td>seq {clean(d.get('draft_seq'))} {match}</td></tr>"]
                if d.get("draft_seq") is not None
                else []
            ),
            *(
                [f"<tr><th>公告送达 Serves</th><td class='mono'>{clean(d.get('serves'))}</td></tr>"]
                if d.get("serves")
                else []
            ),
            "</tbody></table>",
        ]
        mine = [o for o in outcomes if o["data"].get("notice_id") == d.get("notice_id")]
        out.append(head("时间 When", "结果 Outcome", "方式 Channel", "凭证与地址 Evidence and address", "seq"))
        for o in mine:
            od = o["data"]
            detail = [
                clean(od.get(k))
                for k in ("evidence", "reason", "address", "left_at", "recipient_name", "evidence_digest")
                if od.get(k)
            ]
            if od.get("received_by"):
                detail.append(f"签收 received by: {both(label('received', od.get('received_by')))}")
            if od.get("witnesses"):
                detail.append("见证 witnesses: " + "、".join(clean(w) for w in od["witnesses"]))
            out.append(
                cells(
                    time_of(o["leaf"].get("occurred_at"), tz),
                    both(label("event", o["leaf"].get("type"))),
                    both(label("channel", od.get("channel"))),
                    "<br>".join(detail),
                    o["seq"],
                )
            )
        if not mine:
            out.append("<tr><td colspan='5'>尚无送达记录 / no service recorded</td></tr>")
        out.append("</tbody></table>")
    return out


def contacts(rows: Sequence[Row], tz: ZoneInfo) -> list[str]:
    files = by_type(rows, "employee.enrolled", "employee.contacts_updated")
    attempts = by_type(rows, "contact.attempted")
    out = ["<h2>四、联系方式与联系尝试 / Contacts on file and attempts</h2>"]
    if files:
        f = files[-1]
        d = f["data"]
        items = [
            f"{clean(label('channel', c.get('channel'))[0])} {clean(c.get('value'))}" for c in d.get("contacts") or []
        ]
        items += [
            f"紧急联系人 {clean(e.get('name'))}（{clean(e.get('relation'))}）{clean(e.get('mobile'))}"
            for e in d.get("emergency_contacts") or []
        ]
        if d.get("service_address"):
            items.append(f"约定送达地址 agreed service address: {clean(d.get('service_address'))}")
        out.append(f"<p>档案（seq {f['seq']}，{time_of(f['leaf'].get('occurred_at'), tz)}）/ on file:</p><ul>")
        out += [f"<li>{i}</li>" for i in items] + ["</ul>"]
    out.append(head("时间 When", "方式 Channel", "对象 Whom", "号码或地址 Number or address", "结果 Result", "seq"))
    for a in attempts:
        d = a["data"]
        whom = ("紧急联系人", "emergency contact") if d.get("target") == "emergency_contact" else ("本人", "employee")
        out.append(
            cells(
                time_of(a["leaf"].get("occurred_at"), tz),
                both(label("channel", d.get("channel"))),
                both(whom),
                clean(d.get("value")),
                both(label("result", d.get("result"))),
                a["seq"],
            )
        )
    if not attempts:
        out.append("<tr><td colspan='6'>没有联系尝试的记录 / no attempt recorded</td></tr>")
    out.append("</tbody></table>")
    return out


def _limits(verification: Mapping[str, Any]) -> list[str]:
    """What the bundle alone cannot prove, and what it had to refute that, as the verifier says it."""
    limits = [x for x in verification.get("limits") or [] if isinstance(x, str)]
    if not limits:
        return []
    items = "".join(f"<li>{clean(x)}</li>" for x in limits)
    return [f"<h3>证明的边界 / What this bundle alone cannot prove</h3><ul class='small'>{items}</ul>"]


def render_court_exhibit(verification: Mapping[str, Any], entries: Sequence[BundleEntry], case: Any) -> str:
    """``report.html`` for a bundle: ``verification`` is ``Result.to_json()`` of the verifier's check of it,
    ``case`` the server's case.json (its claim, shown as such)."""
    period = verification.get("period") or {}
    try:
        tz = ZoneInfo(str(period.get("time_zone") or "Asia/Shanghai"))
    except (KeyError, ValueError):
        tz = ZoneInfo("Asia/Shanghai")
    subject = str(verification.get("subject") or "")
    rows = _rows(entries, verification)
    files = by_type(rows, "employee.enrolled", "employee.contacts_updated")
    name = str(files[-1]["data"].get("name")) if files else subject
    proofs_ok = verification.get("ok") is True and verification.get("complete", True) is not False
    cases = case.get("cases") if isinstance(case, Mapping) else None
    ready = bool(cases) and all(
        isinstance(c, Mapping) and isinstance(c.get("readiness"), Mapping) and c["readiness"].get("ready")
        for c in cases or []
    )
    proof_box = (
        (
            "ok",
            "证明成立：每条记录都在日志签名的检查点中，未被改动",
            "The proofs hold: every entry is in a checkpoint the log signed, unaltered",
        )
        if proofs_ok
        else ("failed", "证明不成立：见核验步骤", "The proofs do NOT hold: see the verification steps")
    )
    ready_box = (
        ("ok", "解除条件：服务器计算为齐备", "Readiness: the server computes the case as ready")
        if ready
        else ("failed", "解除条件：尚未齐备（见第五部分）", "Readiness: the case is NOT ready (see part 5)")
    )
    failures = [f"<li>{clean(f)}</li>" for f in verification.get("failures") or []]
    h = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>证据材料 Evidence exhibit · {clean(name)} {clean(subject)}</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>证据材料 / Evidence exhibit</h1>",
        "<table class='kv'><tbody>",
        f"<tr><th>当事人 Employee</th><td>{clean(name)} <span class='mono'>{clean(subject)}</span></td></tr>",
        f"<tr><th>期间 Period</th><td><span class='t'>{clean(period.get('from'))}</span> – "
        f"<span class='t'>{clean(period.get('to'))}</span>（{clean(str(tz))}）</td></tr>",
        f"<tr><th>日志 Log</th><td class='mono'>{clean(verification.get('origin'))}</td></tr>",
        f"<tr><th>验证密钥 Verifier key</th><td class='mono'>{clean(verification.get('vkey'))}</td></tr>",
        f"<tr><th>树大小与根 Tree</th><td class='mono'>{clean(verification.get('tree_size'))} · "
        f"{clean(verification.get('root'))}</td></tr>",
        "</tbody></table>",
        *(verdict(*box) for box in (proof_box, ready_box)),
        "<p class='small'>二者相互独立：证明成立只说明记录真实、完整、未被改动，不说明解除劳动合同的条件已经具备。"
        " / The two are independent: that the proofs hold shows the records are authentic, complete and unaltered; "
        "it does not show that the conditions for a termination are met.</p>",
        *([f"<ul class='failed'>{''.join(failures)}</ul>"] if failures else []),
        *catalogue(rows, tz),
        *narrative(rows, subject, tz),
        *notices(rows, tz),
        *contacts(rows, tz),
        *checklists(case, rows, tz),
        *_limits(verification),
        "<h2>六、如何核验 / How to verify</h2><p class='small'>用独立的核验程序离线核验本证据包 / verify this bundle "
        "offline with the standalone verifier: <span class='mono'>hrledger-verify BUNDLE --vkey VKEY</span>"
        "（验证密钥须从公告、公证书等独立渠道取得 / obtain the key independently, e.g. a public notice or a notarised "
        "statement）。见 VERIFY.md。本页由出具方生成，供阅读；证据本身是包中的条目与证明。/ This page is the "
        "producer's presentation; the evidence is the entries and proofs in the bundle.</p>",
        "</body></html>",
    ]
    return "\n".join(h) + "\n"
