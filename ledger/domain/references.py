"""Events that name another fact (a leave, a notice, a case, a report) which the log does not hold.

Such an event is still a fact and is recorded: an HR system may post the approval before the request, or
the request was never posted. But a mistyped ``leave_id`` silently leaves a no-show ``present`` with no
case and nothing escalating, so the answer to the post carries a warning, and the case lists the
unmatched facts. Pure: it looks at the employee's facts and the events posted with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.domain.facts import Fact

#: event type -> (field naming the other fact, the types that define such a fact, and the field there)
REFERENCES: dict[str, tuple[str, frozenset[str], str]] = {
    "leave.approved": ("leave_id", frozenset({"leave.requested"}), "leave_id"),
    "leave.rejected": ("leave_id", frozenset({"leave.requested"}), "leave_id"),
    "leave.cancelled": ("leave_id", frozenset({"leave.requested"}), "leave_id"),
    "leave.extended": ("leave_id", frozenset({"leave.requested"}), "leave_id"),
    "notice.delivered": ("notice_id", frozenset({"notice.issued", "notice.drafted"}), "notice_id"),
    "notice.delivery_failed": ("notice_id", frozenset({"notice.issued", "notice.drafted"}), "notice_id"),
    "notice.refused": ("notice_id", frozenset({"notice.issued", "notice.drafted"}), "notice_id"),
    "employment.terminated": ("notice_id", frozenset({"notice.issued", "notice.drafted"}), "notice_id"),
}


@dataclass(frozen=True, slots=True)
class Unmatched:
    """One posted event naming a fact the log does not hold (yet)."""

    index: int  # the event's place in the request
    field: str
    value: str
    expected: str  # what would define it, e.g. "leave.requested"

    def message(self) -> str:
        return (
            f"data.{self.field} {self.value!r} names no {self.expected} of this employee in the log; the event "
            f"is recorded, but nothing links it until that {self.expected} is posted (a typo?)"
        )


def _defined(facts: Iterable[tuple[str, Mapping[str, Any] | None]]) -> dict[tuple[str, str], bool]:
    seen: dict[tuple[str, str], bool] = {}
    for type_, data in facts:
        if data is None:
            continue
        for _, types, field in REFERENCES.values():
            if type_ in types and isinstance(data.get(field), str):
                seen[(field, data[field])] = True
    return seen


def unmatched_references(posted: Sequence[tuple[str, Mapping[str, Any]]], known: Iterable[Fact]) -> list[Unmatched]:
    """Which of ``posted`` (type, data) name a leave or notice that neither ``known`` (the employee's facts)
    nor an event posted with them defines."""
    defined = _defined([(f.type, f.data) for f in known]) | _defined(posted)
    out = []
    for index, (type_, data) in enumerate(posted):
        ref = REFERENCES.get(type_)
        if ref is None:
            continue
        field, types, _ = ref
        value = data.get(field)
        if isinstance(value, str) and (field, value) not in defined:
            out.append(Unmatched(index, field, value, " or ".join(sorted(types))))
    return out


def unmatched_facts(facts: Sequence[Fact]) -> list[dict[str, Any]]:
    """The employee's facts (cut at an instant) that name a leave or notice none of them defines."""
    found = unmatched_references([(f.type, f.data or {}) for f in facts], ())
    return [
        {
            "seq": facts[u.index].seq,
            "type": facts[u.index].type,
            "field": u.field,
            "value": u.value,
            "expected": u.expected,
        }
        for u in found
    ]
