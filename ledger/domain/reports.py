"""Reasons reported for an absence, and HR's assessment of them (SPEC section 4).

An ``absence.reported`` (whatever its reason or who reports it: the employee, the family, the police)
suspends a case from its ``from`` day until an ``absence.assessed`` names it (``report_seq``): no overdue
day is counted from ``from`` on, no stage is entered, and the case is not ready. Of two assessments of
one report the later (highest seq) stands. ``excused`` makes the assessed days (the assessment's
``from``/``to``, else the report's; with no ``to``, every day from ``from`` until a clock-in) not overdue;
``not_excused`` resumes counting as if no report had come. The employer who terminates over an absence
the employee had a reason for loses (劳动合同法 art. 39 needs a *serious* breach of the rule book; 劳动合同法
art. 42 and 《企业职工患病或非因工负伤医疗期规定》 protect the sick and injured).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.domain.facts import Fact
from ledger.domain.leaves import fact_date

REPORTED = "absence.reported"
ASSESSED = "absence.assessed"
REASON_LABEL = {
    "illness": ("患病", "illness"),
    "injury": ("受伤", "injury"),
    "hospitalised": ("住院", "in hospital"),
    "detained": ("被羁押", "detained"),
    "force_majeure": ("不可抗力", "force majeure"),
    "family_emergency": ("家庭紧急情况", "family emergency"),
    "other": ("其他原因", "another reason"),
}
REPORTER_LABEL = {
    "employee": ("本人", "the employee"),
    "family": ("家属", "the family"),
    "colleague": ("同事", "a colleague"),
    "authority": ("有关机关", "an authority"),
    "other": ("他人", "someone else"),
}


@dataclass(frozen=True, slots=True)
class Report:
    fact: Fact  # the absence.reported entry
    start: date  # its from
    end: date | None  # its to
    assessment: Fact | None  # the standing absence.assessed (highest seq), if any

    @property
    def status(self) -> str:
        """pending | excused | not_excused"""
        if self.assessment is None:
            return "pending"
        return "excused" if self.assessment.get("decision") == "excused" else "not_excused"

    @property
    def excused_span(self) -> tuple[date, date | None]:
        """The days an ``excused`` assessment excuses: its own from/to, else the report's."""
        assert self.assessment is not None
        start = fact_date(self.assessment, "from") or self.start
        end = fact_date(self.assessment, "to") if self.assessment.get("to") is not None else self.end
        return start, end

    def reaches(self, first: date, last: date | None) -> bool:
        """Whether the reported days touch an episode running from ``first`` to ``last`` (None: ongoing)."""
        return (last is None or self.start <= last) and (self.end is None or self.end >= first)

    def suspends(self, day: date) -> bool:
        return self.status == "pending" and day >= self.start

    def excuses(self, day: date) -> bool:
        if self.status != "excused":
            return False
        start, end = self.excused_span
        return start <= day and (end is None or day <= end)

    @property
    def seqs(self) -> list[int]:
        return [self.fact.seq] + ([self.assessment.seq] if self.assessment is not None else [])

    def doc(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "seq": self.fact.seq,
            "reason": self.fact.get("reason"),
            "reported_by": self.fact.get("reported_by"),
            "from": self.start.isoformat(),
            "to": self.end.isoformat() if self.end else None,
            "reported_at": self.fact.occurred_text or self.fact.occurred_at.isoformat(),
            "status": self.status,
            "assessment_seq": self.assessment.seq if self.assessment is not None else None,
        }
        if self.status == "excused":
            start, end = self.excused_span
            out["excused"] = {"from": start.isoformat(), "to": end.isoformat() if end else None}
        return out

    def words(self) -> tuple[str, str]:
        reason_zh, reason_en = REASON_LABEL.get(str(self.fact.get("reason")), ("原因", "a reason"))
        by_zh, by_en = REPORTER_LABEL.get(str(self.fact.get("reported_by")), ("他人", "someone"))
        day = (self.fact.occurred_text or self.fact.occurred_at.isoformat())[:10]
        return (
            f"{by_zh}于 {day} 报告{reason_zh}（自 {self.start.isoformat()} 起，seq {self.fact.seq}）",
            f"{by_en} reported {reason_en} on {day} (from {self.start.isoformat()}, seq {self.fact.seq})",
        )


def absence_reports(facts: Sequence[Fact]) -> list[Report]:
    """The employee's reports in occurrence order, each with its standing assessment."""
    assessed: dict[int, Fact] = {}
    for f in facts:
        seq = f.get("report_seq") if f.type == ASSESSED else None
        if isinstance(seq, int) and (seq not in assessed or f.seq > assessed[seq].seq):
            assessed[seq] = f
    out = []
    for f in facts:
        start = fact_date(f, "from") if f.type == REPORTED else None
        if start is not None:
            end = fact_date(f, "to") if f.get("to") is not None else None
            out.append(Report(f, start, end, assessed.get(f.seq)))
    return out
