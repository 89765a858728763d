"""Leaves of one employee and the rule book's leave rules (SPEC sections 3–4).

A leave is its ``leave.requested`` with the decisions and extensions that name its ``leave_id``; the
latest decision (in occurrence order) stands, ``leave.extended`` moves its end. Whether it counts as
*approved* for an episode (approved before the shift start plus grace of its first working day) is
decided in ``ledger.domain.episodes``, which knows the calendar.

The company's leave rules (``[leave_rules.<kind>]``: certificate, min_notice_days, max_days) are flags for
HR, never refusals: the request stays a fact, and a statutory medical period (医疗期, 3 to 24 months
under 《企业职工患病或非因工负伤医疗期规定》 art. 3) may exceed any maximum a rule book sets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ledger.domain.checks import parse_date
from ledger.domain.facts import Fact
from ledger.domain.policy import Policy
from ledger.errors import ValidationError

LEAVE_DECISIONS = ("leave.approved", "leave.rejected", "leave.cancelled")
KIND_LABEL = {
    "sick": ("病假", "sick leave"),
    "annual": ("年休假", "annual leave"),
    "personal": ("事假", "personal leave"),
    "marriage": ("婚假", "marriage leave"),
    "maternity": ("产假", "maternity leave"),
    "bereavement": ("丧假", "bereavement leave"),
    "other": ("其他假", "other leave"),
}
MEDICAL_PERIOD_NOTE = {
    "zh": "注意：法定医疗期（3至24个月，《企业职工患病或非因工负伤医疗期规定》第三条）可能长于规章制度规定的病假上限；"
    "此处仅作提示，不作拒绝。",
    "en": "note: a statutory medical period (医疗期, 3 to 24 months, 劳部发〔1994〕479号 art. 3) may exceed the "
    "rule book's maximum sick leave; this is a flag, never a refusal.",
}


def fact_date(fact: Fact, name: str) -> date | None:
    try:
        return parse_date(fact.get(name), name)
    except ValidationError:
        return None  # erased or (in a foreign log) malformed: the fact cannot set a date


@dataclass(frozen=True, slots=True)
class Leave:
    leave_id: str
    kind: str
    start: date
    end: date
    requested: Fact
    facts: tuple[Fact, ...]  # requested, decisions and extensions, in order
    decision: str | None  # approved | rejected | cancelled, the latest; None while undecided
    approved_at: datetime | None  # when the standing approval occurred (the first of its run)

    @property
    def active(self) -> bool:
        return self.decision == "approved"

    @property
    def seqs(self) -> list[int]:
        return sorted(f.seq for f in self.facts)

    def days(self) -> int:
        return (self.end - self.start).days + 1


def resolve_leaves(facts: Sequence[Fact]) -> dict[str, Leave]:
    """Leaves by id from one employee's facts (already cut at as_of, in occurrence order)."""
    requested: dict[str, Fact] = {}
    related: dict[str, list[Fact]] = {}
    for f in facts:
        if f.type.startswith("leave.") and isinstance(f.get("leave_id"), str):
            related.setdefault(f.get("leave_id"), []).append(f)
            if f.type == "leave.requested":
                requested[f.get("leave_id")] = f
    leaves = {}
    for leave_id, req in requested.items():
        start, end = fact_date(req, "start"), fact_date(req, "end")
        if start is None or end is None:
            continue
        group = related[leave_id]
        decisions = [f for f in group if f.type in LEAVE_DECISIONS]
        extensions = [f for f in group if f.type == "leave.extended" and fact_date(f, "end") is not None]
        if extensions:
            end = fact_date(extensions[-1], "end") or end
        decision = decisions[-1].type.removeprefix("leave.") if decisions else None
        approved_at = None
        if decision == "approved":
            run = 0
            while run < len(decisions) and decisions[-1 - run].type == "leave.approved":
                run += 1
            approved_at = decisions[-run].occurred_at
        leaves[leave_id] = Leave(
            leave_id, str(req.get("kind", "")), start, end, req, tuple(group), decision, approved_at
        )
    return leaves


def _flag(leave: Leave, rule: str, zh: str, en: str, **extra: Any) -> dict[str, Any]:
    return {"leave_id": leave.leave_id, "rule": rule, "seqs": [leave.requested.seq], "zh": zh, "en": en, **extra}


def leave_flags(leave: Leave, policy: Policy) -> list[dict[str, Any]]:
    """The rule book's leave rules this leave does not meet: flags for HR, never refusals."""
    rule = policy.leave_rule(leave.kind)
    if rule is None:
        return []
    kind_zh, kind_en = KIND_LABEL.get(leave.kind, (leave.kind, leave.kind))
    flags = []
    if rule.certificate and leave.requested.get("certificate_digest") is None:
        flags.append(
            _flag(
                leave,
                "certificate",
                f"规章制度要求{kind_zh}提供证明，申请未附证明（certificate_digest）",
                f"the rule book requires a certificate for {kind_en}; the request has none (certificate_digest)",
            )
        )
    asked_on = leave.requested.local_date(policy.tz)
    notice = (leave.start - asked_on).days
    if rule.min_notice_days is not None and notice < rule.min_notice_days:
        flags.append(
            _flag(
                leave,
                "min_notice_days",
                f"规章制度要求提前 {rule.min_notice_days} 日申请{kind_zh}，本次于 {asked_on.isoformat()} 申请、"
                f"{leave.start.isoformat()} 开始（提前 {notice} 日）",
                f"the rule book asks for {kind_en} {rule.min_notice_days} day(s) ahead; requested on "
                f"{asked_on.isoformat()} for {leave.start.isoformat()} ({notice} day(s) ahead)",
            )
        )
    if rule.max_days is not None and leave.days() > rule.max_days:
        extra = {"note": MEDICAL_PERIOD_NOTE} if leave.kind == "sick" else {}
        flags.append(
            _flag(
                leave,
                "max_days",
                f"{kind_zh}共 {leave.days()} 日，超过规章制度规定的 {rule.max_days} 日",
                f"{leave.days()} calendar days of {kind_en}, more than the rule book's {rule.max_days}",
                **extra,
            )
        )
    return flags
