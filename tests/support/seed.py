"""The seed article's case (``ledger.admin.demo``: 张三, E-ZS, who does not return from sick leave) as test
data: the demo's scripted facts up to a day, as client events or as projection facts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger.admin.demo_script import CASE, SCRIPT, SUBJECT, Ref, Step
from ledger.domain import Fact, Policy, Projector, make_fact
from tests.support.domain import national_calendar

__all__ = ["CASE", "SUBJECT", "events_until", "facts_until", "projector_until"]


def steps_until(until: datetime | None = None) -> list[Step]:
    return [s for s in SCRIPT if until is None or s.when <= until]


def _data(steps: list[Step], step: Step, first_seq: int) -> dict[str, Any]:
    """A step's data with each Ref to a labelled step made its seq (the steps land from ``first_seq`` on)."""
    seqs = {s.label: first_seq + n for n, s in enumerate(steps) if s.label}
    return {k: seqs[v.label] if isinstance(v, Ref) else v for k, v in step.data.items()}


def events_until(until: datetime | None = None, source: str = "hr-system", first_seq: int = 0) -> list[dict[str, Any]]:
    """The scripted facts that occurred by ``until`` as ``POST /v1/events`` objects, in order, for a log
    whose next seq is ``first_seq``."""
    steps = steps_until(until)
    return [
        {
            "event_id": f"seed-{n:03d}",
            "type": s.type,
            "subject": s.subject,
            "occurred_at": s.when.isoformat(),
            "source": source,
            "data": _data(steps, s, first_seq),
        }
        for n, s in enumerate(steps)
    ]


def facts_until(until: datetime | None = None) -> list[Fact]:
    steps = steps_until(until)
    facts = [
        make_fact(n, s.type, s.subject, s.when.isoformat(), _data(steps, s, 0), event_id=f"seed-{n:03d}")
        for n, s in enumerate(steps)
    ]
    return facts + national_calendar(len(facts))


def projector_until(until: datetime | None = None, policy: Policy | None = None) -> Projector:
    p = Projector(policy or Policy())
    p.feed_all(facts_until(until))
    return p
