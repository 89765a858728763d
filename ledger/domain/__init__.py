"""The HR domain core: event schemas, the working-day calendar, the company policy and the projections.

Pure and deterministic: no I/O, no clock; time comes in as arguments.
"""

from ledger.domain.calendar import CalendarError, CalendarOverrides, WorkCalendar, YearCalendar
from ledger.domain.escalation import EscalationPlan, StageDecision, escalations_due
from ledger.domain.facts import Fact, fact_from_entry, make_fact
from ledger.domain.policy import DEFAULT_POLICY, Policy, PolicyError, dump_policy, load_policy
from ledger.domain.projection import ProjectionGapError, Projector
from ledger.domain.schemas import validate_data, validate_event

__all__ = [
    "DEFAULT_POLICY",
    "CalendarError",
    "CalendarOverrides",
    "EscalationPlan",
    "Fact",
    "Policy",
    "PolicyError",
    "ProjectionGapError",
    "Projector",
    "StageDecision",
    "WorkCalendar",
    "YearCalendar",
    "dump_policy",
    "escalations_due",
    "fact_from_entry",
    "load_policy",
    "make_fact",
    "validate_data",
    "validate_event",
]
