"""Step 11: the timeline of verified facts, and a plain statement of what the bundle alone cannot prove.

Each fact shows its subject, type, times, proof status and data state; facts recorded more than the case's
``late_recorded_hours`` after they occurred are flagged late-recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from verifier.bundle import Bundle
from verifier.result import Fact, Result
from verifier.rfc3339 import parse_time

_SUMMARY_KEYS = (
    "kind",
    "leave_id",
    "start",
    "end",
    "channel",
    "target",
    "result",
    "notice_id",
    "recipients",
    "channels",
    "method",
    "policy_id",
    "version",
    "year",
    "effective_on",
    "union",
    "case_id",
    "stage",
    "reason",
    "seqs",
)


def late_recorded(occurred: datetime | None, recorded: datetime | None, hours: float | None) -> bool:
    """Recorded more than ``hours`` after it occurred (the policy's ``late_recorded_hours``, from the manifest)."""
    return bool(occurred and recorded and hours is not None and recorded - occurred > timedelta(hours=hours))


def _short(value: Any) -> str:
    text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _describe(fact: Fact, data: Any, hours: float | None) -> None:
    fact.late = late_recorded(parse_time(fact.occurred_at), parse_time(fact.recorded_at), hours)
    if isinstance(data, dict):
        if fact.type == "escalation.stage_entered" and isinstance(data.get("stage"), str):
            fact.stage = data["stage"]
        fact.summary = " ".join(f"{k}={_short(data[k])}" for k in _SUMMARY_KEYS if k in data)[:200]


def _limits(r: Result) -> list[str]:
    had_witness = [f"{w.get('name')} at {w.get('time')}" for w in r.witnessed]
    after = [x for x in r.receipts if x.outcome in ("after this bundle", "not current")]
    compared = [x for x in r.receipts if x.outcome != "invalid"]
    return [
        "What this bundle proves, with a verifier key obtained independently of it: that the log's key holder "
        "declared this to be the subject's whole record in a tree of size "
        f"{r.tree_size}; that nothing between each chain's first and head was left out or altered; that every "
        "fact shown is in that tree.",
        "What it cannot prove on its own: that the key holder did not pick an older tree, cut the chain before "
        "a later entry, or sign a forked history. Witness cosignatures, RFC 3161 timestamps, receipts held by "
        "the other side, and an audit of a log with the same root refute those.",
        "Witnesses: "
        + ("; ".join(had_witness) if had_witness else "none (the checkpoint was not shown to be witnessed)")
        + ".",
        "Timestamps: " + ("; ".join(r.timestamped) if r.timestamped else "none checked") + ".",
        f"Receipts: {len(compared)} compared"
        + (f", {len(after)} of entries after this bundle's tree" if after else "")
        + ("" if compared else " (none given: ask the other side for the receipts it holds)")
        + ".",
    ]


def step11_timeline(b: Bundle, r: Result, tsa_times: dict[int, str]) -> None:
    hours = r.late_recorded_hours
    for seq, fact in b.facts.items():
        obj = b.entries.get(seq)
        _describe(fact, obj.get("data") if obj else None, hours)
        later = [t for size, t in tsa_times.items() if size > seq]
        fact.tsa_time = min(later) if later else None

    def key(f: Fact) -> tuple[datetime, int]:
        return (parse_time(f.occurred_at) or datetime.max.replace(tzinfo=UTC), f.seq)

    r.timeline = sorted(b.facts.values(), key=key)
    subjects = sorted({f.subject or "?" for f in r.timeline})
    r.note(11, f"{len(r.timeline)} facts in occurred_at order, of {', '.join(subjects) or 'no subject'}")
    late = [f.seq for f in r.timeline if f.late]
    if late:
        r.note(11, f"recorded more than {hours:g} h after they occurred: seq {', '.join(map(str, late))}")
    r.limits = _limits(r)
