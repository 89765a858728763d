"""A case's facts as the pages show them: Beijing time, zh/en names, what each says, and its proof status."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ledger.domain import Fact
from ledger.services.labels import label, summary


def proof_status(fact: Fact, checkpoint_size: int) -> tuple[str, str, str]:
    """(css class, zh, en): covered by the latest signed checkpoint (its inclusion proof exists), or not yet."""
    if fact.seq < checkpoint_size:
        if fact.data is None:
            return ("ok", "已签名（个人数据已删除）", "in a signed checkpoint (data erased)")
        return (
            "ok",
            f"已纳入签名检查点（树大小 {checkpoint_size}）",
            f"in signed checkpoint (tree size {checkpoint_size})",
        )
    return ("warn", "等待下一个签名检查点", "awaiting the next signed checkpoint")


def rows(facts: Iterable[Fact], checkpoint_size: int, late: set[int], sources: dict[int, str]) -> list[dict[str, Any]]:
    out = []
    for f in sorted(facts, key=lambda f: f.key):
        css, zh, en = proof_status(f, checkpoint_size)
        text = summary(f.type, f.data)
        out.append(
            {
                "seq": f.seq,
                "type": f.type,
                "label": label("event", f.type),
                "occurred_at": f.occurred_at.isoformat(),
                "recorded_at": f.recorded_at.isoformat(),
                "summary": text,
                "proof": (css, zh, en),
                "late": f.seq in late,
                "source": sources.get(f.seq, ""),
            }
        )
    return out


def drafts(facts: Sequence[Fact], withdrawn_stage_seqs: set[int]) -> list[dict[str, Any]]:
    """The notices drafted for this employee, each with whether it was issued and whether it is superseded:
    its stage entry was withdrawn, or a later draft of the same kind replaces it."""
    issued = [f for f in facts if f.type == "notice.issued"]
    out = []
    drafted = [f for f in facts if f.type == "notice.drafted" and f.data is not None]
    for f in drafted:
        digest = f.get("document_digest")
        later = any(g.seq > f.seq and g.get("kind") == f.get("kind") for g in drafted)
        out.append(
            {
                "seq": f.seq,
                "notice_id": f.get("notice_id"),
                "kind": f.get("kind"),
                "digest": digest,
                "template": f.get("template"),
                "template_version": f.get("template_version"),
                "drafted_at": f.occurred_at.isoformat(),
                "issued": [i.seq for i in issued if i.get("draft_seq") == f.seq or i.get("document_digest") == digest],
                "superseded": later or f.get("stage_seq") in withdrawn_stage_seqs,
            }
        )
    return out


def notices_issued(facts: Sequence[Fact]) -> list[dict[str, Any]]:
    """Each notice issued, with what became of it: deliveries, failures, refusals."""
    outcome_types = ("notice.delivered", "notice.delivery_failed", "notice.refused")
    out = []
    for f in facts:
        if f.type != "notice.issued" or f.data is None:
            continue
        nid = f.get("notice_id")
        outcomes = [g for g in facts if g.type in outcome_types and g.get("notice_id") == nid]
        out.append({"fact": f, "data": dict(f.data), "outcomes": [(g, summary(g.type, g.data)) for g in outcomes]})
    return out
